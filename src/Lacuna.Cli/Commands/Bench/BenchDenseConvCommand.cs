using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench dense-conv</c>: dense conv + bias + ReLU at batch 1 on ResNet-50 and VGG-16 layer shapes.
/// Contenders, interleaved on the same buffers: the plan (its own choice of algorithm), each algorithm forced
/// (im2col+GEMM, direct), and OpenBLAS (im2col in C#, cblas_sgemm, then bias + ReLU).
/// ratio_vs_openblas = openblas_im2col_ms / lacuna_ms (above 1: Lacuna is faster).
/// A contender slower than <see cref="SlowCallMs"/> per call (e.g. a placeholder GEMM) is timed once, not interleaved.
/// </summary>
public static class BenchDenseConvCommand
{
    private const double SlowCallMs = 1000;

    /// <summary>(name, C, H, W, M, kernel, stride, pad); square kernels, symmetric pads, groups 1.</summary>
    public static readonly (string Name, int C, int H, int W, int M, int K, int S, int P)[] Shapes =
    {
        ("rn50 conv1 7x7/2",     3, 224, 224,   64, 7, 2, 3),
        ("rn50 3x3 64@56",      64,  56,  56,   64, 3, 1, 1),
        ("rn50 3x3 128@28",    128,  28,  28,  128, 3, 1, 1),
        ("rn50 3x3 256@14",    256,  14,  14,  256, 3, 1, 1),
        ("rn50 3x3 512@7",     512,   7,   7,  512, 3, 1, 1),
        ("rn50 3x3/2 128@56",  128,  56,  56,  128, 3, 2, 1),
        ("rn50 3x3/2 256@28",  256,  28,  28,  256, 3, 2, 1),
        ("rn50 3x3/2 512@14",  512,  14,  14,  512, 3, 2, 1),
        ("rn50 1x1 256->64@56",  256, 56, 56,   64, 1, 1, 0),
        ("rn50 1x1 512->128@28", 512, 28, 28,  128, 1, 1, 0),
        ("rn50 1x1 1024->256@14", 1024, 14, 14, 256, 1, 1, 0),
        ("rn50 1x1 2048->512@7", 2048, 7, 7,   512, 1, 1, 0),
        ("rn50 1x1 64->256@56",   64, 56, 56,  256, 1, 1, 0),
        ("rn50 1x1 128->512@28", 128, 28, 28,  512, 1, 1, 0),
        ("rn50 1x1 256->1024@14", 256, 14, 14, 1024, 1, 1, 0),
        ("rn50 1x1 512->2048@7", 512, 7, 7,   2048, 1, 1, 0),
        ("vgg16 3x3 64@224",    64, 224, 224,   64, 3, 1, 1),
        ("vgg16 3x3 128@112",  128, 112, 112,  128, 3, 1, 1),
        ("vgg16 3x3 256@56",   256,  56,  56,  256, 3, 1, 1),
        ("vgg16 3x3 512@28",   512,  28,  28,  512, 3, 1, 1),
        ("vgg16 3x3 512@14",   512,  14,  14,  512, 3, 1, 1),
    };

    public static Command Build()
    {
        var set = new Option<string>("--set") { Description = "Layer set: all, rn50 or vgg16.", DefaultValueFactory = _ => "all" };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(3);
        var warmup = CommonOptions.Warmup(1);
        var json = CommonOptions.Json();
        var cmd = new Command("dense-conv", "Dense conv+bias+ReLU: Lacuna plan, im2col+GEMM, direct vs OpenBLAS im2col+sgemm (batch 1).")
        {
            set, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            string s = pr.GetValue(set) ?? "all";
            var shapes = Shapes.Where(x => s == "all" || x.Name.StartsWith(s + " ", StringComparison.Ordinal)).ToArray();
            if (shapes.Length == 0) { Console.Error.WriteLine($"--set must be all, rn50 or vgg16 (got '{s}')."); return 2; }
            if (!OpenBlas.IsAvailable) { Console.Error.WriteLine(OpenBlas.Problem); return 3; }
            return Run(shapes, t, Math.Max(1, pr.GetValue(repeat)), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    private static unsafe int Run((string Name, int C, int H, int W, int M, int K, int S, int P)[] shapes, int threads, int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        OpenBlas.SetThreads(threads);
        var results = new JsonArray();
        var table = new Table().Title($"Dense conv + bias + ReLU, batch 1, {threads} thread(s), median of {repeats}; ratio = openblas_ms / lacuna_ms")
            .AddColumns("layer", "plan picks", "lacuna ms", "im2col+gemm ms", "direct ms", "openblas ms", "lacuna GFLOP/s", "ratio");
        if (!json) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(IsaTiers.Describe())}; gemm: {Markup.Escape(Gemm.Describe())}[/]");
        foreach (var (name, c, h, w, m, k, s, pad) in shapes)
        {
            var p = Conv2dParams.Square(k, s, pad);
            int[] inShape = { 1, c, h, w }, wShape = { m, c, k, k };
            int oh = p.OutputHeight(h), ow = p.OutputWidth(w), kk = c * k * k, hw = oh * ow;
            using var x = Tensor.Random(1, inShape);
            using var wt = Tensor.Random(2, wShape, -0.1f, 0.1f);
            using var bias = Tensor.Random(3, new[] { m });
            using var y1 = new Tensor(1, m, oh, ow);
            using var y2 = new Tensor(1, m, oh, ow);
            using var y3 = new Tensor(1, m, oh, ow);
            using var y4 = new Tensor(1, m, oh, ow);
            using var col = new Tensor(kk, hw);
            var plan = DenseConv2dPlan.Create(wt.Span, wShape, bias.Span, p, h, w, Activation.Relu);
            var im2col = DenseConv2dPlan.Create(wt.Span, wShape, bias.Span, p, h, w, Activation.Relu, ConvAlgorithm.Im2ColGemm);
            var direct = DenseConv2dPlan.Create(wt.Span, wShape, bias.Span, p, h, w, Activation.Relu, ConvAlgorithm.Direct);
            float* px = x.Pointer, pw = wt.Pointer, pb = bias.Pointer, pcol = col.Pointer, py4 = y4.Pointer;
            var contenders = new (string, Action)[]
            {
                ("lacuna", () => plan.Run(x.Span, y1.Span, 1, threads)),
                ("im2col_gemm", () => im2col.Run(x.Span, y2.Span, 1, threads)),
                ("direct", () => direct.Run(x.Span, y3.Span, 1, threads)),
                ("openblas_im2col", () => OpenBlasConv(px, c, h, w, pw, pb, m, k, s, pad, oh, ow, pcol, py4)),
            };
            // Every direct tile of the best tier too, so the plan's tile choice can be checked against the alternatives.
            var tiles = DenseConv2dPlan.DirectTiles;
            var tileOut = new Tensor(1, m, oh, ow);
            var tilePlans = tiles.Select(tn => DenseConv2dPlan.Create(wt.Span, wShape, bias.Span, p, h, w, Activation.Relu, ConvAlgorithm.Direct, tn)).ToArray();
            contenders = contenders.Concat(tilePlans.Select((tp, i) => ("direct " + tiles[i], (Action)(() => tp.Run(x.Span, tileOut.Span, 1, threads))))).ToArray();
            var ms = TimeAll(contenders, warmup, repeats);
            tileOut.Dispose();
            var tileMs = new JsonObject();
            for (int i = 0; i < tiles.Count; i++) tileMs[tiles[i]] = BenchJson.Num(ms[4 + i]);
            double flops = 2.0 * m * hw * kk;
            double diff = Math.Max(MaxRelDiff(y1.Span, y4.Span), Math.Max(MaxRelDiff(y2.Span, y4.Span), MaxRelDiff(y3.Span, y4.Span)));
            if (diff > 1e-3) Console.Error.WriteLine($"warning: {name}: Lacuna and OpenBLAS differ by {diff:E2} (relative)");
            string shape = $"{c}x{h}x{w} -> {m}x{oh}x{ow}, k{k} s{s} p{pad}";
            results.Add(new JsonObject
            {
                ["name"] = name, ["shape"] = shape, ["algorithm"] = plan.Describe(), ["direct_tile"] = direct.Describe(),
                ["lacuna_ms"] = BenchJson.Num(ms[0]), ["im2col_gemm_ms"] = BenchJson.Num(ms[1]),
                ["direct_ms"] = BenchJson.Num(ms[2]), ["openblas_im2col_ms"] = BenchJson.Num(ms[3]),
                ["direct_tiles_ms"] = tileMs,
                ["lacuna_gflops"] = BenchJson.Num(Measure.Gflops(flops, ms[0])),
                ["ratio_vs_openblas"] = BenchJson.Num(ms[3] / ms[0]),
            });
            table.AddRow(Markup.Escape(name), Markup.Escape(plan.Describe()), $"{ms[0]:F3}", $"{ms[1]:F3}", $"{ms[2]:F3}", $"{ms[3]:F3}",
                $"{Measure.Gflops(flops, ms[0]):F1}", $"{ms[3] / ms[0]:F2}");
        }
        if (json)
        {
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "dense-conv", ["threads"] = threads, ["tier"] = IsaTiers.Best.ToString(),
                ["gemm"] = Gemm.Describe(), ["repeats"] = repeats, ["results"] = results,
            }));
        }
        else AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>
    /// One untimed call each (the warm-up, and a guard): contenders over <see cref="SlowCallMs"/> are reported
    /// from that call alone; the rest run through <see cref="Measure.Interleaved"/>.
    /// </summary>
    private static double[] TimeAll((string Name, Action Run)[] contenders, int warmup, int repeats)
    {
        var ms = new double[contenders.Length];
        var fast = new List<int>();
        for (int i = 0; i < contenders.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            contenders[i].Run();
            ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (ms[i] < SlowCallMs) fast.Add(i);
        }
        var timings = Measure.Interleaved(Math.Max(0, warmup - 1), repeats, fast.Select(i => contenders[i]).ToArray());
        for (int j = 0; j < fast.Count; j++) ms[fast[j]] = timings[j].MedianMs;
        return ms;
    }

    /// <summary>The baseline a C# user would write: im2col in C#, cblas_sgemm, then bias + ReLU in one pass.</summary>
    internal static unsafe void OpenBlasConv(float* x, int c, int h, int w, float* wt, float* bias, int m, int k, int s, int pad,
        int oh, int ow, float* col, float* y)
    {
        int hw = oh * ow;
        for (int ch = 0; ch < c; ch++)
            for (int kh = 0; kh < k; kh++)
                for (int kw = 0; kw < k; kw++)
                {
                    float* dst = col + (long)((ch * k + kh) * k + kw) * hw;
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int iy = oy * s - pad + kh;
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int ix = ox * s - pad + kw;
                            dst[oy * ow + ox] = (uint)iy < (uint)h && (uint)ix < (uint)w ? x[((long)ch * h + iy) * w + ix] : 0f;
                        }
                    }
                }
        int kk = c * k * k;
        OpenBlas.Sgemm(m, hw, kk, wt, kk, false, col, hw, false, y, hw);
        for (int r = 0; r < m; r++)
        {
            var row = new Span<float>(y + (long)r * hw, hw);
            float b = bias[r];
            for (int j = 0; j < row.Length; j++) row[j] = Math.Max(row[j] + b, 0f);
        }
    }

    internal static double MaxRelDiff(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
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
