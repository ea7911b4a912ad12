using System.CommandLine;
using Lacuna.Bench.Baselines;
using Lacuna.Cli.Commands;

var root = new RootCommand("Lacuna: a sparse neural-network engine for .NET (pruned and ReLU-sparse CNNs on CPUs).");
root.Subcommands.Add(BenchCommand.Build());
root.Subcommands.Add(InfoCommand.Build());
root.Subcommands.Add(DemoCommand.Build());
root.Subcommands.Add(ConformanceCommand.Build());
root.Subcommands.Add(RunCommand.Build());
root.Subcommands.Add(InspectCommand.Build());
root.Subcommands.Add(OpsCommand.Build());
root.Subcommands.Add(ZooCommand.Build());
root.Subcommands.Add(TrainCommand.Build());
root.Subcommands.Add(ServeCommand.Build());
root.Subcommands.Add(PruneCommand.Build());
root.Subcommands.Add(ReportCommand.Build());
root.Subcommands.Add(StudyCommand.Build());
var parsed = root.Parse(args);
if (parsed.GetValue(BenchCommand.OpenBlasCore) is { } core)
{
    if (OpenBlasCore.Find(core) is null) { Console.Error.WriteLine(OpenBlasCore.Unknown(core, "--openblas-core")); return 2; }
    OpenBlas.RequestedCore = core;
}
// One place turns a user's mistake (a missing or malformed file, a bad shape, an unsupported operator) into one line on
// stderr and exit code 1; only an unexpected exception (a bug) keeps its stack trace, so it can be reported.
try
{
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (CliErrors.IsUserError(e))
{
    Console.Error.WriteLine($"lacuna: {CliErrors.Message(e)}");
    return 1;
}
