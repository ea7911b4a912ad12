using Lacuna.Kernels;
using Lacuna.Kernels.Layout;
using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Pooling;
using Lacuna.Kernels.Reference;
using Lacuna.Onnx;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>
/// Extra expected values from the ONNX backend node tests (Debian libonnx-testdata): each case's single node is run
/// through the matching reference operator with the node's attributes, and every output compared with output_k.pb.
/// The data folder missing is a failure, not a skip: CI installs it.
/// </summary>
public class OnnxNodeReferenceTests
{
    private const string Root = "/usr/share/libonnx-testdata/data/node";

    public static TheoryData<string> Cases() => new(
        "test_relu", "test_clip", "test_clip_example", "test_clip_inbounds", "test_clip_outbounds", "test_clip_splitbounds",
        "test_clip_default_min", "test_clip_default_max", "test_clip_default_inbounds",
        "test_batchnorm_epsilon", "test_batchnorm_example",
        "test_maxpool_2d_default", "test_maxpool_2d_ceil", "test_maxpool_2d_pads", "test_maxpool_2d_dilations",
        "test_maxpool_2d_strides", "test_maxpool_2d_precomputed_pads", "test_maxpool_2d_precomputed_strides",
        "test_averagepool_2d_default", "test_averagepool_2d_ceil", "test_averagepool_2d_pads", "test_averagepool_2d_pads_count_include_pad",
        "test_averagepool_2d_precomputed_pads", "test_averagepool_2d_precomputed_pads_count_include_pad",
        "test_averagepool_2d_strides", "test_averagepool_2d_precomputed_strides",
        "test_globalaveragepool", "test_globalaveragepool_precomputed",
        "test_add", "test_add_bcast", "test_mul", "test_mul_bcast", "test_mul_example",
        "test_sum_example", "test_sum_one_input", "test_sum_two_inputs",
        "test_concat_1d_axis_negative_1", "test_concat_2d_axis_1", "test_concat_3d_axis_2", "test_concat_3d_axis_negative_2",
        "test_flatten_axis0", "test_flatten_axis3", "test_flatten_default_axis", "test_flatten_negative_axis1",
        "test_softmax_axis_0", "test_softmax_axis_1", "test_softmax_axis_2", "test_softmax_negative_axis",
        "test_softmax_default_axis", "test_softmax_large_number", "test_softmax_example",
        "test_matmul_2d", "test_matmul_3d", "test_matmul_4d",
        "test_transpose_default", "test_transpose_all_permutations_0", "test_transpose_all_permutations_3", "test_transpose_all_permutations_5",
        "test_constant_pad", "test_edge_pad", "test_reflect_pad",
        "test_lrn", "test_lrn_default",
        "test_reshape_negative_dim", "test_reshape_zero_dim", "test_reshape_zero_and_negative_dim",
        "test_reshape_reordered_all_dims", "test_reshape_allowzero_reordered", "test_reshape_one_dim", "test_reshape_extended_dims",
        "test_instancenorm_epsilon", "test_instancenorm_example", "test_globalmaxpool", "test_globalmaxpool_precomputed",
        "test_logsoftmax_axis_0", "test_logsoftmax_axis_1", "test_logsoftmax_axis_2", "test_logsoftmax_default_axis",
        "test_logsoftmax_example_1", "test_logsoftmax_large_number", "test_logsoftmax_negative_axis",
        "test_split_equal_parts_1d", "test_split_equal_parts_2d", "test_split_equal_parts_default_axis",
        "test_split_variable_parts_1d", "test_split_variable_parts_2d", "test_split_variable_parts_default_axis",
        "test_split_zero_size_splits");

    /// <summary>The cases whose operator has a fast layer kernel (Kernels/Normalization, Pooling, Layout).</summary>
    public static TheoryData<string> FastCases()
    {
        string[] prefixes =
        {
            "test_batchnorm", "test_instancenorm", "test_lrn", "test_softmax", "test_logsoftmax", "test_maxpool", "test_averagepool",
            "test_globalaveragepool", "test_globalmaxpool", "test_concat", "test_split", "test_transpose", "test_constant_pad",
            "test_edge_pad", "test_reflect_pad",
        };
        var data = new TheoryData<string>();
        foreach (string test in Cases())
            if (prefixes.Any(test.StartsWith)) data.Add(test);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReferenceMatchesOnnxTestData(string test) => Check(test, fast: false);

    /// <summary>The same node tests through the fast kernels (2 threads), which must agree with ONNX's expected outputs too.</summary>
    [Theory]
    [MemberData(nameof(FastCases))]
    public void FastKernelMatchesOnnxTestData(string test) => Check(test, fast: true);

    private static void Check(string test, bool fast)
    {
        string dir = Path.Combine(Root, test);
        Assert.True(Directory.Exists(dir), $"{dir} is missing: install libonnx-testdata (scripts/install-deps.sh).");
        var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
        var graph = model.Graph;
        Assert.Single(graph.Node);
        var node = graph.Node[0];
        long opset = model.Proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

        var values = graph.Initializer.ToDictionary(t => t.Name);
        var initializers = values.Keys.ToHashSet();
        var inputs = graph.Input.Where(v => !initializers.Contains(v.Name)).ToList();
        for (int k = 0; k < inputs.Count; k++)
            values[inputs[k].Name] = OnnxSerializer.LoadTensor(Path.Combine(dir, "test_data_set_0", $"input_{k}.pb"));

        Func<string, TensorProto?> lookup = name => name.Length == 0 ? null : values[name];
        var actual = node.OpType == "Split" ? RunSplit(node, opset, lookup, fast) : [Run(node, opset, lookup, fast)];
        Assert.Equal(graph.Output.Count, actual.Length);
        for (int k = 0; k < graph.Output.Count; k++)
        {
            var expected = OnnxSerializer.LoadTensor(Path.Combine(dir, "test_data_set_0", $"output_{k}.pb"));
            Assert.Equal(expected.Dims.Select(d => (int)d).ToArray(), actual[k].Shape);
            KernelAssert.Close(expected.ToFloatArray(), actual[k].Data, 8, $"{test} output {k}");
        }
    }

    private sealed record Result(float[] Data, int[] Shape);

    private static int[] ShapeOf(TensorProto t) => t.Dims.Select(d => (int)d).ToArray();
    private static int Count(int[] shape) => shape.Aggregate(1, (a, d) => a * d);

    /// <summary>Split has one output per part: sizes from the split input (opset 13+) or attribute, else equal parts.</summary>
    private static Result[] RunSplit(NodeProto node, long opset, Func<string, TensorProto?> input, bool fast)
    {
        var x = input(node.Input[0]) ?? throw new InvalidOperationException("input 0 missing");
        int[] shape = ShapeOf(x);
        int axis = (int)(node.FindAttribute("axis")?.I ?? 0);
        int[]? given = opset >= 13
            ? (node.Input.Count > 1 ? input(node.Input[1])?.ToInt64Array().Select(v => (int)v).ToArray() : null)
            : node.FindAttribute("split")?.Ints.Select(v => (int)v).ToArray();
        int[] sizes = ReferenceShapeOps.SplitSizes(shape, axis, given ?? [], node.Output.Count);
        int a = axis < 0 ? axis + shape.Length : axis;
        var shapes = sizes.Select(s => { var sh = (int[])shape.Clone(); sh[a] = s; return sh; }).ToArray();
        var outputs = shapes.Select(sh => TestData.Poisoned(Count(sh))).ToList();
        if (fast) Lacuna.Kernels.Layout.Split.Compute(x.ToFloatArray(), shape, axis, sizes, outputs, threads: 2);
        else ReferenceShapeOps.Split(x.ToFloatArray(), shape, axis, sizes, outputs);
        return outputs.Select((o, k) => new Result(o, shapes[k])).ToArray();
    }

    private static Result Run(NodeProto node, long opset, Func<string, TensorProto?> input, bool fast)
    {
        TensorProto X(int i) => input(node.Input[i]) ?? throw new InvalidOperationException($"input {i} missing");
        TensorProto? Optional(int i) => i < node.Input.Count ? input(node.Input[i]) : null;
        long Int(string name, long fallback) => node.FindAttribute(name)?.I ?? fallback;
        float Float(string name, float fallback) => node.FindAttribute(name) is { } a ? a.F : fallback;
        int[]? Ints(string name) => node.FindAttribute(name)?.Ints.Select(v => (int)v).ToArray();

        var x = X(0);
        float[] data = x.ToFloatArray();
        int[] shape = ShapeOf(x);
        Result Make(int[] outShape, Action<float[]> compute)
        {
            var y = TestData.Poisoned(Count(outShape));
            compute(y);
            return new Result(y, outShape);
        }

        switch (node.OpType)
        {
            case "Relu":
                return Make(shape, y => ReferenceElementwise.Relu(data, y));
            case "Clip":
            {
                Assert.True(opset >= 11, "Clip bounds as inputs need opset 11+");
                float min = Optional(1)?.ToFloatArray()[0] ?? float.NegativeInfinity;
                float max = Optional(2)?.ToFloatArray()[0] ?? float.PositiveInfinity;
                return Make(shape, y => ReferenceElementwise.Clip(data, y, min, max));
            }
            case "Add" or "Mul":
            {
                var b = X(1);
                int[] os = ReferenceElementwise.BinaryShape(shape, ShapeOf(b), node.OpType);
                return node.OpType == "Add"
                    ? Make(os, y => ReferenceElementwise.Add(data, shape, b.ToFloatArray(), ShapeOf(b), y))
                    : Make(os, y => ReferenceElementwise.Mul(data, shape, b.ToFloatArray(), ShapeOf(b), y));
            }
            case "Sum" or "Concat":
            {
                var all = node.Input.Select(n => input(n)!).ToList();
                var arrays = all.Select(t => t.ToFloatArray()).ToList();
                var shapes = all.Select(ShapeOf).ToList();
                if (node.OpType == "Sum") return Make(ReferenceElementwise.SumShape(shapes), y => ReferenceElementwise.Sum(arrays, shapes, y));
                int axis = (int)Int("axis", 0);
                return Make(ReferenceShapeOps.ConcatShape(shapes, axis), y =>
                {
                    if (fast) Concat.Compute(arrays, shapes, axis, y, threads: 2);
                    else ReferenceShapeOps.Concat(arrays, shapes, axis, y);
                });
            }
            case "BatchNormalization":
                return Make(shape, y =>
                {
                    var (sc, b, m, v) = (X(1).ToFloatArray(), X(2).ToFloatArray(), X(3).ToFloatArray(), X(4).ToFloatArray());
                    if (fast) BatchNorm.Compute(data, shape, sc, b, m, v, y, Float("epsilon", 1e-5f), threads: 2);
                    else ReferenceNormalization.BatchNormalization(data, shape, sc, b, m, v, y, Float("epsilon", 1e-5f));
                });
            case "InstanceNormalization":
                return Make(shape, y =>
                {
                    if (fast) InstanceNorm.Compute(data, shape, X(1).ToFloatArray(), X(2).ToFloatArray(), y, Float("epsilon", 1e-5f), threads: 2);
                    else ReferenceNormalization.InstanceNormalization(data, shape, X(1).ToFloatArray(), X(2).ToFloatArray(), y, Float("epsilon", 1e-5f));
                });
            case "LogSoftmax":
                Assert.True(opset >= 13, "LogSoftmax semantics changed in opset 13");
                return Make(shape, y =>
                {
                    if (fast) Softmax.ComputeLog(data, shape, y, (int)Int("axis", -1), threads: 2);
                    else ReferenceNormalization.LogSoftmax(data, shape, y, (int)Int("axis", -1));
                });
            case "GlobalMaxPool":
                return Make(ReferencePool.GlobalMaxPoolShape(shape), y =>
                {
                    if (fast) GlobalPool.Max(data, shape, y, threads: 2);
                    else ReferencePool.GlobalMaxPool(data, shape, y);
                });
            case "LRN":
                return Make(shape, y =>
                {
                    if (fast) Lrn.Compute(data, shape, y, (int)Int("size", 0), Float("alpha", 1e-4f), Float("beta", 0.75f), Float("bias", 1f), threads: 2);
                    else ReferenceNormalization.Lrn(data, shape, y, (int)Int("size", 0), Float("alpha", 1e-4f), Float("beta", 0.75f), Float("bias", 1f));
                });
            case "Softmax":
                Assert.True(opset >= 13, "Softmax semantics changed in opset 13");
                return Make(shape, y =>
                {
                    if (fast) Softmax.Compute(data, shape, y, (int)Int("axis", -1), threads: 2);
                    else ReferenceNormalization.Softmax(data, shape, y, (int)Int("axis", -1));
                });
            case "MaxPool" or "AveragePool":
            {
                string autoPad = node.FindAttribute("auto_pad")?.StringValue ?? "NOTSET";
                Assert.True(autoPad is "NOTSET" or "", $"auto_pad {autoPad} is not modelled");
                int[] k = Ints("kernel_shape")!, s = Ints("strides") ?? [1, 1], pads = Ints("pads") ?? [0, 0, 0, 0], d = Ints("dilations") ?? [1, 1];
                var p = new Pool2dParams(k[0], k[1], s[0], s[1], pads[0], pads[1], pads[2], pads[3], d[0], d[1],
                    Int("ceil_mode", 0) != 0, Int("count_include_pad", 0) != 0);
                int[] os = p.OutputShape(shape, node.OpType);
                return node.OpType == "MaxPool"
                    ? Make(os, y => { if (fast) MaxPool2d.Compute(data, shape, y, p, threads: 2); else ReferencePool.MaxPool(data, shape, y, p); })
                    : Make(os, y => { if (fast) AveragePool2d.Compute(data, shape, y, p, threads: 2); else ReferencePool.AveragePool(data, shape, y, p); });
            }
            case "GlobalAveragePool":
                return Make(ReferencePool.GlobalAveragePoolShape(shape), y =>
                {
                    if (fast) GlobalPool.Average(data, shape, y, threads: 2);
                    else ReferencePool.GlobalAveragePool(data, shape, y);
                });
            case "Flatten":
            {
                int axis = (int)Int("axis", 1);
                return Make(ReferenceShapeOps.FlattenShape(shape, axis), y => ReferenceShapeOps.Flatten(data, shape, axis, y));
            }
            case "Transpose":
            {
                int[] perm = Ints("perm") ?? [];
                return Make(ReferenceShapeOps.TransposeShape(shape, perm), y =>
                {
                    if (fast) Transpose.Compute(data, shape, perm, y, threads: 2);
                    else ReferenceShapeOps.Transpose(data, shape, perm, y);
                });
            }
            case "MatMul":
            {
                var b = X(1);
                return Make(ReferenceMatMul.OutputShape(shape, ShapeOf(b)), y => ReferenceMatMul.Compute(data, shape, b.ToFloatArray(), ShapeOf(b), y));
            }
            case "Pad":
            {
                Assert.True(opset >= 11, "Pad with pads as an input needs opset 11+");
                int[] pads = X(1).ToInt64Array().Select(v => (int)v).ToArray();
                float value = Optional(2)?.ToFloatArray()[0] ?? 0f;
                var mode = (node.FindAttribute("mode")?.StringValue ?? "constant") switch
                {
                    "constant" => PadMode.Constant,
                    "reflect" => PadMode.Reflect,
                    "edge" => PadMode.Edge,
                    var m => throw new InvalidOperationException($"Pad mode {m} is not modelled"),
                };
                return Make(ReferenceShapeOps.PadShape(shape, pads), y =>
                {
                    if (fast) Pad.Compute(data, shape, pads, y, mode, value, threads: 2);
                    else ReferenceShapeOps.Pad(data, shape, pads, y, mode, value);
                });
            }
            case "Reshape":
            {
                long[] requested = X(1).ToInt64Array();
                int[] os = ReferenceShapeOps.ReshapeShape(shape, requested, Int("allowzero", 0) != 0);
                return Make(os, y => data.CopyTo(y, 0));
            }
            default:
                throw new InvalidOperationException($"{node.OpType} has no reference operator");
        }
    }
}
