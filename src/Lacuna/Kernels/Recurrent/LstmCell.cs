using System.Numerics.Tensors;

namespace Lacuna.Kernels.Recurrent;

/// <summary>
/// The element-wise half of one LSTM step for one sequence, on TensorPrimitives' vector code (every tier): from the gate
/// pre-activations (input and recurrent products plus biases, already summed) to the new cell and hidden state, as
/// <see cref="Reference.ReferenceLstm"/> defines them. The matrix products are the caller's (dense GEMM or SpMM).
/// </summary>
public static class LstmCell
{
    /// <param name="gates">[4H] pre-activations in order i, o, f, c; overwritten (scratch)</param>
    /// <param name="peepholes">[3H] (i, o, f) or empty</param>
    /// <param name="c">[H] cell state, updated in place</param>
    /// <param name="h">[H] hidden state, written</param>
    /// <param name="scratch">[H] scratch</param>
    public static void Step(Span<float> gates, ReadOnlySpan<float> peepholes, Span<float> c, Span<float> h, Span<float> scratch,
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
