using Lacuna.Tensors;
using Lacuna.Training;
using Lacuna.Training.Layers;

namespace Lacuna.Tests.Training;

/// <summary>
/// Finite-difference gradient checks (central differences) of a layer under the scalar loss L = Σ y ⊙ r with a fixed
/// random r, so dL/dy = r: the analytic dx and parameter gradients from Backward(r) are compared with
/// (L(v + ε) − L(v − ε)) / 2ε at sampled coordinates. L is accumulated in double.
/// </summary>
internal static class GradientCheck
{
    public static void Run(Layer layer, FeatureMap x, ulong seed = 1, float eps = 1e-2f, double atol = 4e-3, double rtol = 2e-2,
        int samples = 24, Action? beforeForward = null, bool checkInput = true)
    {
        beforeForward?.Invoke();
        var y = layer.Forward(x, training: true);
        var r = new float[y.Length];
        new DeterministicRandom(seed + 99).Fill(r, -1f, 1f);
        var dy = new FeatureMap(r, y.N, y.C, y.H, y.W);
        var dxMap = layer.Backward(dy);
        float[]? dx = checkInput ? dxMap.Span.ToArray() : null;
        if (checkInput) Assert.Equal((x.N, x.C, x.H, x.W), (dxMap.N, dxMap.C, dxMap.H, dxMap.W));
        var grads = layer.Parameters().Select(p => (p, g: (float[])p.Grad.Clone())).ToList();

        double Loss()
        {
            beforeForward?.Invoke();
            var o = layer.Forward(x, training: true);
            double l = 0;
            for (int i = 0; i < o.Length; i++) l += (double)o.Data[i] * r[i];
            return l;
        }

        void Check(float[] values, int length, float[] analytic, string what)
        {
            var rng = new DeterministicRandom(seed + 7);
            int n = Math.Min(samples, length);
            for (int s = 0; s < n; s++)
            {
                int i = length <= samples ? s : rng.NextInt(length);
                float v = values[i];
                values[i] = v + eps; double lp = Loss();
                values[i] = v - eps; double lm = Loss();
                values[i] = v;
                double numeric = (lp - lm) / (2 * eps);
                Assert.True(Math.Abs(numeric - analytic[i]) <= atol + rtol * Math.Abs(numeric),
                    $"{layer.Name}: d/d{what}[{i}] analytic {analytic[i]:G6} vs numeric {numeric:G6}");
            }
        }

        if (dx is not null) Check(x.Data, x.Length, dx, "x");
        foreach (var (p, g) in grads) Check(p.Value, p.Length, g, p.Name);
    }

    /// <summary>Uniform values in ±[margin, 1]: away from ReLU's kink at 0 by more than ε.</summary>
    public static FeatureMap Input(int n, int c, int h, int w, ulong seed, float margin = 0f)
    {
        var data = new float[n * c * h * w];
        var rng = new DeterministicRandom(seed);
        for (int i = 0; i < data.Length; i++)
        {
            float u = rng.NextFloat(margin, 1f);
            data[i] = (rng.NextUInt64() & 1) == 0 ? u : -u;
        }
        return new FeatureMap(data, n, c, h, w);
    }
}
