using Lacuna.Graph.Ops;
using Lacuna.Onnx.Import;

namespace Lacuna.Tests.Graph;

/// <summary>
/// Every ONNX backend node test (Debian libonnx-testdata) through the inference session. The data folder missing is a
/// failure, not a skip. Supported cases must all pass; the passed count may only go up (141 measured before the operator
/// registry, 209 with the element-wise rows, 396 before the reductions, comparisons, narrow integers and N-D pooling, 573 after; 582 with 3-D ConvTranspose, training-mode Dropout (ratio 0) and BatchNormalization, and BFLOAT16 casts).
/// </summary>
public class ConformanceTests
{
    private const string Root = "/usr/share/libonnx-testdata/data/node";
    private const int MinimumPassed = 582;

    [Fact]
    public void NodeTestsPassOrAreUnsupported()
    {
        Assert.True(Directory.Exists(Root), $"{Root} is missing: install libonnx-testdata.");
        var r = ConformanceRunner.RunAll(Root);
        Assert.True(r.Failed == 0, $"{r.Failed} failed:\n{string.Join("\n", r.Failures)}");
        Assert.True(r.Passed >= MinimumPassed, $"only {r.Passed} passed (expected at least {MinimumPassed}).");
        Assert.True(r.Passed + r.Unsupported > 500, "the data folder looks incomplete");
    }

    public static TheoryData<string> Operators()
    {
        var d = new TheoryData<string>();
        foreach (var name in OpRegistry.All.Where(o => !o.Traits.HasFlag(OpTraits.Internal) && o.NoNodeTests is null).Select(o => o.Name).Distinct()) d.Add(name);
        return d;
    }

    /// <summary>
    /// Every registered operator passes at least one of the node tests it owns and fails none, so no definition is
    /// registered but never exercised end to end (the other owned cases are unsupported data types or outputs).
    /// </summary>
    [Theory]
    [MemberData(nameof(Operators))]
    public void EveryOperatorPassesItsNodeTests(string op)
    {
        Assert.True(Directory.Exists(Root), $"{Root} is missing: install libonnx-testdata.");
        var defs = OpRegistry.Named(op);
        var cases = Directory.GetDirectories(Root).Where(d => defs.Any(o => o.OwnsCase(Path.GetFileName(d)))).ToList();
        var outcomes = cases.Select(c => (Name: Path.GetFileName(c), Result: ConformanceRunner.RunCase(c))).ToList();
        var failed = outcomes.Where(o => o.Result.Item1 == ConformanceRunner.Outcome.Failed).Select(o => $"{o.Name}: {o.Result.Item2}").ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));
        Assert.True(outcomes.Any(o => o.Result.Item1 == ConformanceRunner.Outcome.Passed),
            $"{op}: none of its {cases.Count} node tests passed: {string.Join("; ", outcomes.Select(o => $"{o.Name}: {o.Result.Item2}"))}");
    }

    /// <summary>The whole-module cases exported from PyTorch (conv, pooling, linear, activations).</summary>
    [Theory]
    [InlineData("pytorch-converted", 69)]
    [InlineData("pytorch-operator", 32)]
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
