using Lacuna.Kernels;
using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops;

/// <summary>Reads operator attributes into kernel parameter types, rejecting what the engine does not implement.</summary>
internal static class OpAttributes
{
    /// <summary>
    /// Conv attributes for a rank-4 NCHW input, or a rank-3 NCL one (1-D convolution, weight [M, C/g, K]) read as
    /// 2-D with H = 1 (kernel 1×K, stride 1×S, pads (0, begin, 0, end)): the same memory, so every 2-D kernel and the
    /// planner serve 1-D layers (Jasper's) unchanged. auto_pad must already be resolved to explicit pads.
    /// </summary>
    public static Conv2dParams Conv(GraphNode n, int[] weightShape)
    {
        CheckNoAutoPad(n);
        bool oneD = weightShape.Length == 3;
        var k = n.Ints("kernel_shape") ?? (oneD ? [weightShape[2]] : [weightShape[2], weightShape[3]]);
        var s = n.Ints("strides") ?? (oneD ? [1] : [1, 1]);
        var p = n.Ints("pads") ?? (oneD ? [0, 0] : [0, 0, 0, 0]);
        var d = n.Ints("dilations") ?? (oneD ? [1] : [1, 1]);
        if (oneD && k.Length == 1 && s.Length == 1 && p.Length == 2 && d.Length == 1)
            (k, s, p, d) = ([1, k[0]], [1, s[0]], [0, p[0], 0, p[1]], [1, d[0]]);
        if (k.Length != 2 || s.Length != 2 || p.Length != 4 || d.Length != 2)
            throw UnsupportedOperatorException.For(n, "only 1-D and 2-D convolution are supported.");
        var c = new Conv2dParams((int)k[0], (int)k[1], (int)s[0], (int)s[1], (int)p[0], (int)p[1], (int)p[2], (int)p[3],
            (int)d[0], (int)d[1], (int)n.Int("group", 1));
        c.Validate();
        return c;
    }

    /// <summary>A 1-D convolution's input [N, C, L] and weight [M, C/g, K] as their 2-D views [N, C, 1, L], [M, C/g, 1, K]; 2-D shapes unchanged.</summary>
    public static (int[] Input, int[] Weight) Conv2dView(int[] input, int[] weight) =>
        input.Length == 3 && weight.Length == 3 ? ([input[0], input[1], 1, input[2]], [weight[0], weight[1], 1, weight[2]]) : (input, weight);

    public static Pool2dParams Pool(GraphNode n)
    {
        CheckNoAutoPad(n);
        if (n.Int("storage_order", 0) != 0) throw UnsupportedOperatorException.For(n, "storage_order=1 is not supported.");
        var k = n.Ints("kernel_shape") ?? throw UnsupportedOperatorException.For(n, "kernel_shape is required.");
        var s = n.Ints("strides") ?? [1, 1];
        var p = n.Ints("pads") ?? [0, 0, 0, 0];
        var d = n.Ints("dilations") ?? [1, 1];
        if (k.Length != 2 || s.Length != 2 || p.Length != 4 || d.Length != 2)
            throw UnsupportedOperatorException.For(n, "only 2-D pooling is supported.");
        var r = new Pool2dParams((int)k[0], (int)k[1], (int)s[0], (int)s[1], (int)p[0], (int)p[1], (int)p[2], (int)p[3],
            (int)d[0], (int)d[1], n.Int("ceil_mode", 0) != 0, n.Int("count_include_pad", 0) != 0);
        r.Validate();
        return r;
    }

    private static void CheckNoAutoPad(GraphNode n)
    {
        string a = n.String("auto_pad", "NOTSET");
        if (a is not ("NOTSET" or "")) throw UnsupportedOperatorException.For(n, $"auto_pad {a} was not resolved (input spatial size unknown).");
    }

    /// <summary>
    /// Replaces auto_pad SAME_UPPER / SAME_LOWER / VALID with explicit pads for the given spatial input size:
    /// SAME: total = max(0, (ceil(in/stride) − 1)·stride + (k−1)·dilation + 1 − in), the odd element at the end
    /// (UPPER) or the beginning (LOWER).
    /// </summary>
    public static void ResolveAutoPad(GraphNode n, int[] inputShape, int[]? weightShape)
    {
        string mode = n.String("auto_pad", "NOTSET");
        if (mode is "NOTSET" or "") return;
        if (inputShape.Length < 3) throw UnsupportedOperatorException.For(n, $"auto_pad needs an input with at least one spatial axis; got rank {inputShape.Length}.");
        int spatial = inputShape.Length - 2;
        var k = n.Ints("kernel_shape") ?? weightShape?[2..].Select(v => (long)v).ToArray()
            ?? throw UnsupportedOperatorException.For(n, "kernel_shape is required.");
        var s = n.Ints("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        var d = n.Ints("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        if (k.Length != spatial || s.Length != spatial || d.Length != spatial)
            throw UnsupportedOperatorException.For(n, $"kernel_shape, strides and dilations must have {spatial} values for a rank-{inputShape.Length} input.");
        var pads = new long[2 * spatial];
        if (mode is "SAME_UPPER" or "SAME_LOWER")
        {
            for (int a = 0; a < spatial; a++)
            {
                long size = inputShape[2 + a];
                long outSize = (size + s[a] - 1) / s[a];
                long total = Math.Max(0, (outSize - 1) * s[a] + (k[a] - 1) * d[a] + 1 - size);
                long small = total / 2, big = total - small;
                pads[a] = mode == "SAME_UPPER" ? small : big;
                pads[a + spatial] = mode == "SAME_UPPER" ? big : small;
            }
        }
        else if (mode != "VALID") throw UnsupportedOperatorException.For(n, $"auto_pad '{mode}' is not a valid value.");
        n.Attributes.RemoveAll(a => a.Name == "auto_pad");
        n.Set(GraphAttribute.Of("pads", pads));
    }

    public static PadMode PadModeOf(GraphNode n) => n.String("mode", "constant") switch
    {
        "constant" => PadMode.Constant,
        "reflect" => PadMode.Reflect,
        "edge" => PadMode.Edge,
        var m => throw UnsupportedOperatorException.For(n, $"Pad mode '{m}' is not supported."),
    };
}
