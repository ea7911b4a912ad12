using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Tasd;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench tasd-a --density 0.5,0.3 --series auto,2:4+1:8</c>: TASD-A (<see cref="TasdActivationPlan"/>) on a
/// ReLU-like X [K×N] of the given density (|Gaussian| values, zero elsewhere, i.i.d. positions) times a dense random W
/// [M×K], against Lacuna's dense GEMM on the same exact W·X, interleaved in one process (median of repeats). Series
/// "auto" is <see cref="TasdActivationSeries.Choose"/> on the measured density. Per case: tasd_ms, dense_ms,
/// speedup_vs_dense, kept_norm_fraction (‖Σ terms‖/‖X‖), kept_density (kept entries / K·N: the MACs done) and
/// output_rel_error = ‖Y_tasd − Y_dense‖/‖Y_dense‖. Without --m/--k/--n: four ResNet-50 1x1 layers at batch 1.
/// </summary>
public static class BenchTasdActivationCommand
{
    public static readonly (string Name, int M, int K, int N)[] DefaultShapes =
    {
        ("rn50 g1 1x1 64->256", 256, 64, 3136),
        ("rn50 g1 1x1 256->64", 64, 256, 3136),
        ("rn50 g3 1x1 256->1024", 1024, 256, 196),
        ("rn50 g4 1x1 2048->512", 512, 2048, 49),
    };

    public static Command Build()
    {
        var m = new Option<int?>("--m") { Description = "Rows of W (output channels)." };
        var k = new Option<int?>("--k") { Description = "Columns of W (input channels)." };
        var n = new Option<int?>("--n") { Description = "Columns of X (pixels or tokens)." };
        var density = new Option<string>("--density") { Description = "Comma-separated activation densities (fraction of non-zeros) in (0, 1].", DefaultValueFactory = _ => "0.5,0.3" };
        var series = new Option<string>("--series") { Description = "Comma-separated TASD series (e.g. 2:4+1:8) or 'auto' (chosen from the measured density).", DefaultValueFactory = _ => "auto,2:4+1:8" };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(7);
        var warmup = CommonOptions.Warmup(2);
        var json = CommonOptions.Json();
        var cmd = new Command("tasd-a", "Activation-side TASD: ReLU activations decomposed at run time into N:M terms, times dense W, vs Lacuna dense GEMM.")
        {
            m, k, n, density, series, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            var densities = new List<double>();
            foreach (string d in pr.GetValue(density)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!double.TryParse(d, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0 && v <= 1))
                { Console.Error.WriteLine($"--density: '{d}' is not a number in (0, 1]."); return 2; }
                densities.Add(v);
            }
            var specs = new List<TasdSpec?>();
            try
            {
                foreach (string s in pr.GetValue(series)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    specs.Add(s == "auto" ? null : TasdSpec.Parse(s));
                foreach (var s in specs) if (s is not null) TasdActivation.CheckSpec(s);
            }
            catch (ArgumentException e) { Console.Error.WriteLine(e.Message.Split('\n')[0]); return 2; }
            if (densities.Count == 0 || specs.Count == 0) { Console.Error.WriteLine("--density and --series need at least one entry each."); return 2; }
            int? mv = pr.GetValue(m), kv = pr.GetValue(k), nv = pr.GetValue(n);
            (string, int, int, int)[] shapes;
            if (mv is null && kv is null && nv is null) shapes = DefaultShapes;
            else if (mv is int mm && kv is int kk && nv is int nn)
            {
                if (mm < 1 || kk < 1 || nn < 1) { Console.Error.WriteLine($"--m, --k and --n must be positive (got {mm}, {kk}, {nn})."); return 2; }
                shapes = [($"{mm}x{kk}x{nn}", mm, kk, nn)];
            }
            else { Console.Error.WriteLine("Give all of --m, --k and --n, or none (four ResNet-50 1x1 layers)."); return 2; }
            return Run(shapes, densities, specs, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    /// <summary>ReLU-like X [k × n]: |Gaussian| where a uniform draw falls below the density, 0 elsewhere.</summary>
    public static float[] ReluActivation(int k, int n, double density, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        var x = new float[(long)k * n];
        for (int i = 0; i < x.Length; i++)
        {
            float g = (float)rng.NextGaussian();
            x[i] = rng.NextDouble() < density ? MathF.Abs(g) : 0f;
        }
        return x;
    }

    private static int Run((string Name, int M, int K, int N)[] shapes, List<double> densities, List<TasdSpec?> specs, int threads, int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        var results = new JsonArray();
        var table = new Table().Title($"TASD-A vs Lacuna dense GEMM, {threads} thread(s), median of {repeats}")
            .AddColumns("shape", "density", "series", "kept norm", "kept MACs", "output err", "tasd-a ms", "dense ms", "vs dense", "vs dense (min)");
        foreach (var (name, m, k, n) in shapes)
        {
            var w = new float[(long)m * k];
            new DeterministicRandom((ulong)(m * 7919 + k)).Fill(w);
            foreach (double d in densities)
            {
                var x = ReluActivation(k, n, d, (ulong)(k * 31 + n) + (ulong)(d * 1000));
                double measured = TasdActivationSeries.MeasureDensity(x);
                var yd = new float[(long)m * n];
                var yt = new float[(long)m * n];
                foreach (var requested in specs)
                {
                    var spec = requested ?? TasdActivationSeries.Choose(measured);
                    if (spec is null)
                    {
                        Console.Error.WriteLine($"{name} density {d}: 'auto' keeps this layer dense (no series covers {measured:F3} with the margin).");
                        continue;
                    }
                    var plan = TasdActivationPlan.Create(w, m, k, spec);
                    TasdActivationStats stats = default;
                    var timings = Measure.Interleaved(warmup, repeats, new (string, Action)[]
                    {
                        ("tasd-a", () => stats = plan.RunMeasured(x, n, yt, threads)),
                        ("dense", () => Gemm.Compute(m, n, k, w, k, false, x, n, false, yd, n, threads: threads)),
                    });
                    double err = RelError(yt, yd), tm = timings[0].MedianMs, dm = timings[1].MedianMs;
                    double minRatio = timings[1].MinMs / timings[0].MinMs;
                    string label = requested is null ? $"auto={spec}" : spec.ToString();
                    results.Add(new JsonObject
                    {
                        ["name"] = name, ["m"] = m, ["k"] = k, ["n"] = n, ["density"] = BenchJson.Num(d), ["measured_density"] = BenchJson.Num(measured),
                        ["series"] = spec.ToString(), ["auto"] = requested is null,
                        ["kept_norm_fraction"] = BenchJson.Num(stats.KeptNormFraction), ["residual_rel_norm"] = BenchJson.Num(stats.ResidualNorm),
                        ["kept_density"] = BenchJson.Num(stats.KeptDensity), ["output_rel_error"] = BenchJson.Num(err),
                        ["tasd_a_ms"] = BenchJson.Num(tm), ["lacuna_dense_ms"] = BenchJson.Num(dm), ["speedup_vs_dense"] = BenchJson.Num(dm / tm),
                        ["tasd_a_min_ms"] = BenchJson.Num(timings[0].MinMs), ["lacuna_dense_min_ms"] = BenchJson.Num(timings[1].MinMs),
                        ["speedup_vs_dense_min"] = BenchJson.Num(minRatio), ["plan"] = plan.Describe(),
                    });
                    table.AddRow(Markup.Escape(name), $"{d:F2}", Markup.Escape(label), $"{stats.KeptNormFraction:F4}", $"{stats.KeptDensity:F3}", $"{err:E2}",
                        $"{tm:F3}", $"{dm:F3}", $"{dm / tm:F2}", $"{minRatio:F2}");
                }
            }
        }
        if (json)
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "tasd-a", ["threads"] = threads, ["tier"] = IsaTiers.Best.ToString(), ["repeats"] = repeats, ["results"] = results,
            }));
        else AnsiConsole.Write(table);
        return 0;
    }

    private static double RelError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++) { double e = a[i] - b[i]; num += e * e; den += (double)b[i] * b[i]; }
        return den == 0 ? 0 : Math.Sqrt(num / den);
    }
}
