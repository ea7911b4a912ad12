using System.Globalization;
using Lacuna.Tensors;

namespace Lacuna.Formats;

/// <summary>
/// Reads the Deep Learning Matrix Collection (Gale et al., SC'20) <c>.smtx</c> / <c>.smtx.gz</c> files:
/// line 1 <c>nrows, ncols, nnz</c>; line 2 the nrows+1 row offsets; line 3 the nnz column indices.
/// The files carry topology only, so values are synthesized from a seed: uniform magnitudes in
/// [0.1, 1) with random signs, never zero (a pruned weight that survived is not small by construction).
/// Column indices are sorted within each row on read; duplicates and anything malformed are errors
/// naming the file, line and field. A <c>.gz</c> file must be intact gzip (trailer CRC and size checked).
/// </summary>
public static class DlmcReader
{
    /// <summary>Largest dimension or nnz accepted, so a corrupt header cannot trigger a huge allocation.</summary>
    public const int MaxDimension = 1 << 26;

    public static CsrMatrix ReadSmtx(string path, ulong seed = 1)
    {
        if (path is null) ThrowHelper.ArgumentNull(nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"DLMC matrix file not found: {path}", path);
        string text = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? System.Text.Encoding.UTF8.GetString(Gzip.ReadAllBytesChecked(path))
            : File.ReadAllText(path);
        return ParseSmtx(text, Path.GetFileName(path), seed);
    }

    /// <summary>Parses smtx text; <paramref name="name"/> is used in error messages.</summary>
    public static CsrMatrix ParseSmtx(string text, string name, ulong seed = 1)
    {
        var lines = text.Split('\n');
        string Line(int i) => i < lines.Length ? lines[i].Trim() : "";
        var header = Line(0).Split(',', StringSplitOptions.TrimEntries);
        if (header.Length != 3)
            ThrowHelper.Format($"{name} line 1", $"expected 'nrows, ncols, nnz' but found '{Truncate(Line(0))}'.");
        int rows = ParseCount(header[0], $"{name} line 1 field nrows");
        int cols = ParseCount(header[1], $"{name} line 1 field ncols");
        int nnz = ParseCount(header[2], $"{name} line 1 field nnz");
        if ((long)rows * cols < nnz)
            ThrowHelper.Format($"{name} line 1", $"nnz={nnz} exceeds nrows·ncols={(long)rows * cols}.");

        int[] offsets = ParseInts(Line(1), rows + 1, $"{name} line 2 (row offsets)");
        if (offsets[0] != 0)
            ThrowHelper.Format($"{name} line 2 (row offsets), item 0", $"the first offset must be 0 but is {offsets[0]}.");
        if (offsets[rows] != nnz)
            ThrowHelper.Format($"{name} line 2 (row offsets), item {rows}", $"the last offset is {offsets[rows]} but line 1 says nnz={nnz}.");
        int[] columns = ParseInts(Line(2), nnz, $"{name} line 3 (column indices)");
        for (int i = 3; i < lines.Length; i++)
            if (lines[i].Trim().Length != 0)
                ThrowHelper.Format($"{name} line {i + 1}", $"unexpected content after the three smtx lines: '{Truncate(lines[i].Trim())}'.");
        for (int r = 0; r < rows; r++)
        {
            int start = offsets[r], end = offsets[r + 1];
            if (end < start || end > nnz)
                ThrowHelper.Format($"{name} line 2, row {r}", $"offsets {start}..{end} are not monotone within [0, {nnz}].");
            // DLMC rows are sorted already; sorting is cheap insurance so kernels can rely on it.
            Array.Sort(columns, start, end - start);
            for (int i = start; i < end; i++)
            {
                int c = columns[i];
                if (c >= cols)
                    ThrowHelper.Format($"{name} line 3 (column indices), row {r}", $"column index {c} is outside [0, {cols}).");
                if (i > start && c == columns[i - 1])
                    ThrowHelper.Format($"{name} line 3 (column indices), row {r}", $"column index {c} is duplicated.");
            }
        }
        var values = new float[nnz];
        var rng = new DeterministicRandom(seed);
        for (int i = 0; i < nnz; i++)
        {
            float mag = rng.NextFloat(0.1f, 1f);
            values[i] = (rng.NextUInt64() & 1) == 0 ? mag : -mag;
        }
        return new CsrMatrix(rows, cols, offsets, columns, values);
    }

    /// <summary>
    /// Reads <c>rn50_batchsizes.txt</c>: lines <c>matrix_name,N</c> (N = output pixels per image).
    /// Blank lines are skipped; anything else malformed (no comma, non-numeric N, a name listed twice) names the line.
    /// </summary>
    public static Dictionary<string, int> ReadBatchSizes(string path)
    {
        if (path is null) ThrowHelper.ArgumentNull(nameof(path));
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (string raw in File.ReadLines(path))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0) continue;
            int comma = line.LastIndexOf(',');
            if (comma <= 0)
                ThrowHelper.Format($"{Path.GetFileName(path)} line {lineNo}", $"expected 'name,N' but found '{Truncate(line)}'.");
            int n = ParseCount(line[(comma + 1)..].Trim(), $"{Path.GetFileName(path)} line {lineNo} field N");
            if (!result.TryAdd(line[..comma].Trim(), n))
                ThrowHelper.Format($"{Path.GetFileName(path)} line {lineNo}", $"matrix '{Truncate(line[..comma].Trim())}' is listed twice.");
        }
        return result;
    }

    /// <summary>
    /// Finds <c>rn50_batchsizes.txt</c> in <paramref name="dir"/> or its nearest ancestor; null if none.
    /// </summary>
    public static string? FindBatchSizes(string dir, string fileName = "rn50_batchsizes.txt")
    {
        for (var d = new DirectoryInfo(Path.GetFullPath(dir)); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, fileName);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The matrix name of a file: <c>bottleneck_2_block_group3_5_1.smtx.gz</c> → <c>bottleneck_2_block_group3_5_1</c>.</summary>
    public static string MatrixName(string path)
    {
        string f = Path.GetFileName(path);
        if (f.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) f = f[..^3];
        if (f.EndsWith(".smtx", StringComparison.OrdinalIgnoreCase)) f = f[..^5];
        return f;
    }

    private static int ParseCount(string s, string where)
    {
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v))
            ThrowHelper.Format(where, $"'{Truncate(s)}' is not a non-negative integer.");
        if (v > MaxDimension)
            ThrowHelper.Format(where, $"{v} is larger than the {MaxDimension} this reader accepts.");
        return v;
    }

    private static int[] ParseInts(string line, int expected, string where)
    {
        var result = new int[expected];
        int count = 0;
        foreach (var token in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (count == expected)
                ThrowHelper.Format(where, $"has more than the {expected} integers expected.");
            if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out result[count]))
                ThrowHelper.Format($"{where}, item {count}", $"'{Truncate(token)}' is not a non-negative integer.");
            count++;
        }
        if (count != expected)
            ThrowHelper.Format(where, $"has {count} integers but {expected} are expected (file truncated?).");
        return result;
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
