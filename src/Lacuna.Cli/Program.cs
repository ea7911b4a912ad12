using System.CommandLine;
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
return root.Parse(args).Invoke();
