using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.SparseConv;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench conv</c>: direct sparse convolution (magnitude-pruned random weights at --sparsity) vs
/// Lacuna's dense conv plan and OpenBLAS im2col+sgemm, conv + bias + ReLU at batch 1, interleaved, medians.
/// speedup_vs_dense = dense_ms / sparse_ms; speedup_vs_openblas = openblas_im2col_ms / sparse_ms.
/// With --sweep: one layer (--layer) over sparsities 0.5 … 0.98 and the crossover where sparse starts to win.
/// </summary>
public static class BenchSparseConvCommand
{
    private static readonly double[] SweepSparsities = { 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98 };

    public static Command Build()
    {
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of weights pruned (by magnitude).", DefaultValueFactory = _ => 0.9 };
        var set = new Option<string>("--set") { Description = "Layer set: all, rn50 or vgg16.", DefaultValueFactory = _ => "all" };
        var sweep = new Option<bool>("--sweep") { Description = "Sweep sparsity 0.5..0.98 on one layer (--layer) and report the crossover." };
        var layer = new Option<string>("--layer") { Description = "Layer name for --sweep (as listed by bench dense-conv).", DefaultValueFactory = _ => "rn50 3x3 256@14" };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(5);
        var warmup = CommonOptions.Warmup(1);
        var json = CommonOptions.Json();
        var cmd = new Command("conv", "Direct sparse conv vs Lacuna dense conv vs OpenBLAS im2col+sgemm (batch 1, pruned random weights).")
        {
            sparsity, set, sweep, layer, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            double s = pr.GetValue(sparsity);
            if (!(s >= 0 && s < 1)) { Console.Error.WriteLine($"--sparsity must be in [0, 1) (got {s})."); return 2; }
            if (!OpenBlas.IsAvailable) { Console.Error.WriteLine(OpenBlas.Problem); return 3; }
            var shapes = BenchDenseConvCommand.Shapes.Where(x => x.K > 1).ToArray();
            if (pr.GetValue(sweep))
            {
                string name = pr.GetValue(layer) ?? "";
                var one = shapes.Where(x => x.Name == name).ToArray();
                if (one.Length == 0) { Console.Error.WriteLine($"Unknown --layer '{name}'. Layers: {string.Join(", ", shapes.Select(x => x.Name))}."); return 2; }
                return Sweep(one[0], t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
            }
            string setName = pr.GetValue(set) ?? "all";
            shapes = shapes.Where(x => setName == "all" || x.Name.StartsWith(setName + " ", StringComparison.Ordinal)).ToArray();
            if (shapes.Length == 0) { Console.Error.WriteLine($"--set must be all, rn50 or vgg16 (got '{setName}')."); return 2; }
            return Run(shapes, s, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    /// <param name="Tiles">Each tile of the planner's shortlist (<see cref="SparseConv2dPlan.TileNames"/>) timed in the same interleaved run.</param>
    private sealed record LayerResult(string Name, string Shape, double SparseMs, double DenseMs, double OpenBlasMs, string Kernel, double MaxDiff,
        IReadOnlyList<(string Tile, double Ms)> Tiles, IReadOnlyList<(string Tile, double Ms)> TilesMin);

    private static unsafe LayerResult Measure1((string Name, int C, int H, int W, int M, int K, int S, int P) l, double sparsity,
        int threads, int repeats, int warmup)
    {
        var (name, c, h, w, m, k, s, pad) = l;
        var p = Conv2dParams.Square(k, s, pad);
        int[] inShape = { 1, c, h, w }, wShape = { m, c, k, k };
        int oh = p.OutputHeight(h), ow = p.OutputWidth(w), kk = c * k * k, hw = oh * ow;
        using var x = Tensor.Random(1, inShape);
        using var wt = Tensor.Random(2, wShape, -0.1f, 0.1f);
        Pruner.Magnitude(wt.Span, sparsity);
        using var bias = Tensor.Random(3, new[] { m });
        using var ys = new Tensor(1, m, oh, ow);
        using var yd = new Tensor(1, m, oh, ow);
        using var yo = new Tensor(1, m, oh, ow);
        using var col = new Tensor(kk, hw);
        var sparse = SparseConv2dPlan.Create(wt.Span, wShape, bias.Span, p, h, w, Activation.Relu);
        var dense = DenseConv2dPlan.Create(wt.Span, wShape, bias.Span, p, h, w, Activation.Relu);
        float* px = x.Pointer, pw = wt.Pointer, pb = bias.Pointer, pcol = col.Pointer, pyo = yo.Pointer;
        var contenders = new List<(string, Action)>
        {
            ("sparse", () => sparse.Run(x.Span, ys.Span, 1, threads)),
            ("dense", () => dense.Run(x.Span, yd.Span, 1, threads)),
            ("openblas", () => BenchDenseConvCommand.OpenBlasConv(px, c, h, w, pw, pb, m, k, s, pad, oh, ow, pcol, pyo)),
        };
        // The other tiles the conv planner would time on this layer, interleaved with the default one.
        var others = SparseConv2dPlan.TileNames.Where(tn => tn != sparse.TileName).Select(sparse.WithTile).ToArray();
        var otherYs = others.Select(_ => new float[m * oh * ow]).ToArray();
        for (int i = 0; i < others.Length; i++)
        {
            var (plan, y) = (others[i], otherYs[i]);
            contenders.Add((plan.TileName, () => plan.Run(x.Span, y, 1, threads)));
        }
        var t = Measure.Interleaved(warmup, repeats, contenders);
        double diff = BenchDenseConvCommand.MaxRelDiff(ys.Span, yo.Span);
        foreach (var y in otherYs) diff = Math.Max(diff, BenchDenseConvCommand.MaxRelDiff(y, yo.Span));
        if (diff > 1e-3) Console.Error.WriteLine($"warning: {name}: sparse and OpenBLAS differ by {diff:E2} (relative)");
        var tiles = new List<(string, double)> { (sparse.TileName, t[0].MedianMs) };
        var tilesMin = new List<(string, double)> { (sparse.TileName, t[0].MinMs) };
        for (int i = 0; i < others.Length; i++)
        {
            tiles.Add((others[i].TileName, t[3 + i].MedianMs));
            tilesMin.Add((others[i].TileName, t[3 + i].MinMs));
        }
        return new LayerResult(name, $"{c}x{h}x{w} -> {m}x{oh}x{ow}, k{k} s{s} p{pad}", t[0].MedianMs, t[1].MedianMs, t[2].MedianMs,
            sparse.Describe() + " vs " + dense.Describe(), diff, tiles, tilesMin);
    }

    private static int Run((string Name, int C, int H, int W, int M, int K, int S, int P)[] shapes, double sparsity, int threads, int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        OpenBlas.SetThreads(threads);
        var rows = new List<LayerResult>();
        var table = new Table().Title($"Sparse conv at {sparsity:P0} sparsity, batch 1, {threads} thread(s), median of {repeats}")
            .AddColumns("layer", "sparse ms", "dense ms", "openblas ms", "vs dense", "vs openblas");
        foreach (var l in shapes)
        {
            var r = Measure1(l, sparsity, threads, repeats, warmup);
            rows.Add(r);
            if (!json) Console.Error.WriteLine($"  {r.Name}: sparse {r.SparseMs:F3} ms, dense {r.DenseMs:F3} ms, openblas {r.OpenBlasMs:F3} ms");
            table.AddRow(Markup.Escape(r.Name), $"{r.SparseMs:F3}", $"{r.DenseMs:F3}", $"{r.OpenBlasMs:F3}",
                $"{r.DenseMs / r.SparseMs:F2}", $"{r.OpenBlasMs / r.SparseMs:F2}");
        }
        double gDense = Measure.GeometricMean(rows.Select(r => r.DenseMs / r.SparseMs));
        double gBlas = Measure.GeometricMean(rows.Select(r => r.OpenBlasMs / r.SparseMs));
        if (json)
        {
            var results = new JsonArray();
            foreach (var r in rows)
                results.Add(new JsonObject
                {
                    ["name"] = r.Name, ["shape"] = r.Shape, ["kernels"] = r.Kernel,
                    ["sparse_ms"] = BenchJson.Num(r.SparseMs), ["dense_ms"] = BenchJson.Num(r.DenseMs),
                    ["openblas_im2col_ms"] = BenchJson.Num(r.OpenBlasMs),
                    ["speedup_vs_dense"] = BenchJson.Num(r.DenseMs / r.SparseMs),
                    ["speedup_vs_openblas"] = BenchJson.Num(r.OpenBlasMs / r.SparseMs),
                    ["sparse_tiles_ms"] = TilesJson(r.Tiles),
                    // Fastest repeat per tile: on a loaded machine noise only adds time, so the minimum ranks tiles more steadily.
                    ["sparse_tiles_min_ms"] = TilesJson(r.TilesMin),
                });
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "conv", ["sparsity"] = sparsity, ["threads"] = threads, ["tier"] = IsaTiers.Best.ToString(),
                ["repeats"] = repeats, ["results"] = results,
                ["summary"] = new JsonObject
                {
                    ["geomean_speedup_vs_dense"] = BenchJson.Num(gDense),
                    ["geomean_speedup_vs_openblas"] = BenchJson.Num(gBlas),
                    ["geomean_tile_speedup_vs_avx2"] = TileGeomeans(rows, r => r.Tiles),
                    ["geomean_tile_speedup_vs_avx2_min"] = TileGeomeans(rows, r => r.TilesMin),
                },
            }));
        }
        else
        {
            AnsiConsole.Write(table);
            Console.WriteLine($"geomean speedup vs dense {gDense:F2}x, vs OpenBLAS im2col+sgemm {gBlas:F2}x");
        }
        return 0;
    }

    private static JsonObject TilesJson(IReadOnlyList<(string Tile, double Ms)> tiles)
    {
        var o = new JsonObject();
        foreach (var (tile, ms) in tiles) o[tile] = BenchJson.Num(ms);
        return o;
    }

    /// <summary>
    /// Per tile, the geomean over layers of (time of the shortlist's last tile / this tile's time), and of the fastest tile
    /// per layer (what the planner would pick): on an AVX-512 machine the last tile is the AVX2 one, so this is the
    /// AVX-512 tier's speedup over the AVX2 kernel measured in the same run.
    /// </summary>
    private static JsonObject TileGeomeans(IReadOnlyList<LayerResult> rows, Func<LayerResult, IReadOnlyList<(string Tile, double Ms)>> of)
    {
        var o = new JsonObject { ["baseline_tile"] = of(rows[0])[^1].Tile };
        foreach (var (tile, _) in of(rows[0]))
            o[tile] = BenchJson.Num(Measure.GeometricMean(rows.Select(r => of(r)[^1].Ms / of(r).First(x => x.Tile == tile).Ms)));
        o["fastest_per_layer"] = BenchJson.Num(Measure.GeometricMean(rows.Select(r => of(r)[^1].Ms / of(r).Min(x => x.Ms))));
        return o;
    }

    private static int Sweep((string Name, int C, int H, int W, int M, int K, int S, int P) l, int threads, int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        OpenBlas.SetThreads(threads);
        var points = new JsonArray();
        double? crossover = null;
        var table = new Table().Title($"{l.Name}: sparse vs dense conv, {threads} thread(s)").AddColumns("sparsity", "sparse ms", "dense ms", "speedup vs dense");
        foreach (double s in SweepSparsities)
        {
            var r = Measure1(l, s, threads, repeats, warmup);
            double speedup = r.DenseMs / r.SparseMs;
            if (crossover is null && speedup > 1) crossover = s;
            points.Add(new JsonObject
            {
                ["sparsity"] = s, ["sparse_ms"] = BenchJson.Num(r.SparseMs), ["dense_ms"] = BenchJson.Num(r.DenseMs),
                ["speedup_vs_dense"] = BenchJson.Num(speedup),
            });
            table.AddRow($"{s:F2}", $"{r.SparseMs:F3}", $"{r.DenseMs:F3}", $"{speedup:F2}");
        }
        if (json)
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "conv-sweep", ["layer"] = l.Name, ["threads"] = threads, ["results"] = points,
                ["crossover_sparsity"] = crossover is null ? null : BenchJson.Num(crossover.Value),
            }));
        else
        {
            AnsiConsole.Write(table);
            Console.WriteLine(crossover is null ? "sparse never beat dense in this range" : $"crossover: sparse beats dense from sparsity {crossover:F2}");
        }
        return 0;
    }
}
