using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Zoo;

/// <summary>
/// The DLMC → torchvision ResNet mapping, on a temp folder of synthetic .smtx files written for the small
/// bottleneck ResNet (never on /work/shared: CI has no copy), plus the ResNet-50 names and shapes.
/// </summary>
public sealed class DlmcResNetMappingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-dlmc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ResNet50MapsAll54MatricesWithTheirDataSetShapes()
    {
        var m = ZooBuilder.Build("resnet50", new ZooOptions(WithWeights: false));
        var names = DlmcResNetMapping.MatrixNames(ZooBuilder.ResNet50Spec);
        Assert.Equal(54, names.Count);
        Assert.Equal(54, names.Values.Distinct().Count());
        Assert.Equal(names.Keys.Order(), m.Layers.Select(l => l.Name).Order());
        var shapes = m.Layers.ToDictionary(l => names[l.Name], DlmcResNetMapping.MatrixShape);
        // Header lines of the DLMC rn50 files (nrows, ncols).
        Assert.Equal((64, 147), shapes["initial_conv"]);
        Assert.Equal((64, 64), shapes["bottleneck_1_block_group_projection_block_group1"]);
        Assert.Equal((128, 256), shapes["bottleneck_1_block_group_projection_block_group2"]);
        Assert.Equal((128, 1152), shapes["bottleneck_2_block_group_projection_block_group2"]);
        Assert.Equal((512, 256), shapes["bottleneck_projection_block_group_projection_block_group2"]);
        Assert.Equal((256, 1024), shapes["bottleneck_1_block_group3_5_1"]);
        Assert.Equal((2048, 1024), shapes["bottleneck_projection_block_group_projection_block_group4"]);
        Assert.Equal((512, 4608), shapes["bottleneck_2_block_group4_2_1"]);
        Assert.Equal((1000, 2048), shapes["final_dense"]);
    }

    [Fact]
    public void PatternReplacesWeightsWithKhKwCColumnOrder()
    {
        var patterns = WriteSyntheticFolder(density: 0.3, seed: 11);
        File.WriteAllText(Path.Combine(_dir, "unrelated_matrix.smtx"), "1, 1, 0\n0 0\n\n");
        var m = ZooBuilder.Build("resnet-mini", new ZooOptions(Seed: 4, DlmcDirectory: _dir));
        var coverage = Assert.IsType<DlmcCoverage>(m.Dlmc);
        Assert.Equal(m.Layers.Count, coverage.Mapped);
        Assert.Equal(m.Layers.Count, coverage.Expected);
        Assert.Equal(["unrelated_matrix"], coverage.UnusedFiles);
        foreach (var layer in m.Layers)
        {
            var w = m.Model.ReadFloats(m.Model.Graph.FindInitializer(layer.WeightName)!);
            var expected = new bool[w.Length];
            int c = (int)layer.Dims[1], kh = layer.Kind == ZooLayerKind.Conv ? (int)layer.Dims[2] : 1, kw = layer.Kind == ZooLayerKind.Conv ? (int)layer.Dims[3] : 1;
            foreach (var (row, col) in patterns[layer.Name])
            {
                int tap = col / c; // DLMC column = (kh·KW + kw)·C + c
                expected[((row * c + col % c) * kh + tap / kw) * kw + tap % kw] = true;
            }
            for (int i = 0; i < w.Length; i++) Assert.Equal(expected[i], w[i] != 0f);
            Assert.Equal(1 - (double)patterns[layer.Name].Count / w.Length, layer.Sparsity, 12);
            // Values scaled so the layer keeps the He init's output variance: rms(w over all) ≈ InitStd.
            double rms = Math.Sqrt(w.Select(v => (double)v * v).Sum() / w.Length);
            Assert.InRange(rms, 0.999 * layer.InitStd, 1.001 * layer.InitStd);
        }
    }

    [Fact]
    public void MissingMatrixIsAnErrorNamingIt()
    {
        WriteSyntheticFolder(density: 0.5, seed: 2);
        File.Delete(Path.Combine(_dir, "bottleneck_2_block_group2_1_1.smtx"));
        var e = Assert.Throws<LacunaFormatException>(() => ZooBuilder.Build("resnet-mini", new ZooOptions(DlmcDirectory: _dir)));
        Assert.Contains("bottleneck_2_block_group2_1_1", e.Message);
        Assert.Contains("layer2.1.conv2", e.Message);
    }

    [Fact]
    public void MisShapedMatrixIsAnErrorWithBothShapes()
    {
        WriteSyntheticFolder(density: 0.5, seed: 2);
        // layer1.0.conv2 is [8, 8, 3, 3] → 8 × 72; write 8 × 8 (as if it were a 1x1).
        WriteSmtx("bottleneck_2_block_group_projection_block_group1", 8, 8, [(0, 1), (3, 7)]);
        var e = Assert.Throws<LacunaFormatException>(() => ZooBuilder.Build("resnet-mini", new ZooOptions(DlmcDirectory: _dir)));
        Assert.Contains("bottleneck_2_block_group_projection_block_group1", e.Message);
        Assert.Contains("8 × 8", e.Message);
        Assert.Contains("8 × 72", e.Message);
        Assert.Contains("layer1.0.conv2", e.Message);
    }

    private Dictionary<string, List<(int Row, int Col)>> WriteSyntheticFolder(double density, ulong seed) =>
        SyntheticDlmc.WriteFolder(_dir, "resnet-mini", DlmcResNetMapping.MatrixNames(ZooBuilder.ResNetMiniSpec), density, seed);

    private void WriteSmtx(string name, int rows, int cols, List<(int Row, int Col)> entries) => SyntheticDlmc.WriteSmtx(_dir, name, rows, cols, entries);
}
