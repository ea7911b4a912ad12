using System.Numerics;

namespace Lacuna.Training.Layers;

/// <summary>
/// y = max(x, 0); dx = dy where y &gt; 0, else 0. NaN in x propagates to y (as the ONNX reference does) and its
/// gradient is zero. The zeros it writes are the activation sparsity the next conv's kernels skip, and the zeros
/// it puts into dx are the gradient sparsity the previous conv's BWI skips.
/// </summary>
public sealed class Relu : Layer
{
    private float[]? _y, _dx;
    private FeatureMap _out;

    public Relu(string name) : base(name) { }

    /// <summary>Fraction of exact zeros in the last training-mode output.</summary>
    public double LastSparsity { get; private set; } = double.NaN;
    public int Threads { get; set; }

    public override (int C, int H, int W) OutputShape(int c, int h, int w) => (c, h, w);

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        var y = FeatureMap.Ensure(ref _y, x.Length);
        long zeros = 0;
        var src = x.Data;
        int per = x.PerImage;
        Parallel.For(x.N, Threads, (s, e) =>
        {
            long z = Apply(src.AsSpan(s * per, (e - s) * per), y.AsSpan(s * per, (e - s) * per));
            Interlocked.Add(ref zeros, z);
        });
        if (training) LastSparsity = x.Length == 0 ? 0 : (double)zeros / x.Length;
        _out = new FeatureMap(y, x.N, x.C, x.H, x.W);
        return _out;
    }

    /// <summary>dst = relu(src) (NaN kept); returns the number of zeros written.</summary>
    private static long Apply(ReadOnlySpan<float> src, Span<float> dst)
    {
        int i = 0, vw = Vector<float>.Count;
        var zeroCount = Vector<int>.Zero;
        for (; i + vw <= src.Length; i += vw)
        {
            var v = new Vector<float>(src.Slice(i, vw));
            var keep = Vector.GreaterThan(v, Vector<float>.Zero) | ~Vector.Equals(v, v); // NaN ≠ NaN: kept
            var r = Vector.ConditionalSelect(keep, v, Vector<float>.Zero);
            r.CopyTo(dst.Slice(i, vw));
            zeroCount -= Vector.Equals(r, Vector<float>.Zero);
        }
        long zeros = Vector.Sum(zeroCount);
        for (; i < src.Length; i++)
        {
            float v = src[i];
            float r = v > 0f || float.IsNaN(v) ? v : 0f;
            dst[i] = r;
            if (r == 0f) zeros++;
        }
        return zeros;
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        CheckGradient(dy, _out, Name);
        var dx = FeatureMap.Ensure(ref _dx, dy.Length);
        var y = _out.Data;
        var g = dy.Data;
        int per = dy.PerImage;
        Parallel.For(dy.N, Threads, (s, e) =>
        {
            int i = s * per, end = e * per, vw = Vector<float>.Count;
            for (; i + vw <= end; i += vw)
                Vector.ConditionalSelect(Vector.GreaterThan(new Vector<float>(y, i), Vector<float>.Zero), new Vector<float>(g, i), Vector<float>.Zero).CopyTo(dx, i);
            for (; i < end; i++) dx[i] = y[i] > 0f ? g[i] : 0f;
        });
        return new FeatureMap(dx, dy.N, dy.C, dy.H, dy.W);
    }

    public override string Export(GraphExport g, string input) => g.Node("Relu", Name, [input]);
}
