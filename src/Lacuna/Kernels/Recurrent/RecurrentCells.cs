using System.Numerics.Tensors;

namespace Lacuna.Kernels.Recurrent;

/// <summary>
/// The element-wise half of one recurrent step for one sequence, on TensorPrimitives' vector code (every tier), as
/// <see cref="Reference.ReferenceRecurrent"/> defines it. The matrix products are the caller's (dense GEMM or SpMM);
/// every span here is H long unless said otherwise.
/// </summary>
public static class RecurrentCells
{
    /// <summary>RNN: h = f(clip(x + r)), x and r the input and recurrent products (biases included).</summary>
    public static void Rnn(ReadOnlySpan<float> x, ReadOnlySpan<float> r, Span<float> h, RnnActivation f, float clip)
    {
        TensorPrimitives.Add(x, r, h);
        Clip(h, clip);
        f.Apply(h);
    }

    /// <summary>GRU, first half: z and q (the reset gate) in place of their pre-activations xz + rz and xr + rr.</summary>
    /// <param name="x">[2H] input products of z and r (biases included)</param>
    /// <param name="zq">[2H] recurrent products of z and r on input; z then q on output</param>
    public static void GruGates(ReadOnlySpan<float> x, Span<float> zq, RnnActivation f, float clip)
    {
        TensorPrimitives.Add(zq, x, zq);
        Clip(zq, clip);
        f.Apply(zq);
    }

    /// <summary>GRU, second half: hh = g(clip(xh + rh)), then H' = hh + z ⊙ (H − hh) in <paramref name="h"/>.</summary>
    /// <param name="rh">the candidate's recurrent term (reset already applied); overwritten (scratch)</param>
    public static void GruFinish(ReadOnlySpan<float> xh, Span<float> rh, ReadOnlySpan<float> z, Span<float> h, RnnActivation g, float clip)
    {
        TensorPrimitives.Add(rh, xh, rh);
        Clip(rh, clip);
        g.Apply(rh);
        // H' = (1 − z) ⊙ hh + z ⊙ H = hh + z ⊙ (H − hh)
        TensorPrimitives.Subtract(h, rh, h);
        TensorPrimitives.MultiplyAdd(h, z, rh, h);
    }

    /// <summary>LSTM: from the gate pre-activations (i, o, f, c; products and biases summed) to the new C and H.</summary>
    /// <param name="gates">[4H], overwritten (scratch)</param>
    /// <param name="peepholes">[3H] (i, o, f) or empty</param>
    /// <param name="c">cell state, updated in place</param>
    public static void Lstm(Span<float> gates, ReadOnlySpan<float> peepholes, Span<float> c, Span<float> h, Span<float> scratch,
        RnnActivation f, RnnActivation g, RnnActivation hAct, float clip, bool inputForget)
    {
        int n = c.Length;
        Span<float> gi = gates[..n], go = gates.Slice(n, n), gf = gates.Slice(2 * n, n), gc = gates.Slice(3 * n, n);
        if (!peepholes.IsEmpty)
        {
            TensorPrimitives.MultiplyAdd(c, peepholes[..n], gi, gi);
            if (!inputForget) TensorPrimitives.MultiplyAdd(c, peepholes.Slice(2 * n, n), gf, gf);
        }
        Clip(gi, clip);
        f.Apply(gi);
        if (inputForget) TensorPrimitives.Subtract(1f, gi, gf);
        else { Clip(gf, clip); f.Apply(gf); }
        Clip(gc, clip);
        g.Apply(gc);
        // C' = f ⊙ C + i ⊙ c
        TensorPrimitives.Multiply(gf, c, c);
        TensorPrimitives.MultiplyAdd(gi, gc, c, c);
        if (!peepholes.IsEmpty) TensorPrimitives.MultiplyAdd(c, peepholes.Slice(n, n), go, go);
        Clip(go, clip);
        f.Apply(go);
        c.CopyTo(scratch);
        hAct.Apply(scratch);
        TensorPrimitives.Multiply(go, scratch, h);
    }

    private static void Clip(Span<float> v, float clip)
    {
        if (clip <= 0f) return;
        TensorPrimitives.Max(v, -clip, v);
        TensorPrimitives.Min(v, clip, v);
    }
}
