namespace Lacuna.Graph;

/// <summary>A model uses an operator, attribute or data type the engine does not implement; names the node.</summary>
public sealed class UnsupportedOperatorException : NotSupportedException
{
    public UnsupportedOperatorException(string node, string opType, long opset, string message)
        : base($"{opType} node '{node}' (opset {opset}): {message}")
    {
        NodeName = node;
        OpType = opType;
        Opset = opset;
    }

    public string NodeName { get; }
    public string OpType { get; }
    public long Opset { get; }

    public static UnsupportedOperatorException For(GraphNode node, string message) => new(node.Name, node.OpType, node.Opset, message);
}
