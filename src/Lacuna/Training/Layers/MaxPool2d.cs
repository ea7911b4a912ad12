using Lacuna.Graph;

namespace Lacuna.Training.Layers;

/// <summary>
/// Max pooling, square window <see cref="Kernel"/>, stride <see cref="Stride"/>, no padding (floor). Backward routes
/// each output gradient to the position of its maximum (the first one on ties), as ONNX/PyTorch do.
/// </summary>
public sealed class MaxPool2d : Layer
{
    private float[]? _y, _dx;
    private int[]? _argmax;
    private FeatureMap _in, _out;

    public MaxPool2d(string name, int kernel = 2, int stride = -1) : base(name)
    {
        if (kernel < 1) ThrowHelper.OutOfRange(nameof(kernel), kernel, $"MaxPool '{name}' needs a kernel ≥ 1.");
        Kernel = kernel; Stride = stride < 1 ? kernel : stride;
    }

    public int Kernel { get; }
    public int Stride { get; }
    public int Threads { get; set; }

    public override (int C, int H, int W) OutputShape(int c, int h, int w)
    {
        int oh = (h - Kernel) / Stride + 1, ow = (w - Kernel) / Stride + 1;
        if (h < Kernel || w < Kernel) ThrowHelper.Shape("x", $"MaxPool '{Name}' ({Kernel}x{Kernel}) cannot pool a {h}x{w} map.");
        return (c, oh, ow);
    }

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        var (c, oh, ow) = OutputShape(x.C, x.H, x.W);
        int planes = x.N * c, ih = x.H, iw = x.W;
        var y = FeatureMap.Ensure(ref _y, planes * oh * ow);
        var arg = training ? (_argmax = _argmax is { } a && a.Length >= y.Length ? a : new int[y.Length]) : null;
        var src = x.Data;
        int k = Kernel, st = Stride;
        if (k == 2 && st == 2 && arg is not null)
        {
            Parallel.For(planes, Threads, (s, e) => Pool2x2(src, y, arg, s, e, ih, iw, oh, ow));
            _in = x;
            return _out = new FeatureMap(y, x.N, c, oh, ow);
        }
        Parallel.For(planes, Threads, (s, e) =>
        {
            for (int p = s; p < e; p++)
            {
                int inBase = p * ih * iw, outBase = p * oh * ow;
                for (int r = 0; r < oh; r++)
                    for (int q = 0; q < ow; q++)
                    {
                        int best = inBase + r * st * iw + q * st;
                        float m = src[best];
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++)
                            {
                                int at = inBase + (r * st + i) * iw + q * st + j;
                                if (src[at] > m || float.IsNaN(src[at]) && !float.IsNaN(m)) { m = src[at]; best = at; }
                            }
                        y[outBase + r * ow + q] = m;
                        if (arg is not null) arg[outBase + r * ow + q] = best;
                    }
            }
        });
        _in = x;
        _out = new FeatureMap(y, x.N, c, oh, ow);
        return _out;
    }

    /// <summary>
    /// The common 2x2/2 window with its arg-max, for planes [p0, p1): the first maximum in (top-left, top-right,
    /// bottom-left, bottom-right) order wins ties, and a NaN anywhere wins, as in the general loop.
    /// </summary>
    private static unsafe void Pool2x2(float[] src, float[] y, int[] arg, int p0, int p1, int ih, int iw, int oh, int ow)
    {
        fixed (float* ps = src, py = y)
        fixed (int* pa = arg)
            for (int p = p0; p < p1; p++)
            {
                int inBase = p * ih * iw;
                float* o = py + (long)p * oh * ow;
                int* a = pa + (long)p * oh * ow;
                for (int r = 0; r < oh; r++)
                {
                    int top = inBase + 2 * r * iw;
                    for (int q = 0; q < ow; q++, o++, a++)
                    {
                        int i0 = top + 2 * q, i2 = i0 + iw;
                        float m = ps[i0]; int best = i0;
                        float v = ps[i0 + 1]; if (v > m || (float.IsNaN(v) && !float.IsNaN(m))) { m = v; best = i0 + 1; }
                        v = ps[i2]; if (v > m || (float.IsNaN(v) && !float.IsNaN(m))) { m = v; best = i2; }
                        v = ps[i2 + 1]; if (v > m || (float.IsNaN(v) && !float.IsNaN(m))) { m = v; best = i2 + 1; }
                        *o = m; *a = best;
                    }
                }
            }
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        CheckGradient(dy, _out, Name);
        var arg = _argmax ?? throw new InvalidOperationException($"MaxPool '{Name}': backward without a training-mode forward.");
        var dx = FeatureMap.Ensure(ref _dx, _in.Length);
        var g = dy.Data;
        int inPlane = _in.H * _in.W, outPlane = dy.H * dy.W;
        Parallel.For(dy.N * dy.C, Threads, (s, e) =>
        {
            dx.AsSpan(s * inPlane, (e - s) * inPlane).Clear();
            for (int i = s * outPlane, end = e * outPlane; i < end; i++) dx[arg[i]] += g[i];
        });
        return new FeatureMap(dx, _in.N, _in.C, _in.H, _in.W);
    }

    public override string Export(GraphExport g, string input) => g.Node("MaxPool", Name, [input],
        GraphAttribute.Of("kernel_shape", new long[] { Kernel, Kernel }),
        GraphAttribute.Of("strides", new long[] { Stride, Stride }),
        GraphAttribute.Of("pads", new long[] { 0, 0, 0, 0 }));
}
