namespace Lacuna.Kernels.Recurrent;

public enum RnnDirection { Forward, Reverse, Bidirectional }

/// <summary>The three ONNX recurrent operators: gates per step and activations per direction differ.</summary>
public enum RecurrentCell { Rnn, Gru, Lstm }

/// <summary>
/// The shapes and attributes of one ONNX RNN, GRU or LSTM: T steps, B sequences, I inputs, H hidden units, D
/// directions, G gates (RNN 1, GRU 3 in order z r h, LSTM 4 in order i o f c), and where each tensor's rows lie.
/// Layout 0 (the default): X [T, B, I], Y [T, D, B, H], states [D, B, H]; layout 1 (batch first, opset 14): X [B, T, I],
/// Y [B, T, D, H], states [B, D, H]. Weights are always W [D, G·H, I], R [D, G·H, H], bias [D, 2·G·H] (input then
/// recurrent biases), LSTM peepholes P [D, 3H] (i, o, f).
/// </summary>
public sealed record RecurrentSpec(RecurrentCell Cell, int SeqLength, int Batch, int InputSize, int Hidden, RnnDirection Direction,
    bool BatchFirst, float Clip, RnnActivation[] Activations, bool InputForget = false, bool LinearBeforeReset = false)
{
    public int Directions => Direction == RnnDirection.Bidirectional ? 2 : 1;

    /// <summary>Gates per step: the rows of W and R per direction are Gates·H.</summary>
    public int Gates => GatesOf(Cell);

    public static int GatesOf(RecurrentCell cell) => cell switch { RecurrentCell.Rnn => 1, RecurrentCell.Gru => 3, _ => 4 };

    /// <summary>Activation functions per direction (f; f, g; f, g, h) and their ONNX defaults.</summary>
    public static RnnActivation[] DefaultActivations(RecurrentCell cell) => cell switch
    {
        RecurrentCell.Rnn => [RnnActivation.Tanh],
        RecurrentCell.Gru => [RnnActivation.Sigmoid, RnnActivation.Tanh],
        _ => [RnnActivation.Sigmoid, RnnActivation.Tanh, RnnActivation.Tanh],
    };

    public string OpName => Cell switch { RecurrentCell.Rnn => "RNN", RecurrentCell.Gru => "GRU", _ => "LSTM" };

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

    /// <summary>Activation <paramref name="i"/> (f, g, h) of direction <paramref name="d"/>.</summary>
    public RnnActivation ActivationOf(int d, int i) => Activations[d * (Activations.Length / Directions) + i];

    /// <summary>
    /// Checks every buffer's length (optional ones may be empty) and each sequence length against T; the message
    /// names the input and the shape it needed.
    /// </summary>
    public void Validate(int x, int w, int r, int bias, ReadOnlySpan<int> seqLens, int initialH, int initialC, int peepholes, int y, int yH, int yC)
    {
        long d = Directions, h = Hidden, gh = Gates * h;
        Need(x, (long)SeqLength * Batch * InputSize, "X", XShape);
        Need(w, d * gh * InputSize, "W", [Directions, Gates * Hidden, InputSize]);
        Need(r, d * gh * h, "R", [Directions, Gates * Hidden, Hidden]);
        Optional(bias, d * 2 * gh, "B", [Directions, 2 * Gates * Hidden]);
        Optional(initialH, d * Batch * h, "initial_h", StateShape);
        Optional(initialC, d * Batch * h, "initial_c", StateShape);
        Optional(peepholes, d * 3 * h, "P", [Directions, 3 * Hidden]);
        Optional(y, (long)SeqLength * d * Batch * h, "Y", YShape);
        Optional(yH, d * Batch * h, "Y_h", StateShape);
        Optional(yC, d * Batch * h, "Y_c", StateShape);
        if (Cell != RecurrentCell.Lstm && (initialC != 0 || peepholes != 0 || yC != 0))
            throw new ArgumentException($"{OpName}: initial_c, P and Y_c belong to LSTM only.");
        if (!seqLens.IsEmpty)
        {
            if (seqLens.Length != Batch) throw new ShapeMismatchException("sequence_lens", $"{OpName}: sequence_lens has {seqLens.Length} values; the batch is {Batch}.");
            for (int b = 0; b < Batch; b++)
                if (seqLens[b] < 0 || seqLens[b] > SeqLength)
                    throw new ArgumentOutOfRangeException("sequence_lens", seqLens[b], $"{OpName}: sequence_lens[{b}] = {seqLens[b]} is outside [0, {SeqLength}] (the sequence length of X).");
        }
    }

    private void Need(int actual, long required, string name, int[] shape)
    {
        if (actual != required)
            throw new ShapeMismatchException(name, $"{OpName}: {name} has {actual} values; [{string.Join(", ", shape)}] needs {required}.");
    }

    private void Optional(int actual, long required, string name, int[] shape)
    {
        if (actual != 0) Need(actual, required, name, shape);
    }
}
