using System.CommandLine;
using Lacuna.Pruning;

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

    /// <summary>The weight sparsity pattern a zoo model is pruned to (and the planner tries).</summary>
    /// <param name="withDefault">False: no default, so a command can tell an explicit <c>--pattern</c> from none (null).</param>
    public static Option<string> Pattern(bool withDefault = true)
    {
        var option = new Option<string>("--pattern")
        {
            Description = "Sparsity pattern of the pruned weights W [M x C*kh*kw]: unstructured, block:RxC, nm:N:M, gs:V or a TASD series such as 2:4+1:8. "
                + "block, gs and unstructured prune to --sparsity; nm and series fix their own sparsity and reject --sparsity.",
        };
        if (withDefault) option.DefaultValueFactory = _ => "unstructured";
        return option;
    }

    /// <summary>Reads a <c>--pattern</c> value: the pattern, or a one-line error naming the value and the known families.</summary>
    public static (SparsityPattern? Pattern, string? Error) ParsePattern(string text)
    {
        try { return (SparsityPattern.Parse(text), null); }
        catch (ArgumentException e) { return (null, $"--pattern: {Message(e)}"); }
    }

    /// <summary>
    /// The rule for <c>--sparsity</c> with a pattern (chosen so a typo never silently builds another model): a pattern
    /// whose sparsity is free (unstructured, block, gs) prunes to it, and a structured one needs it above 0; a pattern
    /// that fixes its own (nm, series) rejects it. Returns an error message or null.
    /// </summary>
    public static string? CheckPatternSparsity(SparsityPattern pattern, double sparsity)
    {
        if (!pattern.SparsityIsFree && sparsity != 0)
            return $"--pattern {pattern} fixes the sparsity at {pattern.ResultingSparsity(sparsity):P1}; drop --sparsity.";
        if (pattern.SparsityIsFree && pattern is not UnstructuredPattern && sparsity == 0)
            return $"--pattern {pattern} needs --sparsity S, the fraction of zeros in (0, 1).";
        return null;
    }

    /// <summary>A sparse session's plan options with the planner restricted to <paramref name="pattern"/> (unstructured: detect).</summary>
    public static Lacuna.Graph.PassOptions WithPattern(Lacuna.Graph.PassOptions options, SparsityPattern pattern, bool force = false) =>
        pattern is UnstructuredPattern ? options : options with { Patterns = Lacuna.Graph.PatternPlanning.Only([pattern], force) };

    /// <summary>An exception's message without the " (Parameter 'x')" suffix .NET appends.</summary>
    public static string Message(Exception e) =>
        e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;

    /// <summary>Validates a batch size; <paramref name="zeroMeansModel"/>: 0 keeps the model's own batch.</summary>
    public static string? CheckBatch(int batch, bool zeroMeansModel = false) =>
        batch < (zeroMeansModel ? 0 : 1) ? $"--batch must be at least {(zeroMeansModel ? "0 (the model's batch)" : "1")} (got {batch})." : null;
}
