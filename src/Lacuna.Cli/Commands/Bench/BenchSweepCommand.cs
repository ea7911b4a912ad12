using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.SparseConv;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench sweep</c>: random unstructured masks at sparsity 0.5 … 0.98; sparse vs Lacuna's dense kernel
/// on the same shape (SpMM vs GEMM, or with --conv direct sparse conv vs the dense conv plan), interleaved
/// medians; the crossover is the lowest swept sparsity from which sparse stays faster. Writes FILE.json and a
/// FILE.svg chart (speedup vs sparsity, dense = 1) when --out FILE.json is given.
/// </summary>
public static class BenchSweepCommand
{
    private static readonly double[] Sparsities = { 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98 };

    public static Command Build()
    {
        var m = new Option<int>("--m") { Description = "Rows of W (output channels).", DefaultValueFactory = _ => 256 };
        var k = new Option<int>("--k") { Description = "Columns of W (in·kh·kw).", DefaultValueFactory = _ => 2304 };
        var n = new Option<int>("--n") { Description = "Columns of X (output pixels × batch).", DefaultValueFactory = _ => 196 };
        var conv = new Option<string?>("--conv") { Description = "Sweep a convolution instead: CxHxW,KxK,stride (e.g. 256x14x14,3x3,1); --m gives the output channels." };
        var outFile = new Option<string?>("--out") { Description = "Write the JSON here and the SVG chart next to it (same name, .svg)." };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(5);
        var warmup = CommonOptions.Warmup(1);
        var json = CommonOptions.Json();
        var cmd = new Command("sweep", "Sparse vs dense across sparsity 0.5..0.98 (random masks): speedup curve, crossover, SVG chart.")
        {
            m, k, n, conv, outFile, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            int mv = pr.GetValue(m), kv = pr.GetValue(k), nv = pr.GetValue(n);
            string? convSpec = pr.GetValue(conv);
            (int C, int H, int W, int Kh, int Kw, int S)? geometry = null;
            if (convSpec is not null)
            {
                geometry = ParseConv(convSpec);
                if (geometry is null) { Console.Error.WriteLine($"--conv must look like 256x14x14,3x3,1 (got '{convSpec}')."); return 2; }
            }
            if (mv < 1 || kv < 1 || nv < 1) { Console.Error.WriteLine($"--m, --k and --n must be positive (got {mv}, {kv}, {nv})."); return 2; }
            WorkerPool.DefaultThreads = t;
            var points = new List<(double Sparsity, double SparseMs, double DenseMs)>();
            string shape = geometry is { } gg ? $"conv {gg.C}x{gg.H}x{gg.W} -> {mv}, {gg.Kh}x{gg.Kw}/{gg.S}" : $"spmm {mv}x{kv} · {kv}x{nv}";
            foreach (double s in Sparsities)
            {
                var (sp, de) = geometry is { } g ? MeasureConv(g, mv, s, t, pr.GetValue(repeat), pr.GetValue(warmup))
                    : MeasureSpmm(mv, kv, nv, s, t, pr.GetValue(repeat), pr.GetValue(warmup));
                points.Add((s, sp, de));
                if (!pr.GetValue(json)) Console.Error.WriteLine($"  sparsity {s:F2}: sparse {sp:F3} ms, dense {de:F3} ms, speedup {de / sp:F2}x");
            }
            double? crossover = null;
            for (int i = points.Count - 1; i >= 0 && points[i].DenseMs > points[i].SparseMs; i--) crossover = points[i].Sparsity;
            var doc = new JsonObject
            {
                ["bench"] = "sweep", ["shape"] = shape, ["threads"] = t, ["tier"] = IsaTiers.Best.ToString(),
                ["results"] = new JsonArray(points.Select(p => (JsonNode)new JsonObject
                {
                    ["sparsity"] = p.Sparsity, ["sparse_ms"] = BenchJson.Num(p.SparseMs), ["dense_ms"] = BenchJson.Num(p.DenseMs),
                    ["speedup_vs_dense"] = BenchJson.Num(p.DenseMs / p.SparseMs),
                }).ToArray()),
                ["crossover_sparsity"] = crossover is null ? null : BenchJson.Num(crossover.Value),
            };
            string text = BenchJson.Write(doc);
            string? path = pr.GetValue(outFile);
            if (path is not null)
            {
                File.WriteAllText(path, text);
                string svgPath = Path.ChangeExtension(path, ".svg");
                File.WriteAllText(svgPath, SvgChart.Line($"{shape}, {t} thread(s): sparse speedup over dense", "sparsity", "speedup vs Lacuna dense",
                    points.Select(p => (p.Sparsity, p.DenseMs / p.SparseMs)).ToArray()));
                Console.Error.WriteLine($"wrote {path} and {svgPath}");
            }
            if (pr.GetValue(json)) Console.WriteLine(text);
            else
            {
                var table = new Table().Title(shape).AddColumns("sparsity", "sparse ms", "dense ms", "speedup");
                foreach (var p in points) table.AddRow($"{p.Sparsity:F2}", $"{p.SparseMs:F3}", $"{p.DenseMs:F3}", $"{p.DenseMs / p.SparseMs:F2}");
                AnsiConsole.Write(table);
                Console.WriteLine(crossover is null ? "sparse did not beat dense at the highest swept sparsity" : $"crossover: sparse beats dense from sparsity {crossover:F2}");
            }
            return 0;
        });
        return cmd;
    }

    private static (int, int, int, int, int, int)? ParseConv(string spec)
    {
        var parts = spec.Split(',');
        if (parts.Length != 3) return null;
        var chw = parts[0].Split('x'); var kk = parts[1].Split('x');
        if (chw.Length != 3 || kk.Length != 2) return null;
        var all = chw.Concat(kk).Append(parts[2]).ToArray();
        var v = new int[6];
        for (int i = 0; i < 6; i++)
            if (!int.TryParse(all[i], NumberStyles.None, CultureInfo.InvariantCulture, out v[i]) || v[i] < 1) return null;
        return (v[0], v[1], v[2], v[3], v[4], v[5]);
    }

    private static (double Sparse, double Dense) MeasureSpmm(int m, int k, int n, double sparsity, int threads, int repeats, int warmup)
    {
        var w = new float[(long)m * k];
        new DeterministicRandom(1).Fill(w);
        Pruner.Random(w, sparsity, 2);
        var csr = CsrMatrix.FromDense(w, m, k);
        var plan = SpmmPlan.Create(csr);
        using var x = Tensor.Random(3, new[] { k, n });
        var ys = new float[(long)m * n];
        var yd = new float[(long)m * n];
        var t = Measure.Interleaved(warmup, repeats, new (string, Action)[]
        {
            ("sparse", () => plan.Run(x.Span, n, ys, threads)),
            ("dense", () => Gemm.Compute(m, n, k, w, k, false, x.Span, n, false, yd, n, threads: threads)),
        });
        return (t[0].MedianMs, t[1].MedianMs);
    }

    private static (double Sparse, double Dense) MeasureConv((int C, int H, int W, int Kh, int Kw, int S) g, int m, double sparsity, int threads, int repeats, int warmup)
    {
        var p = new Conv2dParams(g.Kh, g.Kw, g.S, g.S, g.Kh / 2, g.Kw / 2, g.Kh / 2, g.Kw / 2);
        int[] ws = { m, g.C, g.Kh, g.Kw };
        var w = new float[(long)m * g.C * g.Kh * g.Kw];
        new DeterministicRandom(1).Fill(w);
        Pruner.Random(w, sparsity, 2);
        var sparse = SparseConv2dPlan.Create(w, ws, default, p, g.H, g.W, Activation.Relu);
        var dense = DenseConv2dPlan.Create(w, ws, default, p, g.H, g.W, Activation.Relu);
        using var x = Tensor.Random(3, new[] { 1, g.C, g.H, g.W });
        var y = new float[(long)m * p.OutputHeight(g.H) * p.OutputWidth(g.W)];
        var y2 = new float[y.Length];
        var t = Measure.Interleaved(warmup, repeats, new (string, Action)[]
        {
            ("sparse", () => sparse.Run(x.Span, y, 1, threads)),
            ("dense", () => dense.Run(x.Span, y2, 1, threads)),
        });
        return (t[0].MedianMs, t[1].MedianMs);
    }
}
