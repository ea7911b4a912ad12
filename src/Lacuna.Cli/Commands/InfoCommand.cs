using System.CommandLine;
using Lacuna.Kernels;

namespace Lacuna.Cli.Commands;

/// <summary><c>lacuna info</c>: what hardware tier and kernels this process picked.</summary>
public static class InfoCommand
{
    public static Command Build()
    {
        var cmd = new Command("info", "Show the ISA tier and the kernels the dispatcher picked on this machine.");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($"Lacuna {typeof(Gemm).Assembly.GetName().Version}");
            Console.WriteLine(IsaTiers.Describe());
            foreach (var line in KernelInfo.Describe()) Console.WriteLine(line);
            return 0;
        });
        return cmd;
    }
}
