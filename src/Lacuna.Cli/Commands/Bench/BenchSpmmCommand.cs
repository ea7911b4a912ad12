using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Spmm;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench spmm --dlmc DIR</c>: every DLMC matrix in DIR (real pruned ResNet-50 topologies, values
/// synthesized) as Y = W·X with N from rn50_batchsizes.txt × batch. Contenders, interleaved on the same X:
/// Lacuna's SpMM, Lacuna's dense GEMM on the densified W, OpenBLAS sgemm on the densified W.
/// speedup_vs_openblas = openblas_ms / lacuna_sparse_ms; speedup_vs_dense = lacuna_dense_ms / lacuna_sparse_ms.
/// </summary>
public static class BenchSpmmCommand
{
    public static Command Build()
    {
        var dlmc = new Option<string>("--dlmc") { Description = "Folder of .smtx/.smtx.gz files (e.g. .../dlmc/rn50/magnitude_pruning/0.9).", Required = true };
        var batch = new Option<int>("--batch") { Description = "Images per batch: N = output pixels × batch.", DefaultValueFactory = _ => 1 };
        var filter = new Option<string?>("--filter") { Description = "Only matrices whose name contains this text." };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(5);
        var warmup = CommonOptions.Warmup(1);
        var json = CommonOptions.Json();
        var cmd = new Command("spmm", "Sparse W·X on DLMC ResNet-50 matrices: Lacuna SpMM vs Lacuna dense GEMM vs OpenBLAS.")
        {
            dlmc, batch, filter, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            int b = pr.GetValue(batch);
            if (b < 1) { Console.Error.WriteLine($"--batch must be at least 1 (got {b})."); return 2; }
            string dir = pr.GetValue(dlmc)!;
            if (!Directory.Exists(dir)) { Console.Error.WriteLine($"DLMC folder not found: {dir}"); return 2; }
            var files = Directory.GetFiles(dir).Where(f => f.EndsWith(".smtx") || f.EndsWith(".smtx.gz")).OrderBy(f => f, StringComparer.Ordinal).ToArray();
            string? f = pr.GetValue(filter);
            if (f is not null) files = files.Where(p => DlmcReader.MatrixName(p).Contains(f, StringComparison.Ordinal)).ToArray();
            if (files.Length == 0) { Console.Error.WriteLine($"No .smtx or .smtx.gz files in {dir}{(f is null ? "" : $" matching '{f}'")}."); return 2; }
            string? sizesPath = DlmcReader.FindBatchSizes(dir);
            if (sizesPath is null) { Console.Error.WriteLine($"rn50_batchsizes.txt not found in {dir} or any parent folder."); return 2; }
            if (!OpenBlas.IsAvailable) { Console.Error.WriteLine(OpenBlas.InstallHint); return 3; }
            return Run(files, DlmcReader.ReadBatchSizes(sizesPath), b, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    private static unsafe int Run(string[] files, Dictionary<string, int> sizes, int batch, int threads, int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        OpenBlas.SetThreads(threads);
        var results = new JsonArray();
        var vsBlas = new List<double>();
        var vsDense = new List<double>();
        var table = new Table().Title($"SpMM on DLMC, batch {batch}, {threads} thread(s), median of {repeats}")
            .AddColumns("matrix", "M", "K", "N", "sparsity", "sparse ms", "dense ms", "openblas ms", "vs openblas", "vs dense");
        void Body(Action<string> progress)
        {
            foreach (string file in files)
            {
                string name = DlmcReader.MatrixName(file);
                progress(name);
                if (!sizes.TryGetValue(name, out int pixels))
                    throw new LacunaFormatException(name, "has no entry in rn50_batchsizes.txt.");
                var w = DlmcReader.ReadSmtx(file);
                int m = w.Rows, k = w.Cols, n = pixels * batch;
                using var x = Tensor.Random(7, new[] { k, n });
                using var dense = Tensor.FromArray(w.ToDense(), m, k);
                using var ys = new Tensor(m, n);
                using var yd = new Tensor(m, n);
                using var yo = new Tensor(m, n);
                var plan = SpmmPlan.Create(w);
                float* pd = dense.Pointer, px = x.Pointer, pyo = yo.Pointer;
                var t = Measure.Interleaved(warmup, repeats, new (string, Action)[]
                {
                    ("sparse", () => plan.Run(x.Span, n, ys.Span, threads)),
                    ("dense", () => Gemm.Compute(m, n, k, dense.Span, k, false, x.Span, n, false, yd.Span, n, threads: threads)),
                    ("openblas", () => OpenBlas.Sgemm(m, n, k, pd, k, false, px, n, false, pyo, n)),
                });
                double diff = BenchDenseConvCommand.MaxRelDiff(ys.Span, yo.Span);
                if (diff > 1e-3) Console.Error.WriteLine($"warning: {name}: SpMM and OpenBLAS differ by {diff:E2} (relative)");
                double s = t[0].MedianMs, d = t[1].MedianMs, o = t[2].MedianMs;
                vsBlas.Add(o / s); vsDense.Add(d / s);
                results.Add(new JsonObject
                {
                    ["name"] = name, ["m"] = m, ["k"] = k, ["n"] = n, ["nnz"] = w.Nnz, ["sparsity"] = BenchJson.Num(w.Sparsity),
                    ["lacuna_sparse_ms"] = BenchJson.Num(s), ["lacuna_dense_ms"] = BenchJson.Num(d), ["openblas_ms"] = BenchJson.Num(o),
                    ["speedup_vs_openblas"] = BenchJson.Num(o / s), ["speedup_vs_dense"] = BenchJson.Num(d / s),
                });
                table.AddRow(Markup.Escape(name), m.ToString(), k.ToString(), n.ToString(), $"{w.Sparsity:F3}", $"{s:F3}", $"{d:F3}", $"{o:F3}", $"{o / s:F2}", $"{d / s:F2}");
            }
        }
        if (json) Body(_ => { });
        else
            AnsiConsole.Progress().Start(ctx =>
            {
                var task = ctx.AddTask("spmm", maxValue: files.Length);
                Body(name => { task.Description = Markup.Escape(name); task.Increment(1); });
            });
        double gBlas = Measure.GeometricMean(vsBlas), gDense = Measure.GeometricMean(vsDense);
        if (json)
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "spmm", ["threads"] = threads, ["batch"] = batch, ["tier"] = IsaTiers.Best.ToString(),
                ["repeats"] = repeats, ["results"] = results,
                ["summary"] = new JsonObject
                {
                    ["matrices"] = vsBlas.Count,
                    ["geomean_speedup_vs_openblas"] = BenchJson.Num(gBlas),
                    ["geomean_speedup_vs_dense"] = BenchJson.Num(gDense),
                },
            }));
        else
        {
            AnsiConsole.Write(table);
            Console.WriteLine($"geomean speedup vs OpenBLAS {gBlas:F2}x, vs Lacuna dense {gDense:F2}x over {vsBlas.Count} matrices");
        }
        return 0;
    }
}
