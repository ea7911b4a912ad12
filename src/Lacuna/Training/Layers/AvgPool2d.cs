using Lacuna.Graph;

namespace Lacuna.Training.Layers;

/// <summary>
/// Average pooling, square window and stride, no padding; with <c>global: true</c> the window is the whole map
/// (GlobalAveragePool). dx spreads each output gradient evenly over its window.
/// </summary>
public sealed class AvgPool2d : Layer
{
    private float[]? _y, _dx;
    private FeatureMap _in, _out;

    public AvgPool2d(string name, int kernel = 2, int stride = -1, bool global = false) : base(name)
    {
        if (!global && kernel < 1) ThrowHelper.OutOfRange(nameof(kernel), kernel, $"AvgPool '{name}' needs a kernel ≥ 1.");
        Kernel = kernel; Stride = stride < 1 ? kernel : stride; Global = global;
    }

    public int Kernel { get; }
    public int Stride { get; }
    public bool Global { get; }

    private (int Kh, int Kw, int Sh, int Sw) Window(int h, int w) => Global ? (h, w, h, w) : (Kernel, Kernel, Stride, Stride);

    public override (int C, int H, int W) OutputShape(int c, int h, int w)
    {
        var (kh, kw, sh, sw) = Window(h, w);
        if (h < kh || w < kw) ThrowHelper.Shape("x", $"AvgPool '{Name}' ({kh}x{kw}) cannot pool a {h}x{w} map.");
        return (c, (h - kh) / sh + 1, (w - kw) / sw + 1);
    }

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        var (c, oh, ow) = OutputShape(x.C, x.H, x.W);
        var (kh, kw, sh, sw) = Window(x.H, x.W);
        var y = FeatureMap.Ensure(ref _y, x.N * c * oh * ow);
        float scale = 1f / (kh * kw);
        int ih = x.H, iw = x.W;
        for (int p = 0; p < x.N * c; p++)
            for (int r = 0; r < oh; r++)
                for (int q = 0; q < ow; q++)
                {
                    float acc = 0;
                    for (int i = 0; i < kh; i++)
                    {
                        int row = p * ih * iw + (r * sh + i) * iw + q * sw;
                        for (int j = 0; j < kw; j++) acc += x.Data[row + j];
                    }
                    y[(p * oh + r) * ow + q] = acc * scale;
                }
        _in = x;
        _out = new FeatureMap(y, x.N, c, oh, ow);
        return _out;
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        CheckGradient(dy, _out, Name);
        var (kh, kw, sh, sw) = Window(_in.H, _in.W);
        var dx = FeatureMap.Ensure(ref _dx, _in.Length);
        dx.AsSpan(0, _in.Length).Clear();
        float scale = 1f / (kh * kw);
        int ih = _in.H, iw = _in.W, oh = dy.H, ow = dy.W;
        for (int p = 0; p < dy.N * dy.C; p++)
            for (int r = 0; r < oh; r++)
                for (int q = 0; q < ow; q++)
                {
                    float g = dy.Data[(p * oh + r) * ow + q] * scale;
                    for (int i = 0; i < kh; i++)
                    {
                        int row = p * ih * iw + (r * sh + i) * iw + q * sw;
                        for (int j = 0; j < kw; j++) dx[row + j] += g;
                    }
                }
        return new FeatureMap(dx, _in.N, _in.C, _in.H, _in.W);
    }

    public override string Export(GraphExport g, string input) => Global
        ? g.Node("GlobalAveragePool", Name, [input])
        : g.Node("AveragePool", Name, [input],
            GraphAttribute.Of("kernel_shape", new long[] { Kernel, Kernel }),
            GraphAttribute.Of("strides", new long[] { Stride, Stride }),
            GraphAttribute.Of("pads", new long[] { 0, 0, 0, 0 }));
}
