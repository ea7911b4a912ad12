using Lacuna.Kernels;
using Lacuna.Kernels.Attention;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Attention;

public class ScaledDotProductAttentionTests
{
    private static float Scale(int d) => 1f / MathF.Sqrt(d);

    [Theory]
    [InlineData(1, 2, 1, 16)]
    [InlineData(2, 3, 7, 8)]
    [InlineData(1, 2, 17, 64)]
    [InlineData(2, 2, 33, 13)]
    [InlineData(1, 2, 128, 64)]
    [InlineData(1, 1, 65, 33)]
    public void HeadMajor_MatchesReference_OnEveryTier_WithAndWithoutMask(int batch, int heads, int seq, int d)
    {
        var shape = new AttentionShape(batch, heads, seq, seq, d);
        var layout = AttentionLayout.HeadMajor(heads, seq, d);
        int n = batch * heads * seq * d;
        var q = TestData.Random(n, 1, -2f, 2f);
        var k = TestData.Random(n, 2, -2f, 2f);
        var v = TestData.Random(n, 3);
        // Padding mask [batch, 1, 1, seq]: the last key of batch 0 (and more of later batches) masked with -10000 as BERT does.
        var pad = new float[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < seq; j++) pad[b * seq + j] = j >= seq - b - 1 && j > 0 ? -10000f : 0f;
        // Causal-style mask [1, 1, seq, seq] with random finite values.
        var full = TestData.Random(seq * seq, 4, -3f, 0f);
        var cases = new (float[] Mask, AttentionMask Shape, string Name)[]
        {
            ([], default, "no mask"), (pad, new AttentionMask(batch, 1), "padding mask"), (full, new AttentionMask(1, seq), "full mask"),
        };
        foreach (var (mask, maskShape, name) in cases)
        {
            var expected = TestData.Poisoned(n);
            ReferenceAttention.Compute(shape, q, layout, k, layout, v, layout, expected, layout, Scale(d), mask, maskShape);
            foreach (var kernel in AttentionPanelKernels.Supported)
                foreach (int threads in new[] { 1, 2 })
                {
                    var actual = TestData.Poisoned(n);
                    ScaledDotProductAttention.ComputeWith(kernel, shape, q, layout, k, layout, v, layout, actual, layout, Scale(d), mask, maskShape, threads);
                    KernelAssert.Close(expected, actual, seq + d, $"{kernel} {name} {shape} threads {threads}");
                }
        }
        Assert.Contains(AttentionPanelKernels.Supported, k => k.Tier == IsaTier.Scalar);
    }

    [Theory]
    [InlineData(1, 12, 7, 16)]
    [InlineData(2, 4, 17, 8)]
    [InlineData(1, 2, 33, 64)]
    public void FusedQkvTokenMajor_MatchesReferenceOnHeadMajorCopies(int batch, int heads, int seq, int d)
    {
        // A fused projection's output [batch, seq, 3·heads·d]: Q, K, V side by side in each token row.
        int hidden = heads * d, row = 3 * hidden;
        var qkv = TestData.Random(batch * seq * row, 5, -2f, 2f);
        var tokenLayout = AttentionLayout.TokenMajor(heads, seq, d, row);
        var outLayout = AttentionLayout.TokenMajor(heads, seq, d);
        var mask = TestData.Random(batch * seq, 6, -5f, 0f);
        var shape = new AttentionShape(batch, heads, seq, seq, d);

        // The same tensors copied to [batch, heads, seq, d] and run through the reference there.
        var headMajor = AttentionLayout.HeadMajor(heads, seq, d);
        float[] Split(int part)
        {
            var t = new float[batch * heads * seq * d];
            for (int b = 0; b < batch; b++)
                for (int s = 0; s < seq; s++)
                    for (int h = 0; h < heads; h++)
                        for (int c = 0; c < d; c++)
                            t[((b * heads + h) * seq + s) * d + c] = qkv[(b * seq + s) * row + part * hidden + h * d + c];
            return t;
        }
        var expectedHeadMajor = new float[batch * heads * seq * d];
        ReferenceAttention.Compute(shape, Split(0), headMajor, Split(1), headMajor, Split(2), headMajor, expectedHeadMajor, headMajor,
            Scale(d), mask, new AttentionMask(batch, 1));
        var expected = new float[batch * seq * hidden];
        for (int b = 0; b < batch; b++)
            for (int s = 0; s < seq; s++)
                for (int h = 0; h < heads; h++)
                    for (int c = 0; c < d; c++)
                        expected[(b * seq + s) * hidden + h * d + c] = expectedHeadMajor[((b * heads + h) * seq + s) * d + c];

        foreach (var kernel in AttentionPanelKernels.Supported)
        {
            var actual = TestData.Poisoned(batch * seq * hidden);
            ScaledDotProductAttention.ComputeWith(kernel, shape, qkv, tokenLayout, qkv.AsSpan(hidden), tokenLayout, qkv.AsSpan(2 * hidden), tokenLayout,
                actual, outLayout, Scale(d), mask, new AttentionMask(batch, 1), threads: 2);
            KernelAssert.Close(expected, actual, seq + d, $"{kernel} token-major {shape}");
        }
    }

    [Fact]
    public void CrossAttention_DifferentQueryAndKeyLengths_MatchesReference()
    {
        var shape = new AttentionShape(2, 3, 5, 19, 16);
        var ql = AttentionLayout.HeadMajor(3, 5, 16);
        var kl = AttentionLayout.HeadMajor(3, 19, 16);
        var q = TestData.Random(2 * 3 * 5 * 16, 7);
        var k = TestData.Random(2 * 3 * 19 * 16, 8);
        var v = TestData.Random(2 * 3 * 19 * 16, 9);
        var mask = TestData.Random(2 * 5 * 19, 10, -1f, 1f);
        var expected = TestData.Poisoned(q.Length);
        ReferenceAttention.Compute(shape, q, ql, k, kl, v, kl, expected, ql, 0.25f, mask, new AttentionMask(2, 5));
        foreach (var kernel in AttentionPanelKernels.Supported)
        {
            var actual = TestData.Poisoned(q.Length);
            ScaledDotProductAttention.ComputeWith(kernel, shape, q, ql, k, kl, v, kl, actual, ql, 0.25f, mask, new AttentionMask(2, 5), 1);
            KernelAssert.Close(expected, actual, 19 + 16, $"{kernel} cross");
        }
    }

    [Fact]
    public void Reference_OfOneKey_IsThatValueRow()
    {
        // softmax over a single key is 1, so each output row is V's row whatever Q and K hold.
        var layout = AttentionLayout.HeadMajor(1, 1, 4);
        var v = new float[] { 1f, -2f, 3f, 0.5f };
        var output = TestData.Poisoned(4);
        ReferenceAttention.Compute(new AttentionShape(1, 1, 1, 1, 4), [9f, 1f, 2f, 3f], layout, [4f, 5f, 6f, 7f], layout, v, layout, output, layout, 0.5f);
        KernelAssert.Exact(v, output, "one key");
    }

    [Fact]
    public void Errors_NameTheBadArgument()
    {
        var shape = new AttentionShape(1, 2, 4, 4, 8);
        var layout = AttentionLayout.HeadMajor(2, 4, 8);
        var x = new float[64];
        var shortBuffer = new float[63];
        var e = Assert.ThrowsAny<ArgumentException>(() =>
            ScaledDotProductAttention.Compute(shape, shortBuffer, layout, x, layout, x, layout, new float[64], layout, 1f));
        Assert.Contains("q", e.Message);
        var m = Assert.ThrowsAny<Exception>(() =>
            ScaledDotProductAttention.Compute(shape, x, layout, x, layout, x, layout, new float[64], layout, 1f, new float[5], new AttentionMask(1, 1)));
        Assert.Contains("mask", m.Message);
        var r = Assert.ThrowsAny<ArgumentException>(() =>
            ScaledDotProductAttention.Compute(shape, x, layout, x, layout, x, new AttentionLayout(64, 32, 4), new float[64], layout, 1f));
        Assert.Contains("row stride", r.Message);
    }
}
