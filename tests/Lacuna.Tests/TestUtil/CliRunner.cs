using System.CommandLine;

namespace Lacuna.Tests.TestUtil;

/// <summary>
/// Runs one CLI command in process with Console.Out and Console.Error captured. Console is process-wide, so callers
/// belong to [Collection("Console")] (no two capture at once).
/// </summary>
public static class CliRunner
{
    public static (int Code, string Out, string Err) Invoke(Command command, params string[] args)
    {
        var root = new RootCommand { command };
        var oldOut = Console.Out; var oldErr = Console.Error;
        var o = new StringWriter(); var e = new StringWriter();
        Console.SetOut(o); Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}
