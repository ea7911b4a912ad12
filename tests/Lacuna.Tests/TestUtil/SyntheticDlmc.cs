using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;

namespace Lacuna.Tests.TestUtil;

/// <summary>A DLMC-style folder written in a test: one .smtx per mapped layer of a zoo model, with a seeded random pattern.</summary>
public static class SyntheticDlmc
{
    /// <summary>
    /// Writes <c>names[layer].smtx</c> in <paramref name="dir"/> for every layer of the shape-only <paramref name="zooName"/>,
    /// each entry present with probability <paramref name="density"/>; returns the (row, col) pairs per layer.
    /// </summary>
    public static Dictionary<string, List<(int Row, int Col)>> WriteFolder(string dir, string zooName, IReadOnlyDictionary<string, string> names,
        double density, ulong seed)
    {
        var shapeOnly = ZooBuilder.Build(zooName, new ZooOptions(WithWeights: false));
        var rng = new DeterministicRandom(seed);
        var result = new Dictionary<string, List<(int, int)>>();
        foreach (var layer in shapeOnly.Layers)
        {
            var (rows, cols) = DlmcResNetMapping.MatrixShape(layer);
            var entries = new List<(int, int)>();
            for (int r = 0; r < rows; r++)
                for (int col = 0; col < cols; col++)
                    if (rng.NextDouble() < density) entries.Add((r, col));
            WriteSmtx(dir, names[layer.Name], rows, cols, entries);
            result[layer.Name] = entries;
        }
        return result;
    }

    /// <summary>One .smtx file; columns written in descending order within a row (the reader sorts them).</summary>
    public static void WriteSmtx(string dir, string name, int rows, int cols, List<(int Row, int Col)> entries)
    {
        var offsets = new int[rows + 1];
        foreach (var (r, _) in entries) offsets[r + 1]++;
        for (int r = 0; r < rows; r++) offsets[r + 1] += offsets[r];
        var columns = entries.OrderBy(e => e.Row).ThenByDescending(e => e.Col).Select(e => e.Col);
        File.WriteAllText(Path.Combine(dir, name + ".smtx"),
            $"{rows}, {cols}, {entries.Count}\n{string.Join(' ', offsets)}\n{string.Join(' ', columns)}\n");
    }
}
