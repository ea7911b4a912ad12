using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Kernels;
using Lacuna.Kernels.Layout;
using Lacuna.Kernels.Normalization;
using Lacuna.Kernels.Pooling;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench ops</c>: each fast layer kernel (normalization, pooling, layout, 3-D convolution) against the scalar reference it
/// replaces, on a ResNet / DenseNet / Inception / ShuffleNet-sized shape; same input, interleaved, median of repeats.
/// speedup = reference_ms / fast_ms. The reference is single-threaded by definition; the fast kernel runs at --threads.
/// Each case also reports the largest difference between the two outputs.
/// </summary>
public static class BenchOpsCommand
{
    private sealed record Case(string Name, string Shape, float[] FastOut, float[] RefOut, Action Fast, Action Reference);

    public static Command Build()
    {
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat();
        var warmup = CommonOptions.Warmup();
        var json = CommonOptions.Json();
        var only = new Option<string?>("--only") { Description = "Run only the cases whose name contains this text." };
        var cmd = new Command("ops", "Layer kernels (BatchNorm, pools, Concat, Softmax, Transpose, Pad, LRN, ...) vs their scalar references.")
        {
            threads, repeat, warmup, json, only,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            int r = pr.GetValue(repeat);
            if (r < 1) { Console.Error.WriteLine($"--repeat must be at least 1 (got {r})."); return 2; }
            return Run(t, r, Math.Max(0, pr.GetValue(warmup)), pr.GetValue(json), pr.GetValue(only));
        });
        return cmd;
    }

    private static float[] Random(int[] shape, ulong seed, float min = -1f, float max = 1f)
    {
        var data = new float[shape.Aggregate(1, (a, d) => a * d)];
        new DeterministicRandom(seed).Fill(data, min, max);
        return data;
    }

    private static string Format(int[] shape) => $"[{string.Join(",", shape)}]";

    private static IEnumerable<Case> Cases(int threads)
    {
        {
            int[] s = { 1, 256, 56, 56 };
            var x = Random(s, 1);
            var (sc, bi, mu, va) = (Random([256], 2), Random([256], 3), Random([256], 4), Random([256], 5, 0.1f, 2f));
            float[] y = new float[x.Length], r = new float[x.Length];
            yield return new("BatchNormalization", Format(s), y, r,
                () => BatchNorm.Compute(x, s, sc, bi, mu, va, y, threads: threads),
                () => ReferenceNormalization.BatchNormalization(x, s, sc, bi, mu, va, r));
        }
        {
            int[] s = { 1, 64, 56, 56 };
            var x = Random(s, 6);
            var (sc, bi) = (Random([64], 7), Random([64], 8));
            float[] y = new float[x.Length], r = new float[x.Length];
            yield return new("InstanceNormalization", Format(s), y, r,
                () => InstanceNorm.Compute(x, s, sc, bi, y, threads: threads),
                () => ReferenceNormalization.InstanceNormalization(x, s, sc, bi, r));
        }
        {
            int[] s = { 1, 128, 28, 28 };
            var parts = new List<float[]> { Random(s, 9), Random(s, 10) };
            var shapes = new List<int[]> { s, s };
            float[] y = new float[2 * parts[0].Length], r = new float[y.Length];
            yield return new("Concat axis 1", "2x" + Format(s), y, r,
                () => Concat.Compute(parts, shapes, 1, y, threads),
                () => ReferenceShapeOps.Concat(parts, shapes, 1, r));
        }
        {
            int[] s = { 1, 256, 28, 28 };
            var x = Random(s, 11);
            var fast = new List<float[]> { new float[x.Length / 2], new float[x.Length / 2] };
            var reference = new List<float[]> { new float[x.Length / 2], new float[x.Length / 2] };
            // The outputs compared are the first parts; both parts are written.
            yield return new("Split axis 1 in 2", Format(s), fast[0], reference[0],
                () => Split.Compute(x, s, 1, [128, 128], fast, threads),
                () => ReferenceShapeOps.Split(x, s, 1, [128, 128], reference));
        }
        foreach (var (name, s, p) in new[]
        {
            ("MaxPool 3x3/2 pad 1", new[] { 1, 64, 112, 112 }, Pool2dParams.Square(3, 2, 1)),
            ("MaxPool 3x3/2 ceil", new[] { 1, 192, 56, 56 }, Pool2dParams.Square(3, 2, 0, ceilMode: true)),
            ("AveragePool 3x3/1 pad 1", new[] { 1, 192, 28, 28 }, Pool2dParams.Square(3, 1, 1)),
            ("AveragePool 2x2/2", new[] { 1, 256, 56, 56 }, Pool2dParams.Square(2, 2)),
        })
        {
            var x = Random(s, 12);
            int[] os = p.OutputShape(s);
            float[] y = new float[os.Aggregate(1, (a, d) => a * d)], r = new float[y.Length];
            bool max = name.StartsWith("Max", StringComparison.Ordinal);
            yield return new(name, Format(s), y, r,
                max ? () => MaxPool2d.Compute(x, s, y, p, threads) : () => AveragePool2d.Compute(x, s, y, p, threads),
                max ? () => ReferencePool.MaxPool(x, s, r, p) : () => ReferencePool.AveragePool(x, s, r, p));
        }
        {
            // Reductions: over the last axis (rows, e.g. a norm per token) and over channels (accumulated rows).
            int[] s = { 1, 256, 28, 28 };
            var x = Random(s, 14);
            foreach (var kind in new[] { Lacuna.Kernels.Reduce.ReduceKind.L2, Lacuna.Kernels.Reduce.ReduceKind.LogSumExp, Lacuna.Kernels.Reduce.ReduceKind.Min })
            {
                string op = Lacuna.Kernels.Reduce.ReduceKernels.OperatorName(kind);
                float[] yr = new float[256 * 28], rr = new float[yr.Length], yc = new float[28 * 28], rc = new float[yc.Length];
                yield return new(op + " last axis", Format(s), yr, rr,
                    () => Lacuna.Kernels.Reduce.ReduceKernels.Rows(kind, x, 28, yr),
                    () => ReferenceReduce.Compute(op, x, s, [false, false, false, true], rr));
                yield return new(op + " axis 1", Format(s), yc, rc,
                    () => Lacuna.Kernels.Reduce.ReduceKernels.Columns(kind, x, 1, 256, 28 * 28, yc),
                    () => ReferenceReduce.Compute(op, x, s, [false, true, false, false], rc));
            }
            float[] ya = new float[28 * 28], ra = new float[ya.Length];
            yield return new("ArgMax axis 1", Format(s), ya, ra,
                () => Lacuna.Kernels.Reduce.ArgReduce.Run(x, 1, 256, 28 * 28, true, false, ya),
                () => ReferenceIndexing.ArgExtreme(x, 1, 256, 28 * 28, true, false, ra));
        }
        {
            int[] s = { 1, 2048, 7, 7 };
            var x = Random(s, 13);
            float[] y = new float[2048], r = new float[2048], ym = new float[2048], rm = new float[2048];
            yield return new("GlobalAveragePool", Format(s), y, r,
                () => GlobalPool.Average(x, s, y, threads), () => ReferencePool.GlobalAveragePool(x, s, r));
            yield return new("GlobalMaxPool", Format(s), ym, rm,
                () => GlobalPool.Max(x, s, ym, threads), () => ReferencePool.GlobalMaxPool(x, s, rm));
        }
        {
            // BERT-base at sequence 128: LayerNorm rows of 768, Gelu over the 128x3072 FFN activation, and attention's
            // per-head QKᵀ as one batched MatMul of 12 heads.
            int[] s = { 128, 768 };
            var x = Random(s, 20, -3f, 3f);
            var (sc, bi) = (Random([768], 21, 0.5f, 1.5f), Random([768], 22));
            float[] y = new float[x.Length], r = new float[x.Length];
            yield return new("LayerNormalization", Format(s), y, r,
                () => Lacuna.Kernels.Normalization.LayerNorm.Compute(x, 768, sc, bi, y, 1e-12f),
                () => ReferenceTransformer.LayerNorm(x, 768, sc, bi, r, 1e-12f));
            int[] f = { 128, 3072 };
            var xf = Random(f, 23, -4f, 4f);
            float[] yg = new float[xf.Length], rg = new float[xf.Length], yt = new float[xf.Length], rt = new float[xf.Length];
            yield return new("Gelu (erf)", Format(f), yg, rg,
                () => Lacuna.Kernels.Elementwise.Gelu.Compute(xf, yg, Lacuna.Kernels.Elementwise.GeluApproximation.None, threads),
                () => ReferenceTransformer.Gelu(xf, rg, tanh: false));
            yield return new("Gelu (tanh)", Format(f), yt, rt,
                () => Lacuna.Kernels.Elementwise.Gelu.Compute(xf, yt, Lacuna.Kernels.Elementwise.GeluApproximation.Tanh, threads),
                () => ReferenceTransformer.Gelu(xf, rt, tanh: true));
            int[] qs = { 1, 12, 128, 64 }, ks = { 1, 12, 64, 128 };
            var (q, k) = (Random(qs, 24), Random(ks, 25));
            var mm = new BatchedMatMul(qs, ks);
            float[] ym = new float[12 * 128 * 128], rm = new float[ym.Length];
            yield return new("MatMul batched (QKᵀ)", Format(qs) + "x" + Format(ks), ym, rm,
                () => mm.Run(q, k, ym), () => ReferenceMatMul.Compute(q, qs, k, ks, rm));
        }
        foreach (var (name, s, axis, log) in new[]
        {
            ("Softmax", new[] { 1, 1000 }, -1, false),
            ("LogSoftmax", new[] { 1, 1000 }, -1, true),
            ("Softmax axis 1 (strided)", new[] { 1, 21, 64, 64 }, 1, false),
        })
        {
            var x = Random(s, 14, -8f, 8f);
            float[] y = new float[x.Length], r = new float[x.Length];
            yield return new(name, Format(s), y, r,
                log ? () => Softmax.ComputeLog(x, s, y, axis, threads) : () => Softmax.Compute(x, s, y, axis, threads),
                log ? () => ReferenceNormalization.LogSoftmax(x, s, r, axis) : () => ReferenceNormalization.Softmax(x, s, r, axis));
        }
        foreach (var (name, s, perm) in new[]
        {
            ("Transpose channel shuffle", new[] { 1, 4, 58, 28, 28 }, new[] { 0, 2, 1, 3, 4 }),
            ("Transpose NCHW->NHWC", new[] { 1, 64, 56, 56 }, new[] { 0, 2, 3, 1 }),
            ("Transpose NHWC->NCHW", new[] { 1, 56, 56, 64 }, new[] { 0, 3, 1, 2 }),
        })
        {
            var x = Random(s, 15);
            float[] y = new float[x.Length], r = new float[x.Length];
            yield return new(name, Format(s), y, r,
                () => Transpose.Compute(x, s, perm, y, threads), () => ReferenceShapeOps.Transpose(x, s, perm, r));
        }
        foreach (var (name, mode, pad) in new[] { ("Pad constant 1", PadMode.Constant, 1), ("Pad reflect 3", PadMode.Reflect, 3), ("Pad edge 2", PadMode.Edge, 2) })
        {
            int[] s = { 1, 64, 56, 56 };
            int[] pads = { 0, 0, pad, pad, 0, 0, pad, pad };
            var x = Random(s, 16);
            int[] os = ReferenceShapeOps.PadShape(s, pads);
            float[] y = new float[os.Aggregate(1, (a, d) => a * d)], r = new float[y.Length];
            yield return new(name, Format(s), y, r,
                () => Pad.Compute(x, s, pads, y, mode, 0f, threads), () => ReferenceShapeOps.Pad(x, s, pads, r, mode, 0f));
        }
        {
            int[] s = { 1, 96, 55, 55 };
            var x = Random(s, 17);
            float[] y = new float[x.Length], r = new float[x.Length];
            yield return new("LRN size 5", Format(s), y, r,
                () => Lrn.Compute(x, s, y, 5, 1e-4f, 0.75f, 1f, threads), () => ReferenceNormalization.Lrn(x, s, r, 5, 1e-4f, 0.75f, 1f));
        }
        {
            // Video and volumetric layers (C3D, I3D, 3-D U-Net): a padded 3x3x3 Conv with its ReLU, and a stride-2
            // 2x2x2 ConvTranspose that doubles each axis.
            int[] s = { 1, 16, 8, 28, 28 }, ws = { 32, 16, 3, 3, 3 };
            var p = new ConvNdParams([3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1], 1);
            var (x, w, b) = (Random(s, 18), Random(ws, 19), Random([32], 20));
            float[] y = new float[p.OutputShape(s, ws).Aggregate(1, (a, d) => a * d)], r = new float[y.Length];
            yield return new("Conv 3-D 3x3x3 pad 1 + Relu", Format(s) + "->32", y, r,
                () => Lacuna.Kernels.Conv3d.Vol2ColConv3d.Compute(x, s, w, ws, b, y, p, Activation.Relu, threads),
                () => ReferenceConvNd.Compute(x, s, w, ws, b, r, p, Activation.Relu));
            int[] ts = { 1, 32, 4, 14, 14 }, tws = { 32, 16, 2, 2, 2 };
            var tp = new Lacuna.Kernels.ConvTranspose.ConvTransposeNdParams([2, 2, 2], [2, 2, 2], [0, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 0], 1);
            var (tx, tw) = (Random(ts, 21), Random(tws, 22));
            float[] ty = new float[tp.OutputShape(ts, tws).Aggregate(1, (a, d) => a * d)], tr = new float[ty.Length];
            yield return new("ConvTranspose 3-D 2x2x2/2", Format(ts) + "->16", ty, tr,
                () => Lacuna.Kernels.ConvTranspose.ConvTranspose3d.Compute(tx, ts, tw, tws, default, ty, tp, threads),
                () => ReferenceConvTransposeNd.Compute(tx, ts, tw, tws, default, tr, tp));
        }
        {
            int[] s = { 8, 64, 28, 28 };
            var x = Random(s, 23, -2f, 3f);
            var (sc, bi, mu, va) = (Random([64], 24), Random([64], 25), Random([64], 26), Random([64], 27, 0.1f, 2f));
            float[] y = new float[x.Length], r = new float[x.Length], m1 = new float[64], v1 = new float[64], m2 = new float[64], v2 = new float[64];
            yield return new("BatchNormalization training", Format(s), y, r,
                () => BatchNormTraining.Compute(x, s, sc, bi, mu, va, y, m1, v1, threads: threads),
                () => ReferenceBatchNormTraining.Compute(x, s, sc, bi, mu, va, r, m2, v2));
        }
        {
            int[] s = { 1, 256, 56, 56 };
            var x = Random(s, 28, -100f, 100f);
            float[] y = new float[x.Length], r = new float[x.Length];
            yield return new("Cast to BFLOAT16", Format(s), y, r,
                () => Lacuna.Kernels.Elementwise.CastKernels.ToBFloat16(x, y),
                () => { for (int i = 0; i < x.Length; i++) r[i] = ReferenceCast.ToBFloat16(x[i]); });
        }
    }

    private static int Run(int threads, int repeats, int warmup, bool json, string? only)
    {
        WorkerPool.DefaultThreads = threads;
        var results = new JsonArray();
        var table = new Table().Title($"Layer kernels vs reference, {threads} thread(s), median of {repeats}; speedup = reference_ms / fast_ms")
            .AddColumns("op", "shape", "fast ms", "reference ms", "speedup", "max |diff|");
        if (!json) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(IsaTiers.Describe())}[/]");
        var speedups = new List<double>();
        foreach (var c in Cases(threads))
        {
            if (only is not null && !c.Name.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            var timings = Measure.Interleaved(warmup, repeats, new (string, Action)[] { ("fast", c.Fast), ("reference", c.Reference) });
            double fast = timings[0].MedianMs, reference = timings[1].MedianMs;
            double diff = 0;
            for (int i = 0; i < c.FastOut.Length; i++) diff = Math.Max(diff, Math.Abs(c.FastOut[i] - c.RefOut[i]));
            speedups.Add(reference / fast);
            results.Add(new JsonObject
            {
                ["op"] = c.Name, ["shape"] = c.Shape,
                ["fast_ms"] = BenchJson.Num(fast), ["reference_ms"] = BenchJson.Num(reference),
                ["speedup"] = BenchJson.Num(reference / fast), ["max_abs_diff"] = BenchJson.Num(diff, 9),
            });
            table.AddRow(Markup.Escape(c.Name), Markup.Escape(c.Shape), $"{fast:F4}", $"{reference:F3}", $"{reference / fast:F1}x", $"{diff:E1}");
        }
        if (speedups.Count == 0) { Console.Error.WriteLine($"No case matches --only '{only}'."); return 2; }
        double geomean = Measure.GeometricMean(speedups);
        if (json)
        {
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "ops", ["threads"] = threads, ["tier"] = IsaTiers.Best.ToString(), ["repeats"] = repeats,
                ["geomean_speedup"] = BenchJson.Num(geomean), ["results"] = results,
            }));
        }
        else
        {
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"geometric mean speedup: {geomean:F1}x");
        }
        return 0;
    }
}
