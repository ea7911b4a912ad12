using System.Text.Json;

namespace Lacuna.Server;

/// <summary>An inference request checked against its model: the inputs in model order, the rows, what to answer.</summary>
public sealed record InferRequest(string? Id, BatchWork Work, IReadOnlyList<(int Output, bool Binary)> Outputs)
{
    public int Rows => Work.Rows;
}

/// <summary>
/// Reads the protocol's inference request: a JSON header (the whole body, or its first
/// <c>Inference-Header-Content-Length</c> bytes under the binary-tensor extension, the tensors' bytes following in input
/// order) and checks every input's name, datatype, shape and element count against the model. Anything wrong is a 400
/// naming the input and what was expected.
/// </summary>
public static class InferRequestReader
{
    public static InferRequest Read(ReadOnlyMemory<byte> body, int? headerLength, ServedModel model)
    {
        if (headerLength is int h && (h < 0 || h > body.Length))
            throw ProtocolException.BadRequest($"Inference-Header-Content-Length is {h} but the body has {body.Length} bytes.");
        int jsonLength = headerLength ?? body.Length;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body[..jsonLength]); }
        catch (JsonException e) { throw ProtocolException.BadRequest($"malformed JSON in the request: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ProtocolException.BadRequest("the request must be a JSON object with \"inputs\".");
            string? id = root.TryGetProperty("id", out var idElement)
                ? idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : throw ProtocolException.BadRequest("\"id\" must be a string.")
                : null;
            if (!root.TryGetProperty("inputs", out var inputsElement) || inputsElement.ValueKind != JsonValueKind.Array)
                throw ProtocolException.BadRequest("the request has no \"inputs\" array.");

            bool allBinary = root.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object
                && p.TryGetProperty("binary_data_output", out var b) && b.ValueKind == JsonValueKind.True;
            var outputs = ReadOutputs(root, model, allBinary); // cheap checks first
            var inputs = new float[model.Inputs.Count][];
            var lengths = new int[inputs.Length];
            var pending = new BatchWork(inputs, lengths, 0); // returns what was rented if a check below fails
            try
            {
                int? rows = null;
                int binaryAt = jsonLength;
                foreach (var e in inputsElement.EnumerateArray())
                {
                    var (index, inputRows, count) = ReadInput(e, model, body.Span, headerLength is not null, ref binaryAt, inputs);
                    lengths[index] = count;
                    if (rows is int r && r != inputRows)
                        throw ProtocolException.BadRequest($"input '{model.Inputs[index].Name}' has batch {inputRows} but another input has batch {r}; all inputs must agree.");
                    rows = inputRows;
                }
                for (int k = 0; k < inputs.Length; k++)
                    if (inputs[k] is null)
                        throw ProtocolException.BadRequest($"input '{model.Inputs[k].Name}' (FP32 {model.Inputs[k].ShapeText}) is missing.");
                if (binaryAt != body.Length)
                    throw ProtocolException.BadRequest($"the body has {body.Length - binaryAt} bytes after the tensors its binary_data_size values account for.");
                return new InferRequest(id, new BatchWork(inputs, lengths, rows ?? 1), outputs);
            }
            catch
            {
                pending.Release();
                throw;
            }
        }
    }

    /// <summary>Reads one input into <paramref name="inputs"/>[its index] (rented); returns the index, its rows and element count.</summary>
    private static (int Index, int Rows, int Count) ReadInput(JsonElement e, ServedModel model, ReadOnlySpan<byte> body, bool binaryBody, ref int binaryAt, float[][] inputs)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            throw ProtocolException.BadRequest("every entry of \"inputs\" needs a \"name\" string.");
        string name = nameElement.GetString()!;
        int index = -1;
        for (int k = 0; k < model.Inputs.Count; k++) if (model.Inputs[k].Name == name) index = k;
        if (index < 0)
            throw ProtocolException.BadRequest($"'{name}' is not an input of model '{model.Name}'; its inputs: {string.Join(", ", model.Inputs.Select(i => $"'{i.Name}' FP32 {i.ShapeText}"))}.");
        var spec = model.Inputs[index];
        if (inputs[index] is not null) throw ProtocolException.BadRequest($"input '{name}' is given twice.");

        if (!e.TryGetProperty("datatype", out var dtElement) || dtElement.ValueKind != JsonValueKind.String)
            throw ProtocolException.BadRequest($"input '{name}' has no \"datatype\" (the model takes FP32; also accepted: {string.Join(", ", WireDatatype.Supported)}).");
        string datatype = dtElement.GetString()!;
        int elementBytes = WireDatatype.ElementBytes(datatype);
        if (elementBytes == 0)
            throw ProtocolException.BadRequest($"input '{name}' has datatype '{datatype}'; the model takes FP32 and this server converts from {string.Join(", ", WireDatatype.Supported)}.");

        int[] shape = ReadShape(e, name, spec);
        int rows = model.Batched ? shape[0] : 1;
        if (model.Batched && (rows < 1 || rows > model.Config.MaxBatchSize))
            throw ProtocolException.BadRequest($"input '{name}' has batch {rows}; model '{model.Name}' takes 1 to {model.Config.MaxBatchSize} rows per request.");
        int count = 1;
        foreach (int d in shape) count *= d; // bounded: the shape matched the model's and the batch its maximum
        var data = inputs[index] = System.Buffers.ArrayPool<float>.Shared.Rent(count);

        long binarySize = -1;
        if (e.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
            && parameters.TryGetProperty("binary_data_size", out var sizeElement))
        {
            if (!sizeElement.TryGetInt64(out binarySize) || binarySize < 0)
                throw ProtocolException.BadRequest($"input '{name}': binary_data_size must be a non-negative integer.");
        }
        if (binarySize >= 0)
        {
            if (!binaryBody)
                throw ProtocolException.BadRequest($"input '{name}' has binary_data_size but the request has no Inference-Header-Content-Length header.");
            if (binarySize != count * elementBytes)
                throw ProtocolException.BadRequest($"input '{name}': binary_data_size is {binarySize} bytes but {datatype} [{string.Join(", ", shape)}] needs {count * elementBytes}.");
            if (binarySize > body.Length - binaryAt)
                throw ProtocolException.BadRequest($"input '{name}': binary_data_size is {binarySize} bytes but only {body.Length - binaryAt} remain in the body.");
            WireDatatype.FromBinary(name, datatype, body.Slice(binaryAt, (int)binarySize), data.AsSpan(0, count));
            binaryAt += (int)binarySize;
            return (index, rows, count);
        }

        if (datatype is "FP16" or "BF16")
            throw ProtocolException.BadRequest($"input '{name}': {datatype} data must be sent as binary (binary_data_size and the tensor extension); JSON carries FP32, INT64, INT32 and BOOL.");
        if (!e.TryGetProperty("data", out var dataElement) || dataElement.ValueKind != JsonValueKind.Array)
            throw ProtocolException.BadRequest($"input '{name}' has neither a \"data\" array nor binary_data_size.");
        int n = 0;
        Flatten(dataElement, name, datatype, data, ref n, count);
        if (n != count)
            throw ProtocolException.BadRequest($"input '{name}' has {n} elements in \"data\" but shape [{string.Join(", ", shape)}] needs {count}.");
        return (index, rows, count);
    }

    private static int[] ReadShape(JsonElement e, string name, TensorSpec spec)
    {
        if (!e.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw ProtocolException.BadRequest($"input '{name}' has no \"shape\" array; the model expects {spec.ShapeText}.");
        var shape = new int[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (!d.TryGetInt32(out shape[i]) || shape[i] < 0)
                throw ProtocolException.BadRequest($"input '{name}': shape entries must be non-negative integers (got {d.GetRawText()}).");
            i++;
        }
        bool ok = shape.Length == spec.Shape.Length;
        for (int d = 0; ok && d < shape.Length; d++) ok = spec.Shape[d] == -1 || spec.Shape[d] == shape[d];
        if (!ok)
            throw ProtocolException.BadRequest($"input '{name}' has shape [{string.Join(", ", shape)}] but the model expects {spec.ShapeText} (-1: any batch).");
        return shape;
    }

    /// <summary>Row-major data, flat or nested as the shape (both are allowed by the protocol).</summary>
    private static void Flatten(JsonElement array, string name, string datatype, float[] data, ref int n, int count)
    {
        foreach (var v in array.EnumerateArray())
        {
            if (v.ValueKind == JsonValueKind.Array) { Flatten(v, name, datatype, data, ref n, count); continue; }
            if (n >= count)
                throw ProtocolException.BadRequest($"input '{name}' has more elements in \"data\" than its shape's {count}.");
            data[n] = WireDatatype.FromJson(name, datatype, n, v);
            n++;
        }
    }

    private static List<(int, bool)> ReadOutputs(JsonElement root, ServedModel model, bool allBinary)
    {
        var outputs = new List<(int, bool)>();
        if (!root.TryGetProperty("outputs", out var outputsElement))
        {
            for (int o = 0; o < model.Outputs.Count; o++) outputs.Add((o, allBinary));
            return outputs;
        }
        if (outputsElement.ValueKind != JsonValueKind.Array) throw ProtocolException.BadRequest("\"outputs\" must be an array.");
        foreach (var e in outputsElement.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
                throw ProtocolException.BadRequest("every entry of \"outputs\" needs a \"name\" string.");
            string name = nameElement.GetString()!;
            int index = -1;
            for (int o = 0; o < model.Outputs.Count; o++) if (model.Outputs[o].Name == name) index = o;
            if (index < 0)
                throw ProtocolException.BadRequest($"requested output '{name}' is not an output of model '{model.Name}'; its outputs: {string.Join(", ", model.Outputs.Select(o => $"'{o.Name}'"))}.");
            bool binary = allBinary;
            if (e.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("binary_data", out var b))
                binary = b.ValueKind == JsonValueKind.True;
            outputs.Add((index, binary));
        }
        return outputs;
    }
}
