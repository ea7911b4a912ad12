namespace Lacuna.Kernels.Reference;

/// <summary>The specification of ReduceMean: the mean over the marked axes, in double, into the kept-dims layout.</summary>
public static class ReferenceReduce
{
    /// <summary>y has the element count of x's shape with every reduced axis set to 1 (keepdims or not, the order is the same).</summary>
    public static void Mean(ReadOnlySpan<float> x, int[] shape, bool[] reduced, Span<float> y)
    {
        int rank = shape.Length;
        int[] kept = shape.Select((d, i) => reduced[i] ? 1 : d).ToArray();
        int outCount = kept.Aggregate(1, (a, b) => a * b);
        long r = 1;
        for (int d = 0; d < rank; d++) if (reduced[d]) r *= shape[d];
        var sum = new double[outCount];
        var idx = new int[rank];
        for (int i = 0; i < x.Length; i++)
        {
            int o = 0;
            for (int d = 0; d < rank; d++) o = o * kept[d] + (reduced[d] ? 0 : idx[d]);
            sum[o] += x[i];
            for (int d = rank - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
        }
        for (int o = 0; o < outCount; o++) y[o] = (float)(sum[o] / r);
    }
}
