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
        int zeros = 0;
        var src = x.Data;
        Parallel.For(x.N, Threads, (s, e) =>
        {
            int per = x.PerImage, z = 0;
            for (int i = s * per, end = e * per; i < end; i++)
            {
                float v = src[i];
                float r = v > 0f || float.IsNaN(v) ? v : 0f;
                y[i] = r;
                if (r == 0f) z++;
            }
            Interlocked.Add(ref zeros, z);
        });
        if (training) LastSparsity = x.Length == 0 ? 0 : (double)zeros / x.Length;
        _out = new FeatureMap(y, x.N, x.C, x.H, x.W);
        return _out;
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        CheckGradient(dy, _out, Name);
        var dx = FeatureMap.Ensure(ref _dx, dy.Length);
        var y = _out.Data;
        var g = dy.Data;
        Parallel.For(dy.N, Threads, (s, e) =>
        {
            int per = dy.PerImage;
            for (int i = s * per, end = e * per; i < end; i++) dx[i] = y[i] > 0f ? g[i] : 0f;
        });
        return new FeatureMap(dx, dy.N, dy.C, dy.H, dy.W);
    }

    public override string Export(GraphExport g, string input) => g.Node("Relu", Name, [input]);
}
