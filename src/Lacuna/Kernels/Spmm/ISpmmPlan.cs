namespace Lacuna.Kernels.Spmm;

/// <summary>
/// A prepared product with constant sparse weights: Y [M × n] = act(W [M × K] · X [K × n] + bias), X and Y row-major,
/// n the dense dimension (pixels of one image, or tokens). Every weight format's plan (CSR <see cref="SpmmPlan"/>,
/// block, N:M, TASD series, GS) implements it, so the planner, `bench nm` and the whole-model patterns treat them alike.
/// Immutable after creation: one instance serves concurrent runs.
/// </summary>
public interface ISpmmPlan
{
    /// <summary>Rows of W and Y.</summary>
    int M { get; }

    /// <summary>Columns of W, rows of X.</summary>
    int K { get; }

    /// <summary>Format, tier, tile and sparsity, for inspect and benchmark JSON.</summary>
    string Describe();

    /// <param name="x">X [K × n], row-major</param>
    /// <param name="n">columns of X and Y</param>
    /// <param name="y">Y [M × n], fully overwritten</param>
    /// <param name="threads">0: <see cref="Threading.WorkerPool.DefaultThreads"/></param>
    void Run(ReadOnlySpan<float> x, int n, Span<float> y, int threads = 0);
}
