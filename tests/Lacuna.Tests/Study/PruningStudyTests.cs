using System.Text.Json.Nodes;
using Lacuna.Cli.Study;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Study;

/// <summary>
/// The pruning study's machinery on a few hundred Fashion-MNIST images (Debian dataset-fashion-mnist, installed by
/// scripts/install-deps.sh): every kind of row is produced with the schema docs/pruning-study.json promises, patterns
/// reach their sparsity, and a second run resumes from the work folder instead of training again.
/// </summary>
[Collection(GlobalThreadsCollection.Name)]
public sealed class PruningStudyTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lacuna-study-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private PruningStudyConfig Tiny => new()
    {
        Nets = ["vgg"], Width = 4, DenseEpochs = 1, DenseLimit = 2048, PruneEpochs = 1, FinetuneEpochs = 1, Limit = 256, TestLimit = 200,
        Sparsities = [0.75], Methods = ["magnitude", "nm2:4", "channel", "tasd", "tasder"], TasdSeries = ["2:4+1:8"],
        CalibrationImages = 100, Runs = 1, Threads = 1, WorkDir = Path.Combine(_dir, "work"),
    };

    [Fact]
    public void Every_row_kind_is_produced_with_the_documented_schema_and_a_rerun_resumes()
    {
        Assert.True(Directory.Exists(Tiny.DataDir), $"{Tiny.DataDir} is missing: run scripts/install-deps.sh (Debian dataset-fashion-mnist)");
        string output = Path.Combine(_dir, "study.json");
        var log = new StringWriter();
        PruningStudy.Run(Tiny, output, log);
        var models = JsonNode.Parse(File.ReadAllText(output))!.AsArray();
        var model = Assert.Single(models)!.AsObject();
        Assert.Equal("fashion-mnist", (string?)model["dataset"]);
        Assert.Equal("fashion-vgg", (string?)model["model"]);
        double dense = (double)model["dense_accuracy"]!;
        Assert.InRange(dense, 0.2, 1.0); // one epoch of a width-4 VGG on 2,048 images learns something
        var rows = model["rows"]!.AsArray().Select(r => r!.AsObject()).ToArray();
        Assert.Equal(["magnitude", "nm2:4", "channel", "tasd", "tasder"], rows.Select(r => (string)r["method"]!).ToArray());
        foreach (var r in rows)
        {
            Assert.InRange((double)r["accuracy"]!, 0.0, 1.0);
            Assert.True((double)r["speedup_vs_dense"]! > 0, $"{r["method"]}: speedup {r["speedup_vs_dense"]}");
            Assert.Equal((string)r["method"]! is not ("tasd" or "tasder"), (bool)r["fine_tuned"]!);
        }
        Assert.InRange((double)rows[0]["sparsity"]!, 0.749, 0.751); // magnitude at 0.75 over the pruned layers
        Assert.InRange((double)rows[1]["sparsity"]!, 0.499, 0.501); // 2:4 keeps exactly half
        Assert.InRange((double)rows[2]["sparsity"]!, 0.70, 0.80);   // channel: whole filters, 0.75 of them
        Assert.True((long)rows[2]["parameters_after_shrink"]! > 0);
        Assert.InRange((double)rows[3]["sparsity"]!, 0.33, 1.0);    // 2:4+1:8 keeps 62.5 % of full groups (a partial group at the end of K keeps more)
        Assert.InRange((double)rows[4]["macs_removed"]!, 0.0, 1.0);
        Assert.Contains("[vgg 5/5]", log.ToString());

        // A second run finds every row (and the dense model) finished in the work folder and trains nothing.
        var again = new StringWriter();
        PruningStudy.Run(Tiny, output, again);
        Assert.DoesNotContain("training", again.ToString());
        var rerun = JsonNode.Parse(File.ReadAllText(output))!.AsArray()[0]!["rows"]!.AsArray();
        Assert.Equal(rows.Select(r => (double)r["accuracy"]!), rerun.Select(r => (double)r!["accuracy"]!));

        // --retime rebuilds every row from the work folder (no training, no search) and times it again: the rows'
        // accuracies and patterns are reproduced exactly, the speed is measured anew.
        var retimed = new StringWriter();
        PruningStudy.Run(Tiny with { Retime = true }, output, retimed);
        Assert.DoesNotContain("training", retimed.ToString());
        Assert.DoesNotContain("tasder step", retimed.ToString());
        var after = JsonNode.Parse(File.ReadAllText(output))!.AsArray()[0]!["rows"]!.AsArray().Select(r => r!.AsObject()).ToArray();
        Assert.Equal(rows.Select(r => (double)r["accuracy"]!), after.Select(r => (double)r["accuracy"]!));
        Assert.Equal(rows.Select(r => (string?)r["pattern"]), after.Select(r => (string?)r["pattern"]));
        Assert.All(after, r => Assert.True((double)r["speedup_vs_dense"]! > 0));
    }
}
