namespace Lacuna.Training.Layers;

/// <summary>
/// One differentiable stage of a network. <see cref="Forward"/> caches what <see cref="Backward"/> needs, so the two
/// alternate: forward(x) then backward(dy) for that same x. Backward overwrites the gradients of the layer's own
/// parameters and returns dx (or an empty map when <see cref="NeedsInputGradient"/> is false, as for the first layer).
/// Returned maps are the layer's buffers, valid until its next call.
/// </summary>
public abstract class Layer
{
    protected Layer(string name) => Name = name;

    public string Name { get; }

    /// <summary>False for the first layer of a network: nothing consumes the gradient of the image.</summary>
    public bool NeedsInputGradient { get; set; } = true;

    public abstract FeatureMap Forward(FeatureMap x, bool training);
    public abstract FeatureMap Backward(FeatureMap dy);

    /// <summary>[C, H, W] of the output for an input of [C, H, W]; throws naming the layer when the input does not fit.</summary>
    public abstract (int C, int H, int W) OutputShape(int c, int h, int w);

    public virtual IEnumerable<Parameter> Parameters() => [];

    /// <summary>Non-trainable state that a checkpoint keeps (BatchNorm running statistics).</summary>
    public virtual IEnumerable<(string Name, float[] Data)> Buffers() => [];

    /// <summary>The layers inside this one (itself for a leaf), depth first.</summary>
    public virtual IEnumerable<Layer> Leaves() => [this];

    /// <summary>Appends the inference form of this layer to an ONNX-shaped graph; returns the output value name.</summary>
    public abstract string Export(GraphExport g, string input);

    protected void CheckInput(FeatureMap x, int c, int h = -1, int w = -1)
    {
        if (x.C != c || (h >= 0 && x.H != h) || (w >= 0 && x.W != w))
            ThrowHelper.Shape("x", $"Layer '{Name}' expects [N, {c}, {(h < 0 ? "H" : h)}, {(w < 0 ? "W" : w)}] but got {x.ShapeText}.");
    }

    protected static void CheckGradient(FeatureMap dy, FeatureMap y, string layer)
    {
        if (dy.N != y.N || dy.C != y.C || dy.H != y.H || dy.W != y.W)
            ThrowHelper.Shape("dy", $"Layer '{layer}' produced {y.ShapeText} but its gradient is {dy.ShapeText}.");
    }
}
