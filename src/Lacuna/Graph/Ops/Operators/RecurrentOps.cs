namespace Lacuna.Graph.Ops.Operators;

/// <summary>Recurrent layers: LSTM (forward, reverse, bidirectional; sequence lengths, initial states, peepholes).</summary>
internal static class RecurrentOps
{
    public static IEnumerable<OpDef> Defs =>
    [
        // Opset 7 dropped output_sequence; opset 14 added layout (batch-first), read by one definition: a layout
        // attribute cannot occur below 14, where it defaults to 0.
        new("LSTM", new(7, 21), OpTraits.None, LstmKernel.OutputShapes, LstmKernel.Create)
        {
            Attributes = ["activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "input_forget", "layout"],
            Kernels = "GEMM input projection + per-step GEMM/Gemv or CSR SpMM (pruned W/R) + LstmCell",
            ConformanceCases = ["test_lstm"],
        },
    ];
}
