using System.CommandLine;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Kernels;
using Lacuna.Kernels.Attention;
using Lacuna.Kernels.Linear;
using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench attention</c> and <c>lacuna bench linear</c>: the transformer kernels against their baselines,
/// interleaved in one process, medians after warm-up.
/// <list type="bullet">
/// <item>attention: the fused kernel (<see cref="ScaledDotProductAttention"/>, score tiles in cache) vs the unfused
/// form a graph runs today, per head: S = Q·Kᵀ·scale on the blocked GEMM into a materialised [seq × seq] buffer, the
/// mask added, <see cref="Softmax"/>, then S·V on the GEMM. speedup_vs_unfused = unfused_ms / fused_ms.</item>
/// <item>linear: <see cref="TokenLinearPlan"/>'s candidates on one magnitude-pruned weight: dense GEMM vs sparse
/// (SpMM between transposes), the SpMM alone (what the transposes cost), and the candidate the plan chose by timing.
/// speedup_sparse_vs_dense = dense_ms / sparse_ms.</item>
/// </list>
/// </summary>
public static class BenchTransformerCommands
{
    public static Command Attention()
    {
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat();
        var warmup = CommonOptions.Warmup();
        var json = CommonOptions.Json();
        var batch = new Option<int>("--batch") { Description = "Sequences.", DefaultValueFactory = _ => 1 };
        var seq = new Option<int>("--seq") { Description = "Sequence length (queries = keys).", DefaultValueFactory = _ => 128 };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 12 };
        var dhead = new Option<int>("--dhead") { Description = "Head size.", DefaultValueFactory = _ => 64 };
        var cmd = new Command("attention", "Fused scaled-dot-product attention vs unfused GEMM + Softmax + GEMM per head.") { threads, repeat, warmup, json, batch, seq, heads, dhead };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            int b = pr.GetValue(batch), s = pr.GetValue(seq), h = pr.GetValue(heads), d = pr.GetValue(dhead);
            if (b < 1 || s < 1 || h < 1 || d < 1) { Console.Error.WriteLine($"--batch, --seq, --heads and --dhead must be positive (got {b}, {s}, {h}, {d})."); return 2; }
            WorkerPool.DefaultThreads = t;
            return RunAttention(b, s, h, d, t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    private static int RunAttention(int batch, int seq, int heads, int d, int threads, int repeats, int warmup, bool json)
    {
        var shape = new AttentionShape(batch, heads, seq, seq, d);
        var layout = AttentionLayout.HeadMajor(heads, seq, d);
        int n = batch * heads * seq * d;
        var rng = new DeterministicRandom(3);
        float[] q = new float[n], k = new float[n], v = new float[n];
        rng.Fill(q); rng.Fill(k); rng.Fill(v);
        // BERT's padding mask: the last eighth of the keys of every sequence masked.
        var mask = new float[batch * seq];
        for (int i = 0; i < mask.Length; i++) mask[i] = i % seq >= seq - seq / 8 ? -10000f : 0f;
        var maskShape = new AttentionMask(batch, 1);
        float scale = 1f / MathF.Sqrt(d);
        float[] fused = new float[n], unfused = new float[n], scores = new float[seq * seq];
        void Fused() => ScaledDotProductAttention.Compute(shape, q, layout, k, layout, v, layout, fused, layout, scale, mask, maskShape, threads);
        void Unfused()
        {
            int hs = seq * d;
            for (int b = 0; b < batch; b++)
                for (int h = 0; h < heads; h++)
                {
                    int at = (b * heads + h) * hs;
                    Gemm.Compute(seq, seq, d, q.AsSpan(at, hs), d, false, k.AsSpan(at, hs), d, true, scores, seq, alpha: scale, threads: threads);
                    for (int i = 0; i < seq; i++) TensorPrimitives.Add(scores.AsSpan(i * seq, seq), mask.AsSpan(b * seq, seq), scores.AsSpan(i * seq, seq));
                    Softmax.Compute(scores, [seq, seq], scores, -1, threads);
                    Gemm.Compute(seq, d, seq, scores, seq, false, v.AsSpan(at, hs), d, false, unfused.AsSpan(at, hs), d, threads: threads);
                }
        }
        var ms = Measure.Interleaved(warmup, repeats, [("fused", Fused), ("unfused", Unfused)]).Select(m => m.MedianMs).ToArray();
        var reference = new float[n];
        ReferenceAttention.Compute(shape, q, layout, k, layout, v, layout, reference, layout, scale, mask, maskShape);
        double diffFused = MaxAbsDiff(fused, reference), diffUnfused = MaxAbsDiff(unfused, reference);
        double flops = 4.0 * batch * heads * seq * seq * d;
        var doc = new JsonObject
        {
            ["bench"] = "attention", ["cpu"] = CpuInfo.Current.Describe(), ["tier"] = IsaTiers.Best.ToString(), ["threads"] = threads,
            ["batch"] = batch, ["seq"] = seq, ["heads"] = heads, ["dhead"] = d, ["kernel"] = ScaledDotProductAttention.Describe(),
            ["fused_ms"] = BenchJson.Num(ms[0]), ["unfused_ms"] = BenchJson.Num(ms[1]), ["speedup_vs_unfused"] = BenchJson.Num(ms[1] / ms[0]),
            ["fused_gflops"] = BenchJson.Num(Measure.Gflops(flops, ms[0])), ["unfused_gflops"] = BenchJson.Num(Measure.Gflops(flops, ms[1])),
            ["fused_max_abs_diff_vs_reference"] = BenchJson.Num(diffFused, 8), ["unfused_max_abs_diff_vs_reference"] = BenchJson.Num(diffUnfused, 8),
        };
        if (json) Console.WriteLine(BenchJson.Write(doc));
        else
        {
            Console.WriteLine($"attention batch {batch}, seq {seq}, {heads} heads × {d}, {threads} thread(s), median of {repeats} interleaved rounds");
            Console.WriteLine($"fused   {ms[0],9:F3} ms  {Measure.Gflops(flops, ms[0]),6:F1} GFLOP/s  max |diff| vs reference {diffFused:E1}");
            Console.WriteLine($"unfused {ms[1],9:F3} ms  {Measure.Gflops(flops, ms[1]),6:F1} GFLOP/s  max |diff| vs reference {diffUnfused:E1}");
            Console.WriteLine($"speedup {ms[1] / ms[0]:F2}x ({ScaledDotProductAttention.Describe()})");
        }
        return 0;
    }

    public static Command Linear()
    {
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat();
        var warmup = CommonOptions.Warmup();
        var json = CommonOptions.Json();
        var tokens = new Option<int>("--tokens") { Description = "Token rows T (batch × sequence length).", DefaultValueFactory = _ => 128 };
        var inF = new Option<int>("--in") { Description = "Input features.", DefaultValueFactory = _ => 768 };
        var outF = new Option<int>("--out") { Description = "Output features.", DefaultValueFactory = _ => 3072 };
        var sparsity = new Option<double>("--sparsity") { Description = "Magnitude-pruned fraction of zero weights.", DefaultValueFactory = _ => 0.9 };
        var gelu = new Option<bool>("--gelu") { Description = "Fused Gelu epilogue (the BERT FFN's first layer)." };
        var cmd = new Command("linear", "Token-linear layer Y = X·Wᵀ + b: dense GEMM vs SpMM with tokens as the dense dimension.") { threads, repeat, warmup, json, tokens, inF, outF, sparsity, gelu };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            int tk = pr.GetValue(tokens), i = pr.GetValue(inF), o = pr.GetValue(outF);
            double s = pr.GetValue(sparsity);
            if (tk < 1 || i < 1 || o < 1) { Console.Error.WriteLine($"--tokens, --in and --out must be positive (got {tk}, {i}, {o})."); return 2; }
            if (!(s >= 0 && s < 1)) { Console.Error.WriteLine($"--sparsity must be in [0, 1) (got {s})."); return 2; }
            WorkerPool.DefaultThreads = t;
            return RunLinear(tk, i, o, s, pr.GetValue(gelu), t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    private static int RunLinear(int tokens, int inF, int outF, double sparsity, bool gelu, int threads, int repeats, int warmup, bool json)
    {
        var rng = new DeterministicRandom(5);
        var w = new float[outF * inF];
        for (int i = 0; i < w.Length; i++) w[i] = (float)rng.NextGaussian();
        if (sparsity > 0) Pruner.Magnitude(w, sparsity);
        var bias = new float[outF];
        rng.Fill(bias, -0.1f, 0.1f);
        var act = gelu ? TokenLinearActivation.Gelu : TokenLinearActivation.None;
        var plan = TokenLinearPlan.Create(w, outF, inF, bias, act);
        var x = new float[tokens * inF];
        rng.Fill(x);
        float[] yDense = new float[tokens * outF], ySparse = new float[tokens * outF], yPanels = new float[tokens * outF], yChosen = new float[tokens * outF];
        var contenders = new List<(string, Action)> { ("dense-gemm", () => plan.RunCandidate(0, x, tokens, yDense, threads)) };
        bool hasSparse = plan.CandidateNames.Count > 1;
        SpmmPlan? spmm = null;
        float[]? xT = null, yT = null;
        if (hasSparse)
        {
            contenders.Add(("sparse", () => plan.RunCandidate(1, x, tokens, ySparse, threads)));
            contenders.Add(("sparse-panels", () => plan.RunCandidate(2, x, tokens, yPanels, threads)));
            spmm = SpmmPlan.Create(Lacuna.Formats.CsrMatrix.FromDense(w, outF, inF), bias);
            xT = new float[inF * tokens];
            yT = new float[outF * tokens];
            contenders.Add(("spmm-only", () => spmm.Run(xT, tokens, yT, threads)));
        }
        string chosen = plan.ChosenFor(tokens, threads); // timed here, before the measured rounds
        contenders.Add(("chosen", () => plan.Run(x, tokens, yChosen, threads)));
        var ms = Measure.Interleaved(warmup, repeats, contenders).ToDictionary(m => m.Name, m => m.MedianMs);
        double diff = hasSparse ? Math.Max(MaxAbsDiff(ySparse, yDense), MaxAbsDiff(yPanels, yDense)) / Math.Max(1e-30, yDense.Max(MathF.Abs)) : 0;
        double denseFlops = 2.0 * tokens * inF * outF;
        var doc = new JsonObject
        {
            ["bench"] = "linear", ["cpu"] = CpuInfo.Current.Describe(), ["tier"] = IsaTiers.Best.ToString(), ["threads"] = threads,
            ["tokens"] = tokens, ["in"] = inF, ["out"] = outF, ["sparsity"] = BenchJson.Num(plan.Sparsity), ["epilogue"] = act.ToString(),
            ["dense_ms"] = BenchJson.Num(ms["dense-gemm"]), ["dense_gflops"] = BenchJson.Num(Measure.Gflops(denseFlops, ms["dense-gemm"])),
            ["chosen"] = chosen, ["chosen_ms"] = BenchJson.Num(ms["chosen"]), ["describe"] = plan.Describe(),
        };
        if (hasSparse)
        {
            doc["sparse_ms"] = BenchJson.Num(ms["sparse"]);
            doc["spmm_only_ms"] = BenchJson.Num(ms["spmm-only"]);
            doc["transpose_share"] = BenchJson.Num(1 - ms["spmm-only"] / ms["sparse"]);
            doc["speedup_sparse_vs_dense"] = BenchJson.Num(ms["dense-gemm"] / ms["sparse"]);
            doc["sparse_panels_ms"] = BenchJson.Num(ms["sparse-panels"]);
            doc["speedup_sparse_panels_vs_dense"] = BenchJson.Num(ms["dense-gemm"] / ms["sparse-panels"]);
            doc["sparse_max_rel_diff_vs_dense"] = BenchJson.Num(diff, 8);
        }
        if (plan.MeasuredMs(tokens, threads) is { } planned)
            doc["planner_ms"] = new JsonObject(planned.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)BenchJson.Num(p.Value))));
        if (json) Console.WriteLine(BenchJson.Write(doc));
        else
        {
            Console.WriteLine($"token-linear T={tokens}, {inF} → {outF}, sparsity {plan.Sparsity:P1}, {act}, {threads} thread(s), median of {repeats} interleaved rounds");
            foreach (var (name, value) in ms) Console.WriteLine($"{name,-11} {value,9:F3} ms");
            if (hasSparse) Console.WriteLine($"sparse vs dense {ms["dense-gemm"] / ms["sparse"]:F2}x, in panels {ms["dense-gemm"] / ms["sparse-panels"]:F2}x; transposes {(1 - ms["spmm-only"] / ms["sparse"]):P1} of the sparse time; max rel diff {diff:E1}");
            Console.WriteLine($"plan chose {chosen}");
        }
        return 0;
    }

    private static double MaxAbsDiff(float[] a, float[] b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
