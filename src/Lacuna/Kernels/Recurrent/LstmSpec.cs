namespace Lacuna.Kernels.Recurrent;

public enum RnnDirection { Forward, Reverse, Bidirectional }

/// <summary>
/// The shapes and attributes of one ONNX LSTM: T steps, B sequences, I inputs, H hidden units, D directions, and where
/// each tensor's rows lie. Layout 0 (the default): X [T, B, I], Y [T, D, B, H], states [D, B, H]; layout 1 (batch
/// first, opset 14): X [B, T, I], Y [B, T, D, H], states [B, D, H]. Weights are always W [D, 4H, I], R [D, 4H, H],
/// bias [D, 8H] (input then recurrent, each in gate order i, o, f, c), peepholes P [D, 3H] (i, o, f).
/// </summary>
public sealed record LstmSpec(int SeqLength, int Batch, int InputSize, int Hidden, RnnDirection Direction, bool BatchFirst,
    float Clip, bool InputForget, RnnActivation[] Activations)
{
    public int Directions => Direction == RnnDirection.Bidirectional ? 2 : 1;

    /// <summary>Whether direction <paramref name="d"/> runs from the last step to the first.</summary>
    public bool Reversed(int d) => Direction == RnnDirection.Reverse || d == 1;

    public int[] XShape => BatchFirst ? [Batch, SeqLength, InputSize] : [SeqLength, Batch, InputSize];
    public int[] YShape => BatchFirst ? [Batch, SeqLength, Directions, Hidden] : [SeqLength, Directions, Batch, Hidden];
    public int[] StateShape => BatchFirst ? [Batch, Directions, Hidden] : [Directions, Batch, Hidden];

    /// <summary>The row of X (as [rows × I]) holding step t of sequence b.</summary>
    public int XRow(int t, int b) => BatchFirst ? b * SeqLength + t : t * Batch + b;

    /// <summary>Where Y's H values for (step t, direction d, sequence b) start.</summary>
    public long YOffset(int t, int d, int b) => BatchFirst
        ? ((long)(b * SeqLength + t) * Directions + d) * Hidden
        : ((long)(t * Directions + d) * Batch + b) * Hidden;

    /// <summary>Where a state's H values for (direction d, sequence b) start.</summary>
    public int StateOffset(int d, int b) => BatchFirst ? (b * Directions + d) * Hidden : (d * Batch + b) * Hidden;

    /// <summary>Gate activations f, g, h of direction <paramref name="d"/>.</summary>
    public (RnnActivation F, RnnActivation G, RnnActivation H) ActivationsOf(int d) => (Activations[3 * d], Activations[3 * d + 1], Activations[3 * d + 2]);

    /// <summary>
    /// Checks every buffer's length (optional ones may be empty) and each sequence length against T; the message
    /// names the input and the shape it needed.
    /// </summary>
    public void Validate(int x, int w, int r, int bias, ReadOnlySpan<int> seqLens, int initialH, int initialC, int peepholes, int y, int yH, int yC)
    {
        long d = Directions, h = Hidden, four = 4 * h;
        Need(x, (long)SeqLength * Batch * InputSize, "X", XShape);
        Need(w, d * four * InputSize, "W", [Directions, 4 * Hidden, InputSize]);
        Need(r, d * four * h, "R", [Directions, 4 * Hidden, Hidden]);
        Optional(bias, d * 8 * h, "B", [Directions, 8 * Hidden]);
        Optional(initialH, d * Batch * h, "initial_h", StateShape);
        Optional(initialC, d * Batch * h, "initial_c", StateShape);
        Optional(peepholes, d * 3 * h, "P", [Directions, 3 * Hidden]);
        Optional(y, (long)SeqLength * d * Batch * h, "Y", YShape);
        Optional(yH, d * Batch * h, "Y_h", StateShape);
        Optional(yC, d * Batch * h, "Y_c", StateShape);
        if (!seqLens.IsEmpty)
        {
            if (seqLens.Length != Batch) throw new ShapeMismatchException("sequence_lens", $"LSTM: sequence_lens has {seqLens.Length} values; the batch is {Batch}.");
            for (int b = 0; b < Batch; b++)
                if (seqLens[b] < 0 || seqLens[b] > SeqLength)
                    throw new ArgumentOutOfRangeException("sequence_lens", seqLens[b], $"LSTM: sequence_lens[{b}] = {seqLens[b]} is outside [0, {SeqLength}] (the sequence length of X).");
        }
    }

    private static void Need(int actual, long required, string name, int[] shape)
    {
        if (actual != required)
            throw new ShapeMismatchException(name, $"LSTM: {name} has {actual} values; [{string.Join(", ", shape)}] needs {required}.");
    }

    private static void Optional(int actual, long required, string name, int[] shape)
    {
        if (actual != 0) Need(actual, required, name, shape);
    }
}
