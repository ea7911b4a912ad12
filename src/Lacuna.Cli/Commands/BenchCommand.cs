using System.CommandLine;
using Lacuna.Cli.Commands.Bench;

namespace Lacuna.Cli.Commands;

/// <summary><c>lacuna bench ...</c>: side-by-side benchmarks against the baselines, JSON with --json.</summary>
public static class BenchCommand
{
    /// <summary>
    /// OpenBLAS's kernel set for every benchmark that times it (default: the newest the CPU runs, see
    /// <c>OpenBlasCore</c>); read in Program before any command runs, since OpenBLAS fixes it at load.
    /// </summary>
    public static readonly Option<string?> OpenBlasCore = new("--openblas-core")
    {
        Description = "OpenBLAS core to load (Cooperlake, SkylakeX, Zen, Haswell, ...); default: the newest this CPU runs, verified before timing.",
        Recursive = true,
    };

    public static Command Build()
    {
        var bench = new Command("bench", "Benchmarks: Lacuna vs baselines, measured side by side in one process (median of repeats after warm-up).");
        // One line per benchmark; each lives in Commands/Bench/<Name>Command.cs.
        bench.Subcommands.Add(BenchGemmCommand.Build());
        bench.Subcommands.Add(BenchSparseConvCommand.Build());
        bench.Subcommands.Add(BenchSpmmCommand.Build());
        bench.Subcommands.Add(BenchNmCommand.Build());
        bench.Subcommands.Add(BenchTasdCommand.Build());
        bench.Subcommands.Add(BenchTasdActivationCommand.Build());
        bench.Subcommands.Add(BenchSweepCommand.Build());
        bench.Subcommands.Add(BenchDenseConvCommand.Build());
        bench.Subcommands.Add(BenchTrainConvCommand.Build());
        bench.Subcommands.Add(BenchModelCommand.Build());
        bench.Subcommands.Add(BenchOpenBlasCoresCommand.Build());
        bench.Subcommands.Add(BenchElementwiseCommand.Build());
        bench.Subcommands.Add(BenchOpsCommand.Build());
        bench.Subcommands.Add(BenchGsCommand.Build());
        bench.Subcommands.Add(BenchBlockCommand.Build());
        bench.Subcommands.Add(BenchBlockConvCommand.Build());
        bench.Subcommands.Add(BenchTransformerCommands.Attention());
        bench.Subcommands.Add(BenchTransformerCommands.Linear());
        bench.Subcommands.Add(BenchServeCommand.Build());
        bench.Options.Add(OpenBlasCore);
        return bench;
    }
}
