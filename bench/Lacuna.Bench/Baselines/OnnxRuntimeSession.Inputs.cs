using System.Runtime.InteropServices;

namespace Lacuna.Bench.Baselines;

// Models with several inputs of float or int64 type (transformers: input_ids, token_type_ids, attention_mask) and
// several float outputs.
public sealed unsafe partial class OnnxRuntimeSession
{
    /// <summary>
    /// Runs the model with every input named (float[] or long[] data with its shape) and returns every output
    /// (float only) by name.
    /// </summary>
    public IReadOnlyDictionary<string, (float[] Data, long[] Shape)> RunAll(IReadOnlyDictionary<string, (Array Data, long[] Shape)> inputs)
    {
        ObjectDisposedException.ThrowIf(_session == 0, this);
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (string name in InputNames)
            if (!inputs.ContainsKey(name)) throw new ArgumentException($"input '{name}' is not given; the model takes {string.Join(", ", InputNames)}.", nameof(inputs));
        int n = InputNames.Count, m = OutputNames.Count;
        var handles = new GCHandle[n];
        var values = new nint[n];
        var outputs = new nint[m];
        try
        {
            for (int i = 0; i < n; i++)
            {
                var (data, shape) = inputs[InputNames[i]];
                long count = shape.Aggregate(1L, (a, d) => a * d);
                if (count != data.Length) throw new ArgumentException($"input '{InputNames[i]}' has {data.Length} values, shape [{string.Join(", ", shape)}] needs {count}.", nameof(inputs));
                int type = data switch
                {
                    float[] => 1,
                    long[] => 7,
                    _ => throw new ArgumentException($"input '{InputNames[i]}': only float[] and long[] are fed, got {data.GetType().Name}.", nameof(inputs)),
                };
                handles[i] = GCHandle.Alloc(data, GCHandleType.Pinned);
                values[i] = _api.CreateTensor(_memoryInfo, (void*)handles[i].AddrOfPinnedObject(), count * (type == 1 ? 4 : 8), shape, type);
            }
            fixed (nint* inNames = _inputNames, outNames = _outputNames, pin = values, pout = outputs)
                _api.Run(_session, inNames, pin, n, outNames, m, pout);
            var result = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
            for (int o = 0; o < m; o++)
            {
                var (type, dims) = _api.TensorShape(outputs[o]);
                if (type != 1) throw new NotSupportedException($"output '{OutputNames[o]}' has ONNX element type {type}; only float (1) is read.");
                long count = dims.Aggregate(1L, (a, d) => a * d);
                var data = new float[count];
                new ReadOnlySpan<float>(_api.TensorData(outputs[o]), (int)count).CopyTo(data);
                result[OutputNames[o]] = (data, dims);
            }
            return result;
        }
        finally
        {
            foreach (nint v in outputs) if (v != 0) _api.ReleaseValue(v);
            foreach (nint v in values) if (v != 0) _api.ReleaseValue(v);
            foreach (var h in handles) if (h.IsAllocated) h.Free();
        }
    }
}
