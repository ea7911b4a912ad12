using Lacuna.Graph;

namespace Lacuna.Training.Layers;

/// <summary>[N, C, H, W] → [N, C·H·W, 1, 1], sharing the array (NCHW is already image-major).</summary>
public sealed class Flatten : Layer
{
    private FeatureMap _in;

    public Flatten(string name) : base(name) { }

    public override (int C, int H, int W) OutputShape(int c, int h, int w) => (c * h * w, 1, 1);

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        _in = x;
        return new FeatureMap(x.Data, x.N, x.PerImage, 1, 1);
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        if (dy.N != _in.N || dy.PerImage != _in.PerImage)
            ThrowHelper.Shape("dy", $"Flatten '{Name}' flattened {_in.ShapeText} but its gradient is {dy.ShapeText}.");
        return new FeatureMap(dy.Data, _in.N, _in.C, _in.H, _in.W);
    }

    public override string Export(GraphExport g, string input) => g.Node("Flatten", Name, [input], GraphAttribute.Of("axis", 1L));
}
