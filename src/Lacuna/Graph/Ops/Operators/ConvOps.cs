using Lacuna.Kernels.ConvTranspose;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// Convolution: 1-D (as 2-D with H = 1) and 2-D Conv through <see cref="ConvKernel"/> (the planner's dense or sparse
/// candidates), 3-D Conv through <see cref="Conv3dKernel"/> (im2col + GEMM); ConvTranspose as GEMM + col2im (1-D and
/// 2-D, <see cref="ConvTranspose2d"/>) or col2vol (3-D, <see cref="ConvTranspose3d"/>).
/// </summary>
internal static class ConvOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("Conv", new(1, 21), OpTraits.None, Shape, (c, _) => c.X.Length == 5
            ? Conv3dKernel.Create(c.Node, c.InShapes)
            : ConvKernel.Create(c.Node, c.InShapes, c.Constant, c.Cache))
        {
            Attributes = ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"],
            Kernels = "1-D/2-D: ConvPlanner (dense direct/pointwise/im2col, sparse direct, SpMM, structured patterns); ReferenceConv2d for run-time weights. 3-D: Vol2ColConv3d (im2col + GEMM)",
            ConformanceCases = ["test_conv", "test_basic_conv", "!test_convtranspose"],
        },
        new("ConvTranspose", new(1, 21), OpTraits.None, c => [TransposeShape(c, out _)], (c, o) =>
        {
            TransposeShape(c, out var p);
            if (c.X.Length == 5)
                return c.Lambda(o, (k, f) => ConvTranspose3d.Compute(k.Input(f, 0), k.InShapes[0], k.Input(f, 1), k.InShapes[1],
                    k.Has(2) ? k.Input(f, 2) : default, k.Output(f), p), "ConvTranspose3d (GEMM + col2vol)");
            var (x4, w4) = OpAttributes.Conv2dView(c.X, c.InShapes[1]);
            var p2 = Lift(p);
            return c.Lambda(o, (k, f) => ConvTranspose2d.Compute(k.Input(f, 0), x4, k.Input(f, 1), w4,
                k.Has(2) ? k.Input(f, 2) : default, k.Output(f), p2), "ConvTranspose2d (GEMM + col2im)");
        })
        {
            Attributes = ["auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"],
            Kernels = "1-D/2-D: ConvTranspose2d (GEMM + col2im); 3-D: ConvTranspose3d (GEMM + col2vol)",
            ConformanceCases = ["test_convtranspose"],
        },
    ];

    private static int[][] Shape(OpContext c)
    {
        if (c.X.Length is not (3 or 4 or 5) || c.InShapes[1].Length != c.X.Length)
            throw c.Unsupported($"only 1-D, 2-D and 3-D convolution (rank-3, 4 or 5 input and weight) are supported; input is rank {c.X.Length}, weight rank {c.InShapes[1].Length}.");
        if (c.X.Length == 5) return [Conv3dKernel.Shape(c.Node, c.X, c.InShapes[1])];
        var (x, w) = OpAttributes.Conv2dView(c.X, c.InShapes[1]);
        int[] y = OpAttributes.Conv(c.Node, c.InShapes[1]).OutputShape(x, w);
        return [c.X.Length == 3 ? [y[0], y[1], y[3]] : y];
    }

    /// <summary>
    /// ConvTranspose's geometry from its attributes and input shape, one value per spatial axis (1, 2 or 3): output_shape
    /// or auto_pad SAME_* resolved into pads. Returns the output shape in the node's own rank.
    /// </summary>
    private static int[] TransposeShape(OpContext c, out ConvTransposeNdParams p)
    {
        var n = c.Node;
        int rank = c.X.Length;
        if (rank is not (3 or 4 or 5) || c.InShapes[1].Length != rank)
            throw c.Unsupported($"only 1-D, 2-D and 3-D ConvTranspose (rank-3, 4 or 5 input and weight) are supported; input is rank {rank}, weight rank {c.InShapes[1].Length}.");
        int sp = rank - 2;
        long[] Read(string name, long fallback, int count)
        {
            var v = n.Ints(name) ?? Enumerable.Repeat(fallback, count).ToArray();
            if (v.Length != count) throw c.Unsupported($"{name} has {v.Length} values; {count} expected for a rank-{rank} input.");
            return v;
        }
        long[] k = n.Ints("kernel_shape") ?? c.InShapes[1][2..].Select(v => (long)v).ToArray();
        long[] s = Read("strides", 1, sp), d = Read("dilations", 1, sp), op = Read("output_padding", 0, sp), pads = Read("pads", 0, 2 * sp);
        if (k.Length != sp) throw c.Unsupported($"kernel_shape has {k.Length} values; {sp} expected.");
        string autoPad = n.String("auto_pad", "NOTSET");
        long[]? outShape = n.Ints("output_shape");
        if (outShape is { Length: var len } && len != sp) outShape = len == rank ? outShape[2..] : throw c.Unsupported($"output_shape has {len} values; {sp} expected.");
        int[] inSpatial = c.X[2..];
        if (outShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            for (int a = 0; a < sp; a++)
            {
                int target = outShape is not null ? (int)outShape[a] : inSpatial[a] * (int)s[a];
                var (begin, end, outputPad) = ConvTranspose2dParams.Resolve(inSpatial[a], (int)k[a], (int)s[a], (int)d[a], (int)op[a], target, autoPad == "SAME_UPPER");
                pads[a] = begin;
                pads[a + sp] = end;
                op[a] = outputPad;
            }
        }
        else if (autoPad == "VALID") Array.Clear(pads);
        else if (autoPad is not ("NOTSET" or "")) throw c.Unsupported($"auto_pad '{autoPad}' is not a valid value.");
        static int[] Ints(IEnumerable<long> v) => v.Select(a => checked((int)a)).ToArray();
        try
        {
            p = new ConvTransposeNdParams(Ints(k), Ints(s), Ints(pads[..sp]), Ints(pads[sp..]), Ints(d), Ints(op), checked((int)n.Int("group", 1)));
            return p.OutputShape(c.X, c.InShapes[1]);
        }
        catch (ArgumentException e) { throw new LacunaFormatException(n.Describe(), e.Message); }
    }

    /// <summary>1-D and 2-D geometry as the 2-D kernel's parameters (a 1-D layer lifted to H = 1).</summary>
    private static ConvTranspose2dParams Lift(ConvTransposeNdParams p) => p.Spatial == 1
        ? new(1, p.Kernel[0], 1, p.Strides[0], 0, p.PadsBegin[0], 0, p.PadsEnd[0], 1, p.Dilations[0], 0, p.OutputPadding[0], p.Groups)
        : new(p.Kernel[0], p.Kernel[1], p.Strides[0], p.Strides[1], p.PadsBegin[0], p.PadsBegin[1], p.PadsEnd[0], p.PadsEnd[1],
            p.Dilations[0], p.Dilations[1], p.OutputPadding[0], p.OutputPadding[1], p.Groups);
}
