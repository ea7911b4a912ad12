using Lacuna.Kernels.Recurrent;

namespace Lacuna.Kernels.Reference;

/// <summary>
/// The specification of ONNX RNN, GRU and LSTM (opsets 7-21), one step at a time, products in double. With x = Xt·Wᵀ +
/// Wb and r = H·Rᵀ + Rb per gate (<see cref="RecurrentSpec"/> gives the gate order):
/// <code>
/// RNN:  H' = f(x + r)
/// GRU:  z = f(xz + rz), q = f(xr + rr),  h = g(xh + (q ⊙ H)·Rhᵀ + Rbh)  (linear_before_reset: g(xh + q ⊙ rh))
///       H' = (1 − z) ⊙ h + z ⊙ H
/// LSTM: i = f(xi + ri + Pi ⊙ C), f = f(xf + rf + Pf ⊙ C), c = g(xc + rc), C' = f ⊙ C + i ⊙ c,
///       o = f(xo + ro + Po ⊙ C'), H' = o ⊙ h(C')
/// </code>
/// clip (when positive) bounds every pre-activation to [-clip, clip]; LSTM's input_forget couples f = 1 − i. A sequence
/// shorter than T (sequence_lens) stops at its length: its later Y rows are zero and Y_h (Y_c) hold its last step; the
/// reverse direction starts at its last valid step. Optional buffers (bias, seqLens, initial states, peepholes, each
/// output) may be empty.
/// </summary>
public static class ReferenceRecurrent
{
    public static void Compute(RecurrentSpec s, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> bias,
        ReadOnlySpan<int> seqLens, ReadOnlySpan<float> initialH, ReadOnlySpan<float> initialC, ReadOnlySpan<float> peepholes,
        Span<float> y, Span<float> yH, Span<float> yC)
    {
        s.Validate(x.Length, w.Length, r.Length, bias.Length, seqLens, initialH.Length, initialC.Length, peepholes.Length, y.Length, yH.Length, yC.Length);
        int T = s.SeqLength, B = s.Batch, I = s.InputSize, H = s.Hidden, G = s.Gates;
        y.Clear();
        var xg = new double[G * H];
        var hg = new double[G * H];
        var h = new float[H];
        var c = new float[H];
        var q = new float[H];
        for (int d = 0; d < s.Directions; d++)
        {
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
                    for (int g = 0; g < G * H; g++)
                    {
                        double ax = 0, ah = 0;
                        int wo = (d * G * H + g) * I, ro = (d * G * H + g) * H;
                        for (int k = 0; k < I; k++) ax += (double)x[xo + k] * w[wo + k];
                        for (int k = 0; k < H; k++) ah += (double)h[k] * r[ro + k];
                        if (!bias.IsEmpty) { ax += bias[d * 2 * G * H + g]; ah += bias[d * 2 * G * H + G * H + g]; }
                        xg[g] = ax;
                        hg[g] = ah;
                    }
                    switch (s.Cell)
                    {
                        case RecurrentCell.Rnn:
                            for (int j = 0; j < H; j++) h[j] = s.ActivationOf(d, 0).Apply(Clip((float)(xg[j] + hg[j]), s.Clip));
                            break;
                        case RecurrentCell.Gru:
                            GruStep(s, d, r, bias, xg, hg, h, q);
                            break;
                        default:
                            LstmStep(s, d, peepholes, xg, hg, h, c);
                            break;
                    }
                    if (!y.IsEmpty) h.CopyTo(y.Slice((int)s.YOffset(t, d, b), H));
                }
                if (!yH.IsEmpty) h.CopyTo(yH.Slice(so, H));
                if (!yC.IsEmpty) c.CopyTo(yC.Slice(so, H));
            }
        }
    }

    private static void GruStep(RecurrentSpec s, int d, ReadOnlySpan<float> r, ReadOnlySpan<float> bias, double[] xg, double[] hg, float[] h, float[] q)
    {
        int H = s.Hidden;
        var (f, g) = (s.ActivationOf(d, 0), s.ActivationOf(d, 1));
        var z = new float[H];
        for (int j = 0; j < H; j++)
        {
            z[j] = f.Apply(Clip((float)(xg[j] + hg[j]), s.Clip));
            q[j] = f.Apply(Clip((float)(xg[H + j] + hg[H + j]), s.Clip));
        }
        var hh = new float[H];
        for (int j = 0; j < H; j++)
        {
            double rec;
            if (s.LinearBeforeReset) rec = q[j] * hg[2 * H + j];
            else
            {
                // (q ⊙ H) · Rhᵀ + Rbh, the reset applied before the product
                rec = bias.IsEmpty ? 0 : bias[d * 6 * H + 3 * H + 2 * H + j];
                int ro = (d * 3 * H + 2 * H + j) * H;
                for (int k = 0; k < H; k++) rec += (double)q[k] * h[k] * r[ro + k];
            }
            hh[j] = g.Apply(Clip((float)(xg[2 * H + j] + rec), s.Clip));
        }
        for (int j = 0; j < H; j++) h[j] = (1f - z[j]) * hh[j] + z[j] * h[j];
    }

    private static void LstmStep(RecurrentSpec s, int d, ReadOnlySpan<float> peepholes, double[] xg, double[] hg, float[] h, float[] c)
    {
        int H = s.Hidden;
        var (fa, ga, ha) = (s.ActivationOf(d, 0), s.ActivationOf(d, 1), s.ActivationOf(d, 2));
        for (int j = 0; j < H; j++)
        {
            double pi = peepholes.IsEmpty ? 0 : peepholes[d * 3 * H + j];
            double po = peepholes.IsEmpty ? 0 : peepholes[d * 3 * H + H + j];
            double pf = peepholes.IsEmpty ? 0 : peepholes[d * 3 * H + 2 * H + j];
            float i = fa.Apply(Clip((float)(xg[j] + hg[j] + pi * c[j]), s.Clip));
            float f = s.InputForget ? 1f - i : fa.Apply(Clip((float)(xg[2 * H + j] + hg[2 * H + j] + pf * c[j]), s.Clip));
            float cc = ga.Apply(Clip((float)(xg[3 * H + j] + hg[3 * H + j]), s.Clip));
            float cNew = f * c[j] + i * cc;
            float o = fa.Apply(Clip((float)(xg[H + j] + hg[H + j] + po * cNew), s.Clip));
            c[j] = cNew;
            h[j] = o * ha.Apply(cNew);
        }
    }

    internal static float Clip(float v, float clip) => clip > 0f ? Math.Clamp(v, -clip, clip) : v;
}
