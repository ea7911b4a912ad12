using Lacuna.Kernels;
using Lacuna.Kernels.Reference;

namespace Lacuna.Graph.Ops;

/// <summary>Reads operator attributes into kernel parameter types, rejecting what the engine does not implement.</summary>
internal static class OpAttributes
{
    /// <summary>Conv attributes for a rank-4 NCHW input; auto_pad must already be resolved to explicit pads.</summary>
    public static Conv2dParams Conv(GraphNode n, int[] weightShape)
    {
        CheckNoAutoPad(n);
        var k = n.Ints("kernel_shape") ?? [weightShape[2], weightShape[3]];
        var s = n.Ints("strides") ?? [1, 1];
        var p = n.Ints("pads") ?? [0, 0, 0, 0];
        var d = n.Ints("dilations") ?? [1, 1];
        if (k.Length != 2 || s.Length != 2 || p.Length != 4 || d.Length != 2)
            throw UnsupportedOperatorException.For(n, "only 2-D convolution is supported.");
        var c = new Conv2dParams((int)k[0], (int)k[1], (int)s[0], (int)s[1], (int)p[0], (int)p[1], (int)p[2], (int)p[3],
            (int)d[0], (int)d[1], (int)n.Int("group", 1));
        c.Validate();
        return c;
    }

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
        if (inputShape.Length != 4) throw UnsupportedOperatorException.For(n, "auto_pad is supported for 2-D inputs only.");
        var k = n.Ints("kernel_shape") ?? (weightShape is null ? null : new long[] { weightShape[2], weightShape[3] })
            ?? throw UnsupportedOperatorException.For(n, "kernel_shape is required.");
        var s = n.Ints("strides") ?? [1, 1];
        var d = n.Ints("dilations") ?? [1, 1];
        var pads = new long[4];
        if (mode is "SAME_UPPER" or "SAME_LOWER")
        {
            for (int a = 0; a < 2; a++)
            {
                long size = inputShape[2 + a];
                long outSize = (size + s[a] - 1) / s[a];
                long total = Math.Max(0, (outSize - 1) * s[a] + (k[a] - 1) * d[a] + 1 - size);
                long small = total / 2, big = total - small;
                pads[a] = mode == "SAME_UPPER" ? small : big;
                pads[a + 2] = mode == "SAME_UPPER" ? big : small;
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
