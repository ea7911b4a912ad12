using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Tensors;

namespace Lacuna.Onnx.Import;

/// <summary>The outcome of running ONNX backend test cases.</summary>
public sealed record ConformanceResult(int Passed, int Failed, int Unsupported, IReadOnlyList<string> Failures, IReadOnlyList<string> UnsupportedCases)
{
    /// <summary>Every case run, in name order, with its outcome and message ("" when passed).</summary>
    public IReadOnlyList<(string Case, ConformanceRunner.Outcome Outcome, string Message)> Cases { get; init; } = [];
}

/// <summary>One operator's share of a conformance run: the cases it owns (<see cref="OpDef.OwnsCase"/>) by outcome.</summary>
public sealed record OperatorConformance(string Operator, int Passed, int Failed, int Unsupported);

/// <summary>
/// Runs ONNX backend test cases (<c>&lt;case&gt;/model.onnx</c> + <c>test_data_set_*/input_k.pb, output_k.pb</c>)
/// through <see cref="InferenceSession"/> and compares like ONNX's backend runner: |actual − expected| ≤ atol + rtol·|expected|
/// with rtol 1e-3, atol 1e-7, NaN matching NaN. Non-float inputs (shapes, pads, axes) are bound as constants of the
/// case, as a model exporter would have stored them; double and float16 data are read as float (the engine's one
/// float type: a Cast to or from them is exact up to float rounding, within the tolerance). Unsupported operators or data types are counted, never thrown.
/// </summary>
public static class ConformanceRunner
{
    public const double RelativeTolerance = 1e-3, AbsoluteTolerance = 1e-7;

    public static ConformanceResult RunAll(string root)
    {
        int passed = 0, failed = 0, unsupported = 0;
        var failures = new List<string>();
        var skipped = new List<string>();
        var cases = new List<(string, Outcome, string)>();
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(Path.Combine(dir, "model.onnx"))) continue;
            string name = Path.GetFileName(dir);
            var (outcome, message) = RunCase(dir);
            cases.Add((name, outcome, message));
            switch (outcome)
            {
                case Outcome.Passed: passed++; break;
                case Outcome.Unsupported: unsupported++; skipped.Add($"{name}: {message}"); break;
                default: failed++; failures.Add($"{name}: {message}"); break;
            }
        }
        return new ConformanceResult(passed, failed, unsupported, failures, skipped) { Cases = cases };
    }

    /// <summary>
    /// Outcomes per registered operator (every one listed, in registry order, even with no cases), then "(other)" for
    /// cases no registered operator owns (operators the engine does not implement).
    /// </summary>
    public static IReadOnlyList<OperatorConformance> ByOperator(ConformanceResult r)
    {
        var names = OpRegistry.All.Where(d => !d.Traits.HasFlag(OpTraits.Internal)).Select(d => d.Name).Distinct().ToList();
        var counts = names.Append("(other)").ToDictionary(n => n, _ => new int[3]);
        foreach (var (name, outcome, _) in r.Cases)
        {
            var owners = OpRegistry.All.Where(d => d.OwnsCase(name)).Select(d => d.Name).Distinct().DefaultIfEmpty("(other)");
            foreach (var o in owners) counts[o][(int)outcome]++;
        }
        return counts.Select(kv => new OperatorConformance(kv.Key, kv.Value[(int)Outcome.Passed], kv.Value[(int)Outcome.Failed], kv.Value[(int)Outcome.Unsupported])).ToList();
    }

    public enum Outcome { Passed, Failed, Unsupported }

    public static (Outcome, string) RunCase(string dir)
    {
        try
        {
            var sets = Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal).ToArray();
            if (sets.Length == 0) return (Outcome.Unsupported, "no test_data_set folders");
            foreach (var set in sets)
            {
                string? problem = RunDataSet(dir, set);
                if (problem is not null) return (Outcome.Failed, $"{Path.GetFileName(set)}: {problem}");
            }
            return (Outcome.Passed, "");
        }
        catch (NotSupportedException e) { return (Outcome.Unsupported, e.Message); }
        catch (Exception e) { return (Outcome.Failed, $"{e.GetType().Name}: {e.Message}"); }
    }

    private static string? RunDataSet(string dir, string set)
    {
        var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
        var proto = model.Graph;
        var initialized = proto.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = proto.Input.Where(v => !initialized.Contains(v.Name)).ToList();
        if (proto.Input.Concat(proto.Output).FirstOrDefault(v => v.Type is { TensorType: null }) is { } nonTensor)
            throw new NotSupportedException($"'{nonTensor.Name}' is not a tensor (sequence, map or optional type).");
        var feeds = new Dictionary<string, Tensor>();
        // Inputs at positions an operator needs constant (Resize's scales): exporters store those as initializers.
        var constantPositions = proto.Node.SelectMany(n => Lacuna.Graph.Ops.OpRegistry.Named(n.OpType).SelectMany(d => d.ConstantInputs)
            .Where(i => i < n.Input.Count).Select(i => n.Input[i])).ToHashSet();
        for (int k = 0; k < inputs.Count; k++)
        {
            string file = Path.Combine(set, $"input_{k}.pb");
            if (!File.Exists(file)) continue; // an omitted optional input
            var t = OnnxSerializer.LoadTensor(file);
            var type = inputs[k].Type?.TensorType?.ElemType ?? t.DataType;
            t = AsDeclared(t, type);
            if (type != t.DataType) throw new NotSupportedException($"input {k} is declared {type} but stored as {t.DataType}.");
            if (type is TensorDataType.Double or TensorDataType.Float16 or TensorDataType.BFloat16)
            {
                t = TensorProto.FromFloats(inputs[k].Name, t.Dims.ToArray(), t.ToFloatArray()); // the engine's one float type
                if (inputs[k].Type?.TensorType is { } declared) declared.ElemType = TensorDataType.Float;
            }
            else if (type != TensorDataType.Float || constantPositions.Contains(inputs[k].Name))
            {
                t.Name = inputs[k].Name;
                proto.Initializer.Add(t);
                continue;
            }
            if (t.DataType != TensorDataType.Float) throw new NotSupportedException($"input {k} has data type {t.DataType}.");
            feeds[inputs[k].Name] = Tensor.FromArray(t.ToFloatArray(), t.Dims.Select(d => (int)d).ToArray());
        }
        var graph = OnnxGraphImporter.ToGraph(model);
        // The case's data decides the shapes (some models declare none).
        for (int i = 0; i < graph.Inputs.Count; i++)
            if (feeds.TryGetValue(graph.Inputs[i].Name, out var fed))
                graph.Inputs[i] = graph.Inputs[i] with { Shape = fed.Shape.AsSpan().ToArray(), BatchParam = null };
        graph.Inputs.RemoveAll(v => !feeds.ContainsKey(v.Name) && !graph.Initializers.ContainsKey(v.Name) && graph.Nodes.All(n => !n.Inputs.Contains(v.Name)));
        var session = InferenceSession.Create(graph);
        var outputs = session.Run(feeds);
        for (int k = 0; k < proto.Output.Count; k++)
        {
            var expected = OnnxSerializer.LoadTensor(Path.Combine(set, $"output_{k}.pb"));
            if (proto.Output[k].Type?.TensorType?.ElemType is { } declared) expected = AsDeclared(expected, declared);
            if (expected.DataType is not (TensorDataType.Float or TensorDataType.Double or TensorDataType.Float16 or TensorDataType.BFloat16) && !IntegerTypes.IsInteger((long)expected.DataType))
                throw new NotSupportedException($"output {k} has data type {expected.DataType}.");
            if (proto.Output[k].Type?.TensorType?.ElemType is { } declaredOut && declaredOut != TensorDataType.Undefined && declaredOut != expected.DataType)
                throw new NotSupportedException($"output {k} is declared {declaredOut} but stored as {expected.DataType}.");
            var actual = outputs[proto.Output[k].Name];
            int[] shape = expected.Dims.Select(d => (int)d).ToArray();
            if (!actual.Shape.AsSpan().SequenceEqual(shape))
                return $"output {k} shape {actual.Shape} != expected [{string.Join(", ", shape)}]";
            if (Compare(actual.Span, expected.ToFloatArray()) is string diff) return $"output {k}: {diff}";
        }
        return null;
    }

    /// <summary>
    /// The ONNX test data stores BFLOAT16 values as their UINT16 bits (read as integers they would be wrong numbers):
    /// such a tensor declared BFLOAT16 by the model is relabelled, so its bits decode as bf16. Any other tensor as loaded.
    /// </summary>
    private static TensorProto AsDeclared(TensorProto t, TensorDataType declared)
    {
        if (declared == TensorDataType.BFloat16 && t.DataType == TensorDataType.UInt16) t.DataType = TensorDataType.BFloat16;
        return t;
    }

    /// <summary>Null when every element is within tolerance, else the first offending element.</summary>
    public static string? Compare(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length) return $"{actual.Length} elements, expected {expected.Length}";
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (double.IsNaN(e) ? double.IsNaN(a) : Math.Abs(a - e) <= AbsoluteTolerance + RelativeTolerance * Math.Abs(e) || a == e) continue;
            return $"element {i}: {a} vs expected {e}";
        }
        return null;
    }
}
