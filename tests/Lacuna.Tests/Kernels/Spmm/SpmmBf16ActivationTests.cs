using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Spmm;

/// <summary>SpMM with X stored as bf16 in its packed panels (<see cref="SpmmPrecision.BFloat16Activations"/>).</summary>
public class SpmmBf16ActivationTests
{
    private static float[] RoundedToBf16(float[] x) => Array.ConvertAll(x, v => BFloat16.ToSingle(BFloat16.FromSingle(v)));

    /// <summary>
    /// Every tile of every supported tier (and the tuned plan) against the reference on X rounded to bf16 first, so
    /// the only difference left is fp32 summation: the fp32 tolerance applies. Weights fp32 and bf16, K blocks of 16
    /// rows and none, the given thread count, output poisoned.
    /// </summary>
    private static void Check(CsrMatrix w, int n, Activation act, bool bias, int threads, string context)
    {
        var x = TestData.Random(w.Cols * n, 91);
        var xr = RoundedToBf16(x);
        var b = bias ? TestData.Random(w.Rows, 92) : Array.Empty<float>();
        foreach (var precision in new[] { SpmmPrecision.BFloat16Activations, SpmmPrecision.BFloat16WeightsAndActivations })
        {
            var wr = precision.HasBf16Weights() ? SpmmTests.RoundedToBf16(w) : w;
            var expected = new float[w.Rows * n];
            ReferenceSpmm.Compute(wr, xr, n, expected, b, act);
            // One column runs the SpMV, which reads X in fp32 (nothing there is reused to repay a conversion).
            var expectedSpmv = new float[w.Rows * n];
            ReferenceSpmm.Compute(wr, x, n, expectedSpmv, b, act);
            foreach (var kernel in SpmmKernels.Supported.Append(null))
                foreach (int blockBytes in new[] { 0, 1 })
                {
                    var plan = SpmmPlan.Create(w, b, act, precision, kernel, blockBytes);
                    var y = TestData.Poisoned(w.Rows * n);
                    plan.Run(x, n, y, threads);
                    KernelAssert.Close(n == 1 && kernel is null ? expectedSpmv : expected, y, Math.Max(1, w.Cols),
                        $"{kernel?.Name ?? "auto"} {precision} blockBytes={blockBytes} {context} n={n} {act}");
                }
        }
    }

    /// <summary>Around every vector width (4, 8, 16), vector pair (8, 16, 32) and tile width of the tiers (up to 128 and 96).</summary>
    public static TheoryData<int> Widths() => new() { 1, 3, 4, 5, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 95, 96, 97, 111, 112, 113, 127, 128, 129, 196 };

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_tile_matches_reference_on_bf16_rounded_x(int n)
    {
        Check(SpmmTests.RandomCsr(13, 37, 0.7, 3), n, Activation.Relu, bias: true, threads: 1, "13x37@0.7");
        Check(SpmmTests.RandomCsr(5, 20, 0.5, 4), n, Activation.Clip(-0.2f, 0.3f), bias: false, threads: 2, "5x20@0.5");
    }

    [Theory]
    [InlineData(7, 300, 0.9)]
    [InlineData(16, 1000, 0.99)]
    [InlineData(33, 64, 0.95)]
    public void Every_tile_matches_reference_across_sparsities(int m, int k, double sparsity)
    {
        foreach (int n in new[] { 24, 100 })
            Check(SpmmTests.RandomCsr(m, k, sparsity, 9), n, Activation.None, bias: true, threads: 2, $"{m}x{k}@{sparsity}");
    }

    [Fact]
    public void Wide_matrices_with_32_bit_indices_and_empty_rows()
    {
        Check(SpmmTests.RandomCsr(3, 70_000, 0.999, 21), 19, Activation.Relu, bias: true, threads: 2, "3x70000@0.999");
        var dense = TestData.Random(6 * 200, 5);
        foreach (int r in new[] { 0, 2, 5 }) Array.Clear(dense, r * 200, 200);
        Check(CsrMatrix.FromDense(dense, 6, 200), 70, Activation.Relu, true, 1, "empty rows");
    }

    [Fact]
    public void Error_against_fp32_is_within_a_percent_of_max_y()
    {
        var w = SpmmTests.RandomCsr(64, 576, 0.9, 31);
        int n = 196;
        var x = TestData.Random(576 * n, 32);
        var y32 = new float[64 * n];
        SpmmPlan.Create(w).Run(x, n, y32, 1);
        foreach (var precision in new[] { SpmmPrecision.BFloat16Activations, SpmmPrecision.BFloat16WeightsAndActivations })
            foreach (int threads in new[] { 1, 2 })
            {
                // The public plan may keep fp32 X where it measured faster; a plan with its K block fixed only tunes
                // the tile, so it always runs bf16 X and its error cannot be zero.
                foreach (var (plan, bf16Certain) in new[] { (SpmmPlan.Create(w, default, default, precision), false), (SpmmPlan.Create(w, default, default, precision, null, blockBytes: 0), true) })
                {
                    var y16 = TestData.Poisoned(64 * n);
                    plan.Run(x, n, y16, threads);
                    double maxErr = 0, maxAbs = 0;
                    for (int i = 0; i < y32.Length; i++) { maxErr = Math.Max(maxErr, Math.Abs(y32[i] - y16[i])); maxAbs = Math.Max(maxAbs, Math.Abs(y32[i])); }
                    Assert.True(maxErr <= 1e-2 * maxAbs, $"{precision} t{threads}: max error {maxErr} vs max |y| {maxAbs}");
                    if (bf16Certain) Assert.True(maxErr > 1e-5 * maxAbs, $"{precision} t{threads}: max error {maxErr}: X was not rounded to bf16");
                }
            }
    }

    [Fact]
    public void Tuned_plan_runs_bf16_or_fp32_x_as_measured_and_keeps_its_pick()
    {
        var w = SpmmTests.RandomCsr(48, 300, 0.9, 51);
        var b = TestData.Random(48, 52);
        var plan = SpmmPlan.Create(w, b, Activation.Relu, SpmmPrecision.BFloat16Activations);
        foreach (int n in new[] { 40, 150 })
        {
            var x = TestData.Random(300 * n, 53);
            var first = TestData.Poisoned(48 * n);
            plan.Run(x, n, first, 1);
            string schedule = plan.ScheduleFor(n, 1)!;
            // Whichever X the tuning kept, the result is that X's product, and later runs repeat it bit for bit.
            var expected = new float[48 * n];
            ReferenceSpmm.Compute(w, schedule.Contains("fp32 X") ? x : RoundedToBf16(x), n, expected, b, Activation.Relu);
            KernelAssert.Close(expected, first, 300, schedule);
            var again = TestData.Poisoned(48 * n);
            plan.Run(x, n, again, 1);
            KernelAssert.Exact(first, again, schedule);
            Assert.Equal(schedule, plan.ScheduleFor(n, 1));
            Assert.True(schedule.Contains("fp32 X") || schedule.Contains("packed"), schedule);
        }
    }

    /// <summary>
    /// The panel holds exactly <see cref="BFloat16.FromSingle"/> of each column in the documented pair layout, for
    /// every tier's lane count, widths around pairs, and the values the vectorized rounding must treat specially.
    /// </summary>
    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(16)]
    public unsafe void Panel_is_bf16_of_x_in_pair_layout(int lanes)
    {
        float[] specials =
        {
            float.NaN, BitConverter.Int32BitsToSingle(0x7FFFFFFF), BitConverter.Int32BitsToSingle(unchecked((int)0xFF800001)),
            float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue, float.Epsilon, -0f,
            BitConverter.Int32BitsToSingle(0x3F808000), BitConverter.Int32BitsToSingle(0x3F818000), BitConverter.Int32BitsToSingle(0x7F7F8000),
        };
        foreach (int width in new[] { lanes, 2 * lanes, 3 * lanes, 4 * lanes })
            foreach (int valid in new[] { 1, lanes - 1, lanes, lanes + 1, 2 * lanes, width - 1, width }.Where(v => v >= 1 && v <= width).Distinct())
            {
                const int k = 5, g = 3;
                int n = g + width + 2;
                var x = TestData.Random(k * n, (ulong)(lanes * 1000 + width * 10 + valid), -300f, 300f);
                for (int i = 0; i < x.Length; i += 7) x[i] = specials[i / 7 % specials.Length];
                int stride = SpmmBf16Panel.Stride(width, lanes);
                Assert.Equal(0, stride % (2 * lanes));
                var panel = new ushort[(k - 1) * stride];
                fixed (float* px = x)
                fixed (ushort* pp = panel)
                    SpmmBf16Panel.Pack(px, n, g, valid, width, lanes, pp, 1, k);
                for (int r = 1; r < k; r++)
                    for (int c = 0; c < stride; c++)
                    {
                        int pair = c / (2 * lanes), lane = c % lanes, half = c % (2 * lanes) / lanes;
                        ushort stored = panel[(r - 1) * stride + pair * 2 * lanes + 2 * lane + half];
                        ushort want = c < valid ? BFloat16.FromSingle(x[r * n + g + c]) : (ushort)0;
                        Assert.True(want == stored, $"lanes={lanes} width={width} valid={valid} row {r} column {c}: 0x{stored:X4}, expected 0x{want:X4}");
                    }
            }
        Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(BitConverter.Int32BitsToSingle(0x7F800001)))));
        Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(BitConverter.Int32BitsToSingle(0x7FFFFFFF)))));
    }

    [Fact]
    public void Unknown_precision_is_named()
    {
        var w = SpmmTests.RandomCsr(4, 6, 0.5, 1);
        Assert.Equal("precision", Assert.Throws<ArgumentOutOfRangeException>(() => SpmmPlan.Create(w, default, default, (SpmmPrecision)4)).ParamName);
    }
}
