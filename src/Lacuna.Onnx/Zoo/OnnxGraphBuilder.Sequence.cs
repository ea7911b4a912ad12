namespace Lacuna.Onnx.Zoo;

/// <summary>1-D (sequence) layers: inputs [N, channels, length] and Conv over the length axis (Jasper's layers).</summary>
public sealed partial class OnnxGraphBuilder
{
    /// <summary>Declares the graph input [N, channels, length] (features × frames) with a symbolic batch dim.</summary>
    public string Input1d(string name, int channels, int length)
    {
        _graph.Input.Add(ValueInfoProto.Tensor(name, TensorDataType.Float, BatchDim, channels, length));
        _shapes[name] = [channels, length];
        return name;
    }

    /// <summary>
    /// 1-D Conv over [C, L] with "same"-style symmetric padding pad, stride and dilation; He-normal weight
    /// [outChannels, C/group, kernel], optional bias. Counted as a conv layer of output 1 × L'.
    /// </summary>
    public string Conv1d(string x, string name, int outChannels, int kernel, int stride = 1, int pad = 0, int dilation = 1, int group = 1, bool bias = false)
    {
        var s = ShapeOf(x);
        if (s.Length != 2) throw new ArgumentException($"conv1d '{name}': input '{x}' is not [C, L] (shape [{string.Join(",", s)}]).");
        int c = s[0];
        if (c % group != 0 || outChannels % group != 0)
            throw new ArgumentException($"conv1d '{name}': channels {c} → {outChannels} not divisible by group {group}.");
        int span = (kernel - 1) * dilation + 1;
        int ol = OutSize(name, s[1], span, stride, pad, false);
        long[] dims = [outChannels, c / group, kernel];
        var layer = AddLayer(name, ZooLayerKind.Conv, dims, group, 1, ol);
        var inputs = new List<string> { x, layer.WeightName };
        if (bias) inputs.Add(AddVector(name + ".bias", outChannels, -0.01f, 0.01f));
        _graph.Node.Add(new NodeProto("Conv", name, [.. inputs], [name],
            AttributeProto.IntList("kernel_shape", kernel),
            AttributeProto.IntList("strides", stride),
            AttributeProto.IntList("pads", pad, pad),
            AttributeProto.IntList("dilations", dilation),
            AttributeProto.Int("group", group)));
        _shapes[name] = [outChannels, ol];
        return name;
    }
}
