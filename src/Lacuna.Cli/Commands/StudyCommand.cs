using System.CommandLine;
using System.Globalization;
using Lacuna.Cli.Study;
using Lacuna.Threading;

namespace Lacuna.Cli.Commands;

/// <summary>
/// <c>lacuna study pruning</c>: the accuracy/speed study of every pruning method on Fashion-MNIST
/// (<see cref="PruningStudy"/>), written as docs/pruning-study.json. Long: run it as a command, not in CI
/// (CI runs it on a few hundred images to test the machinery).
/// </summary>
public static class StudyCommand
{
    public static Command Build()
    {
        var d = new PruningStudyConfig();
        var nets = new Option<string>("--nets") { Description = "Networks (lacuna train --net), comma-separated.", DefaultValueFactory = _ => string.Join(",", d.Nets) };
        var width = new Option<int>("--width") { Description = "Channels of the first stage.", DefaultValueFactory = _ => d.Width };
        var denseEpochs = new Option<int>("--dense-epochs") { Description = "Epochs of the dense model (whole training set).", DefaultValueFactory = _ => d.DenseEpochs };
        var pruneEpochs = new Option<int>("--prune-epochs") { Description = "Epochs of the gradual (cubic) pruning ramp.", DefaultValueFactory = _ => d.PruneEpochs };
        var finetune = new Option<int>("--finetune-epochs") { Description = "Epochs of fine-tuning with fixed masks after the ramp.", DefaultValueFactory = _ => d.FinetuneEpochs };
        var limit = new Option<int>("--limit") { Description = "Training images per pruning epoch (0 = all 60000).", DefaultValueFactory = _ => d.Limit };
        var testLimit = new Option<int>("--test-limit") { Description = "Test images to score on (0 = all 10000).", DefaultValueFactory = _ => d.TestLimit };
        var sparsities = new Option<string>("--sparsities") { Description = "Sparsities of the free patterns, comma-separated.", DefaultValueFactory = _ => string.Join(",", d.Sparsities.Select(s => s.ToString(CultureInfo.InvariantCulture))) };
        var methods = new Option<string>("--methods") { Description = $"Methods: {string.Join(",", PruningStudy.AllMethods)}.", DefaultValueFactory = _ => string.Join(",", d.Methods) };
        var tasd = new Option<string>("--tasd-series") { Description = "TASD-W series for the tasd rows, comma-separated.", DefaultValueFactory = _ => string.Join(",", d.TasdSeries) };
        var budget = new Option<double>("--tasder-budget") { Description = "TASDER keeps this fraction of the dense calibration accuracy.", DefaultValueFactory = _ => d.TasderBudget };
        var calibration = new Option<int>("--calibration-images") { Description = "TASDER calibration images (the last of the training set).", DefaultValueFactory = _ => d.CalibrationImages };
        var batch = new Option<int>("--batch") { Description = "Batch of the speed measurement.", DefaultValueFactory = _ => d.Batch };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads (training and speed measurement).", DefaultValueFactory = _ => d.Threads };
        var runs = new Option<int>("--runs") { Description = "Timed runs per plan (median).", DefaultValueFactory = _ => d.Runs };
        var data = new Option<string>("--data") { Description = "Fashion-MNIST IDX folder.", DefaultValueFactory = _ => d.DataDir };
        var work = new Option<string>("--work") { Description = "Folder for checkpoints and finished rows (an interrupted study resumes from it).", DefaultValueFactory = _ => d.WorkDir };
        var retime = new Option<bool>("--retime") { Description = "Rebuild finished rows from the work folder and measure their speed again (nothing is retrained)." };
        var output = new Option<string>("--output", "-o") { Description = "The study JSON (rewritten after every row).", DefaultValueFactory = _ => "docs/pruning-study.json" };
        var pruning = new Command("pruning", "Accuracy and speed-up of every pruning method and sparsity on Fashion-MNIST (gradual pruning + fine-tuning, TASD-W, TASDER).")
        {
            nets, width, denseEpochs, pruneEpochs, finetune, limit, testLimit, sparsities, methods, tasd, budget, calibration, batch, threads, runs, data, work, retime, output,
        };
        pruning.SetAction(p =>
        {
            int t = p.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            static string[] List(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            try
            {
                var config = new PruningStudyConfig
                {
                    Nets = List(p.GetValue(nets)!), Width = p.GetValue(width), DenseEpochs = p.GetValue(denseEpochs), PruneEpochs = p.GetValue(pruneEpochs),
                    FinetuneEpochs = p.GetValue(finetune), Limit = p.GetValue(limit), TestLimit = p.GetValue(testLimit),
                    Sparsities = List(p.GetValue(sparsities)!).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
                    Methods = List(p.GetValue(methods)!), TasdSeries = List(p.GetValue(tasd)!), TasderBudget = p.GetValue(budget),
                    CalibrationImages = p.GetValue(calibration), Batch = p.GetValue(batch), Threads = t, Runs = p.GetValue(runs),
                    DataDir = p.GetValue(data)!, WorkDir = p.GetValue(work)!, Retime = p.GetValue(retime),
                };
                if (config.PruneEpochs < 1 || config.FinetuneEpochs < 0 || config.DenseEpochs < 1)
                    throw new ArgumentException("--dense-epochs and --prune-epochs must be at least 1, --finetune-epochs at least 0.");
                if (config.Sparsities.Any(s => !(s > 0 && s < 1))) throw new ArgumentException("every --sparsities value must be in (0, 1).");
                WorkerPool.DefaultThreads = t;
                string path = p.GetValue(output)!;
                PruningStudy.Run(config, path, Console.Error);
                Console.WriteLine($"wrote {path}; chart it with: lacuna report {path} -o pruning-study.html");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException)
            {
                Console.Error.WriteLine($"study: {e.Message}");
                return 1;
            }
        });
        return new Command("study", "Long experiments that produce the documented results.") { pruning };
    }
}
