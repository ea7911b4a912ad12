using Lacuna.Graph;
using Lacuna.Graph.Ops;

namespace Lacuna.Onnx.Import;

/// <summary>
/// Converts an <see cref="OnnxModel"/> into the engine's <see cref="ModelGraph"/>. Only float activations are
/// activations are computed; int64/bool inputs (token ids, masks) and constants are accepted (see <see cref="GraphValue"/>);
/// any input dimension may be symbolic.
/// An operator, attribute or data type the engine does not implement fails here, naming the node, op and opset.
/// </summary>
public static class OnnxGraphImporter
{
    public static ModelGraph ToGraph(OnnxModel model) => ToGraph(model, null);

    /// <summary>
    /// Every problem that would stop the model from running, not just the first: each unsupported operator, opset,
    /// attribute or shape, per node, found by importing with <paramref name="model"/>'s nodes kept and folding the
    /// graph while recording errors (`lacuna inspect` prints them all). Nodes that read a failed node's output are
    /// not checked further. Empty when the model is supported.
    /// </summary>
    public static IReadOnlyList<Exception> Validate(OnnxModel model)
    {
        var problems = new List<Exception>();
        var g = ToGraph(model, problems);
        try { ConstantFolder.Fold(g, problems); }
        catch (Exception e) when (e is NotSupportedException or FormatException or ArgumentException) { problems.Add(e); }
        return problems;
    }

    /// <summary>With <paramref name="problems"/> set, an unsupported node is recorded there and kept instead of thrown.</summary>
    private static ModelGraph ToGraph(OnnxModel model, List<Exception>? problems)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        var proto = model.Graph;
        long opset = model.Proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        var g = new ModelGraph { Name = proto.Name, Opset = opset };
        foreach (var m in model.Proto.MetadataProps) g.Metadata[m.Key] = m.Value;
        foreach (var t in proto.Initializer) g.AddInitializer(ToTensor(t, model.BaseDirectory));
        foreach (var v in proto.Input)
            if (!g.Initializers.ContainsKey(v.Name)) g.Inputs.Add(ToValue(v, isInput: true));
        foreach (var v in proto.Output) g.Outputs.Add(ToValue(v, isInput: false));
        int index = 0;
        foreach (var n in proto.Node)
        {
            string name = n.Name.Length > 0 ? n.Name : $"{n.OpType}_{index}";
            index++;
            void Fail(string message)
            {
                var e = new UnsupportedOperatorException(name, n.OpType, opset, message);
                if (problems is null) throw e;
                problems.Add(e);
            }
            int before = problems?.Count ?? 0;
            if (n.Domain is not ("" or "ai.onnx")) Fail($"domain '{n.Domain}' is not supported.");
            var known = OpRegistry.AttributesOf(n.OpType);
            if (known is null && (problems?.Count ?? 0) == before) Fail("operator is not supported.");
            var attributes = new List<GraphAttribute>();
            foreach (var a in n.Attribute)
            {
                if (known is not null && !known.Contains(a.Name))
                    Fail($"attribute '{a.Name}' is not supported (Lacuna reads {(known.Count == 0 ? "none" : string.Join(", ", known.Order()))}).");
                try { attributes.Add(ToAttribute(a, name, n.OpType, opset, model.BaseDirectory)); }
                catch (UnsupportedOperatorException e) when (problems is not null) { problems.Add(e); }
            }
            g.Nodes.Add(new GraphNode(name, n.OpType, n.Input, n.Output, attributes, opset));
        }
        return g;
    }

    public static ModelGraph Load(string path) => ToGraph(OnnxModel.Load(path));

    /// <summary>Above this many bytes of weights, <see cref="LoadSession"/> collects the load's garbage at once.</summary>
    private const long CollectAboveBytes = 16 << 20;

    /// <summary>
    /// A model file straight into an inference session, with the load's intermediate copies released before planning
    /// starts: the file's bytes, its parsed protobuf and the imported graph (the session optimizes a copy of its own)
    /// are large arrays, which .NET keeps on the large-object heap until a full collection. Left to the GC's own pace
    /// they stayed resident through planning (ResNet-50 at DLMC 0.9, a 102 MB file: peak 600-670 MB, 430 MB with
    /// this one collection; ONNX Runtime's peak on the same file 438 MB).
    /// </summary>
    // Aggressive also returns the freed pages to the OS, which is what resident memory measures.
    private static void CollectAll() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    public static InferenceSession LoadSession(string path, PassOptions? options = null)
    {
        var graph = Load(path);
        long bytes = 0;
        foreach (var t in graph.Initializers.Values) bytes += 4L * t.Length;
        bool large = bytes > CollectAboveBytes;
        if (large) CollectAll(); // the file's bytes and protobuf, before the session clones the graph
        var session = InferenceSession.Create(graph, options);
        graph = null;
        if (large) CollectAll(); // the imported graph and the dense copies of the weights the session keeps compact
        return session;
    }

    /// <summary>
    /// FLOAT stays float; the integer types (INT8-INT64, UINT8-UINT64) and BOOL become int64 values tagged with their
    /// <see cref="IntegerType"/> (UINT64 above 2^63 is refused by the reader); other data types are not supported.
    /// </summary>
    public static GraphTensor ToTensor(TensorProto t, string? directory)
    {
        int[] dims = t.Dims.Select(d => checked((int)d)).ToArray();
        return t.DataType switch
        {
            TensorDataType.Float => new GraphTensor(t.Name, dims, t.ToFloatArray(directory)),
            var type when IntegerTypes.IsInteger((long)type) => new GraphTensor(t.Name, dims, t.ToInt64Array(directory), (IntegerType)type),
            _ => throw new NotSupportedException($"tensor '{t.Name}': data type {t.DataType} is not supported (FLOAT, the integer types INT8-INT64 and UINT8-UINT64, and BOOL only)."),
        };
    }

    private static GraphValue ToValue(ValueInfoProto v, bool isInput)
    {
        var tt = v.Type?.TensorType;
        var type = GraphElementType.Float;
        if (isInput && tt is not null)
            type = tt.ElemType switch
            {
                TensorDataType.Float => GraphElementType.Float,
                TensorDataType.Int64 or TensorDataType.Int32 => GraphElementType.Int64,
                TensorDataType.Bool => GraphElementType.Bool,
                _ => throw new NotSupportedException($"graph input '{v.Name}': data type {tt.ElemType} is not supported (FLOAT, INT64/INT32 and BOOL only; narrower integer types only as constants)."),
            };
        if (tt?.Shape is null) return new GraphValue(v.Name, null) { ElementType = type };
        var dims = new int[tt.Shape.Dims.Count];
        var names = new string?[dims.Length];
        for (int d = 0; d < dims.Length; d++)
        {
            var dim = tt.Shape.Dims[d];
            if (dim.Value is long value) { dims[d] = checked((int)value); continue; }
            if (!isInput) return new GraphValue(v.Name, null); // output shapes are inferred, not needed
            // Any dimension may be symbolic (batch, sequence length): plans are built per concrete input shapes.
            dims[d] = GraphValue.Symbolic;
            names[d] = dim.Param ?? (d == 0 ? "N" : $"d{d}");
        }
        return new GraphValue(v.Name, dims, names.Length > 0 ? names[0] : null) { ElementType = type, DimParams = names };
    }

    private static GraphAttribute ToAttribute(AttributeProto a, string node, string op, long opset, string? dir) => a.Type switch
    {
        AttributeType.Int => GraphAttribute.Of(a.Name, a.I),
        AttributeType.Float => GraphAttribute.Of(a.Name, a.F),
        AttributeType.String => GraphAttribute.Of(a.Name, a.StringValue),
        AttributeType.Ints => GraphAttribute.Of(a.Name, a.Ints.ToArray()),
        AttributeType.Floats => GraphAttribute.Of(a.Name, a.Floats.ToArray()),
        AttributeType.Strings => GraphAttribute.Of(a.Name, a.Strings.Select(b => System.Text.Encoding.UTF8.GetString(b)).ToArray()),
        AttributeType.Tensor when a.T is not null => GraphAttribute.Of(a.Name, ToTensor(a.T, dir)),
        _ => throw new UnsupportedOperatorException(node, op, opset, $"attribute '{a.Name}' of type {a.Type} is not supported."),
    };
}
