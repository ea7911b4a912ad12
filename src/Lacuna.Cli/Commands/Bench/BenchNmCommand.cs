using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench nm --pattern P</c>: a random W [M×K] pruned by any <see cref="SparsityPattern"/> (nm:2:4, nm:2:4:r8,
/// 2:4+1:8, unstructured, and whatever families are registered later), run on the pattern's own plan, against Lacuna's
/// dense GEMM and OpenBLAS sgemm on the same pruned W (densified) and the CSR SpMM plan on it, interleaved on the
/// same X [K×N]. Without --m/--k/--n: the ResNet-50 1x1 and 3x3 (im2col) layers at batch 1, with geomeans.
/// speedup_vs_X = X_ms / pattern_ms; gflops_dense_equivalent = 2·M·K·N / time; gflops_actual = 2·nnz·N / time.
/// </summary>
public static class BenchNmCommand
{
    /// <summary>The 1x1 and 3x3 layers of <see cref="BenchGemmCommand.ResNet50Shapes"/> (not the 7x7 stem or the square).</summary>
    public static (string Name, int M, int N, int K)[] DefaultShapes =>
        BenchGemmCommand.ResNet50Shapes.Where(s => s.Name.Contains("1x1") || s.Name.Contains("3x3")).ToArray();

    public static Command Build()
    {
        var pattern = new Option<string>("--pattern") { Description = "Sparsity pattern: nm:N:M, nm:N:M:rR, a TASD series such as 2:4+1:8, unstructured, ...", Required = true };
        var sparsity = new Option<double>("--sparsity") { Description = "Target sparsity for patterns whose sparsity is free (unstructured, block, gs).", DefaultValueFactory = _ => 0.9 };
        var m = new Option<int?>("--m") { Description = "Rows of W (output channels)." };
        var k = new Option<int?>("--k") { Description = "Columns of W (input channels × kernel window)." };
        var n = new Option<int?>("--n") { Description = "Columns of X (output pixels × batch)." };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(5);
        var warmup = CommonOptions.Warmup(2);
        var json = CommonOptions.Json();
        var cmd = new Command("nm", "Structured-sparse W·X on a pattern's own plan vs Lacuna dense GEMM, OpenBLAS and the CSR SpMM.")
        {
            pattern, sparsity, m, k, n, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            SparsityPattern p;
            try { p = SparsityPattern.Parse(pr.GetValue(pattern)!); }
            catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
            double s = pr.GetValue(sparsity);
            if (!(s >= 0 && s < 1)) { Console.Error.WriteLine($"--sparsity must be in [0, 1) (got {s})."); return 2; }
            int? mv = pr.GetValue(m), nv = pr.GetValue(n), kv = pr.GetValue(k);
            (string, int, int, int)[] shapes;
            if (mv is null && nv is null && kv is null) shapes = DefaultShapes;
            else if (mv is int mm && nv is int nn && kv is int kk)
            {
                if (mm < 1 || nn < 1 || kk < 1) { Console.Error.WriteLine($"--m, --k and --n must be positive (got {mm}, {kk}, {nn})."); return 2; }
                shapes = [($"{mm}x{kk}x{nn}", mm, nn, kk)];
            }
            else { Console.Error.WriteLine("Give all of --m, --k and --n, or none (the ResNet-50 1x1 and 3x3 layers)."); return 2; }
            if (!OpenBlas.IsAvailable) { Console.Error.WriteLine(OpenBlas.Problem); return 3; }
            return Run(p, s, shapes, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    private static unsafe int Run(SparsityPattern pattern, double sparsity, (string Name, int M, int N, int K)[] shapes, int threads, int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        OpenBlas.SetThreads(threads);
        var results = new JsonArray();
        var vsDense = new List<double>();
        var vsBlas = new List<double>();
        var vsCsr = new List<double>();
        var minVsDense = new List<double>();
        var minVsCsr = new List<double>();
        var table = new Table().Title($"{Markup.Escape(pattern.Name)}{(pattern.SparsityIsFree ? $" at {sparsity}" : "")}, {threads} thread(s), median of {repeats}")
            .AddColumns("shape", "M", "K", "N", "sparsity", "pattern ms", "dense ms", "openblas ms", "csr ms", "GFLOP/s eq", "GFLOP/s act", "vs dense", "vs openblas", "vs csr");
        foreach (var (name, m, n, k) in shapes)
        {
            using var wt = Tensor.Random(11, [m, k]);
            var w = wt.Span.ToArray();
            pattern.Prune(w, m, k, sparsity);
            if (pattern.Violation(w, m, k) is { } bad) { Console.Error.WriteLine($"{name}: pruned W breaks {pattern.Name}: {bad}"); return 1; }
            var plan = pattern.CreatePlan(w, m, k, default, default);
            if (plan is null) { Console.Error.WriteLine($"{name}: pattern {pattern.Name} has no plan for [{m}×{k}]."); return 1; }
            var csrW = CsrMatrix.FromDense(w, m, k);
            var csr = SpmmPlan.Create(csrW);
            using var x = Tensor.Random(7, [k, n]);
            using var dense = Tensor.FromArray(w, m, k);
            using var yp = new Tensor(m, n);
            using var yd = new Tensor(m, n);
            using var yo = new Tensor(m, n);
            using var yc = new Tensor(m, n);
            float* pd = dense.Pointer, px = x.Pointer, pyo = yo.Pointer;
            var timings = Measure.Interleaved(warmup, repeats, new (string, Action)[]
            {
                ("pattern", () => plan.Run(x.Span, n, yp.Span, threads)),
                ("dense", () => Gemm.Compute(m, n, k, dense.Span, k, false, x.Span, n, false, yd.Span, n, threads: threads)),
                ("openblas", () => OpenBlas.Sgemm(m, n, k, pd, k, false, px, n, false, pyo, n)),
                ("csr", () => csr.Run(x.Span, n, yc.Span, threads)),
            });
            double diff = BenchDenseConvCommand.MaxRelDiff(yp.Span, yo.Span);
            if (diff > 1e-3) Console.Error.WriteLine($"warning: {name}: {pattern.Name} plan and OpenBLAS differ by {diff:E2} (relative)");
            double pm = timings[0].MedianMs, dm = timings[1].MedianMs, om = timings[2].MedianMs, cm = timings[3].MedianMs;
            double eq = Measure.Gflops(2.0 * m * k * n, pm), act = Measure.Gflops(2.0 * csrW.Nnz * n, pm);
            vsDense.Add(dm / pm); vsBlas.Add(om / pm); vsCsr.Add(cm / pm);
            minVsDense.Add(timings[1].MinMs / timings[0].MinMs); minVsCsr.Add(timings[3].MinMs / timings[0].MinMs);
            results.Add(new JsonObject
            {
                ["name"] = name, ["m"] = m, ["k"] = k, ["n"] = n, ["nnz"] = csrW.Nnz, ["sparsity"] = BenchJson.Num(csrW.Sparsity),
                ["pattern_ms"] = BenchJson.Num(pm), ["lacuna_dense_ms"] = BenchJson.Num(dm), ["openblas_ms"] = BenchJson.Num(om), ["csr_ms"] = BenchJson.Num(cm),
                ["gflops_dense_equivalent"] = BenchJson.Num(eq), ["gflops_actual"] = BenchJson.Num(act),
                ["speedup_vs_dense"] = BenchJson.Num(dm / pm), ["speedup_vs_openblas"] = BenchJson.Num(om / pm), ["speedup_vs_csr"] = BenchJson.Num(cm / pm),
                ["max_rel_error_vs_openblas"] = BenchJson.Num(diff),
                // Minimums too: on a shared machine noise only adds time, so min ratios show the kernels' own speed.
                ["pattern_min_ms"] = BenchJson.Num(timings[0].MinMs), ["lacuna_dense_min_ms"] = BenchJson.Num(timings[1].MinMs),
                ["openblas_min_ms"] = BenchJson.Num(timings[2].MinMs), ["csr_min_ms"] = BenchJson.Num(timings[3].MinMs),
                ["plan"] = plan.Describe(),
            });
            table.AddRow(Markup.Escape(name), m.ToString(), k.ToString(), n.ToString(), $"{csrW.Sparsity:F3}", $"{pm:F3}", $"{dm:F3}", $"{om:F3}", $"{cm:F3}",
                $"{eq:F1}", $"{act:F1}", $"{dm / pm:F2}", $"{om / pm:F2}", $"{cm / pm:F2}");
        }
        double gDense = Measure.GeometricMean(vsDense), gBlas = Measure.GeometricMean(vsBlas), gCsr = Measure.GeometricMean(vsCsr);
        if (json)
        {
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "nm", ["pattern"] = pattern.Name, ["sparsity_requested"] = pattern.SparsityIsFree ? BenchJson.Num(sparsity) : null,
                ["threads"] = threads, ["tier"] = IsaTiers.Best.ToString(), ["repeats"] = repeats, ["results"] = results,
                ["summary"] = new JsonObject
                {
                    ["shapes"] = vsDense.Count,
                    ["geomean_speedup_vs_dense"] = BenchJson.Num(gDense),
                    ["geomean_speedup_vs_openblas"] = BenchJson.Num(gBlas),
                    ["geomean_speedup_vs_csr"] = BenchJson.Num(gCsr),
                    // The same ratios from each contender's fastest repeat: on a loaded machine the steadier estimate.
                    ["geomean_min_speedup_vs_dense"] = BenchJson.Num(Measure.GeometricMean(minVsDense)),
                    ["geomean_min_speedup_vs_csr"] = BenchJson.Num(Measure.GeometricMean(minVsCsr)),
                },
            }));
        }
        else
        {
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"geomean over {vsDense.Count} shape(s): vs dense {gDense:F2}x, vs OpenBLAS {gBlas:F2}x, vs CSR {gCsr:F2}x"
                + $" (fastest repeats: vs dense {Measure.GeometricMean(minVsDense):F2}x, vs CSR {Measure.GeometricMean(minVsCsr):F2}x)");
        }
        return 0;
    }
}
