using System.CommandLine;
using Lacuna.Cli.Commands.Bench;

namespace Lacuna.Cli.Commands;

/// <summary><c>lacuna bench ...</c>: side-by-side benchmarks against the baselines, JSON with --json.</summary>
public static class BenchCommand
{
    public static Command Build()
    {
        var bench = new Command("bench", "Benchmarks: Lacuna vs baselines, measured side by side in one process (median of repeats after warm-up).");
        // One line per benchmark; each lives in Commands/Bench/<Name>Command.cs.
        bench.Subcommands.Add(BenchGemmCommand.Build());
        bench.Subcommands.Add(BenchSparseConvCommand.Build());
        bench.Subcommands.Add(BenchSpmmCommand.Build());
        bench.Subcommands.Add(BenchSweepCommand.Build());
        bench.Subcommands.Add(BenchDenseConvCommand.Build());
        bench.Subcommands.Add(BenchTrainConvCommand.Build());
        bench.Subcommands.Add(BenchModelCommand.Build());
        bench.Subcommands.Add(BenchOpsCommand.Build());
        return bench;
    }
}
