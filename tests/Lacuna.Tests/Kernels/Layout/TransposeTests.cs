using Lacuna.Kernels.Layout;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Layout;

public class TransposeTests
{
    private static IEnumerable<int[]> Permutations(int rank)
    {
        if (rank == 0) { yield return Array.Empty<int>(); yield break; }
        foreach (var rest in Permutations(rank - 1))
            for (int at = 0; at <= rest.Length; at++)
            {
                var list = rest.ToList();
                list.Insert(at, rank - 1);
                yield return list.ToArray();
            }
    }

    public static TheoryData<int[]> Shapes() => new()
    {
        new[] { 7 }, new[] { 31, 33 }, new[] { 32, 65 }, new[] { 4, 17 }, new[] { 1, 9 },
        new[] { 3, 5, 7 }, new[] { 33, 2, 31 }, new[] { 1, 8, 1 }, new[] { 16, 1, 9 },
        new[] { 2, 3, 5, 7 }, new[] { 1, 3, 33, 17 }, new[] { 2, 1, 9, 4 }, new[] { 3, 0, 2, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_permutation_matches_reference(int[] shape)
    {
        var x = TestData.Random(LayerCases.Count(shape), 81);
        foreach (var perm in Permutations(shape.Length))
            Check(x, shape, perm);
        Check(x, shape, []); // the ONNX default: reversed
    }

    [Fact]
    public void Common_cnn_layouts_and_large_cases()
    {
        // NCHW→NHWC and back, channel shuffle, 5-D, and shapes large enough for 2 threads.
        (int[] Shape, int[] Perm)[] cases =
        {
            (new[] { 1, 64, 56, 56 }, new[] { 0, 2, 3, 1 }),
            (new[] { 1, 56, 56, 64 }, new[] { 0, 3, 1, 2 }),
            (new[] { 2, 4, 29, 14, 14 }, new[] { 0, 2, 1, 3, 4 }),
            (new[] { 2, 3, 4, 5, 6 }, new[] { 4, 2, 0, 3, 1 }),
            (new[] { 300, 257 }, new[] { 1, 0 }),
            (new[] { 70, 33, 31 }, new[] { 2, 0, 1 }),
        };
        foreach (var (shape, perm) in cases)
            Check(TestData.Random(LayerCases.Count(shape), 82), shape, perm);
    }

    [Theory]
    [InlineData(1, 4, 58, 28, 28)]
    [InlineData(2, 3, 5, 3, 3)]
    [InlineData(1, 2, 33, 1, 7)]
    public void Channel_shuffle_is_the_reshape_transpose_reshape(int n, int groups, int perGroup, int h, int w)
    {
        int[] shape = { n, groups * perGroup, h, w };
        var x = TestData.Random(LayerCases.Count(shape), 83);
        var expected = TestData.Poisoned(x.Length);
        ReferenceShapeOps.Transpose(x, [n, groups, perGroup, h, w], [0, 2, 1, 3, 4], expected);
        foreach (int threads in LayerCases.Threads)
        {
            var actual = TestData.Poisoned(x.Length);
            Transpose.ChannelShuffle(x, shape, groups, actual, threads);
            KernelAssert.Exact(expected, actual, $"shuffle g{groups} threads {threads}");
        }
    }

    [Fact]
    public void Rejects_bad_input()
    {
        Assert.Throws<ArgumentException>(() => Transpose.Compute(new float[6], [2, 3], [0, 0], new float[6]));
        Assert.Throws<ArgumentException>(() => Transpose.Compute(new float[6], [2, 3], [0], new float[6]));
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => Transpose.Compute(new float[6], [2, 3], [1, 0], new float[5])).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => Transpose.Compute(new float[5], [2, 3], [1, 0], new float[6])).ParamName);
        var same = new float[6];
        Assert.Throws<ArgumentException>(() => Transpose.Compute(same, [2, 3], [1, 0], same));
        Assert.Throws<ArgumentOutOfRangeException>(() => Transpose.ChannelShuffle(new float[12], [1, 6, 2], 4, new float[12]));
    }

    private static void Check(float[] x, int[] shape, int[] perm)
    {
        int[] os = ReferenceShapeOps.TransposeShape(shape, perm);
        var expected = TestData.Poisoned(LayerCases.Count(os));
        ReferenceShapeOps.Transpose(x, shape, perm, expected);
        foreach (int threads in LayerCases.Threads)
        {
            var actual = TestData.Poisoned(expected.Length);
            Transpose.Compute(x, shape, perm, actual, threads);
            KernelAssert.Exact(expected, actual, $"[{string.Join(",", shape)}] perm [{string.Join(",", perm)}] threads {threads}");
        }
    }
}
