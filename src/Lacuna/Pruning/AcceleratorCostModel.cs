using Lacuna.Formats;

namespace Lacuna.Pruning;

/// <summary>
/// An analytical cost model of a structured-sparse tensor-core accelerator, as TASDER (Jeong et al., arXiv 2403.07953)
/// evaluates series: a layer of D dense MACs whose weights are the series W ≈ Σ_t W_t (term t is N_t:M_t) runs one
/// pass per term, and a pass of an N:M term takes N/M of the dense MAC time:
/// <code>
///   time   = Σ_t (N_t / M_t) · D / MacsPerSecond            (dense layer: one pass, time = D / MacsPerSecond)
///   bytes  = Σ_t [ nnz_t · BytesPerValue + nnz_t · ⌈log2 M_t⌉ / 8 ]     weight values + N:M index metadata
///          + passes · InputElements · BytesPerActivation + OutputElements · BytesPerActivation
///   energy = Σ_t (N_t / M_t) · D · PicojoulesPerMac + bytes · PicojoulesPerByte      (pJ)
/// </code>
/// with nnz_t = (N_t / M_t) · Rows · Cols (the slots a term reserves), passes = number of terms (each pass streams
/// the input activations again) and a dense layer holding Rows·Cols values and no metadata. A pattern the accelerator
/// has no N:M unit for (unstructured, block, GS) runs as dense: same time, same bytes. A channel-pruned layer is dense
/// at its shrunk size (D is already the kept MACs). Compute-bound by design (no bandwidth roofline): the paper's
/// claim is about MAC time. Defaults: fp16 values and activations (2 B), 1 TMAC/s, 0.5 pJ per MAC and 10 pJ per byte
/// (an on-chip SRAM access order of magnitude); they only scale the figures, the speedups depend on the terms alone.
/// </summary>
public sealed record AcceleratorCostModel(
    double MacsPerSecond = 1e12,
    double BytesPerValue = 2,
    double BytesPerActivation = 2,
    double PicojoulesPerMac = 0.5,
    double PicojoulesPerByte = 10)
{
    /// <summary>One layer's cost: seconds, bytes moved, energy in pJ.</summary>
    public readonly record struct Cost(double Time, double Bytes, double Energy)
    {
        public static Cost operator +(Cost a, Cost b) => new(a.Time + b.Time, a.Bytes + b.Bytes, a.Energy + b.Energy);
    }

    /// <summary>
    /// The cost of a layer of <paramref name="denseMacs"/> MACs, W [rows × cols], reading <paramref name="inputElements"/>
    /// and writing <paramref name="outputElements"/> activations, when its weights are <paramref name="pattern"/>
    /// (null: dense).
    /// </summary>
    public Cost LayerCost(double denseMacs, int rows, int cols, double inputElements, double outputElements, SparsityPattern? pattern)
    {
        var terms = Terms(pattern);
        double weights = (double)rows * cols;
        if (terms.Count == 0)
        {
            double denseBytes = weights * BytesPerValue + (inputElements + outputElements) * BytesPerActivation;
            return new(denseMacs / MacsPerSecond, denseBytes, denseMacs * PicojoulesPerMac + denseBytes * PicojoulesPerByte);
        }
        double macs = 0, bytes = 0;
        foreach (var (n, m) in terms)
        {
            double fraction = (double)n / m;
            macs += fraction * denseMacs;
            double nnz = fraction * weights;
            bytes += nnz * BytesPerValue + nnz * Math.Ceiling(Math.Log2(m)) / 8 + inputElements * BytesPerActivation;
        }
        bytes += outputElements * BytesPerActivation;
        return new(macs / MacsPerSecond, bytes, macs * PicojoulesPerMac + bytes * PicojoulesPerByte);
    }

    /// <summary>The N:M terms a pattern runs as on the accelerator: a series' terms, an N:M pattern's one; else none (dense).</summary>
    public static IReadOnlyList<(int N, int M)> Terms(SparsityPattern? pattern) => pattern switch
    {
        TasdPattern t => t.Spec.Terms,
        NmPattern nm => [(nm.N, nm.M)],
        _ => [],
    };

    /// <summary>The parameters as name → value, for the JSON report.</summary>
    public IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double>
    {
        ["macs_per_second"] = MacsPerSecond, ["bytes_per_value"] = BytesPerValue, ["bytes_per_activation"] = BytesPerActivation,
        ["pj_per_mac"] = PicojoulesPerMac, ["pj_per_byte"] = PicojoulesPerByte,
    };
}
