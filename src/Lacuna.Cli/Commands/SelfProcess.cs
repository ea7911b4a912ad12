using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Lacuna.Cli.Commands;

/// <summary>
/// Runs another <c>lacuna</c> command in a child process and reads its <c>--json</c> document: for what only a fresh
/// process can measure (a native library's load-time choice, a process's peak resident memory).
/// </summary>
public static class SelfProcess
{
    /// <summary>The child's JSON, or why there is none (its first stderr line, or the exit code).</summary>
    public static (JsonNode? Doc, string? Error) RunJson(params string[] args)
    {
        string[] self = Environment.GetCommandLineArgs();
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // Under `dotnet Lacuna.Cli.dll` the host is dotnet and args[0] is the dll; an apphost is the command itself.
        if (self[0].EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) psi.ArgumentList.Add(self[0]);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            return (null, stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? $"exit code {p.ExitCode}");
        try { return (JsonNode.Parse(stdout), null); }
        catch (System.Text.Json.JsonException e) { return (null, $"unreadable output: {e.Message}"); }
    }
}
