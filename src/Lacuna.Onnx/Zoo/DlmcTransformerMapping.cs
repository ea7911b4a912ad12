namespace Lacuna.Onnx.Zoo;

/// <summary>
/// Maps DLMC's Transformer matrices (Gale et al., SC'20: the tensor2tensor Transformer-base trained on WMT
/// English-German, pruned by each method) onto the encoder layers of a <see cref="TransformerFamily.Encoder"/> zoo model
/// by name. DLMC names a fully connected weight <c>body_{encoder|decoder}_layer_{i}_{block}_fully_connected</c> with
/// block <c>self_attention_multihead_attention_{q,k,v,output_transform}</c>, <c>encdec_attention_…</c> (decoder only)
/// or <c>ffn_conv1</c> / <c>ffn_conv2</c>; each matrix is rows = out features × cols = in features (ffn_conv1 is
/// 2048 × 512, ffn_conv2 512 × 2048), the [out, in] layout of <see cref="ZooLayerKind.MatMul"/> layers, so no
/// permutation is needed:
/// <list type="table">
/// <item><term><c>body_encoder_layer_{i}_self_attention_multihead_attention_{q|k|v}_fully_connected</c></term><description><c>encoder.layer{i}.self_attention.{q|k|v}</c></description></item>
/// <item><term><c>…_output_transform_fully_connected</c></term><description><c>encoder.layer{i}.self_attention.output_transform</c></description></item>
/// <item><term><c>body_encoder_layer_{i}_ffn_conv{1|2}_fully_connected</c></term><description><c>encoder.layer{i}.ffn.conv{1|2}</c></description></item>
/// </list>
/// The zoo builds the encoder only, so the 60 decoder matrices of a folder are reported as unused.
/// </summary>
public static class DlmcTransformerMapping
{
    /// <summary>The DLMC matrix name of every encoder linear layer of <paramref name="spec"/>, keyed by layer name.</summary>
    public static IReadOnlyDictionary<string, string> MatrixNames(TransformerSpec spec)
    {
        if (spec.Family != TransformerFamily.Encoder)
            throw new ArgumentException("the DLMC transformer matrices map onto the Transformer-base encoder (transformer-base), not BERT.", nameof(spec));
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < spec.Layers; i++)
        {
            foreach (var part in (string[])["q", "k", "v", "output_transform"])
                map[$"encoder.layer{i}.self_attention.{part}"] = $"body_encoder_layer_{i}_self_attention_multihead_attention_{part}_fully_connected";
            map[$"encoder.layer{i}.ffn.conv1"] = $"body_encoder_layer_{i}_ffn_conv1_fully_connected";
            map[$"encoder.layer{i}.ffn.conv2"] = $"body_encoder_layer_{i}_ffn_conv2_fully_connected";
        }
        return map;
    }

    /// <summary>
    /// Replaces each encoder layer's weights with its matrix's non-zero pattern (values synthesized and scaled as in
    /// <see cref="DlmcResNetMapping.Apply(IReadOnlyList{ZooLayer}, ResNetSpec, string, ulong)"/>). A missing or
    /// mis-shaped matrix is a <see cref="LacunaFormatException"/> naming it and the layer.
    /// </summary>
    public static DlmcCoverage Apply(IReadOnlyList<ZooLayer> layers, TransformerSpec spec, string directory, ulong seed) =>
        DlmcResNetMapping.ApplyNames(layers, MatrixNames(spec), directory, seed);
}
