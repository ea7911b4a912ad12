namespace Lacuna.Training.Layers;

/// <summary>Layers applied in order; backward runs them in reverse.</summary>
public sealed class Sequential : Layer
{
    private readonly Layer[] _layers;

    public Sequential(string name, params Layer[] layers) : base(name)
    {
        if (layers.Length == 0) ThrowHelper.Argument(nameof(layers), $"Sequential '{name}' needs at least one layer.");
        _layers = layers;
    }

    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>When set, forward and backward seconds of each direct child accumulate here (for `train --profile`).</summary>
    public Dictionary<string, (double Forward, double Backward)>? Timings { get; set; }

    public override (int C, int H, int W) OutputShape(int c, int h, int w)
    {
        foreach (var l in _layers) (c, h, w) = l.OutputShape(c, h, w);
        return (c, h, w);
    }

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        foreach (var l in _layers)
        {
            long t0 = Timings is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            x = l.Forward(x, training);
            Record(l.Name, t0, forward: true);
        }
        return x;
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            if (i == 0 && !NeedsInputGradient) _layers[0].NeedsInputGradient = false;
            long t0 = Timings is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            dy = _layers[i].Backward(dy);
            Record(_layers[i].Name, t0, forward: false);
        }
        return dy;
    }

    private void Record(string layer, long start, bool forward)
    {
        if (Timings is not { } t) return;
        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (f, b) = t.GetValueOrDefault(layer);
        t[layer] = forward ? (f + seconds, b) : (f, b + seconds);
    }

    public override IEnumerable<Parameter> Parameters() => _layers.SelectMany(l => l.Parameters());
    public override IEnumerable<(string Name, float[] Data)> Buffers() => _layers.SelectMany(l => l.Buffers());
    public override IEnumerable<Layer> Leaves() => _layers.SelectMany(l => l.Leaves());

    public override string Export(GraphExport g, string input)
    {
        foreach (var l in _layers) input = l.Export(g, input);
        return input;
    }
}
