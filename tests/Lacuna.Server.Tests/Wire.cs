using System.Buffers.Binary;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lacuna.Tensors;

namespace Lacuna.Server.Tests;

/// <summary>Builds protocol requests and reads responses the way a KServe or Triton client does.</summary>
public static class Wire
{
    public const int Pixels = 3 * 32 * 32;

    public static float[] RandomImages(ulong seed, int rows)
    {
        using var t = Tensor.Random(seed, [rows, 3, 32, 32]);
        return t.ToArray();
    }

    public static JsonObject JsonRequest(float[] data, int rows, string? id = null)
    {
        var request = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "input", ["datatype"] = "FP32", ["shape"] = new JsonArray(rows, 3, 32, 32),
                ["data"] = new JsonArray(data.Select(v => (JsonNode)v).ToArray()),
            }),
        };
        if (id is not null) request["id"] = id;
        return request;
    }

    public static StringContent Json(JsonNode request) => new(request.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>A binary-tensor request: the JSON header, then <paramref name="bytes"/>.</summary>
    public static ByteArrayContent Binary(JsonNode header, byte[] bytes)
    {
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var content = new ByteArrayContent([.. json, .. bytes]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", json.Length.ToString(CultureInfo.InvariantCulture));
        return content;
    }

    public static JsonObject BinaryInputHeader(string datatype, int rows, int bytes, bool binaryOutput) => new()
    {
        ["inputs"] = new JsonArray(new JsonObject
        {
            ["name"] = "input", ["datatype"] = datatype, ["shape"] = new JsonArray(rows, 3, 32, 32),
            ["parameters"] = new JsonObject { ["binary_data_size"] = bytes },
        }),
        ["parameters"] = new JsonObject { ["binary_data_output"] = binaryOutput },
    };

    public static byte[] Fp32Bytes(float[] data)
    {
        var b = new byte[4 * data.Length];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), data[i]);
        return b;
    }

    /// <summary>The response's JSON, and the first output's values whether they came as JSON or binary.</summary>
    public static async Task<(JsonObject Json, float[] Logits)> ReadInfer(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        int headerLength = response.Headers.TryGetValues("Inference-Header-Content-Length", out var h) ? int.Parse(h.Single(), CultureInfo.InvariantCulture) : body.Length;
        var json = JsonNode.Parse(body.AsSpan(0, headerLength))!.AsObject();
        var output = json["outputs"]![0]!;
        if (output["data"] is JsonArray data) return (json, data.Select(v => v!.GetValue<float>()).ToArray());
        int size = output["parameters"]!["binary_data_size"]!.GetValue<int>();
        Assert.Equal(body.Length, headerLength + size);
        var values = new float[size / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(body.AsSpan(headerLength + 4 * i));
        return (json, values);
    }

    /// <summary>
    /// Equal within 1e-5 of the largest magnitude: a batch differs from a lone run only in the planned batch size that
    /// ran, and the sparse planner may pick another kernel (another summation order) for another size.
    /// </summary>
    public static void Close(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"{what} element {i}: {actual[i]}, expected {expected[i]}");
    }

    public static async Task<(int Status, string Error)> ReadError(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        return ((int)response.StatusCode, doc.RootElement.GetProperty("error").GetString()!);
    }
}
