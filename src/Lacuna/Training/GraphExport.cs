using Lacuna.Graph;

namespace Lacuna.Training;

/// <summary>
/// Collects the inference graph of a trained network: nodes named after their layers, initializers named
/// <c>{layer}.weight</c> etc. (copies, so further training does not change an exported graph).
/// </summary>
public sealed class GraphExport
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public GraphExport(string name, int channels, int height, int width, string input = "input")
    {
        Graph = new ModelGraph { Name = name, Opset = 13 };
        Graph.Inputs.Add(new GraphValue(input, [GraphValue.Symbolic, channels, height, width], "N"));
        _names.Add(input);
        Input = input;
    }

    public ModelGraph Graph { get; }
    public string Input { get; }

    /// <summary>A value name not used yet, <paramref name="preferred"/> when free.</summary>
    public string Unique(string preferred)
    {
        string name = preferred;
        for (int i = 1; !_names.Add(name); i++) name = $"{preferred}_{i}";
        return name;
    }

    public string Initializer(string name, int[] dims, ReadOnlySpan<float> values)
    {
        name = Unique(name);
        Graph.AddInitializer(new GraphTensor(name, dims, values.ToArray()));
        return name;
    }

    public string Node(string opType, string name, string[] inputs, params GraphAttribute[] attributes)
    {
        string output = Unique(name);
        Graph.Nodes.Add(new GraphNode(output, opType, inputs, [output], attributes));
        return output;
    }

    /// <summary>Declares <paramref name="value"/> as the graph output [N, features].</summary>
    public ModelGraph Finish(string value, int features)
    {
        Graph.Outputs.Add(new GraphValue(value, [GraphValue.Symbolic, features], "N"));
        return Graph;
    }
}
