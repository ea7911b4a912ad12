using Lacuna.Kernels.Recurrent;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX LSTM (opsets 7-21), one step at a time, products in double. With gates in order i, o, f, c:
/// <code>
/// i = f(Xt·Wiᵀ + H·Riᵀ + Wbi + Rbi + Pi ⊙ C)      o = f(Xt·Woᵀ + H·Roᵀ + Wbo + Rbo + Po ⊙ C')
/// f = f(Xt·Wfᵀ + H·Rfᵀ + Wbf + Rbf + Pf ⊙ C)      c = g(Xt·Wcᵀ + H·Rcᵀ + Wbc + Rbc)
/// C' = f ⊙ C + i ⊙ c                              H' = o ⊙ h(C')
/// </code>
/// clip (when positive) bounds every gate's pre-activation to [-clip, clip]; input_forget couples f = 1 - i. A sequence
/// shorter than T (sequence_lens) stops at its length: its later Y rows are zero and Y_h, Y_c hold its last step; the
/// reverse direction starts at its last valid step. Buffers as <see cref="LstmSpec"/> lays them out; optional ones
/// (bias, seqLens, initial states, peepholes, each output) may be empty.
/// </summary>
public static class ReferenceLstm
{
    public static void Compute(LstmSpec s, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> bias,
        ReadOnlySpan<int> seqLens, ReadOnlySpan<float> initialH, ReadOnlySpan<float> initialC, ReadOnlySpan<float> peepholes,
        Span<float> y, Span<float> yH, Span<float> yC)
    {
        s.Validate(x.Length, w.Length, r.Length, bias.Length, seqLens, initialH.Length, initialC.Length, peepholes.Length, y.Length, yH.Length, yC.Length);
        int T = s.SeqLength, B = s.Batch, I = s.InputSize, H = s.Hidden;
        y.Clear();
        var gates = new double[4 * H];
        var h = new float[H];
        var c = new float[H];
        for (int d = 0; d < s.Directions; d++)
        {
            var (fa, ga, ha) = s.ActivationsOf(d);
            for (int b = 0; b < B; b++)
            {
                int len = seqLens.IsEmpty ? T : seqLens[b];
                int so = s.StateOffset(d, b);
                for (int j = 0; j < H; j++)
                {
                    h[j] = initialH.IsEmpty ? 0f : initialH[so + j];
                    c[j] = initialC.IsEmpty ? 0f : initialC[so + j];
                }
                for (int step = 0; step < len; step++)
                {
                    int t = s.Reversed(d) ? len - 1 - step : step;
                    int xo = s.XRow(t, b) * I;
                    for (int g = 0; g < 4 * H; g++)
                    {
                        double acc = 0;
                        int wo = (d * 4 * H + g) * I, ro = (d * 4 * H + g) * H;
                        for (int k = 0; k < I; k++) acc += (double)x[xo + k] * w[wo + k];
                        for (int k = 0; k < H; k++) acc += (double)h[k] * r[ro + k];
                        if (!bias.IsEmpty) acc += (double)bias[d * 8 * H + g] + bias[d * 8 * H + 4 * H + g];
                        gates[g] = acc;
                    }
                    for (int j = 0; j < H; j++)
                    {
                        double pi = peepholes.IsEmpty ? 0 : peepholes[d * 3 * H + j];
                        double po = peepholes.IsEmpty ? 0 : peepholes[d * 3 * H + H + j];
                        double pf = peepholes.IsEmpty ? 0 : peepholes[d * 3 * H + 2 * H + j];
                        float i = fa.Apply(Clip((float)(gates[j] + pi * c[j]), s.Clip));
                        float f = s.InputForget ? 1f - i : fa.Apply(Clip((float)(gates[2 * H + j] + pf * c[j]), s.Clip));
                        float cc = ga.Apply(Clip((float)gates[3 * H + j], s.Clip));
                        float cNew = f * c[j] + i * cc;
                        float o = fa.Apply(Clip((float)(gates[H + j] + po * cNew), s.Clip));
                        c[j] = cNew;
                        h[j] = o * ha.Apply(cNew);
                    }
                    if (!y.IsEmpty) h.CopyTo(y.Slice((int)s.YOffset(t, d, b), H));
                }
                if (!yH.IsEmpty) h.CopyTo(yH.Slice(so, H));
                if (!yC.IsEmpty) c.CopyTo(yC.Slice(so, H));
            }
        }
    }

    internal static float Clip(float v, float clip) => clip > 0f ? Math.Clamp(v, -clip, clip) : v;
}
