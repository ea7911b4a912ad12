using Lacuna.Graph;
using Lacuna.Tensors;
using Lacuna.Training;

namespace Lacuna.Tests.Pruning;

/// <summary>Small seeded graphs for the pruning tests: Conv-BN-Relu-MaxPool-Conv-Relu-Conv-Relu-Flatten-Gemm-Relu-Gemm.</summary>
internal static class TinyNets
{
    public const int Channels = 1, Size = 8, Classes = 10;

    /// <summary>
    /// conv1 1→8 (first prunable, bias, BN, ReLU, 2x2 max-pool) → conv2 8→16 (ReLU) → conv3 16→16 (ReLU) → Flatten →
    /// fc1 Gemm 16·4·4 → 32 (transB = 1, ReLU) → fc2 Gemm 32 → 10 (transB = 0: stored as [in × out]).
    /// </summary>
    public static ModelGraph ConvBnNet(ulong seed = 3, bool residual = false)
    {
        var g = new GraphExport("tiny", Channels, Size, Size);
        var rng = new DeterministicRandom(seed);
        float[] R(int n, float scale) { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = (rng.NextFloat() * 2 - 1) * scale; return v; }
        float[] Pos(int n) { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = 0.5f + rng.NextFloat(); return v; }
        GraphAttribute[] Conv3() =>
        [
            GraphAttribute.Of("kernel_shape", new long[] { 3, 3 }), GraphAttribute.Of("pads", new long[] { 1, 1, 1, 1 }),
        ];
        string x = g.Input;
        string c1 = g.Node("Conv", "conv1", [x, g.Initializer("w1", [8, 1, 3, 3], R(72, 0.5f)), g.Initializer("b1", [8], R(8, 0.3f))], Conv3());
        string bn = g.Node("BatchNormalization", "bn1", [c1, g.Initializer("bn_s", [8], Pos(8)), g.Initializer("bn_b", [8], R(8, 0.4f)),
            g.Initializer("bn_m", [8], R(8, 0.2f)), g.Initializer("bn_v", [8], Pos(8))]);
        string r1 = g.Node("Relu", "relu1", [bn]);
        string p1 = g.Node("MaxPool", "pool1", [r1], GraphAttribute.Of("kernel_shape", new long[] { 2, 2 }), GraphAttribute.Of("strides", new long[] { 2, 2 }));
        string c2 = g.Node("Conv", "conv2", [p1, g.Initializer("w2", [16, 8, 3, 3], R(16 * 72, 0.2f)), g.Initializer("b2", [16], R(16, 0.2f))], Conv3());
        string r2 = g.Node("Relu", "relu2", [c2]);
        string c3 = g.Node("Conv", "conv3", [r2, g.Initializer("w3", [16, 16, 3, 3], R(16 * 144, 0.15f)), g.Initializer("b3", [16], R(16, 0.2f))], Conv3());
        string r3 = g.Node("Relu", "relu3", [c3]);
        if (residual) r3 = g.Node("Add", "res", [r3, r2]);
        string f = g.Node("Flatten", "flatten", [r3], GraphAttribute.Of("axis", 1L));
        string fc1 = g.Node("Gemm", "fc1", [f, g.Initializer("wf1", [32, 256], R(32 * 256, 0.1f)), g.Initializer("bf1", [32], R(32, 0.1f))],
            GraphAttribute.Of("transB", 1L));
        string r4 = g.Node("Relu", "relu4", [fc1]);
        string fc2 = g.Node("Gemm", "fc2", [r4, g.Initializer("wf2", [32, Classes], R(32 * Classes, 0.3f)), g.Initializer("bf2", [Classes], R(Classes, 0.1f))]);
        return g.Finish(fc2, Classes);
    }

    /// <summary>Runs the graph on <paramref name="x"/> (dense plan) and returns the first output.</summary>
    public static float[] Run(ModelGraph g, Tensor x, PassOptions? options = null)
    {
        var s = InferenceSession.Create(g, options ?? PassOptions.Dense);
        var outputs = s.Run(new Dictionary<string, Tensor> { [s.RuntimeInputs[0].Name] = x });
        var y = outputs[s.Outputs[0].Name].ToArray();
        foreach (var t in outputs.Values) t.Dispose();
        return y;
    }

    public static long Parameters(ModelGraph g) => g.Initializers.Values.Sum(t => (long)t.Length);
}
