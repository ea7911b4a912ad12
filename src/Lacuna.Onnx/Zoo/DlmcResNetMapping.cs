using Lacuna.Formats;

namespace Lacuna.Onnx.Zoo;

/// <summary>What a DLMC folder supplied to a model.</summary>
public sealed record DlmcCoverage(string Directory, int Mapped, int Expected, IReadOnlyList<string> UnusedFiles);

/// <summary>
/// Maps the DLMC ResNet-50 matrices (Gale et al., SC'20; from the TF ResNet-50 v1.5 of Gale, Elsen and
/// Hooker 2019) onto the torchvision-layout layers of a bottleneck <see cref="ResNetSpec"/>.
/// <para>
/// The mapping was derived from the matrix shapes and <c>rn50_batchsizes.txt</c> (output pixels):
/// the TF model names the first block of stage g "projection_block_group{g}" and the others
/// "group{g}_{i}" with i = 1.. (torchvision block index i), and numbers the three convs of a block 1-3:
/// </para>
/// <list type="table">
/// <item><term><c>initial_conv</c></term><description><c>conv1</c> 64 × 147</description></item>
/// <item><term><c>bottleneck_{k}_block_group_projection_block_group{g}</c></term><description><c>layer{g}.0.conv{k}</c></description></item>
/// <item><term><c>bottleneck_projection_block_group_projection_block_group{g}</c></term><description><c>layer{g}.0.downsample.0</c></description></item>
/// <item><term><c>bottleneck_{k}_block_group{g}_{i}_1</c></term><description><c>layer{g}.{i}.conv{k}</c>, i ≥ 1</description></item>
/// <item><term><c>final_dense</c></term><description><c>fc</c> 1000 × 2048 (= the Gemm weight [out, in])</description></item>
/// </list>
/// <para>
/// That is 1 + 4·3 + 4 + 3·(2+3+5+2) + 1 = 54 matrices for ResNet-50. The stride sits on the 3x3 as in
/// torchvision (e.g. <c>bottleneck_1_block_group_projection_block_group2</c> is 128 × 256 at 56² output
/// pixels, <c>bottleneck_2_…group2</c> 128 × 1152 at 28²), so no reordering of layers is needed.
/// </para>
/// <para>
/// Column order: a conv matrix is M × (kh·kw·C) with K ordered (kh, kw, C), C fastest — TF's HWIO weight
/// flattened. Evidence: in the magnitude-pruned 0.7 <c>initial_conv</c>, non-zeros per column/3 (the
/// spatial tap under that order) peak at the 7x7 centre (≈119 vs ≈16 at the corners) while column mod 49
/// is flat; the 3x3 convs show the same. Column j is therefore weight[m, j mod C, (j / C) / kw, (j / C) mod kw].
/// </para>
/// </summary>
public static class DlmcResNetMapping
{
    /// <summary>The DLMC matrix name of every mappable layer of <paramref name="spec"/>, keyed by layer name.</summary>
    public static IReadOnlyDictionary<string, string> MatrixNames(ResNetSpec spec)
    {
        if (!spec.Bottleneck) throw new ArgumentException("the DLMC matrices come from a bottleneck ResNet (ResNet-50).", nameof(spec));
        var map = new Dictionary<string, string>(StringComparer.Ordinal) { ["conv1"] = "initial_conv" };
        for (int g = 1; g <= 4; g++)
        {
            for (int k = 1; k <= 3; k++)
                map[$"layer{g}.0.conv{k}"] = $"bottleneck_{k}_block_group_projection_block_group{g}";
            map[$"layer{g}.0.downsample.0"] = $"bottleneck_projection_block_group_projection_block_group{g}";
            for (int i = 1; i < spec.Blocks[g - 1]; i++)
                for (int k = 1; k <= 3; k++)
                    map[$"layer{g}.{i}.conv{k}"] = $"bottleneck_{k}_block_group{g}_{i}_1";
        }
        map["fc"] = "final_dense";
        return map;
    }

    /// <summary>The im2col shape (M, K) DLMC uses for a layer: M = out channels, K = in/group·kh·kw.</summary>
    public static (int Rows, int Cols) MatrixShape(ZooLayer layer) =>
        ((int)layer.Dims[0], (int)(layer.WeightCount / layer.Dims[0]));

    /// <summary>
    /// Replaces each mapped layer's weights with the matrix's non-zero pattern. The synthesized values
    /// (|v| uniform in [0.1, 1), random sign) are scaled by InitStd / (rms(v)·sqrt(density)), so the
    /// sparse layer keeps the dense He init's output variance. Every mapped matrix must exist and have the
    /// layer's shape; files in the folder that map to no layer are reported, not an error.
    /// </summary>
    public static DlmcCoverage Apply(IReadOnlyList<ZooLayer> layers, ResNetSpec spec, string directory, ulong seed) =>
        ApplyNames(layers, MatrixNames(spec), directory, seed);

    /// <summary>
    /// <see cref="Apply(IReadOnlyList{ZooLayer}, ResNetSpec, string, ulong)"/> for any layer-to-matrix name map (the
    /// transformer mapping uses it too).
    /// </summary>
    internal static DlmcCoverage ApplyNames(IReadOnlyList<ZooLayer> layers, IReadOnlyDictionary<string, string> names, string directory, ulong seed)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"DLMC folder not found: {directory}");
        var used = new HashSet<string>(StringComparer.Ordinal);
        ulong index = 0;
        foreach (var layer in layers)
        {
            index++;
            if (!names.TryGetValue(layer.Name, out var matrixName)) continue;
            if (layer.Weights is null) throw new InvalidOperationException("DLMC mapping needs a model built with weights.");
            string? path = Find(directory, matrixName)
                ?? throw new LacunaFormatException(matrixName, $"matrix for layer '{layer.Name}' is missing in {directory} (expected {matrixName}.smtx or .smtx.gz).");
            var csr = DlmcReader.ReadSmtx(path, seed * 1_000_003UL + index);
            var (rows, cols) = MatrixShape(layer);
            if (csr.Rows != rows || csr.Cols != cols)
                throw new LacunaFormatException(matrixName,
                    $"is {csr.Rows} × {csr.Cols} but layer '{layer.Name}' weight [{string.Join(", ", layer.Dims)}] needs {rows} × {cols}.");
            Scatter(csr, layer);
            used.Add(DlmcReader.MatrixName(path));
        }
        var unused = Directory.EnumerateFiles(directory)
            .Where(f => f.EndsWith(".smtx", StringComparison.Ordinal) || f.EndsWith(".smtx.gz", StringComparison.Ordinal))
            .Select(DlmcReader.MatrixName).Where(n => !used.Contains(n)).Order(StringComparer.Ordinal).ToArray();
        return new DlmcCoverage(directory, used.Count, names.Count, unused);
    }

    private static string? Find(string directory, string matrixName)
    {
        foreach (var ext in (string[])[".smtx.gz", ".smtx"])
        {
            string p = Path.Combine(directory, matrixName + ext);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>Writes the matrix into the layer's [M, C, kh, kw] weight, permuting DLMC's (kh, kw, C) columns.</summary>
    private static void Scatter(CsrMatrix csr, ZooLayer layer)
    {
        var w = layer.Weights!;
        Array.Clear(w);
        if (csr.Nnz == 0) return;
        double sumSq = 0;
        foreach (float v in csr.Values) sumSq += (double)v * v;
        double rms = Math.Sqrt(sumSq / csr.Nnz);
        double density = csr.Nnz / ((double)csr.Rows * csr.Cols);
        float scale = (float)(layer.InitStd / (rms * Math.Sqrt(density)));
        int c = layer.Kind == ZooLayerKind.Conv ? (int)layer.Dims[1] : csr.Cols;
        int kh = layer.Kind == ZooLayerKind.Conv ? (int)layer.Dims[2] : 1;
        int kw = layer.Kind == ZooLayerKind.Conv ? (int)layer.Dims[3] : 1;
        for (int m = 0; m < csr.Rows; m++)
        {
            for (int p = csr.RowOffsets[m]; p < csr.RowOffsets[m + 1]; p++)
            {
                int j = csr.ColumnIndices[p];
                int ci = j % c, tap = j / c;
                w[((m * c + ci) * kh + tap / kw) * kw + tap % kw] = csr.Values[p] * scale;
            }
        }
    }
}
