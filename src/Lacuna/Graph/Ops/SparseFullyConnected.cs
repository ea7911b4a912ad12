using System.Buffers;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Graph.Ops;

/// <summary>
/// A fully connected layer with a constant, pruned weight (ONNX Gemm with transB = 1, alpha = 1, bias as C):
/// Y[B×N] = act(X[B×K] · W[N×K]ᵀ + bias) computed as Yᵀ = W · Xᵀ with CSR SpMM, W's rows being the output
/// features. Batch 1 needs no transposes (X's row is Xᵀ's column); larger batches transpose the small X and Y
/// through pooled scratch. The product runs on any <see cref="ISpmmPlan"/> of W [N × K]: CSR, or the plan of a
/// structured pattern the weight satisfies (GS aims at exactly this batch-1 case). The planner keeps it only where
/// it measured faster than the dense kernel.
/// </summary>
internal sealed class SparseFullyConnected
{
    private readonly ISpmmPlan _plan;
    private readonly int _n, _k;

    /// <summary>CSR SpMM on W [N × K].</summary>
    public SparseFullyConnected(ReadOnlySpan<float> weight, int n, int k, ReadOnlySpan<float> bias, Activation act)
        : this(SpmmPlan.Create(CsrMatrix.FromDense(weight[..(n * k)], n, k), bias, act), null) { }

    /// <summary>Any plan of W [N × K] (bias and activation already in it); <paramref name="pattern"/> names its structured pattern.</summary>
    public SparseFullyConnected(ISpmmPlan plan, string? pattern)
    {
        _plan = plan;
        _n = plan.M; _k = plan.K;
        Pattern = pattern;
    }

    /// <summary>The structured pattern the plan runs, or null for CSR.</summary>
    public string? Pattern { get; }

    public string Describe() => Pattern is null ? _plan.Describe() : $"{_plan.Describe()} (pattern {Pattern})";

    /// <param name="x">[batch, K]</param>
    /// <param name="y">[batch, N], fully overwritten</param>
    public void Run(ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        if (batch == 1) { _plan.Run(x[.._k], 1, y[.._n]); return; }
        var xt = ArrayPool<float>.Shared.Rent(_k * batch);
        var yt = ArrayPool<float>.Shared.Rent(_n * batch);
        try
        {
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < _k; i++) xt[i * batch + b] = x[b * _k + i];
            _plan.Run(xt.AsSpan(0, _k * batch), batch, yt.AsSpan(0, _n * batch));
            for (int j = 0; j < _n; j++)
                for (int b = 0; b < batch; b++) y[b * _n + j] = yt[j * batch + b];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xt);
            ArrayPool<float>.Shared.Return(yt);
        }
    }
}
