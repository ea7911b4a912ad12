using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Kernels;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench gemm</c>: Lacuna's dense GEMM vs OpenBLAS cblas_sgemm on the same buffers, same thread
/// count, interleaved, median of repeats. Without --m/--n/--k: the ResNet-50 batch-1 layer set and 1024³.
/// ratio_vs_openblas = openblas_ms / lacuna_ms (above 1: Lacuna is faster).
/// </summary>
public static class BenchGemmCommand
{
    /// <summary>
    /// ResNet-50 conv layers as GEMMs at batch 1: M = out channels, K = in·kh·kw, N = output pixels
    /// (the N values are those of DLMC's rn50_batchsizes.txt; one entry per distinct shape).
    /// </summary>
    public static readonly (string Name, int M, int N, int K)[] ResNet50Shapes =
    {
        ("rn50 conv1 7x7/2",        64, 12544,   147),
        ("rn50 g1 1x1 64->64",       64,  3136,    64),
        ("rn50 g1 3x3 64",           64,  3136,   576),
        ("rn50 g1 1x1 64->256",     256,  3136,    64),
        ("rn50 g1 1x1 256->64",      64,  3136,   256),
        ("rn50 g2 1x1 256->128",    128,  3136,   256),
        ("rn50 g2 3x3 128",         128,   784,  1152),
        ("rn50 g2 1x1 128->512",    512,   784,   128),
        ("rn50 g2 1x1 512->128",    128,   784,   512),
        ("rn50 g3 1x1 512->256",    256,   784,   512),
        ("rn50 g3 3x3 256",         256,   196,  2304),
        ("rn50 g3 1x1 256->1024",  1024,   196,   256),
        ("rn50 g3 1x1 1024->256",   256,   196,  1024),
        ("rn50 g4 1x1 1024->512",   512,   196,  1024),
        ("rn50 g4 3x3 512",         512,    49,  4608),
        ("rn50 g4 1x1 512->2048",  2048,    49,   512),
        ("rn50 g4 1x1 2048->512",   512,    49,  2048),
        ("square 1024",            1024,  1024,  1024),
    };

    public static Command Build()
    {
        var m = new Option<int?>("--m") { Description = "Rows of A and C." };
        var n = new Option<int?>("--n") { Description = "Columns of B and C." };
        var k = new Option<int?>("--k") { Description = "Reduction length." };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat();
        var warmup = CommonOptions.Warmup();
        var json = CommonOptions.Json();
        var tiles = new Option<bool>("--tiles") { Description = "Also time every register tile this CPU runs, forced (columns tile_ms; ratio stays the dispatcher's)." };
        var cmd = new Command("gemm", "Dense GEMM: Lacuna vs OpenBLAS cblas_sgemm (row-major, no transposes).")
        {
            m, n, k, threads, repeat, warmup, json, tiles,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            int? mv = pr.GetValue(m), nv = pr.GetValue(n), kv = pr.GetValue(k);
            (string, int, int, int)[] shapes;
            if (mv is null && nv is null && kv is null) shapes = ResNet50Shapes;
            else if (mv is int mm && nv is int nn && kv is int kk)
            {
                if (mm < 1 || nn < 1 || kk < 1) { Console.Error.WriteLine($"--m, --n and --k must be positive (got {mm}, {nn}, {kk})."); return 2; }
                shapes = new[] { ($"{mm}x{nn}x{kk}", mm, nn, kk) };
            }
            else { Console.Error.WriteLine("Give all of --m, --n and --k, or none (the ResNet-50 layer set and 1024³)."); return 2; }
            if (!OpenBlas.IsAvailable) { Console.Error.WriteLine(OpenBlas.Problem); return 3; }
            return Run(shapes, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json), pr.GetValue(tiles));
        });
        return cmd;
    }

    private static unsafe int Run((string Name, int M, int N, int K)[] shapes, int threads, int repeats, int warmup, bool json, bool tiles)
    {
        WorkerPool.DefaultThreads = threads;
        OpenBlas.SetThreads(threads);
        var results = new JsonArray();
        var table = new Table().Title($"GEMM, {threads} thread(s), median of {repeats}; ratio = openblas_ms / lacuna_ms")
            .AddColumns("shape", "M", "N", "K", "lacuna ms", "openblas ms", "lacuna GFLOP/s", "openblas GFLOP/s", "ratio");
        if (!json) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(IsaTiers.Describe())}; gemm: {Markup.Escape(Gemm.Describe())}[/]");
        foreach (var (name, m, n, k) in shapes)
        {
            using var a = Tensor.Random(1, new[] { m, k });
            using var b = Tensor.Random(2, new[] { k, n });
            using var c1 = new Tensor(m, n);
            using var c2 = new Tensor(m, n);
            float* pa = a.Pointer, pb = b.Pointer, pc2 = c2.Pointer;
            var contenders = new List<(string, Action)>
            {
                ("lacuna", () => Gemm.Compute(m, n, k, a.Span, k, false, b.Span, n, false, c1.Span, n, threads: threads)),
                ("openblas", () => OpenBlas.Sgemm(m, n, k, pa, k, false, pb, n, false, pc2, n)),
            };
            using var c3 = new Tensor(m, n);
            if (tiles) contenders.AddRange(GemmTiles.Contenders(m, n, k, a, b, c3, threads));
            var timings = Measure.Interleaved(warmup, repeats, contenders);
            double flops = 2.0 * m * n * k;
            double lms = timings[0].MedianMs, oms = timings[1].MedianMs;
            double maxDiff = MaxRelDiff(c1.Span, c2.Span);
            if (maxDiff > 1e-3)
                Console.Error.WriteLine($"warning: {name}: Lacuna and OpenBLAS differ by {maxDiff:E2} (relative)");
            results.Add(new JsonObject
            {
                ["name"] = name, ["m"] = m, ["n"] = n, ["k"] = k,
                ["lacuna_ms"] = BenchJson.Num(lms), ["openblas_ms"] = BenchJson.Num(oms),
                ["lacuna_min_ms"] = BenchJson.Num(timings[0].MinMs), ["openblas_min_ms"] = BenchJson.Num(timings[1].MinMs),
                ["lacuna_gflops"] = BenchJson.Num(Measure.Gflops(flops, lms)),
                ["openblas_gflops"] = BenchJson.Num(Measure.Gflops(flops, oms)),
                ["ratio_vs_openblas"] = BenchJson.Num(oms / lms),
                ["tiles"] = new JsonArray(timings.Skip(2).Select(x => (JsonNode)new JsonObject
                {
                    ["name"] = x.Name, ["ms"] = BenchJson.Num(x.MedianMs), ["min_ms"] = BenchJson.Num(x.MinMs),
                    ["gflops"] = BenchJson.Num(Measure.Gflops(flops, x.MedianMs)),
                }).ToArray()),
            });
            table.AddRow(Markup.Escape(name), m.ToString(), n.ToString(), k.ToString(), $"{lms:F3}", $"{oms:F3}",
                $"{Measure.Gflops(flops, lms):F1}", $"{Measure.Gflops(flops, oms):F1}", $"{oms / lms:F2}");
            foreach (var x in timings.Skip(2))
                table.AddRow(Markup.Escape($"  {x.Name}"), "", "", "", $"{x.MedianMs:F3}", "", $"{Measure.Gflops(flops, x.MedianMs):F1}", "", $"{oms / x.MedianMs:F2}");
        }
        if (json)
        {
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "gemm", ["threads"] = threads, ["tier"] = IsaTiers.Best.ToString(),
                ["kernel"] = Gemm.Describe(), ["repeats"] = repeats, ["results"] = results,
            }));
        }
        else
        {
            AnsiConsole.Write(table);
        }
        return 0;
    }

    private static double MaxRelDiff(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double maxAbs = 1e-30, maxDiff = 0;
        for (int i = 0; i < x.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(y[i]));
            maxDiff = Math.Max(maxDiff, Math.Abs(x[i] - y[i]));
        }
        return maxDiff / maxAbs;
    }
}
