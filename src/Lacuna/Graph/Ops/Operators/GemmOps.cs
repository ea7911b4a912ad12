using Lacuna.Kernels.Reference;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>Matrix products: Gemm and MatMul through <see cref="GemmKernel"/>.</summary>
internal static class GemmOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        new("Gemm", new(1, 21), OpTraits.None, GemmShape, (c, _) => GemmKernel.CreateGemm(c.Node, c.InShapes, c.Constant, c.Cache))
        {
            Attributes = ["alpha", "beta", "transA", "transB", "broadcast"],
            Kernels = "Gemm (packed constant B), sparse FC (CSR or a structured pattern) when pruned",
            ConformanceCases = ["test_gemm"],
        },
        new("MatMul", new(1, 21), OpTraits.None, c => [ReferenceMatMul.OutputShape(c.X, c.InShapes[1])], CompileMatMul)
        {
            Kernels = "TokenLinear for [..,K]x constant [K,N] (dense GEMM, or SpMM when pruned, timed per row count; fused bias and ReLU); Gemm for [..,K]x[K,N]; batched Gemm with broadcasting otherwise",
            ConformanceCases = ["test_matmul"],
        },
    ];

    /// <summary>
    /// MatMul's compile point. A constant 2-D B is a linear layer on token (or pixel) rows, [.., K]·[K, N]: the hook
    /// where a token-linear plan (packed dense or sparse weight, timed per shape) replaces the plain GEMM.
    /// </summary>
    private static NodeKernel CompileMatMul(OpContext c, int[][] outs)
    {
        if (c.Constant(1) is not null && c.InShapes[1].Length == 2 && c.X.Length >= 1)
            return CompileConstantWeightMatMul(c, outs);
        if (c.Has(2) || c.Node.FusedActivation.Kind != Kernels.ActivationKind.None)
            throw c.Unsupported("a fused bias or activation needs a constant 2-D weight B.");
        return GemmKernel.CreateMatMul(c.Node, c.InShapes);
    }

    /// <summary>
    /// [.., K] · constant [K, N] (+ fused bias, ReLU): a <see cref="TokenLinearKernel"/>, sparse where the session allows
    /// it and the weight is pruned or structured, dense otherwise.
    /// </summary>
    internal static NodeKernel CompileConstantWeightMatMul(OpContext c, int[][] outs) => TokenLinearKernel.Create(c, outs);

    /// <summary>[M, N] of op(A)·op(B) for 2-D A and B; names both shapes when they do not fit.</summary>
    private static int[][] GemmShape(OpContext c)
    {
        int[] a = c.X, b = c.InShapes[1];
        var n = c.Node;
        if (a.Length != 2 || b.Length != 2)
            throw new ShapeMismatchException("A", $"{n.Describe()}: A and B must be 2-D; got {Broadcast.Format(a)} and {Broadcast.Format(b)}.");
        bool ta = n.Int("transA", 0) != 0, tb = n.Int("transB", 0) != 0;
        int m = ta ? a[1] : a[0], k = ta ? a[0] : a[1], kb = tb ? b[1] : b[0], nn = tb ? b[0] : b[1];
        if (k != kb)
            throw new ShapeMismatchException("B", $"{n.Describe()}: inner dimensions differ: A {Broadcast.Format(a)} (transA={ta}), B {Broadcast.Format(b)} (transB={tb}).");
        return [[m, nn]];
    }
}
