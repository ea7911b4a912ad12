using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Nm;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.Formats;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Nm;

public class NmSpmmTests
{
    /// <summary>n around every tile width: 1..17, 31..33, 63..65 (AVX-512 tiles are 16-128 wide, AVX2 8-64, Vector128 4-16).</summary>
    public static TheoryData<int> Widths() => new() { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 63, 64, 65 };

    private static IReadOnlyList<NmMatrix> Terms(string spec, int rows, int cols, ulong seed)
    {
        var w = TestData.Random(rows * cols, seed);
        return TasdSeries.Decompose(w, rows, cols, TasdSpec.Parse(spec)).Terms;
    }

    /// <summary>Every supported tile that divides the layout's rows per pattern, with and without K blocks, against the reference.</summary>
    private static void Check(IReadOnlyList<NmMatrix> terms, int n, Activation act, bool bias, int threads, string context)
    {
        int rows = terms[0].Rows, cols = terms[0].Cols;
        var x = TestData.Random(cols * n, 77);
        var b = bias ? TestData.Random(rows, 78) : [];
        var expected = new float[rows * n];
        ReferenceNmSpmm.Compute(terms, x, n, expected, b, act);
        var kernels = NmKernels.Supported.Where(k => terms[0].RowsPerPattern % k.Rows == 0).ToArray();
        Assert.NotEmpty(kernels);
        foreach (var kernel in kernels)
            // 64 bytes of X per K block is the smallest block: several blocks accumulate into Y even on tiny K.
            foreach (int blockBytes in new[] { 0, 64 })
            {
                var plan = NmSpmmPlan.Create(terms, b, act, kernel, blockBytes);
                var y = TestData.Poisoned(rows * n);
                plan.Run(x, n, y, threads);
                KernelAssert.Close(expected, y, cols, $"{kernel.Name} blockBytes={blockBytes} {context} n={n} {act} t{threads}");
            }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Per_row_tiles_match_the_reference(int n)
    {
        Check(Terms("2:4", 7, 22, 1), n, Activation.Relu, bias: true, threads: 1, "2:4 7x22");
        Check(Terms("1:8", 3, 13, 2), n, Activation.Clip(-0.2f, 0.3f), bias: false, threads: 2, "1:8 3x13");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Row_shared_tiles_match_the_reference(int n)
    {
        Check(Terms("2:4:r8", 19, 14, 3), n, Activation.None, bias: true, threads: 1, "2:4 r8 19x14");
        Check(Terms("1:4:r4", 6, 9, 4), n, Activation.Relu, bias: true, threads: 2, "1:4 r4 6x9");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Series_run_in_one_pass_match_the_reference(int n)
    {
        Check(Terms("2:4+1:8", 5, 21, 5), n, Activation.Relu, bias: true, threads: 1, "2:4+1:8 5x21");
        Check(Terms("2:4+1:8:r2", 9, 16, 6), n, Activation.None, bias: false, threads: 2, "2:4+1:8 r2 9x16");
    }

    [Theory]
    [InlineData("1:4", 5, 12)]
    [InlineData("2:8", 4, 17)]
    [InlineData("4:8", 9, 8)]
    [InlineData("3:16", 2, 50)]
    [InlineData("2:4:r3", 8, 10)]   // r with no tile of its own runs on one-row tiles
    [InlineData("1:8:r16", 37, 24)] // r wider than any tile runs in sub-blocks
    [InlineData("1:4+1:4+1:4", 3, 11)]
    public void Other_shapes_and_layouts_match_the_reference(string spec, int rows, int cols)
    {
        foreach (int n in new[] { 1, 16, 33 })
            Check(Terms(spec, rows, cols, 7), n, Activation.Relu, bias: true, threads: 1, $"{spec} {rows}x{cols}");
    }

    [Fact]
    public void Tuned_plans_match_the_reference_and_say_what_they_chose()
    {
        var terms = Terms("2:4+1:8:r8", 40, 64, 8);
        var bias = TestData.Random(40, 9);
        var plan = NmSpmmPlan.Create(terms, bias, Activation.Relu);
        foreach (int threads in new[] { 1, 2 })
            foreach (int n in new[] { 3, 50, 130 })
            {
                var x = TestData.Random(64 * n, 10);
                var expected = new float[40 * n];
                ReferenceNmSpmm.Compute(terms, x, n, expected, bias, Activation.Relu);
                var y = TestData.Poisoned(40 * n);
                plan.Run(x, n, y, threads);
                KernelAssert.Close(expected, y, 64, $"tuned n={n} t{threads}");
                Assert.Matches(@"^(Avx512|Avx2Fma|Vector128|Scalar) \d+x\d+, (no K blocks|\d+ KiB K blocks)$", plan.ScheduleFor(n, threads));
            }
        Assert.Equal(40 * (64 / 4 * 2 + 64 / 8), plan.MacsPerColumn);
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var terms = Terms("2:4", 4, 8, 11);
        Assert.Throws<ShapeMismatchException>(() => NmSpmmPlan.Create(terms, new float[3]));
        Assert.Throws<ShapeMismatchException>(() => NmSpmmPlan.Create([terms[0], Terms("2:4", 4, 12, 12)[0]]));
        var plan = NmSpmmPlan.Create(terms[0]);
        var e = Assert.Throws<ShapeMismatchException>(() => plan.Run(new float[8 * 2], 3, new float[4 * 3]));
        Assert.Equal("x", e.ParamName);
        Assert.Throws<ShapeMismatchException>(() => plan.Run(new float[8 * 3], 3, new float[4 * 2]));
        // n = 0 writes nothing and succeeds.
        plan.Run([], 0, []);
    }
}
