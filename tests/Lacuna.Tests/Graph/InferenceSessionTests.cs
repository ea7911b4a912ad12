using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Graph;

public class InferenceSessionTests
{
    private static ModelGraph Load() => OnnxGraphImporter.ToGraph(OnnxModel.Parse(SmallCnn.Bytes()));

    private static Tensor Input(int n, ulong seed) => Tensor.FromArray(TestData.Random(n * SmallCnn.C * SmallCnn.H * SmallCnn.W, seed),
        n, SmallCnn.C, SmallCnn.H, SmallCnn.W);

    private static float[] RunProbs(InferenceSession s, Tensor x) => s.Run(new Dictionary<string, Tensor> { ["x"] = x })["probs"].ToArray();

    [Fact]
    public void SmallCnnMatchesReferenceWithAndWithoutFusion()
    {
        var optimized = InferenceSession.Create(Load());
        var plain = InferenceSession.Create(Load(), PassOptions.None);
        // The passes did what they say: BN folded, Relu fused, Dropout removed.
        Assert.DoesNotContain(optimized.Graph.Nodes, n => n.OpType is "BatchNormalization" or "Relu" or "Dropout");
        Assert.Contains(optimized.Graph.Nodes, n => n.OpType == "Conv" && n.FusedActivation.Kind == Lacuna.Kernels.ActivationKind.Relu);
        Assert.Contains(plain.Graph.Nodes, n => n.OpType == "BatchNormalization");
        // Conv and Gemm run on the fast kernels, not the reference.
        var kernels = optimized.PlanFor(2).Steps.ToDictionary(s => s.Node.OpType + ":" + s.Node.Name, s => s.Kernel);
        Assert.StartsWith("DenseConv2d", kernels["Conv:conv1"]);
        Assert.StartsWith("DenseConv2d", kernels["Conv:conv2"]);
        Assert.StartsWith("Gemv", kernels["Gemm:fc"]); // batch 2: matrix-vector products on the constant weight

        var x = Input(2, 5);
        float[] expected = SmallCnn.Reference(x.ToArray(), 2);
        float[] a = RunProbs(optimized, x), b = RunProbs(plain, x);
        KernelAssert.Close(expected, a, 72, "optimized session vs reference");
        KernelAssert.Close(expected, b, 72, "unoptimized session vs reference");
        KernelAssert.Close(b, a, 72, "fusion on vs off");
        Assert.All(Enumerable.Range(0, 2), i => Assert.Equal(1.0, a.Skip(i * 10).Take(10).Sum(v => (double)v), 4));
    }

    [Fact]
    public void Batch1And3AreConsistent()
    {
        var s = InferenceSession.Create(Load());
        var x3 = Input(3, 7);
        float[] all = RunProbs(s, x3);
        for (int i = 0; i < 3; i++)
        {
            int per = SmallCnn.C * SmallCnn.H * SmallCnn.W;
            var one = Tensor.FromArray(x3.Span.Slice(i * per, per), 1, SmallCnn.C, SmallCnn.H, SmallCnn.W);
            KernelAssert.Close(all.AsSpan(i * 10, 10), RunProbs(s, one), 72, $"image {i} alone vs in a batch of 3");
        }
        Assert.NotSame(s.PlanFor(1), s.PlanFor(3));
        Assert.Same(s.PlanFor(3), s.PlanFor(3));
    }

    [Fact]
    public void ConcurrentRunsEqualSerialRunsExactly()
    {
        var s = InferenceSession.Create(Load());
        var inputs = Enumerable.Range(0, 8).Select(i => Input(1 + i % 3, (ulong)(100 + i))).ToArray();
        var serial = inputs.Select(x => RunProbs(s, x)).ToArray();
        var parallel = new float[inputs.Length][];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (int rep = 0; rep < 3; rep++)
                for (int i = t; i < inputs.Length; i += 4) parallel[i] = RunProbs(s, inputs[i]);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        for (int i = 0; i < inputs.Length; i++) KernelAssert.Exact(serial[i], parallel[i], $"input {i}");
    }

    [Fact]
    public void NaNInputIsNotRejectedAndStaysInItsImage()
    {
        // NaN is data, not an error: the run completes, and the other image of the batch is unaffected.
        var s = InferenceSession.Create(Load());
        var x = Input(2, 9);
        float[] clean = RunProbs(s, x);
        x.Span[5] = float.NaN;
        float[] dirty = RunProbs(s, x);
        KernelAssert.Exact(clean.AsSpan(10, 10), dirty.AsSpan(10, 10), "image 1");
    }

    [Fact]
    public void MemoryPlanReusesBuffers()
    {
        var plan = InferenceSession.Create(Load(), PassOptions.None).PlanFor(2);
        Assert.True(plan.Memory.ArenaFloats < plan.Memory.NaiveFloats, $"arena {plan.Memory.ArenaFloats} vs naive {plan.Memory.NaiveFloats}");
        // No two values live at the same step share memory: check every step's inputs and outputs are disjoint.
        foreach (var step in plan.Steps)
        {
            var ranges = step.Node.Inputs.Concat(step.Node.Outputs).Distinct()
                .Where(plan.Memory.Placement.ContainsKey).Select(v => plan.Memory.Placement[v]).ToList();
            for (int i = 0; i < ranges.Count; i++)
                for (int j = i + 1; j < ranges.Count; j++)
                    Assert.True(ranges[i].Offset + ranges[i].Length <= ranges[j].Offset || ranges[j].Offset + ranges[j].Length <= ranges[i].Offset,
                        $"{step.Node.Name}: overlapping buffers");
        }
    }

    [Fact]
    public void ActivationBuffersStartOnCacheLines()
    {
        // Odd batch sizes give value lengths that are not multiples of 16 floats; offsets must still be.
        var plan = InferenceSession.Create(Load(), PassOptions.None).PlanFor(3);
        Assert.Contains(plan.Memory.Placement.Values, p => p.Length % MemoryPlan.AlignFloats != 0);
        foreach (var (name, (offset, _)) in plan.Memory.Placement)
            Assert.True(offset % MemoryPlan.AlignFloats == 0, $"{name} starts at float {offset}");
    }

    [Fact]
    public void ExportRoundTripIsIdentical()
    {
        var first = Load();
        byte[] bytes = OnnxGraphExporter.ToModel(first).ToBytes();
        var second = OnnxGraphImporter.ToGraph(OnnxModel.Parse(bytes));
        Assert.Null(GraphEquality.Difference(first, second));
        byte[] again = OnnxGraphExporter.ToModel(second).ToBytes();
        Assert.Equal(bytes, again);
        foreach (var t in first.Initializers.Values)
        {
            var p = OnnxGraphExporter.ToProto(t);
            Assert.Equal(OnnxGraphExporter.ToProto(second.Initializers[t.Name]).RawData, p.RawData);
        }
        // An optimized graph (fused epilogues) exports to standard ops that compute the same function.
        var optimized = InferenceSession.Create(first);
        var reread = InferenceSession.Create(OnnxGraphImporter.ToGraph(OnnxModel.Parse(OnnxGraphExporter.ToModel(optimized.Graph).ToBytes())), PassOptions.None);
        var x = Input(2, 21);
        KernelAssert.Close(RunProbs(optimized, x), RunProbs(reread, x), 72, "optimized graph exported and re-read");
    }
}
