namespace Lacuna.Onnx.Zoo;

/// <summary>The two encoder families of the zoo.</summary>
public enum TransformerFamily
{
    /// <summary>
    /// BERT (Devlin et al. 2019, Hugging Face layout): inputs <c>input_ids</c>, <c>token_type_ids</c>,
    /// <c>attention_mask</c> (int64 [batch, seq]); word + learned position + token-type embeddings and LayerNorm;
    /// post-LN layers with a Gelu FFN; outputs <c>last_hidden_state</c> [batch, seq, hidden] and
    /// <c>pooler_output</c> [batch, hidden] (Tanh of a dense layer on the first token).
    /// </summary>
    Bert,

    /// <summary>
    /// The Transformer-base encoder (Vaswani et al. 2017, tensor2tensor as DLMC pruned it): input <c>input_ids</c>
    /// int64 [batch, seq]; embeddings × √d_model plus sinusoidal positions; post-LN layers with a ReLU FFN; output
    /// <c>encoder_output</c> [batch, seq, d_model]. No padding-mask input (every sequence is full length).
    /// </summary>
    Encoder,
}

/// <summary>Sizes of a zoo transformer encoder.</summary>
public sealed record TransformerSpec(
    TransformerFamily Family, int Layers, int Hidden, int Heads, int Ffn, int Vocab, int MaxPositions, float LayerNormEpsilon)
{
    public int HeadSize => Hidden / Heads;

    public static readonly TransformerSpec BertBase = new(TransformerFamily.Bert, 12, 768, 12, 3072, 30522, 512, 1e-12f);
    public static readonly TransformerSpec BertTiny = new(TransformerFamily.Bert, 2, 32, 2, 64, 1000, 64, 1e-12f);
    public static readonly TransformerSpec TransformerBase = new(TransformerFamily.Encoder, 6, 512, 8, 2048, 33708, 1024, 1e-6f);
    public static readonly TransformerSpec TransformerTiny = new(TransformerFamily.Encoder, 2, 32, 4, 64, 1000, 64, 1e-6f);
}
