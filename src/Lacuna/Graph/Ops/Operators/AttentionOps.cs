using System.Buffers;
using Lacuna.Kernels.Attention;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// The fused multi-head attention node <see cref="GraphPasses.FuseAttention"/> writes (internal, not an ONNX operator):
/// inputs q [B, Lq, H·D], k and v [B, Lk, H·D] as the projections leave them, an optional additive mask
/// [B or 1, 1, Lq or 1, Lk or 1]; attributes num_heads H, head_size D, scale; output [B, Lq, H·D], the heads merged.
/// Runs <see cref="ScaledDotProductAttention"/> with every operand token-major, so no head is transposed.
/// With packed_qkv = 1 (<see cref="GraphPasses.FuseQkvProjections"/>) inputs 0-2 are one tensor [B, L, 3·H·D] whose
/// rows hold Q, K and V side by side.
/// </summary>
internal static class AttentionOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new(GraphPasses.AttentionOp, new(1, 21), OpTraits.Internal, c => [Geometry(c).Output], Compile)
        {
            Attributes = ["num_heads", "head_size", "scale", "packed_qkv"],
            Kernels = "ScaledDotProductAttention (internal: fused Reshape/Transpose, Q·Kᵀ, scale, mask, Softmax, ·V; score tiles in cache)",
        },
    ];

    private readonly record struct Sizes(AttentionShape Shape, int[] Output, AttentionMask Mask, bool ExpandMaskKeys, bool Packed);

    private static Sizes Geometry(OpContext c)
    {
        int heads = (int)c.Node.Int("num_heads", 0), size = (int)c.Node.Int("head_size", 0), width = heads * size;
        if (heads < 1 || size < 1) throw c.Unsupported($"num_heads ({heads}) and head_size ({size}) must be positive.");
        bool packed = c.Node.Int("packed_qkv", 0) == 1;
        int[] q = c.InShapes[0], k = c.InShapes[1], v = c.InShapes[2];
        if (packed)
        {
            if (q.Length != 3 || q[2] != 3 * width || c.Node.Inputs[1] != c.Node.Inputs[0] || c.Node.Inputs[2] != c.Node.Inputs[0])
                throw new ShapeMismatchException("q", $"{c.Node.Describe()}: packed Q, K, V must be one [B, L, {3 * width}] input; got {Broadcast.Format(q)}.");
            q = k = v = [q[0], q[1], width];
        }
        if (q.Length != 3 || k.Length != 3 || v.Length != 3 || q[2] != width || k[2] != width || v[2] != width
            || k[0] != q[0] || v[0] != q[0] || v[1] != k[1])
            throw new ShapeMismatchException("q", $"{c.Node.Describe()}: q, k and v must be [B, L, {width}] with k and v of one length; " +
                $"got q {Broadcast.Format(q)}, k {Broadcast.Format(k)}, v {Broadcast.Format(v)}.");
        var shape = new AttentionShape(q[0], heads, q[1], k[1], size);
        if (!c.Has(3)) return new(shape, [q[0], q[1], width], default, false, packed);
        int[] m = c.InShapes[3];
        if (m is not [var mb, 1, var mr, var mk] || (mb != 1 && mb != q[0]) || (mr != 1 && mr != q[1]) || (mk != 1 && mk != k[1]))
            throw new ShapeMismatchException("mask", $"{c.Node.Describe()}: the mask must be [{q[0]} or 1, 1, {q[1]} or 1, {k[1]} or 1]; got {Broadcast.Format(m)}.");
        return new(shape, [q[0], q[1], width], new AttentionMask(mb, mr), mk != k[1], packed);
    }

    private static NodeKernel Compile(OpContext c, int[][] outs)
    {
        var (shape, _, maskShape, expand, packed) = Geometry(c);
        bool masked = c.Has(3);
        float scale = c.Node.Float("scale", 1f);
        int width = shape.Heads * shape.HeadSize;
        var outLayout = AttentionLayout.TokenMajor(shape.Heads, shape.QueryLength, shape.HeadSize);
        var qLayout = packed ? AttentionLayout.TokenMajor(shape.Heads, shape.QueryLength, shape.HeadSize, 3 * width) : outLayout;
        var kvLayout = AttentionLayout.TokenMajor(shape.Heads, shape.KeyLength, shape.HeadSize, packed ? 3 * width : 0);
        return c.Lambda(outs, (k, f) =>
        {
            ReadOnlySpan<float> mask = masked ? k.Input(f, 3) : default;
            float[]? wide = null;
            try
            {
                if (expand)
                {
                    // A mask broadcast along the keys ([.., 1]) is widened once per run: the kernel reads rows of Lk.
                    int rows = maskShape.Batch * maskShape.Rows, keys = shape.KeyLength;
                    wide = ArrayPool<float>.Shared.Rent(Math.Max(1, rows * keys));
                    for (int r = 0; r < rows; r++) wide.AsSpan(r * keys, keys).Fill(mask[r]);
                    mask = wide.AsSpan(0, rows * keys);
                }
                var q = k.Input(f, 0);
                ReadOnlySpan<float> kIn = packed ? q[width..] : k.Input(f, 1), vIn = packed ? q[(2 * width)..] : k.Input(f, 2);
                ScaledDotProductAttention.Compute(shape, q, qLayout, kIn, kvLayout, vIn, kvLayout, k.Output(f), outLayout, scale, mask, maskShape);
            }
            finally
            {
                if (wide is not null) ArrayPool<float>.Shared.Return(wide);
            }
        }, "ScaledDotProductAttention (fused heads, token-major)");
    }
}
