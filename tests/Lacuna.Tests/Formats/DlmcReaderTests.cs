using System.IO.Compression;
using System.Text;
using Lacuna.Formats;

namespace Lacuna.Tests.Formats;

public sealed class DlmcReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-dlmc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Valid = "3, 5, 4\n0 2 2 4 \n4 1 0 3 \n";

    private string Write(string name, string text, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        if (!gzip) { File.WriteAllText(path, text); return path; }
        using var f = File.Create(path);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(Encoding.ASCII.GetBytes(text));
        return path;
    }

    [Fact]
    public void Reads_plain_and_gzip_with_sorted_rows_and_nonzero_synthesized_values()
    {
        var plain = DlmcReader.ReadSmtx(Write("a.smtx", Valid), seed: 7);
        var gz = DlmcReader.ReadSmtx(Write("a.smtx.gz", Valid, gzip: true), seed: 7);
        foreach (var m in new[] { plain, gz })
        {
            Assert.Equal((3, 5, 4), (m.Rows, m.Cols, m.Nnz));
            Assert.Equal(new[] { 0, 2, 2, 4 }, m.RowOffsets);
            Assert.Equal(new[] { 1, 4, 0, 3 }, m.ColumnIndices); // row 0 "4 1" sorted to "1 4"
            Assert.All(m.Values, v => Assert.InRange(MathF.Abs(v), 0.1f, 1f));
        }
        Assert.Equal(plain.Values, gz.Values);
        var other = DlmcReader.ReadSmtx(Write("b.smtx", Valid), seed: 8);
        Assert.NotEqual(plain.Values, other.Values);
        Assert.Equal("a", DlmcReader.MatrixName(Path.Combine(_dir, "a.smtx.gz")));
    }

    [Theory]
    [InlineData("3, 5\n0 2 2 4\n4 1 0 3\n", "line 1")]
    [InlineData("3, x, 4\n0 2 2 4\n4 1 0 3\n", "field ncols")]
    [InlineData("3, 5, 4\n0 2 2\n4 1 0 3\n", "line 2")]
    [InlineData("3, 5, 4\n0 2 2 4\n4 1 0\n", "truncated")]
    [InlineData("3, 5, 4\n0 2 2 4\n4 1 0 3 9\n", "more than")]
    [InlineData("3, 5, 4\n0 3 2 4\n4 1 0 3\n", "row 1")]
    [InlineData("3, 5, 4\n0 2 2 4\n4 5 0 3\n", "line 3 (column indices), row 0: column index 5 is outside [0, 5)")]
    [InlineData("3, 5, 4\n0 2 2 4\n1 1 0 3\n", "line 3 (column indices), row 0: column index 1 is duplicated")]
    [InlineData("3, 5, 4\n1 2 2 4\n4 1 0 3\n", "line 2 (row offsets), item 0")]
    [InlineData("3, 5, 4\n0 2 2 3\n4 1 0 3\n", "line 2 (row offsets), item 3")]
    [InlineData("3, 5, 4\n0 2 2 4\n4 1 0 -3\n", "line 3 (column indices), item 3")]
    [InlineData("3, 5, 4\n0 2 2 4\n4 1 0 3\n7 7\n", "line 4")]
    [InlineData("", "line 1")]
    [InlineData("3, 5, 4\n", "line 2")]
    [InlineData("2, 2, 5\n0 2 5\n0 1 0 1 0\n", "exceeds")]
    [InlineData("99999999999, 5, 4\n", "nrows")]
    public void Malformed_files_name_the_line_or_field(string text, string expected)
    {
        string path = Write("bad.smtx", text);
        var e = Assert.Throws<LacunaFormatException>(() => DlmcReader.ReadSmtx(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains("bad.smtx", e.Message);
    }

    [Fact]
    public void Truncated_gzip_is_a_format_error_and_missing_file_is_named()
    {
        string good = Write("t.smtx.gz", Valid + new string(' ', 2000), gzip: true);
        var bytes = File.ReadAllBytes(good);
        string bad = Path.Combine(_dir, "cut.smtx.gz");
        File.WriteAllBytes(bad, bytes[..(bytes.Length / 2)]);
        var cut = Assert.Throws<LacunaFormatException>(() => DlmcReader.ReadSmtx(bad));
        Assert.Contains("cut.smtx", cut.Message);
        // Losing only the 8-byte trailer leaves every matrix byte inflatable; it must still be caught.
        foreach (int lost in new[] { 1, 4, 8 })
        {
            File.WriteAllBytes(bad, bytes[..^lost]);
            var tail = Assert.Throws<LacunaFormatException>(() => DlmcReader.ReadSmtx(bad));
            Assert.Contains("truncated or corrupt", tail.Message);
        }
        var flipped = (byte[])bytes.Clone();
        flipped[^5] ^= 0x40; // a CRC byte
        File.WriteAllBytes(bad, flipped);
        Assert.Contains("truncated or corrupt", Assert.Throws<LacunaFormatException>(() => DlmcReader.ReadSmtx(bad)).Message);
        var missing = Assert.Throws<FileNotFoundException>(() => DlmcReader.ReadSmtx(Path.Combine(_dir, "none.smtx")));
        Assert.Contains("none.smtx", missing.Message);
    }

    [Fact]
    public void Batch_sizes_are_read_and_found_in_ancestors()
    {
        File.WriteAllText(Path.Combine(_dir, "rn50_batchsizes.txt"), "initial_conv,12544\n\nbottleneck_1_block_group1_1_1,3136\n");
        string deep = Directory.CreateDirectory(Path.Combine(_dir, "rn50", "magnitude_pruning", "0.9")).FullName;
        string? found = DlmcReader.FindBatchSizes(deep);
        Assert.Equal(Path.Combine(_dir, "rn50_batchsizes.txt"), found);
        var sizes = DlmcReader.ReadBatchSizes(found!);
        Assert.Equal(12544, sizes["initial_conv"]);
        Assert.Equal(3136, sizes["bottleneck_1_block_group1_1_1"]);
        File.WriteAllText(Path.Combine(_dir, "bad.txt"), "a,1\nnocomma\n");
        var e = Assert.Throws<LacunaFormatException>(() => DlmcReader.ReadBatchSizes(Path.Combine(_dir, "bad.txt")));
        Assert.Contains("line 2", e.Message);
        File.WriteAllText(Path.Combine(_dir, "nan.txt"), "a,1\nb,12x\n");
        var n = Assert.Throws<LacunaFormatException>(() => DlmcReader.ReadBatchSizes(Path.Combine(_dir, "nan.txt")));
        Assert.Contains("line 2 field N", n.Message);
        File.WriteAllText(Path.Combine(_dir, "dup.txt"), "a,1\nb,2\na,3\n");
        var d = Assert.Throws<LacunaFormatException>(() => DlmcReader.ReadBatchSizes(Path.Combine(_dir, "dup.txt")));
        Assert.Contains("line 3", d.Message);
        Assert.Contains("twice", d.Message);
    }

    [Fact]
    public void Gzip_file_with_windows_line_endings_and_empty_rows_reads()
    {
        var m = DlmcReader.ReadSmtx(Write("w.smtx.gz", "4, 3, 2\r\n0 0 1 1 2\r\n2 0\r\n", gzip: true), seed: 3);
        Assert.Equal(new[] { 0, 0, 1, 1, 2 }, m.RowOffsets);
        Assert.Equal(new[] { 2, 0 }, m.ColumnIndices);
        var empty = DlmcReader.ReadSmtx(Write("e.smtx", "2, 3, 0\n0 0 0\n\n"));
        Assert.Equal(0, empty.Nnz);
        Assert.Equal(2, empty.Rows);
    }

    [Fact]
    public void Not_gzip_data_in_a_gz_file_is_a_format_error()
    {
        string path = Write("plain.smtx.gz", Valid);
        var e = Assert.Throws<LacunaFormatException>(() => DlmcReader.ReadSmtx(path));
        Assert.Contains("plain.smtx.gz", e.Message);
        Assert.Contains("not a gzip file", e.Message);
        File.WriteAllBytes(path, new byte[] { 0x1f, 0x8b, 8, 0, 0 });
        Assert.Contains("fewer than a gzip header", Assert.Throws<LacunaFormatException>(() => DlmcReader.ReadSmtx(path)).Message);
    }
}
