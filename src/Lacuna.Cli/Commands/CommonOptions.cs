using System.CommandLine;

namespace Lacuna.Cli.Commands;

/// <summary>Options every benchmark shares, so they are spelled and defaulted the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<int> Threads() => new("--threads", "-t")
    {
        Description = "Threads for Lacuna and the baseline alike.",
        DefaultValueFactory = _ => 1,
    };

    public static Option<int> Repeat(int defaultValue = 7) => new("--repeat", "-r")
    {
        Description = "Timed repetitions per contender (the median is reported).",
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<int> Warmup(int defaultValue = 2) => new("--warmup")
    {
        Description = "Untimed warm-up runs per contender.",
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON document instead of a table.",
    };

    /// <summary>Validates a thread count from the command line; returns an error message or null.</summary>
    public static string? CheckThreads(int threads) =>
        threads < 1 ? $"--threads must be at least 1 (got {threads})." : null;

    /// <summary>The sparse plan's activation precision: fp32, or bf16 (SpMM reads its input as bf16 where that is faster).</summary>
    public static Option<string> Precision() => new("--precision")
    {
        Description = "fp32, or bf16: sparse 1x1 convolutions (SpMM) read their input as bf16 where faster (fp32 sums); the error is reported.",
        DefaultValueFactory = _ => "fp32",
    };

    /// <summary>The plan options of a sparse session at <paramref name="precision"/>, or an error message.</summary>
    public static (Lacuna.Graph.PassOptions? Options, string? Error) SparseOptions(string precision) => precision switch
    {
        "fp32" => (new Lacuna.Graph.PassOptions(), null),
        "bf16" => (new Lacuna.Graph.PassOptions { SparsePrecision = Lacuna.Kernels.Spmm.SpmmPrecision.BFloat16Activations }, null),
        _ => (null, $"--precision must be fp32 or bf16 (got '{precision}')."),
    };

    /// <summary>Validates a batch size; <paramref name="zeroMeansModel"/>: 0 keeps the model's own batch.</summary>
    public static string? CheckBatch(int batch, bool zeroMeansModel = false) =>
        batch < (zeroMeansModel ? 0 : 1) ? $"--batch must be at least {(zeroMeansModel ? "0 (the model's batch)" : "1")} (got {batch})." : null;
}
