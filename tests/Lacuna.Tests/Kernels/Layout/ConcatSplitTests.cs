using Lacuna.Kernels.Layout;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Layout;

public class ConcatSplitTests
{
    public static TheoryData<int[], int, int[]> Cases()
    {
        // (shape with the axis entry to be replaced, axis, the parts' sizes along the axis)
        var data = new TheoryData<int[], int, int[]>();
        foreach (int s in new[] { 1, 3, 4, 5, 8, 9, 16, 17, 33, 65 })
        {
            data.Add(new[] { 2, 0, 3 }, 1, new[] { s, 2, 5 });
            data.Add(new[] { 0 }, 0, new[] { s, s + 1 });
            data.Add(new[] { 3, s, 0 }, -1, new[] { 1, 7, 4 });
        }
        data.Add(new[] { 0, 3, 4, 5 }, 0, new[] { 1, 2 });
        data.Add(new[] { 1, 0, 7, 7 }, 1, new[] { 3, 0, 5 });               // an empty part
        data.Add(new[] { 2, 3, 0, 5 }, 2, new[] { 4, 1 });
        data.Add(new[] { 1, 0, 28, 28 }, 1, new[] { 128, 128 });           // DenseNet-like: outer 1, 2 threads
        data.Add(new[] { 4, 0, 33, 35 }, 1, new[] { 17, 19, 1 });          // outer 4, large
        data.Add(new[] { 300, 0 }, -1, new[] { 129, 127 });                // many short blocks, 2 threads
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Concat_and_split_match_reference(int[] template, int axis, int[] sizes)
    {
        int a = axis < 0 ? axis + template.Length : axis;
        var shapes = sizes.Select(s => { var sh = (int[])template.Clone(); sh[a] = s; return sh; }).ToList();
        var inputs = shapes.Select((sh, k) => TestData.Random(LayerCases.Count(sh), (ulong)(70 + k))).ToList();
        int[] outShape = ReferenceShapeOps.ConcatShape(shapes, axis);
        int count = LayerCases.Count(outShape);
        var expected = TestData.Poisoned(count);
        ReferenceShapeOps.Concat(inputs, shapes, axis, expected);
        var expectedParts = shapes.Select(sh => TestData.Poisoned(LayerCases.Count(sh))).ToList();
        ReferenceShapeOps.Split(expected, outShape, axis, sizes, expectedParts);
        foreach (int threads in LayerCases.Threads)
        {
            var actual = TestData.Poisoned(count);
            Concat.Compute(inputs, shapes, axis, actual, threads);
            KernelAssert.Exact(expected, actual, $"concat axis {axis} threads {threads}");
            var parts = shapes.Select(sh => TestData.Poisoned(LayerCases.Count(sh))).ToList();
            Split.Compute(expected, outShape, axis, sizes, parts, threads);
            for (int k = 0; k < parts.Count; k++)
            {
                KernelAssert.Exact(expectedParts[k], parts[k], $"split part {k} axis {axis} threads {threads}");
                KernelAssert.Exact(inputs[k], parts[k], $"split undoes concat, part {k}");
            }
        }
    }

    [Fact]
    public void Split_sizes_follow_onnx()
    {
        Assert.Equal(new[] { 3, 3, 1 }, ReferenceShapeOps.SplitSizes([2, 7], 1, [], 3));
        Assert.Equal(new[] { 2, 2, 2 }, ReferenceShapeOps.SplitSizes([6], 0, [], 3));
        Assert.Equal(new[] { 1, 5 }, ReferenceShapeOps.SplitSizes([6, 2], 0, [1, 5]));
        Assert.Throws<ArgumentException>(() => ReferenceShapeOps.SplitSizes([6], 0, [1, 4]));
        Assert.Equal(new[] { 1, 1, 0 }, ReferenceShapeOps.SplitSizes([2], 0, [], 3)); // ceil(2/3) = 1 each, the last gets the rest
        Assert.Throws<ArgumentException>(() => ReferenceShapeOps.SplitSizes([1], 0, [], 3));
    }

    [Fact]
    public void Rejects_bad_shapes()
    {
        var two = new List<float[]> { new float[6], new float[6] };
        Assert.Throws<ShapeMismatchException>(() => Concat.Compute(two, [[2, 3], [3, 2]], 1, new float[12]));
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => Concat.Compute(two, [[2, 3], [2, 3]], 0, new float[11])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Concat.Compute(two, [[2, 3], [2, 3]], 2, new float[12]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Concat.WritePart(new float[6], [2, 3], 1, 3, new float[10], [2, 5]));
        Assert.Throws<ShapeMismatchException>(() => Concat.WritePart(new float[6], [3, 2], 1, 0, new float[10], [2, 5]));
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => Concat.WritePart(new float[6], [2, 3], 1, 0, new float[9], [2, 5])).ParamName);
        Assert.Equal("input", Assert.Throws<ShapeMismatchException>(() => Split.ReadPart(new float[9], [2, 5], 1, 0, new float[6], [2, 3])).ParamName);
        Assert.Equal("part", Assert.Throws<ShapeMismatchException>(() => Split.ReadPart(new float[10], [2, 5], 1, 0, new float[5], [2, 3])).ParamName);
        Assert.Throws<ArgumentException>(() => Split.Compute(new float[12], [2, 6], 1, [3, 2], [new float[6], new float[4]]));
        Assert.Throws<ArgumentException>(() => Split.Compute(new float[12], [2, 6], 1, [3, 3], [new float[6]]));
        Assert.Equal("output", Assert.Throws<ShapeMismatchException>(() => Split.Compute(new float[12], [2, 6], 1, [3, 3], [new float[6], new float[5]])).ParamName);
    }
}
