using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;

namespace Lacuna.Server.Tests;

/// <summary>One server for the protocol tests: resnet-mini versions 1 and 2 (batching up to 4), and a dense unbatched copy.</summary>
public sealed class ProtocolServer : IAsyncLifetime
{
    public TestRepository Repository { get; } = new();
    public LacunaServer Server { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public string Version1Path { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Version1Path = Repository.Add("mini", 1, seed: 1, config: """{ "max_batch_size": 4, "preferred_batch_sizes": [4], "max_queue_delay_microseconds": 1000 }""");
        Repository.Add("mini", 2, seed: 2, sparsity: 0.5);
        Repository.Add("minidense", 1, seed: 1, config: """{ "max_batch_size": 1, "plan": "dense" }""");
        Server = await TestServers.StartAsync(Repository.Root, new ServerOptions { MaxRequestBodyBytes = 1 << 20 });
        Client = TestServers.Client(Server);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        Repository.Dispose();
    }
}

[Collection(ServerCollection.Name)]
public sealed class ProtocolTests(ProtocolServer fixture) : IClassFixture<ProtocolServer>
{
    private readonly HttpClient _client = fixture.Client;

    private static async Task<JsonObject> GetJson(HttpClient client, string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task Health_live_and_ready_answer_200_once_models_are_planned()
    {
        Assert.True((await GetJson(_client, "/v2/health/live"))["live"]!.GetValue<bool>());
        Assert.True((await GetJson(_client, "/v2/health/ready"))["ready"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Server_metadata_names_the_server_and_the_binary_extension()
    {
        var meta = await GetJson(_client, "/v2");
        Assert.Equal("lacuna", meta["name"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(meta["version"]!.GetValue<string>()));
        Assert.Contains("binary_tensor_data", meta["extensions"]!.AsArray().Select(e => e!.GetValue<string>()));
    }

    [Fact]
    public async Task Model_metadata_lists_versions_and_tensors_with_minus_one_for_the_batch()
    {
        foreach (var path in new[] { "/v2/models/mini", "/v2/models/mini/versions/1" })
        {
            var meta = await GetJson(_client, path);
            Assert.Equal("mini", meta["name"]!.GetValue<string>());
            Assert.Equal(["1", "2"], meta["versions"]!.AsArray().Select(v => v!.GetValue<string>()));
            var input = meta["inputs"]![0]!;
            Assert.Equal("input", input["name"]!.GetValue<string>());
            Assert.Equal("FP32", input["datatype"]!.GetValue<string>());
            Assert.Equal([-1, 3, 32, 32], input["shape"]!.AsArray().Select(d => d!.GetValue<int>()));
            var output = meta["outputs"]![0]!;
            Assert.Equal("logits", output["name"]!.GetValue<string>());
            Assert.Equal([-1, 10], output["shape"]!.AsArray().Select(d => d!.GetValue<int>()));
        }
    }

    [Fact]
    public async Task Model_ready_reports_the_planned_batch_sizes_and_planning_time()
    {
        var ready = await GetJson(_client, "/v2/models/mini/versions/1/ready");
        Assert.True(ready["ready"]!.GetValue<bool>());
        Assert.Equal([1, 2, 4], ready["planned_batch_sizes"]!.AsArray().Select(b => b!.GetValue<int>()));
        Assert.True(ready["planning_seconds"]!.GetValue<double>() > 0);
        Assert.Equal("sparse", ready["plan"]!.GetValue<string>());
        var runMs = ready["run_ms"]!.AsObject();
        Assert.Equal(["1", "2", "4"], runMs.Select(kv => kv.Key));
        Assert.All(runMs, kv => Assert.True(kv.Value!.GetValue<double>() > 0, $"run_ms[{kv.Key}] = {kv.Value}"));
        var dense = await GetJson(_client, "/v2/models/minidense/ready");
        Assert.Equal("dense", dense["plan"]!.GetValue<string>());
        Assert.Equal([1], dense["planned_batch_sizes"]!.AsArray().Select(b => b!.GetValue<int>()));
    }

    /// <summary>The same images through an in-process session of the same file at the same batch size.</summary>
    private float[] InProcess(float[] images, int rows)
    {
        var session = OnnxGraphImporter.LoadSession(fixture.Version1Path);
        using var x = Tensor.FromArray(images, rows, 3, 32, 32);
        using var y = session.Run(new Dictionary<string, Tensor> { ["input"] = x })["logits"];
        return y.ToArray();
    }

    [Fact]
    public async Task Json_infer_matches_the_in_process_run_and_echoes_the_id()
    {
        var images = Wire.RandomImages(11, 2);
        var (json, logits) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(Wire.JsonRequest(images, 2, id: "req-42"))));
        Assert.Equal("req-42", json["id"]!.GetValue<string>());
        Assert.Equal("mini", json["model_name"]!.GetValue<string>());
        Assert.Equal("1", json["model_version"]!.GetValue<string>());
        Assert.Equal([2, 10], json["outputs"]![0]!["shape"]!.AsArray().Select(d => d!.GetValue<int>()));
        Assert.Equal("FP32", json["outputs"]![0]!["datatype"]!.GetValue<string>());
        Wire.Close(InProcess(images, 2), logits, "logits");
    }

    [Fact]
    public async Task Versions_are_distinct_models_and_the_default_is_the_highest()
    {
        var images = Wire.RandomImages(12, 1);
        var (v1Json, v1) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(Wire.JsonRequest(images, 1))));
        var (v2Json, v2) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/2/infer", Wire.Json(Wire.JsonRequest(images, 1))));
        var (defJson, def) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/infer", Wire.Json(Wire.JsonRequest(images, 1))));
        Assert.Equal("2", defJson["model_version"]!.GetValue<string>());
        Assert.Equal(v2, def);
        Assert.NotEqual(v1, v2);
        Assert.Equal("1", v1Json["model_version"]!.GetValue<string>());
        Assert.Equal("2", v2Json["model_version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Binary_tensors_in_and_out_carry_the_same_values_as_json()
    {
        var images = Wire.RandomImages(13, 3);
        var (_, viaJson) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(Wire.JsonRequest(images, 3))));
        var bytes = Wire.Fp32Bytes(images);
        var binaryOut = await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Binary(Wire.BinaryInputHeader("FP32", 3, bytes.Length, binaryOutput: true), bytes));
        Assert.Equal("application/octet-stream", binaryOut.Content.Headers.ContentType?.MediaType);
        Assert.True(binaryOut.Headers.Contains("Inference-Header-Content-Length"));
        var (outJson, viaBinary) = await Wire.ReadInfer(binaryOut);
        Assert.Equal(120, outJson["outputs"]![0]!["parameters"]!["binary_data_size"]!.GetValue<int>());
        Assert.Null(outJson["outputs"]![0]!["data"]);
        var (_, binaryInJsonOut) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer",
            Wire.Binary(Wire.BinaryInputHeader("FP32", 3, bytes.Length, binaryOutput: false), bytes)));
        // Same rows, same planned batch, same engine: the bytes agree exactly; JSON numbers round-trip floats exactly.
        Assert.Equal(viaJson, viaBinary);
        Assert.Equal(viaJson, binaryInJsonOut);
    }

    [Fact]
    public async Task Requested_outputs_choose_binary_per_output()
    {
        var images = Wire.RandomImages(14, 1);
        var request = Wire.JsonRequest(images, 1);
        request["outputs"] = new JsonArray(new JsonObject { ["name"] = "logits", ["parameters"] = new JsonObject { ["binary_data"] = true } });
        var (json, logits) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(request)));
        Assert.Equal(40, json["outputs"]![0]!["parameters"]!["binary_data_size"]!.GetValue<int>());
        Wire.Close(InProcess(images, 1), logits, "logits");
    }

    [Theory]
    [InlineData("FP16")]
    [InlineData("BF16")]
    public async Task Half_precision_binary_inputs_are_widened_exactly(string datatype)
    {
        // Values exactly representable in both halves (multiples of 1/64 in [-2, 2)), so FP32 carries the same numbers.
        var images = Wire.RandomImages(15, 1).Select(v => MathF.Round(v * 64) / 64).ToArray();
        var bytes = new byte[2 * images.Length];
        for (int i = 0; i < images.Length; i++)
        {
            ushort bits = datatype == "FP16" ? BitConverter.HalfToUInt16Bits((Half)images[i]) : (ushort)(BitConverter.SingleToUInt32Bits(images[i]) >> 16);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), bits);
        }
        var (_, half) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Binary(Wire.BinaryInputHeader(datatype, 1, bytes.Length, false), bytes)));
        var (_, fp32) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(Wire.JsonRequest(images, 1))));
        Assert.Equal(fp32, half);
    }

    [Theory]
    [InlineData("INT64")]
    [InlineData("INT32")]
    [InlineData("BOOL")]
    public async Task Integer_and_bool_json_inputs_are_converted_to_the_models_fp32(string datatype)
    {
        var values = Wire.RandomImages(16, 1).Select(v => datatype == "BOOL" ? (v > 0 ? 1f : 0f) : MathF.Round(v * 1000)).ToArray();
        var request = Wire.JsonRequest(values, 1);
        var input = request["inputs"]![0]!.AsObject();
        input["datatype"] = datatype;
        input["data"] = new JsonArray(values.Select(v => datatype == "BOOL" ? JsonValue.Create(v == 1f) : (JsonNode)JsonValue.Create((long)v)).ToArray());
        var (_, converted) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(request)));
        var (_, fp32) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(Wire.JsonRequest(values, 1))));
        Assert.Equal(fp32, converted);
    }

    [Fact]
    public async Task Nested_data_is_read_row_major()
    {
        var images = Wire.RandomImages(17, 1);
        var request = Wire.JsonRequest(images, 1);
        // [1][3][1024]: nested as the protocol allows, same row-major order.
        var nested = new JsonArray(new JsonArray(Enumerable.Range(0, 3).Select(c => (JsonNode)new JsonArray(images.Skip(c * 1024).Take(1024).Select(v => (JsonNode)v).ToArray())).ToArray()));
        request["inputs"]![0]!["data"] = nested;
        var (_, a) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(request)));
        var (_, b) = await Wire.ReadInfer(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(Wire.JsonRequest(images, 1))));
        Assert.Equal(b, a);
    }

    [Fact]
    public async Task Unknown_model_version_and_route_answer_404_with_an_error()
    {
        var body = Wire.JsonRequest(Wire.RandomImages(1, 1), 1);
        var (status, error) = await Wire.ReadError(await _client.PostAsync("/v2/models/nope/infer", Wire.Json(body)));
        Assert.Equal(404, status);
        Assert.Contains("unknown model 'nope'", error);
        Assert.Contains("mini", error);
        (status, error) = await Wire.ReadError(await _client.GetAsync("/v2/models/mini/versions/7"));
        Assert.Equal(404, status);
        Assert.Contains("no version '7'", error);
        (status, error) = await Wire.ReadError(await _client.GetAsync("/v2/models/nope/ready"));
        Assert.Equal(404, status);
        (status, error) = await Wire.ReadError(await _client.GetAsync("/v3/whatever"));
        Assert.Equal(404, status);
        Assert.Contains("no route", error);
    }

    public static TheoryData<string, string[]> BadJsonRequests => new()
    {
        { """{"inputs":[{"name":"input","datatype":"UINT8","shape":[1,3,32,32],"data":[]}]}""", ["'input'", "UINT8", "FP32"] },
        { """{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,16,16],"data":[]}]}""", ["'input'", "[1, 3, 16, 16]", "[-1, 3, 32, 32]"] },
        { """{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,32,32],"data":[1,2,3]}]}""", ["'input'", "3 elements", "3072"] },
        { """{"inputs":[{"name":"input","datatype":"FP32","shape":[5,3,32,32],"data":[]}]}""", ["'input'", "batch 5", "1 to 4"] },
        { """{"inputs":[{"name":"input","datatype":"INT64","shape":[1,3,32,32],"data":[16777217]}]}""", ["'input'", "16777217", "not exactly representable"] },
        { """{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,32,32],"data":["a"]}]}""", ["'input'", "element 0", "a number"] },
        { """{"inputs":[{"name":"input","datatype":"FP16","shape":[1,3,32,32],"data":[1]}]}""", ["'input'", "FP16", "binary"] },
        { """{"inputs":[{"name":"image","datatype":"FP32","shape":[1,3,32,32],"data":[]}]}""", ["'image'", "'input'", "[-1, 3, 32, 32]"] },
        { """{"inputs":[]}""", ["'input'", "missing"] },
        { """{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,32,32],"data":[]}],"outputs":[{"name":"probs"}]}""", ["'probs'", "'logits'"] },
        { """{"inputs": [""", ["malformed JSON"] },
        { """[1,2]""", ["JSON object"] },
    };

    [Theory]
    [MemberData(nameof(BadJsonRequests))]
    public async Task A_bad_request_answers_400_naming_the_input_and_what_was_expected(string body, string[] mentions)
    {
        var response = await _client.PostAsync("/v2/models/mini/versions/1/infer", new StringContent(body, Encoding.UTF8, "application/json"));
        var (status, error) = await Wire.ReadError(response);
        Assert.Equal(400, status);
        foreach (var m in mentions) Assert.Contains(m, error);
    }

    [Fact]
    public async Task Binary_sizes_that_do_not_add_up_answer_400()
    {
        var bytes = Wire.Fp32Bytes(Wire.RandomImages(2, 1));
        var (status, error) = await Wire.ReadError(await _client.PostAsync("/v2/models/mini/versions/1/infer",
            Wire.Binary(Wire.BinaryInputHeader("FP32", 1, bytes.Length - 4, false), bytes[..^4])));
        Assert.Equal(400, status);
        Assert.Contains("binary_data_size is 12284 bytes but FP32 [1, 3, 32, 32] needs 12288", error);
        (status, error) = await Wire.ReadError(await _client.PostAsync("/v2/models/mini/versions/1/infer",
            Wire.Binary(Wire.BinaryInputHeader("FP32", 1, bytes.Length, false), bytes[..^4])));
        Assert.Equal(400, status);
        Assert.Contains("only 12284 remain", error);
        (status, error) = await Wire.ReadError(await _client.PostAsync("/v2/models/mini/versions/1/infer",
            Wire.Binary(Wire.BinaryInputHeader("FP32", 1, bytes.Length, false), [.. bytes, 0, 0])));
        Assert.Equal(400, status);
        Assert.Contains("2 bytes after the tensors", error);
        var content = new StringContent(Wire.BinaryInputHeader("FP32", 1, bytes.Length, false).ToJsonString(), Encoding.UTF8, "application/json");
        (status, error) = await Wire.ReadError(await _client.PostAsync("/v2/models/mini/versions/1/infer", content));
        Assert.Equal(400, status);
        Assert.Contains("no Inference-Header-Content-Length", error);
    }

    [Fact]
    public async Task A_binary_bool_that_is_not_0_or_1_and_a_repeated_input_answer_400()
    {
        var bytes = new byte[Wire.Pixels];
        bytes[5] = 2;
        var (status, error) = await Wire.ReadError(await _client.PostAsync("/v2/models/mini/versions/1/infer",
            Wire.Binary(Wire.BinaryInputHeader("BOOL", 1, bytes.Length, false), bytes)));
        Assert.Equal(400, status);
        Assert.Contains("input 'input': BOOL element 5 is byte 2; expected 0 or 1", error);
        var request = Wire.JsonRequest(Wire.RandomImages(3, 1), 1);
        request["inputs"]!.AsArray().Add(request["inputs"]![0]!.DeepClone());
        (status, error) = await Wire.ReadError(await _client.PostAsync("/v2/models/mini/versions/1/infer", Wire.Json(request)));
        Assert.Equal(400, status);
        Assert.Contains("input 'input' is given twice", error);
    }

    [Fact]
    public async Task A_body_over_the_limit_answers_413()
    {
        var bytes = new byte[(1 << 20) + 1];
        // Expect: 100-continue, as large uploads send: the server refuses from the length before the body is sent, so the
        // client never writes into a connection the server has closed (a broken pipe instead of the 413).
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/mini/versions/1/infer") { Content = new ByteArrayContent(bytes) };
        request.Headers.ExpectContinue = true;
        var (status, error) = await Wire.ReadError(await _client.SendAsync(request));
        Assert.Equal(413, status);
        Assert.Contains("at most 1048576", error);
    }

    private static long Counter(string metrics, string name, string model)
    {
        string prefix = $"{name}{{model=\"{model}\"}} ";
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Metrics_count_requests_and_failures_per_model_in_prometheus_text()
    {
        var before = await _client.GetStringAsync("/metrics");
        for (int i = 0; i < 3; i++)
            (await _client.PostAsync("/v2/models/minidense/infer", Wire.Json(Wire.JsonRequest(Wire.RandomImages((ulong)i, 1), 1)))).EnsureSuccessStatusCode();
        for (int i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.BadRequest, (await _client.PostAsync("/v2/models/minidense/infer", new StringContent("{}"))).StatusCode);
        var response = await _client.GetAsync("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var after = await response.Content.ReadAsStringAsync();
        Assert.Equal(5, Counter(after, "lacuna_inference_requests_total", "minidense") - Counter(before, "lacuna_inference_requests_total", "minidense"));
        Assert.Equal(2, Counter(after, "lacuna_inference_failures_total", "minidense") - Counter(before, "lacuna_inference_failures_total", "minidense"));
        Assert.Equal(3, Counter(after, "lacuna_batch_size_count", "minidense") - Counter(before, "lacuna_batch_size_count", "minidense"));
        Assert.Equal(3, Counter(after, "lacuna_compute_duration_seconds_count", "minidense") - Counter(before, "lacuna_compute_duration_seconds_count", "minidense"));
        Assert.Equal(5, Counter(after, "lacuna_request_duration_seconds_count", "minidense") - Counter(before, "lacuna_request_duration_seconds_count", "minidense"));
        foreach (var family in new[] { "lacuna_queue_duration_seconds histogram", "lacuna_inflight_requests gauge", "lacuna_model_ready gauge", "lacuna_model_planning_seconds gauge" })
            Assert.Contains("# TYPE " + family, after);
        Assert.Contains("lacuna_batch_size_bucket{model=\"minidense\",le=\"1\"}", after);
        Assert.Contains("lacuna_model_ready{model=\"mini\",version=\"2\"} 1", after);
    }
}
