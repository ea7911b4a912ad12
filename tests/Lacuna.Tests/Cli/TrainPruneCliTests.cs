using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Lacuna.Cli.Commands;
using Lacuna.Training;

using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Cli;

/// <summary>`lacuna train` with pruning schedules: --json per-layer table, --init, and SIGTERM checkpointing in a real process.</summary>
[Collection("Console")]
public sealed class TrainPruneCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-trainprune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Invoke(Command command, params string[] args) => CliRunner.Invoke(command, args);

    [Fact]
    public void Gradual_pruning_from_a_dense_init_reports_every_layer_in_json()
    {
        string dense = Path.Combine(_dir, "dense.ckpt"), pruned = Path.Combine(_dir, "pruned.ckpt"), onnx = Path.Combine(_dir, "p.onnx");
        string[] common = ["--limit", "96", "--test-limit", "64", "--width", "4", "--batch", "32", "--threads", "1", "--output", onnx, "--json"];
        var (code, _, err) = Invoke(TrainCommand.Build(), ["train", "--epochs", "1", "--checkpoint", dense, .. common]);
        Assert.True(code == 0, err);

        (code, string output, err) = Invoke(TrainCommand.Build(), ["train", "--epochs", "2", "--init", dense, "--checkpoint", pruned,
            "--prune", "0.75", "--prune-method", "block:4x1", "--prune-schedule", "gradual", "--prune-end", "1", "--prune-every", "1", .. common]);
        Assert.True(code == 0, err);
        Assert.Contains("pruning: block:4x1 to 75", err);
        Assert.Contains("gradual from 0", err);
        Assert.Contains("first conv and last FC dense", err);
        Assert.Contains("prune ", err); // the progress line shows the ramp's target
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("test_accuracy").GetDouble() > 0);
        Assert.Equal(2, root.GetProperty("history").GetArrayLength());
        Assert.Equal("gradual", root.GetProperty("options").GetProperty("PruneSchedule").GetString());
        Assert.Equal("block:4x1", root.GetProperty("options").GetProperty("PruneMethod").GetString());
        Assert.Equal(0.75, root.GetProperty("pruning").GetProperty("FinalSparsity").GetDouble());
        var layers = root.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(8, layers.Length); // 6 convs + 2 FCs in the VGG
        Assert.Equal("dense", layers[0].GetProperty("pattern").GetString());
        Assert.Equal("dense", layers[^1].GetProperty("pattern").GetString());
        foreach (var l in layers[1..^1])
        {
            Assert.Equal("block:4x1", l.GetProperty("pattern").GetString());
            Assert.InRange(l.GetProperty("sparsity").GetDouble(), 0.7, 0.8);
            Assert.True(l.GetProperty("rows").GetInt32() > 0 && l.GetProperty("cols").GetInt32() > 0);
        }

        var both = Invoke(TrainCommand.Build(), ["train", "--init", dense, "--resume", pruned, .. common]);
        Assert.Equal(2, both.Code);
        Assert.Contains("--init", both.Err);
        var badMethod = Invoke(TrainCommand.Build(), ["train", "--prune-method", "diagonal", .. common]);
        Assert.Equal(1, badMethod.Code);
        Assert.Contains("unknown sparsity pattern", badMethod.Err);
    }

    /// <summary>SIGTERM mid-epoch: the run checkpoints the current step, prints the resume line and exits 143.</summary>
    [Fact]
    public void Sigterm_mid_epoch_checkpoints_the_current_step_and_exits_143()
    {
        string ckpt = Path.Combine(_dir, "term.ckpt");
        var psi = new ProcessStartInfo("dotnet", [CliDll(), "train", "--limit", "20000", "--test-limit", "64", "--width", "4", "--batch", "16",
            "--threads", "1", "--epochs", "1", "--prune", "0.5", "--prune-schedule", "gradual", "--prune-every", "5",
            "--checkpoint", ckpt, "--output", Path.Combine(_dir, "term.onnx")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        var err = new System.Text.StringBuilder();
        var progressed = new ManualResetEventSlim();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (err) err.AppendLine(e.Data);
            if (e.Data.StartsWith("ep 1/1", StringComparison.Ordinal)) progressed.Set();
        };
        process.BeginErrorReadLine();
        try
        {
            Assert.True(progressed.Wait(TimeSpan.FromSeconds(120)), $"no progress line; stderr: {err}");
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            Assert.True(process.WaitForExit(60_000), "lacuna train did not exit within 60 s of SIGTERM");
            process.WaitForExit(); // drains the redirected stderr
            Assert.Equal(TrainCommand.TerminatedExitCode, process.ExitCode);
            string log; lock (err) log = err.ToString();
            Assert.Contains($"resume with: lacuna train --resume {ckpt}", log);
            var c = Checkpoint.Load(ckpt);
            long step = (long)c.Metadata["global_step"]!;
            Assert.True(step > 0 && (int)c.Metadata["step_in_epoch"]! == step, $"checkpoint at global step {step}");
            Assert.Equal(0, (int)c.Metadata["epoch"]!); // mid-epoch, not an epoch-end checkpoint
            Assert.Contains(c.Arrays, a => a.Name.StartsWith("mask:", StringComparison.Ordinal));
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    private static string CliDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        string configuration = dir.Parent!.Name; // .../bin/<Configuration>/net10.0/
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Lacuna.slnx"))) dir = dir.Parent;
        Assert.NotNull(dir);
        string dll = Path.Combine(dir!.FullName, "src", "Lacuna.Cli", "bin", configuration, "net10.0", "Lacuna.Cli.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built");
        return dll;
    }
}
