using Lacuna.Kernels.Recurrent;

namespace Lacuna.Graph.Ops.Operators;

/// <summary>
/// Recurrent layers through <see cref="RecurrentKernel"/>: RNN, GRU and LSTM (forward, reverse, bidirectional; sequence
/// lengths, initial states, LSTM peepholes, any ONNX RNN activation).
/// </summary>
internal static class RecurrentOps
{
    // Opset 7 dropped output_sequence; opset 14 added layout (batch-first), read by one definition each: a layout
    // attribute cannot occur below 14, where it defaults to 0.
    private static readonly string[] Common = ["activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout"];
    private const string Kernel = "GEMM input projection + per-step GEMM/Gemv or CSR SpMM (pruned W/R) + RecurrentCells";

    public static IEnumerable<OpDef> Defs =>
    [
        new("RNN", new(7, 21), OpTraits.None, c => RecurrentKernel.OutputShapes(c, RecurrentCell.Rnn), (c, o) => RecurrentKernel.Create(c, o, RecurrentCell.Rnn))
        { Attributes = Common, Kernels = Kernel, ConformanceCases = ["test_rnn", "test_simple_rnn"] },
        new("GRU", new(7, 21), OpTraits.None, c => RecurrentKernel.OutputShapes(c, RecurrentCell.Gru), (c, o) => RecurrentKernel.Create(c, o, RecurrentCell.Gru))
        { Attributes = [.. Common, "linear_before_reset"], Kernels = Kernel, ConformanceCases = ["test_gru"] },
        new("LSTM", new(7, 21), OpTraits.None, c => RecurrentKernel.OutputShapes(c, RecurrentCell.Lstm), (c, o) => RecurrentKernel.Create(c, o, RecurrentCell.Lstm))
        { Attributes = [.. Common, "input_forget"], Kernels = Kernel, ConformanceCases = ["test_lstm"] },
    ];
}
