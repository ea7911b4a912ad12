using Lacuna.Graph;
using Lacuna.Tensors;

namespace Lacuna.Cli.Commands;

/// <summary>Inputs for a whole model run by <c>bench model</c> and <c>demo</c>: the same values for Lacuna and ONNX Runtime.</summary>
internal static class ModelInputs
{
    /// <summary>
    /// One input per runtime input of the model: the batch first, every other symbolic dimension the sequence length;
    /// floats random, int64 valid ids (below the row count of the embedding table a Gather reads with them; masks all
    /// ones; 0/1 where no table is found). Lacuna gets the ids as exact floats, ONNX Runtime as int64.
    /// </summary>
    public static (Dictionary<string, Tensor> Feeds, Dictionary<string, (Array, long[])> Ort, Dictionary<string, int[]> Shapes, bool IsSequence) Create(
        ModelGraph graph, IReadOnlyList<GraphValue> inputs, int batch, int seqLength, ulong seed)
    {
        var feeds = new Dictionary<string, Tensor>();
        var ort = new Dictionary<string, (Array, long[])>();
        var shapes = new Dictionary<string, int[]>();
        bool isSequence = false;
        var rng = new Random(unchecked((int)seed) + 100);
        foreach (var input in inputs)
        {
            if (input.Shape is not { Length: > 0 } declared)
                throw new ArgumentException($"input '{input.Name}' has no declared shape.");
            if (declared[0] != GraphValue.Symbolic && declared[0] != batch)
                throw new ArgumentException($"input '{input.Name}' {input.ShapeText} has a fixed batch of {declared[0]}; pass --batch {declared[0]}.");
            isSequence |= declared.Skip(1).Any(d => d == GraphValue.Symbolic);
            int[] shape = declared.Select((d, i) => i == 0 ? batch : d == GraphValue.Symbolic ? seqLength : d).ToArray();
            long[] longShape = shape.Select(d => (long)d).ToArray();
            int count = shape.Aggregate(1, (a, d) => a * d);
            shapes[input.Name] = shape;
            if (input.ElementType == GraphElementType.Float)
            {
                var x = Tensor.Random(seed + 100 + (ulong)feeds.Count, shape);
                feeds[input.Name] = x;
                ort[input.Name] = (x.ToArray(), longShape);
                continue;
            }
            if (input.ElementType != GraphElementType.Int64)
                throw new NotSupportedException($"input '{input.Name}' is {input.ElementType}; bench model feeds float and int64 inputs.");
            long limit = input.Name.Contains("mask", StringComparison.OrdinalIgnoreCase) ? 1
                : graph.Nodes.FirstOrDefault(n => n.OpType == "Gather" && n.Inputs.Count > 1 && n.Inputs[1] == input.Name
                    && graph.Initializers.ContainsKey(n.Inputs[0])) is { } gather ? graph.Initializers[gather.Inputs[0]].Dims[0] : 2;
            var ids = new long[count];
            for (int i = 0; i < count; i++) ids[i] = limit == 1 ? 1 : rng.NextInt64(limit);
            feeds[input.Name] = Tensor.FromArray(ids.Select(v => (float)v).ToArray(), shape);
            ort[input.Name] = (ids, longShape);
        }
        return (feeds, ort, shapes, isSequence);
    }

}
