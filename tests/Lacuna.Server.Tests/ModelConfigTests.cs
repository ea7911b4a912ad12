namespace Lacuna.Server.Tests;

public sealed class ModelConfigTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"lacuna-config-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_file);

    private ModelConfig Read(string json)
    {
        File.WriteAllText(_file, json);
        return ModelConfig.Read(_file, new ModelConfig());
    }

    [Fact]
    public void Every_key_is_read_over_the_defaults()
    {
        var c = Read("""{ "max_batch_size": 16, "preferred_batch_sizes": [4, 16], "max_queue_delay_microseconds": 500, "max_queue_size": 9, "threads": 1, "instances": 2, "plan": "dense" }""");
        Assert.Equal(16, c.MaxBatchSize);
        Assert.Equal([4, 16], c.PreferredBatchSizes);
        Assert.Equal(500, c.MaxQueueDelayMicroseconds);
        Assert.Equal(9, c.MaxQueueSize);
        Assert.Equal(1, c.Threads);
        Assert.Equal(2, c.Instances);
        Assert.Equal(1, Read("{}").Instances);
        Assert.Equal(PlanKind.Dense, c.Plan);
        Assert.Equal([1, 2, 4, 8, 16], c.PlannedBatchSizes);
        Assert.Equal([1, 2, 3, 4, 8, 12], (new ModelConfig { MaxBatchSize = 12, PreferredBatchSizes = [3] }).PlannedBatchSizes);
        Assert.Equal([1, 2, 4, 8, 12], (new ModelConfig { MaxBatchSize = 12 }).PlannedBatchSizes);
        Assert.Equal(new ModelConfig().MaxQueueSize, Read("{}").MaxQueueSize);
    }

    [Theory]
    [InlineData("""{ "max_batch": 4 }""", "\"max_batch\": unknown key")]
    [InlineData("""{ "plan": "fast" }""", "\"plan\": expected \"sparse\" or \"dense\"")]
    [InlineData("""{ "max_batch_size": 4, "preferred_batch_sizes": [8] }""", "preferred batch size 8 is not in [1, max_batch_size = 4]")]
    [InlineData("""{ "max_batch_size": "4" }""", "\"max_batch_size\"")]
    [InlineData("""{ "max_queue_size": 0 }""", "max_queue_size must be at least 1")]
    [InlineData("""{ "instances": 0 }""", "instances must be in [1, 64] (got 0)")]
    [InlineData("""{ nope""", "not valid JSON")]
    public void A_bad_config_names_the_file_and_the_key(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => Read(json));
        Assert.Contains(_file, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_repository_without_versions_or_with_a_bad_name_is_refused_naming_it()
    {
        using var repo = new TestRepository();
        Directory.CreateDirectory(Path.Combine(repo.Root, "empty"));
        var e = Assert.Throws<FileNotFoundException>(() => ModelRepository.Discover([], repo.Root, new ModelConfig()));
        Assert.Contains("expected", e.Message);
        Assert.Contains("empty", e.Message);
        var a = Assert.Throws<ArgumentException>(() => ModelRepository.Discover([("bad name", "/x.onnx")], null, new ModelConfig()));
        Assert.Contains("model name 'bad name'", a.Message);
        Assert.Throws<FileNotFoundException>(() => ModelRepository.Discover([("m", "/nonexistent/model.onnx")], null, new ModelConfig()));
    }
}
