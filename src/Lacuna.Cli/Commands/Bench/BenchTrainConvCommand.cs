using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Kernels;
using Lacuna.Kernels.Train;
using Lacuna.Tensors;
using Lacuna.Threading;
using Lacuna.Training;
using Lacuna.Training.Data;
using Lacuna.Training.Layers;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench train-conv</c>: the SparseTrain kernels on the non-initial 3x3 conv layers of VGG-16 or ResNet-50.
/// Per layer, interleaved in one process: FWD, BWI and BWW dense vs sparse at activation sparsity S (x and dy
/// each zero at a random fraction S of positions, as where the forward ReLUs were zero; the rest uniform in (0, 1]
/// for x and [-1, 1] for dy), and dense FWD vs OpenBLAS im2col + cblas_sgemm on the same layer (NCHW).
/// speedup = dense_ms / sparse_ms; dense_vs_openblas = fwd_dense_ms / openblas_fwd_ms (below 1: Lacuna faster).
/// summary.speedup = Σ dense / Σ sparse over every layer and all three passes.
/// </summary>
public static class BenchTrainConvCommand
{
    /// <summary>(name, channels in = out, spatial size) of each net's non-initial 3x3 layer shapes.</summary>
    private static readonly Dictionary<string, (string Name, int C, int Hw)[]> Nets = new()
    {
        ["vgg16"] = new[] { ("3x3 64@224", 64, 224), ("3x3 128@112", 128, 112), ("3x3 256@56", 256, 56), ("3x3 512@28", 512, 28), ("3x3 512@14", 512, 14) },
        ["resnet50"] = new[] { ("3x3 64@56", 64, 56), ("3x3 128@28", 128, 28), ("3x3 256@14", 256, 14), ("3x3 512@7", 512, 7) },
    };

    /// <summary>One benchmarked layer: its shape and, when measured, the real blocked x and dy of a training step.</summary>
    private sealed record LayerCase(string Name, ConvTrainShape Shape, float[]? X, float[]? Dy);

    public static Command Build()
    {
        var net = new Option<string>("--net") { Description = "vgg16, resnet50 (ImageNet layer shapes) or fashion-vgg, fashion-resnet (the `lacuna train` networks).", DefaultValueFactory = _ => "vgg16" };
        var sparsity = new Option<string>("--sparsity") { Description = "Fraction of zeros in x and dy (0..1), or 'measured' (real x and dy of a training step of a checkpoint's network).", DefaultValueFactory = _ => "0.77" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "With --sparsity measured: a `lacuna train` checkpoint (its network replaces --net)." };
        var data = new Option<string>("--data") { Description = "With --sparsity measured: the Fashion-MNIST folder.", DefaultValueFactory = _ => TrainCommand.DefaultData };
        var batch = new Option<int>("--batch") { Description = "Minibatch size.", DefaultValueFactory = _ => 2 };
        var scale = new Option<int>("--scale") { Description = "Divide every layer's spatial size by this (>= 1).", DefaultValueFactory = _ => 1 };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(3);
        var warmup = CommonOptions.Warmup(1);
        var json = CommonOptions.Json();
        var cmd = new Command("train-conv", "SparseTrain FWD/BWI/BWW: dense vs sparse at a given or measured ReLU sparsity, and dense FWD vs OpenBLAS im2col+sgemm.")
        {
            net, sparsity, checkpoint, data, batch, scale, threads, repeat, warmup, json,
        };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            string n = pr.GetValue(net) ?? "vgg16";
            string sp = pr.GetValue(sparsity) ?? "0.77";
            int b = pr.GetValue(batch), sc = pr.GetValue(scale);
            if (CommonOptions.CheckBatch(b) is { } badBatch) { Console.Error.WriteLine(badBatch); return 2; }
            if (sc < 1) { Console.Error.WriteLine($"--scale must be at least 1 (got {sc})."); return 2; }
            if (!OpenBlas.IsAvailable) { Console.Error.WriteLine(OpenBlas.Problem); return 3; }
            List<LayerCase> cases;
            double s = double.NaN;
            try
            {
                if (sp == "measured")
                {
                    string? ck = pr.GetValue(checkpoint);
                    if (ck is null)
                    {
                        Console.Error.WriteLine("--sparsity measured needs --checkpoint FILE from `lacuna train` (real activations need a trained net; " +
                                                "VGG-16 and ResNet-50 cannot be trained on ImageNet here). Or pass a fraction such as 0.77.");
                        return 2;
                    }
                    (n, cases) = Measured(ck, pr.GetValue(data)!, b, t);
                }
                else
                {
                    if (!double.TryParse(sp, NumberStyles.Float, CultureInfo.InvariantCulture, out s) || s < 0 || s > 1)
                    { Console.Error.WriteLine($"--sparsity must be a fraction in [0, 1] or 'measured' (got '{sp}')."); return 2; }
                    if (Cases(n, b, sc) is not { } c) { Console.Error.WriteLine($"--net must be vgg16, resnet50, fashion-vgg or fashion-resnet (got '{n}')."); return 2; }
                    cases = c;
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException)
            {
                Console.Error.WriteLine($"bench train-conv: {e.Message}");
                return 1;
            }
            return Run(n, cases, sp, s, b, sc, t, Math.Max(1, pr.GetValue(repeat)), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    /// <summary>Layer shapes of a named net: the ImageNet table, or the non-initial convs of a `lacuna train` network.</summary>
    private static List<LayerCase>? Cases(string net, int batch, int scale)
    {
        if (Nets.TryGetValue(net, out var layers))
            return layers.Select(l =>
            {
                int hw = Math.Max(1, l.Hw / scale);
                return new LayerCase(scale == 1 ? l.Name : $"{l.Name} /{scale} ({hw}x{hw})", new ConvTrainShape(batch, l.C, l.C, hw, hw, 3), null, null);
            }).ToList();
        string? train = net switch { "fashion-vgg" => "vgg", "fashion-resnet" => "resnet", _ => null };
        if (train is null) return null;
        var network = FashionNets.Build(train);
        var images = new float[batch * network.Height * network.Width];
        new DeterministicRandom(5).Fill(images);
        Step(network, new FeatureMap(images, batch, 1, network.Height, network.Width), new int[batch]);
        return network.Convs.Where(c => c.InChannels > 1).Select(c => c.CapturedOperands() is { } op
            ? new LayerCase(CaseName(c, op.Shape), op.Shape, null, null) : null).OfType<LayerCase>().ToList();
    }

    private static string CaseName(Conv2d c, ConvTrainShape s) => $"{c.Name} {c.Kernel}x{c.Kernel} {c.InChannels}->{c.OutChannels}@{s.Height}";

    /// <summary>One forward and backward pass (no update), leaving every conv's operands captured.</summary>
    private static void Step(Network network, FeatureMap images, int[] labels)
    {
        var logits = network.Forward(images, training: true);
        var grad = new float[logits.Length];
        SoftmaxCrossEntropy.Compute(logits, labels, grad);
        network.Backward(new FeatureMap(grad, logits.N, logits.C, 1, 1));
    }

    /// <summary>Runs one training step of a checkpoint's network on real images and keeps every non-initial conv's x and dy.</summary>
    private static (string Net, List<LayerCase> Cases) Measured(string checkpointPath, string dataDir, int batch, int threads)
    {
        var ckpt = Checkpoint.Load(checkpointPath);
        var options = Trainer.OptionsOf(ckpt);
        var network = FashionNets.Build(options.Network, options.Width, options.Seed);
        network.Threads = threads;
        var train = ImageDataset.LoadFashionMnist(dataDir, train: true);
        var trainer = new Trainer(network, train, train, options with { TrainLimit = batch, TestLimit = batch });
        trainer.Restore(ckpt);
        var (x, y) = train.Batches(batch, 7).First();
        using (x) Step(network, new FeatureMap(x.Span.ToArray(), y.Length, 1, train.Height, train.Width), y);
        var cases = new List<LayerCase>();
        foreach (var conv in network.Convs.Where(c => c.InChannels > 1))
            if (conv.CapturedOperands() is { } op)
                cases.Add(new LayerCase(CaseName(conv, op.Shape), op.Shape, op.X, op.Dy));
        return (network.Name, cases);
    }

    private static unsafe int Run(string net, List<LayerCase> layers, string sparsityText, double sparsity, int batch, int scale, int threads,
        int repeats, int warmup, bool json)
    {
        WorkerPool.DefaultThreads = threads;
        OpenBlas.SetThreads(threads);
        var results = new JsonArray();
        var table = new Table().Title($"SparseTrain {net}, sparsity {sparsityText}, batch {batch}, {threads} thread(s), median of {repeats}; speedup = dense / sparse")
            .AddColumns("layer", "x zeros", "dy zeros", "fwd dense ms", "fwd sparse ms", "fwd x", "bwi dense ms", "bwi sparse ms", "bwi x", "bww dense ms", "bww sparse ms", "bww x", "openblas fwd ms", "dense/openblas");
        if (!json) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(IsaTiers.Describe())}[/]");
        double sumDense = 0, sumSparse = 0;
        var opDense = new double[3]; var opSparse = new double[3];
        ulong seed = 1;
        foreach (var (name, shape, mx, mdy) in layers)
        {
            int c = shape.InChannels, k = shape.OutChannels, hw = shape.Height, ks = shape.Kernel, nb = shape.Batch;
            var xb = mx ?? Blocked(ReluLike(nb * c * hw * hw, sparsity, seed++, 0f, 1f), nb, c, hw);
            var dyb = mdy ?? Blocked(ReluLike(nb * k * hw * hw, sparsity, seed++, -1f, 1f), nb, k, hw);
            var x = new float[nb * c * hw * hw];
            ConvTrainLayout.ToNchw(xb, x, nb, c, hw, hw);
            var w = new float[shape.WeightLength];
            new DeterministicRandom(3).Fill(w, -0.05f, 0.05f);
            var y1 = new float[shape.OutputLength]; var y2 = new float[shape.OutputLength];
            var dx1 = new float[shape.InputLength]; var dx2 = new float[shape.InputLength];
            var dw1 = new float[shape.WeightLength]; var dw2 = new float[shape.WeightLength];
            var col = new float[(long)c * ks * ks * hw * hw]; var yBlas = new float[(long)nb * k * hw * hw];
            var contenders = new (string, Action)[]
            {
                ("fwd_dense", () => ConvTrainKernels.Forward(xb, w, y1, shape, ConvTrainMode.Dense, threads)),
                ("fwd_sparse", () => ConvTrainKernels.Forward(xb, w, y2, shape, ConvTrainMode.Sparse, threads)),
                ("bwi_dense", () => ConvTrainKernels.BackwardInput(dyb, w, dx1, shape, ConvTrainMode.Dense, threads)),
                ("bwi_sparse", () => ConvTrainKernels.BackwardInput(dyb, w, dx2, shape, ConvTrainMode.Sparse, threads)),
                ("bww_dense", () => ConvTrainKernels.BackwardWeights(xb, dyb, dw1, shape, ConvTrainMode.Dense, threads)),
                ("bww_sparse", () => ConvTrainKernels.BackwardWeights(xb, dyb, dw2, shape, ConvTrainMode.Sparse, threads)),
                ("openblas_fwd", () => OpenBlasForward(x, w, col, yBlas, nb, c, k, hw, ks)),
            };
            var ms = Measure.Interleaved(warmup, repeats, contenders).Select(m => m.MedianMs).ToArray();
            double diff = Math.Max(MaxRelDiff(y1, y2), Math.Max(MaxRelDiff(dx1, dx2), MaxRelDiff(dw1, dw2)));
            var yb = new float[yBlas.Length];
            ConvTrainLayout.ToNchw(y1, yb, nb, k, hw, hw);
            diff = Math.Max(diff, MaxRelDiff(yb, yBlas));
            if (diff > 1e-3) Console.Error.WriteLine($"warning: {name}: dense, sparse and OpenBLAS results differ by {diff:E2} (relative)");
            for (int op = 0; op < 3; op++) { opDense[op] += ms[2 * op]; opSparse[op] += ms[2 * op + 1]; }
            sumDense += ms[0] + ms[2] + ms[4];
            sumSparse += ms[1] + ms[3] + ms[5];
            double zx = ConvTrainLayout.ZeroFraction(xb), zdy = ConvTrainLayout.ZeroFraction(dyb);
            results.Add(new JsonObject
            {
                ["layer"] = name, ["x_zeros"] = BenchJson.Num(zx), ["dy_zeros"] = BenchJson.Num(zdy),
                ["fwd_dense_ms"] = BenchJson.Num(ms[0]), ["fwd_sparse_ms"] = BenchJson.Num(ms[1]), ["fwd_speedup"] = BenchJson.Num(ms[0] / ms[1]),
                ["bwi_dense_ms"] = BenchJson.Num(ms[2]), ["bwi_sparse_ms"] = BenchJson.Num(ms[3]), ["bwi_speedup"] = BenchJson.Num(ms[2] / ms[3]),
                ["bww_dense_ms"] = BenchJson.Num(ms[4]), ["bww_sparse_ms"] = BenchJson.Num(ms[5]), ["bww_speedup"] = BenchJson.Num(ms[4] / ms[5]),
                ["openblas_fwd_ms"] = BenchJson.Num(ms[6]), ["dense_vs_openblas"] = BenchJson.Num(ms[0] / ms[6]),
                ["fwd_dense_gflops"] = BenchJson.Num(Measure.Gflops(2 * shape.MultiplyAdds, ms[0])),
            });
            table.AddRow(Markup.Escape(name), $"{zx:F2}", $"{zdy:F2}", $"{ms[0]:F2}", $"{ms[1]:F2}", $"{ms[0] / ms[1]:F2}", $"{ms[2]:F2}", $"{ms[3]:F2}", $"{ms[2] / ms[3]:F2}",
                $"{ms[4]:F2}", $"{ms[5]:F2}", $"{ms[4] / ms[5]:F2}", $"{ms[6]:F2}", $"{ms[0] / ms[6]:F2}");
        }
        var summary = new JsonObject
        {
            ["speedup"] = BenchJson.Num(sumDense / sumSparse),
            ["fwd_speedup"] = BenchJson.Num(opDense[0] / opSparse[0]),
            ["bwi_speedup"] = BenchJson.Num(opDense[1] / opSparse[1]),
            ["bww_speedup"] = BenchJson.Num(opDense[2] / opSparse[2]),
        };
        if (json)
        {
            Console.WriteLine(BenchJson.Write(new JsonObject
            {
                ["bench"] = "train-conv", ["net"] = net, ["sparsity"] = double.IsNaN(sparsity) ? sparsityText : sparsity, ["batch"] = batch, ["threads"] = threads,
                ["scale"] = scale, ["tier"] = IsaTiers.Best.ToString(), ["repeats"] = repeats, ["results"] = results, ["summary"] = summary,
            }));
        }
        else
        {
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"layer-summed speedup (FWD+BWI+BWW): {sumDense / sumSparse:F2}x  (FWD {opDense[0] / opSparse[0]:F2}x, BWI {opDense[1] / opSparse[1]:F2}x, BWW {opDense[2] / opSparse[2]:F2}x)");
        }
        return 0;
    }

    private static float[] Blocked(float[] nchw, int n, int c, int hw)
    {
        var b = new float[ConvTrainLayout.BlockedLength(n, c, hw, hw)];
        ConvTrainLayout.ToBlocked(nchw, b, n, c, hw, hw);
        return b;
    }

    /// <summary>ReLU-like data: a fraction <paramref name="zeros"/> of positions zero (at random), the rest uniform in [lo, hi] and non-zero.</summary>
    private static float[] ReluLike(int length, double zeros, ulong seed, float lo, float hi)
    {
        var data = new float[length];
        var rng = new DeterministicRandom(seed);
        for (int i = 0; i < length; i++)
        {
            if (rng.NextDouble() < zeros) continue;
            float v = rng.NextFloat(lo, hi);
            data[i] = v == 0f ? hi : v;
        }
        return data;
    }

    /// <summary>The baseline: per image, im2col in C# then cblas_sgemm, Y [K × HW] = W [K × C·ks²] · col [C·ks² × HW].</summary>
    private static unsafe void OpenBlasForward(float[] x, float[] w, float[] col, float[] y, int batch, int c, int k, int hw, int ks)
    {
        int pixels = hw * hw, kk = c * ks * ks, pad = (ks - 1) / 2;
        fixed (float* px = x, pw = w, pc = col, py = y)
            for (int n = 0; n < batch; n++)
            {
                float* img = px + (long)n * c * pixels;
                for (int ch = 0; ch < c; ch++)
                    for (int kh = 0; kh < ks; kh++)
                        for (int kw = 0; kw < ks; kw++)
                        {
                            float* dst = pc + (long)((ch * ks + kh) * ks + kw) * pixels;
                            for (int oy = 0; oy < hw; oy++)
                            {
                                int iy = oy - pad + kh;
                                for (int ox = 0; ox < hw; ox++)
                                {
                                    int ix = ox - pad + kw;
                                    dst[oy * hw + ox] = (uint)iy < (uint)hw && (uint)ix < (uint)hw ? img[((long)ch * hw + iy) * hw + ix] : 0f;
                                }
                            }
                        }
                OpenBlas.Sgemm(k, pixels, kk, pw, kk, false, pc, pixels, false, py + (long)n * k * pixels, pixels);
            }
    }

    private static double MaxRelDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double maxAbs = 1e-30, maxDiff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(b[i]));
            maxDiff = Math.Max(maxDiff, Math.Abs(a[i] - b[i]));
        }
        return maxDiff / maxAbs;
    }
}
