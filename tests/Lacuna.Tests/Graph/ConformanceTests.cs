using Lacuna.Onnx.Import;

namespace Lacuna.Tests.Graph;

/// <summary>
/// Every ONNX backend node test (Debian libonnx-testdata) through the inference session. The data folder missing is a
/// failure, not a skip. Supported cases must all pass; the passed count may only go up (141 measured).
/// </summary>
public class ConformanceTests
{
    private const string Root = "/usr/share/libonnx-testdata/data/node";
    private const int MinimumPassed = 141;

    [Fact]
    public void NodeTestsPassOrAreUnsupported()
    {
        Assert.True(Directory.Exists(Root), $"{Root} is missing: install libonnx-testdata.");
        var r = ConformanceRunner.RunAll(Root);
        Assert.True(r.Failed == 0, $"{r.Failed} failed:\n{string.Join("\n", r.Failures)}");
        Assert.True(r.Passed >= MinimumPassed, $"only {r.Passed} passed (expected at least {MinimumPassed}).");
        Assert.True(r.Passed + r.Unsupported > 500, "the data folder looks incomplete");
    }

    /// <summary>The whole-module cases exported from PyTorch (conv, pooling, linear, activations).</summary>
    [Theory]
    [InlineData("pytorch-converted", 33)]
    [InlineData("pytorch-operator", 9)]
    public void PyTorchCasesPassOrAreUnsupported(string folder, int minimumPassed)
    {
        string dir = Path.Combine(Path.GetDirectoryName(Root)!, folder);
        Assert.True(Directory.Exists(dir), $"{dir} is missing: install libonnx-testdata.");
        var r = ConformanceRunner.RunAll(dir);
        Assert.True(r.Failed == 0, $"{r.Failed} failed:\n{string.Join("\n", r.Failures)}");
        Assert.True(r.Passed >= minimumPassed, $"only {r.Passed} passed (expected at least {minimumPassed}).");
    }

    [Theory]
    [InlineData("test_conv_with_autopad_same")]
    [InlineData("test_maxpool_2d_same_upper")]
    [InlineData("test_averagepool_2d_same_lower")]
    [InlineData("test_gemm_default_single_elem_vector_bias")]
    [InlineData("test_shape")]
    public void SelectedCasesPass(string name)
    {
        var (outcome, message) = ConformanceRunner.RunCase(Path.Combine(Root, name));
        Assert.True(outcome == ConformanceRunner.Outcome.Passed, $"{name}: {outcome} {message}");
    }
}
