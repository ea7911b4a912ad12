using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Lacuna.Server;

/// <summary>
/// Writes the protocol's inference response: JSON outputs (<c>data</c> row-major), or, for outputs asked as binary,
/// <c>parameters.binary_data_size</c> in the JSON header and the little-endian bytes after it, the header's length in
/// <c>Inference-Header-Content-Length</c>.
/// </summary>
public static class InferResponseWriter
{
    public const string HeaderLengthName = "Inference-Header-Content-Length";

    // Error messages quote names ('x'); the default encoder would write them as \u0027. Responses are never HTML.
    private static readonly JsonWriterOptions s_options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpResponse response, ServedModel model, InferRequest request, BatchResult result)
    {
        var json = new ArrayBufferWriter<byte>(4096);
        bool anyBinary = false;
        using (var w = new Utf8JsonWriter(json, s_options))
        {
            w.WriteStartObject();
            w.WriteString("model_name", model.Name);
            w.WriteString("model_version", model.Version);
            if (request.Id is not null) w.WriteString("id", request.Id);
            w.WriteStartArray("outputs");
            foreach (var (o, binary) in request.Outputs)
            {
                var spec = model.Outputs[o];
                var data = result.Outputs[o];
                w.WriteStartObject();
                w.WriteString("name", spec.Name);
                w.WriteString("datatype", "FP32");
                w.WriteStartArray("shape");
                for (int d = 0; d < spec.Shape.Length; d++) w.WriteNumberValue(d == 0 && model.Batched ? request.Rows : spec.Shape[d]);
                w.WriteEndArray();
                if (binary)
                {
                    anyBinary = true;
                    w.WriteStartObject("parameters");
                    w.WriteNumber("binary_data_size", 4L * data.Length);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteStartArray("data");
                    // JSON has no NaN or infinities; they go as the strings most clients parse back ("NaN", "Infinity").
                    foreach (float v in data)
                        if (float.IsFinite(v)) w.WriteNumberValue(v);
                        else w.WriteStringValue(float.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        response.StatusCode = 200;
        if (!anyBinary)
        {
            response.ContentType = "application/json";
            response.ContentLength = json.WrittenCount;
            await response.Body.WriteAsync(json.WrittenMemory);
            return;
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("binary tensors are written little-endian; this machine is big-endian.");
        long total = json.WrittenCount;
        foreach (var (o, binary) in request.Outputs) if (binary) total += 4L * result.Outputs[o].Length;
        response.ContentType = "application/octet-stream";
        response.Headers[HeaderLengthName] = json.WrittenCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.ContentLength = total;
        response.BodyWriter.Write(json.WrittenSpan);
        foreach (var (o, binary) in request.Outputs)
            if (binary) response.BodyWriter.Write(MemoryMarshal.AsBytes(result.Outputs[o].AsSpan()));
        await response.BodyWriter.FlushAsync();
    }

    /// <summary><c>{"error": message}</c> with <paramref name="status"/>.</summary>
    public static Task WriteErrorAsync(HttpResponse response, int status, string message)
    {
        response.StatusCode = status;
        return WriteJsonAsync(response, w => w.WriteString("error", message), status);
    }

    /// <summary>A JSON object whose members <paramref name="members"/> writes.</summary>
    public static async Task WriteJsonAsync(HttpResponse response, Action<Utf8JsonWriter> members, int status = 200)
    {
        var json = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(json, s_options))
        {
            w.WriteStartObject();
            members(w);
            w.WriteEndObject();
        }
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = json.WrittenCount;
        await response.Body.WriteAsync(json.WrittenMemory);
    }
}
