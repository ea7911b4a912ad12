namespace Lacuna.Training.Layers;

/// <summary>
/// y = body(x) + shortcut(x), the shortcut being the identity when null (shapes must then agree). The gradient
/// flows into both branches and their input gradients add.
/// </summary>
public sealed class Residual : Layer
{
    private float[]? _y, _dx;
    private FeatureMap _out;

    public Residual(string name, Layer body, Layer? shortcut = null) : base(name)
    {
        Body = body ?? throw new ArgumentNullException(nameof(body));
        Shortcut = shortcut;
    }

    public Layer Body { get; }
    public Layer? Shortcut { get; }

    public override (int C, int H, int W) OutputShape(int c, int h, int w)
    {
        var a = Body.OutputShape(c, h, w);
        var b = Shortcut?.OutputShape(c, h, w) ?? (c, h, w);
        if (a != b) ThrowHelper.Shape("x", $"Residual '{Name}': body gives {a} but the shortcut gives {b}.");
        return a;
    }

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        var a = Body.Forward(x, training);
        var b = Shortcut?.Forward(x, training) ?? x;
        var y = FeatureMap.Ensure(ref _y, a.Length);
        for (int i = 0; i < a.Length; i++) y[i] = a.Data[i] + b.Data[i];
        return _out = new FeatureMap(y, a.N, a.C, a.H, a.W);
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        CheckGradient(dy, _out, Name);
        var da = Body.Backward(dy);
        var db = Shortcut?.Backward(dy) ?? dy;
        var dx = FeatureMap.Ensure(ref _dx, da.Length);
        for (int i = 0; i < da.Length; i++) dx[i] = da.Data[i] + db.Data[i];
        return new FeatureMap(dx, da.N, da.C, da.H, da.W);
    }

    public override IEnumerable<Parameter> Parameters() => Body.Parameters().Concat(Shortcut?.Parameters() ?? []);
    public override IEnumerable<(string Name, float[] Data)> Buffers() => Body.Buffers().Concat(Shortcut?.Buffers() ?? []);
    public override IEnumerable<Layer> Leaves() => Body.Leaves().Concat(Shortcut?.Leaves() ?? []);

    public override string Export(GraphExport g, string input)
    {
        string a = Body.Export(g, input);
        string b = Shortcut?.Export(g, input) ?? input;
        return g.Node("Add", Name, [a, b]);
    }
}
