using Lacuna.Tensors;

namespace Lacuna.Training.Layers;

/// <summary>
/// Inverted dropout: in training each element is zeroed with probability <see cref="Rate"/> and the rest are scaled by
/// 1/(1 − rate), so inference is the identity (and the export writes no node). The mask stream is seeded; a checkpoint
/// restores its position through <see cref="Seed"/> and the step count.
/// </summary>
public sealed class Dropout : Layer
{
    private float[]? _y, _dx, _scale;
    private FeatureMap _out;
    private DeterministicRandom _rng;

    public Dropout(string name, float rate, ulong seed = 1) : base(name)
    {
        if (!(rate >= 0f && rate < 1f)) ThrowHelper.OutOfRange(nameof(rate), rate, $"Dropout '{name}' rate must be in [0, 1).");
        Rate = rate;
        Reseed(seed);
    }

    public float Rate { get; }

    /// <summary>Restarts the mask stream (the trainer reseeds per epoch so a resumed run draws the same masks).</summary>
    public void Reseed(ulong seed) => _rng = new DeterministicRandom(seed ^ 0xD50F_0A7EUL);

    public override (int C, int H, int W) OutputShape(int c, int h, int w) => (c, h, w);

    public override FeatureMap Forward(FeatureMap x, bool training)
    {
        if (!training || Rate == 0f) { _scale = null; return _out = x; }
        var y = FeatureMap.Ensure(ref _y, x.Length);
        var scale = FeatureMap.Ensure(ref _scale, x.Length);
        float keep = 1f / (1f - Rate);
        for (int i = 0; i < x.Length; i++)
        {
            scale[i] = _rng.NextFloat() < Rate ? 0f : keep;
            y[i] = x.Data[i] * scale[i];
        }
        return _out = new FeatureMap(y, x.N, x.C, x.H, x.W);
    }

    public override FeatureMap Backward(FeatureMap dy)
    {
        CheckGradient(dy, _out, Name);
        if (_scale is null) return dy;
        var dx = FeatureMap.Ensure(ref _dx, dy.Length);
        for (int i = 0; i < dy.Length; i++) dx[i] = dy.Data[i] * _scale[i];
        return new FeatureMap(dx, dy.N, dy.C, dy.H, dy.W);
    }

    public override string Export(GraphExport g, string input) => input;
}
