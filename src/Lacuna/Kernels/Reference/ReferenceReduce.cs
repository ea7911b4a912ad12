namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of the ONNX reductions (ReduceMean, Sum, Max, Min, Prod, L1, L2, SumSquare, LogSum, LogSumExp):
/// each output element folds the input elements of its group, in double, into the kept-dims layout. An empty group
/// gives the fold's identity after the finishing step (Sum 0, Prod 1, Max −∞, Min +∞, LogSum and LogSumExp −∞, Mean NaN).
/// </summary>
public static class ReferenceReduce
{
    /// <summary>The operator names <see cref="Compute"/> accepts.</summary>
    public static readonly string[] Operators =
        ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"];

    /// <summary>y has the element count of x's shape with every reduced axis set to 1 (keepdims or not, the order is the same).</summary>
    public static void Mean(ReadOnlySpan<float> x, int[] shape, bool[] reduced, Span<float> y) => Compute("ReduceMean", x, shape, reduced, y);

    /// <summary><paramref name="op"/> (one of <see cref="Operators"/>) over the marked axes of x into y.</summary>
    public static void Compute(string op, ReadOnlySpan<float> x, int[] shape, bool[] reduced, Span<float> y)
    {
        if (Array.IndexOf(Operators, op) < 0) ThrowHelper.Argument(nameof(op), $"'{op}' is not a reduction ({string.Join(", ", Operators)}).");
        int rank = shape.Length;
        int[] kept = shape.Select((d, i) => reduced[i] ? 1 : d).ToArray();
        int outCount = kept.Aggregate(1, (a, b) => a * b);
        long r = 1;
        for (int d = 0; d < rank; d++) if (reduced[d]) r *= shape[d];
        int[] target = new int[x.Length];
        var idx = new int[rank];
        for (int i = 0; i < x.Length; i++)
        {
            int o = 0;
            for (int d = 0; d < rank; d++) o = o * kept[d] + (reduced[d] ? 0 : idx[d]);
            target[i] = o;
            for (int d = rank - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
        }
        var acc = new double[outCount];
        // LogSumExp: log Σ exp(x − m) + m with m the group's maximum (exact in double; m = ±∞ or NaN is the answer).
        var max = new double[outCount];
        Array.Fill(max, double.NegativeInfinity);
        for (int i = 0; i < x.Length; i++) max[target[i]] = Math.Max(max[target[i]], x[i]);
        Array.Fill(acc, op switch { "ReduceProd" => 1, "ReduceMax" => double.NegativeInfinity, "ReduceMin" => double.PositiveInfinity, _ => 0 });
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            ref double a = ref acc[target[i]];
            a = op switch
            {
                "ReduceMax" => Math.Max(a, v),
                "ReduceMin" => Math.Min(a, v),
                "ReduceProd" => a * v,
                "ReduceL1" => a + Math.Abs(v),
                "ReduceL2" or "ReduceSumSquare" => a + v * v,
                "ReduceLogSumExp" => a + Math.Exp(v - max[target[i]]),
                _ => a + v,
            };
        }
        for (int o = 0; o < outCount; o++)
            y[o] = (float)(op switch
            {
                "ReduceMean" => acc[o] / r,
                "ReduceL2" => Math.Sqrt(acc[o]),
                "ReduceLogSum" => Math.Log(acc[o]),
                "ReduceLogSumExp" => double.IsFinite(max[o]) ? Math.Log(acc[o]) + max[o] : max[o],
                _ => acc[o],
            });
    }
}
