using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench spmm --dlmc DIR</c>: every DLMC matrix in DIR (real pruned ResNet-50 topologies, values
/// synthesized) as Y = W·X with N from rn50_batchsizes.txt × batch where the folder (or a parent) has that file,
/// else N = batch (tokens: the Transformer matrices and any other folder of the collection). Contenders, interleaved on the same X:
/// Lacuna's SpMM, Lacuna's dense GEMM on the densified W, OpenBLAS sgemm on the densified W.
/// speedup_vs_openblas = openblas_ms / lacuna_sparse_ms; speedup_vs_dense = lacuna_dense_ms / lacuna_sparse_ms;
/// schedule = what the SpMM plan's tuning chose for this N and thread count (tile, K block, packed, split).
/// With --bf16 a fourth contender stores the weights as bf16 (fp32 accumulation): lacuna_bf16_ms,
/// bf16_speedup_vs_fp32 and bf16_max_rel_error = max |Y_bf16 − Y_fp32| / max |Y_fp32|.
/// With --bf16x another stores the activations X as bf16 in its packed panels (fp32 weights and accumulation,
/// <see cref="SpmmPrecision.BFloat16Activations"/>): lacuna_bf16x_ms, bf16x_speedup_vs_openblas, bf16x_speedup_vs_fp32,
/// bf16x_max_rel_error (as for --bf16) and bf16x_schedule; the summary gives their geomeans and the largest error.
/// With --tiles every register tile of the registry this machine runs is also timed alone on each matrix
/// (<c>tiles_ms</c>, tile name → ms, plus <c>tile_chosen</c>): the data the tile cost model is calibrated on.
/// Peers (<c>--peers</c>, default all): LIBXSMM's libxsmm_spmdm and librsb's tuned rsb_spmm, each checked against the
/// reference and timed in the same rounds (see <see cref="BenchSpmmPeers"/>): <c>&lt;peer&gt;_ms</c>,
/// <c>speedup_vs_&lt;peer&gt;</c> = peer_ms / lacuna_sparse_ms and <c>&lt;peer&gt;_vs_openblas</c> = openblas_ms / peer_ms.
/// </summary>
public static class BenchSpmmCommand
{
    public static Command Build()
    {
        var dlmc = new Option<string>("--dlmc") { Description = "Folder of .smtx/.smtx.gz files (e.g. .../dlmc/rn50/magnitude_pruning/0.9).", Required = true };
        var batch = new Option<int>("--batch") { Description = "ResNet-50 folders: images per batch (N = output pixels × batch); folders without rn50_batchsizes.txt: N itself (tokens).", DefaultValueFactory = _ => 1 };
        var filter = new Option<string?>("--filter") { Description = "Only matrices whose name contains this text." };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(5);
        var warmup = CommonOptions.Warmup(1);
        var json = CommonOptions.Json();
        var bf16 = new Option<bool>("--bf16") { Description = "Also time bf16 weight storage (fp32 accumulation) and report its error vs fp32." };
        var bf16x = new Option<bool>("--bf16x") { Description = "Also time bf16 activations (X packed as bf16; fp32 weights and accumulation) and report its error vs fp32." };
        var tiles = new Option<bool>("--tiles") { Description = "Also time every SpMM register tile alone on each matrix (calibrates the tile choice)." };
        var peers = new Option<string>("--peers") { Description = "Peer sparse libraries to time too: all, none, or a list (libxsmm,librsb). Absent ones are reported, not fatal.", DefaultValueFactory = _ => "all" };
        var cmd = new Command("spmm", "Sparse W·X on DLMC ResNet-50 matrices: Lacuna SpMM vs Lacuna dense GEMM vs OpenBLAS.")
        {
            dlmc, batch, filter, threads, repeat, warmup, json, bf16, bf16x, tiles, peers,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            int b = pr.GetValue(batch);
            if (CommonOptions.CheckBatch(b) is { } badBatch) { Console.Error.WriteLine(badBatch); return 2; }
            string dir = pr.GetValue(dlmc)!;
            if (!Directory.Exists(dir)) { Console.Error.WriteLine($"DLMC folder not found: {dir}"); return 2; }
            var files = Directory.GetFiles(dir).Where(f => f.EndsWith(".smtx") || f.EndsWith(".smtx.gz")).OrderBy(f => f, StringComparer.Ordinal).ToArray();
            string? f = pr.GetValue(filter);
            if (f is not null) files = files.Where(p => DlmcReader.MatrixName(p).Contains(f, StringComparison.Ordinal)).ToArray();
            if (files.Length == 0) { Console.Error.WriteLine($"No .smtx or .smtx.gz files in {dir}{(f is null ? "" : $" matching '{f}'")}."); return 2; }
            // ResNet-50 folders take N from rn50_batchsizes.txt (found here or in a parent); a folder none of whose
            // matrices it names (the Transformer's, other models') runs at N = --batch tokens.
            string? sizesPath = DlmcReader.FindBatchSizes(dir);
            var sizes = sizesPath is null ? null : DlmcReader.ReadBatchSizes(sizesPath);
            if (sizes is not null && !files.Any(p => sizes.ContainsKey(DlmcReader.MatrixName(p)))) sizes = null;
            if (sizes is null)
                Console.Error.WriteLine($"note: no batch-size entries for these matrices: N = --batch = {b} (tokens; e.g. --batch 256).");
            if (!OpenBlas.IsAvailable) { Console.Error.WriteLine(OpenBlas.Problem); return 3; }
            IReadOnlyList<SpmmPeer> chosen;
            try { chosen = SpmmPeers.Parse(pr.GetValue(peers)!); }
            catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
            using var peerRuns = new BenchSpmmPeers(chosen);
            return Run(files, sizes, b, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json), pr.GetValue(bf16), pr.GetValue(bf16x), pr.GetValue(tiles), peerRuns);
        });
        return cmd;
    }

    private static unsafe int Run(string[] files, Dictionary<string, int>? sizes, int batch, int threads, int repeats, int warmup, bool json, bool bf16, bool bf16x, bool tiles, BenchSpmmPeers peers)
    {
        WorkerPool.DefaultThreads = threads;
        OpenBlas.SetThreads(threads);
        var results = new JsonArray();
        var vsBlas = new List<double>();
        var vsDense = new List<double>();
        var bf16VsFp32 = new List<double>();
        double bf16MaxErr = 0;
        var bf16xVsBlas = new List<double>();
        var bf16xVsFp32 = new List<double>();
        double bf16xMaxErr = 0;
        var table = new Table().Title($"SpMM on DLMC, batch {batch}, {threads} thread(s), median of {repeats}")
            .AddColumns(new[] { "matrix", "M", "K", "N", "sparsity", "sparse ms", "dense ms", "openblas ms", "vs openblas", "vs dense" }.Concat(peers.Columns).ToArray());
        void Body(Action<string> progress)
        {
            foreach (string file in files)
            {
                string name = DlmcReader.MatrixName(file);
                progress(name);
                int pixels = 1;
                if (sizes is not null && !sizes.TryGetValue(name, out pixels))
                    throw new LacunaFormatException(name, "has no entry in rn50_batchsizes.txt.");
                var w = DlmcReader.ReadSmtx(file);
                int m = w.Rows, k = w.Cols, n = pixels * batch;
                using var x = Tensor.Random(7, new[] { k, n });
                using var dense = Tensor.FromArray(w.ToDense(), m, k);
                using var ys = new Tensor(m, n);
                using var yd = new Tensor(m, n);
                using var yo = new Tensor(m, n);
                using var yb = new Tensor(m, n);
                using var yx = new Tensor(m, n);
                var plan = SpmmPlan.Create(w);
                var planBf16 = bf16 ? SpmmPlan.Create(w, default, default, SpmmPrecision.BFloat16) : null;
                var planBf16x = bf16x ? SpmmPlan.Create(w, default, default, SpmmPrecision.BFloat16Activations) : null;
                float* pd = dense.Pointer, px = x.Pointer, pyo = yo.Pointer;
                var contenders = new List<(string, Action)>
                {
                    ("sparse", () => plan.Run(x.Span, n, ys.Span, threads)),
                    ("dense", () => Gemm.Compute(m, n, k, dense.Span, k, false, x.Span, n, false, yd.Span, n, threads: threads)),
                    ("openblas", () => OpenBlas.Sgemm(m, n, k, pd, k, false, px, n, false, pyo, n)),
                };
                if (planBf16 is not null) contenders.Add(("bf16", () => planBf16.Run(x.Span, n, yb.Span, threads)));
                int bf16xAt = contenders.Count;
                if (planBf16x is not null) contenders.Add(("bf16x", () => planBf16x.Run(x.Span, n, yx.Span, threads)));
                if (peers.Any)
                {
                    var yr = new float[(long)m * n];
                    ReferenceSpmm.Compute(w, x.Span, n, yr);
                    peers.AddContenders(contenders, w, n, threads, x, yr);
                }
                int firstTile = contenders.Count;
                var tilePlans = tiles ? SpmmPlan.TileNames.Select(name => (name, plan: SpmmPlan.CreateWithTile(w, name))).ToArray() : [];
                foreach (var (tileName, tp) in tilePlans) contenders.Add((tileName, () => tp.Run(x.Span, n, yb.Span, threads)));
                var t = Measure.Interleaved(warmup, repeats, contenders.ToArray());
                double diff = BenchDenseConvCommand.MaxRelDiff(ys.Span, yo.Span);
                if (diff > 1e-3) Console.Error.WriteLine($"warning: {name}: SpMM and OpenBLAS differ by {diff:E2} (relative)");
                double s = t[0].MedianMs, d = t[1].MedianMs, o = t[2].MedianMs;
                vsBlas.Add(o / s); vsDense.Add(d / s);
                var row = new JsonObject
                {
                    ["name"] = name, ["m"] = m, ["k"] = k, ["n"] = n, ["nnz"] = w.Nnz, ["sparsity"] = BenchJson.Num(w.Sparsity),
                    ["lacuna_sparse_ms"] = BenchJson.Num(s), ["lacuna_dense_ms"] = BenchJson.Num(d), ["openblas_ms"] = BenchJson.Num(o),
                    ["speedup_vs_openblas"] = BenchJson.Num(o / s), ["speedup_vs_dense"] = BenchJson.Num(d / s),
                    ["schedule"] = plan.ScheduleFor(n, threads),
                };
                var peerCells = peers.Record(t, s, o, row);
                if (planBf16 is not null)
                {
                    double bms = t[3].MedianMs, err = BenchDenseConvCommand.MaxRelDiff(yb.Span, ys.Span);
                    bf16VsFp32.Add(s / bms);
                    bf16MaxErr = Math.Max(bf16MaxErr, err);
                    row["lacuna_bf16_ms"] = BenchJson.Num(bms);
                    row["bf16_speedup_vs_fp32"] = BenchJson.Num(s / bms);
                    row["bf16_max_rel_error"] = BenchJson.Num(err);
                }
                if (planBf16x is not null)
                {
                    double xms = t[bf16xAt].MedianMs, err = BenchDenseConvCommand.MaxRelDiff(yx.Span, ys.Span);
                    bf16xVsBlas.Add(o / xms); bf16xVsFp32.Add(s / xms);
                    bf16xMaxErr = Math.Max(bf16xMaxErr, err);
                    row["lacuna_bf16x_ms"] = BenchJson.Num(xms);
                    row["bf16x_speedup_vs_openblas"] = BenchJson.Num(o / xms);
                    row["bf16x_speedup_vs_fp32"] = BenchJson.Num(s / xms);
                    row["bf16x_max_rel_error"] = BenchJson.Num(err);
                    row["bf16x_schedule"] = planBf16x.ScheduleFor(n, threads);
                }
                if (tilePlans.Length > 0)
                {
                    var tms = new JsonObject();
                    for (int i = 0; i < tilePlans.Length; i++) tms[tilePlans[i].name] = BenchJson.Num(t[firstTile + i].MedianMs);
                    row["tiles_ms"] = tms;
                    row["tile_chosen"] = plan.TileFor(n);
                }
                results.Add(row);
                table.AddRow(new[] { Markup.Escape(name), m.ToString(), k.ToString(), n.ToString(), $"{w.Sparsity:F3}", $"{s:F3}", $"{d:F3}", $"{o:F3}", $"{o / s:F2}", $"{d / s:F2}" }.Concat(peerCells).ToArray());
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
        {
            var summary = new JsonObject
            {
                ["matrices"] = vsBlas.Count,
                ["geomean_speedup_vs_openblas"] = BenchJson.Num(gBlas),
                ["geomean_speedup_vs_dense"] = BenchJson.Num(gDense),
            };
            peers.Summarize(summary);
            if (bf16)
            {
                summary["geomean_bf16_speedup_vs_fp32"] = BenchJson.Num(Measure.GeometricMean(bf16VsFp32));
                summary["bf16_max_rel_error"] = BenchJson.Num(bf16MaxErr);
            }
            if (bf16x)
            {
                summary["geomean_bf16x_speedup_vs_openblas"] = BenchJson.Num(Measure.GeometricMean(bf16xVsBlas));
                summary["geomean_bf16x_speedup_vs_fp32"] = BenchJson.Num(Measure.GeometricMean(bf16xVsFp32));
                summary["bf16x_max_rel_error"] = BenchJson.Num(bf16xMaxErr);
            }
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "spmm", ["threads"] = threads, ["batch"] = batch, ["n_from"] = sizes is null ? "--batch (tokens)" : "rn50_batchsizes.txt × --batch", ["tier"] = IsaTiers.Best.ToString(),
                ["repeats"] = repeats, ["peers"] = peers.Report(), ["results"] = results, ["summary"] = summary,
            }));
        }
        else
        {
            AnsiConsole.Write(table);
            Console.WriteLine($"geomean speedup vs OpenBLAS {gBlas:F2}x, vs Lacuna dense {gDense:F2}x over {vsBlas.Count} matrices");
            foreach (string line in peers.SummaryLines()) Console.WriteLine(line);
            if (bf16)
                Console.WriteLine($"bf16 weights: geomean {Measure.GeometricMean(bf16VsFp32):F2}x vs fp32 SpMM, max error {bf16MaxErr:E2} of max |Y|");
            if (bf16x)
                Console.WriteLine($"bf16 activations: geomean {Measure.GeometricMean(bf16xVsBlas):F2}x vs OpenBLAS, {Measure.GeometricMean(bf16xVsFp32):F2}x vs fp32 SpMM, max error {bf16xMaxErr:E2} of max |Y|");
        }
        return 0;
    }
}
