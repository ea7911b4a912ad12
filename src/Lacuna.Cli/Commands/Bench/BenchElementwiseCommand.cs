using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Threading;
using Spectre.Console;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// <c>lacuna bench elementwise</c>: the element-wise kernels (<see cref="BroadcastPlan"/> with TensorPrimitives /
/// Vector&lt;float&gt; span ops) vs their double-precision reference (what ran before the registry), on CNN-shaped
/// tensors, interleaved in one process. speedup_vs_reference = reference_ms / fast_ms.
/// </summary>
public static class BenchElementwiseCommand
{
    private sealed record Case(string Name, int[][] Shapes, Action<float[][], float[]> Fast, Action<float[][], float[]> Reference);

    private static Case Binary(string name, int[] a, int[] b, BinarySpanOp op, Func<double, double, double> f)
    {
        var plan = new BroadcastPlan(a, b, name);
        return new(name, [a, b], (x, y) => plan.Run(x[0], x[1], y, op), (x, y) => ReferenceElementwise.Binary(x[0], a, x[1], b, y, f, name));
    }

    private static Case Unary(string name, int[] s, SpanUnaryOp fast, Func<double, double> f) =>
        new(name, [s], (x, y) => ElementwiseParallel.Unary(fast, x[0], y), (x, y) => ReferenceElementwise.Unary(x[0], y, f, name));

    /// <summary>The shapes real exports hit: ResNet's residual Sum, DenseNet/Inception BatchNorm as per-channel Mul/Add, activations.</summary>
    private static Case[] Cases(int hw)
    {
        int[] big = [1, 256, hw, hw], chan = [1, 256, 1, 1];
        var sum = new BroadcastPlan(big, big);
        return
        [
            new("Sum 2x" + Broadcast.Format(big), [big, big], (x, y) => sum.Run(x[0], x[1], y, BinaryKernels.Add),
                (x, y) => ReferenceElementwise.Sum([x[0], x[1]], [big, big], y)),
            Binary("Mul per-channel", big, chan, BinaryKernels.Mul, (p, q) => p * q),
            Binary("Add per-channel 1024x7x7", [1, 1024, 7, 7], [1, 1024, 1, 1], BinaryKernels.Add, (p, q) => p + q),
            Binary("Div scalar", big, [], BinaryKernels.Div, (p, q) => p / q),
            Binary("Sub general", [4, 1, hw, hw], [1, 64, 1, hw], BinaryKernels.Sub, (p, q) => p - q),
            Binary("Less per-channel", big, chan, CompareKernels.Less, ReferenceElementwise.Logical("Less")),
            Binary("And same shape", big, big, CompareKernels.And, ReferenceElementwise.Logical("And")),
            Unary("Relu", big, UnaryKernels.Relu, ReferenceMath.Relu),
            Unary("Sigmoid", big, UnaryKernels.Sigmoid, ReferenceMath.Sigmoid),
            Unary("Erf", big, UnaryKernels.Erf, ReferenceMath.Erf),
            Unary("HardSwish", big, UnaryKernels.HardSwish, ReferenceMath.HardSwish),
            Unary("Elu", big, (x, y) => UnaryKernels.Elu(x, y, 1f), v => ReferenceMath.Elu(v, 1)),
        ];
    }

    public static Command Build()
    {
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat();
        var warmup = CommonOptions.Warmup();
        var json = CommonOptions.Json();
        var hw = new Option<int>("--hw") { Description = "Spatial size H = W of the activations (56: ResNet stage 1).", DefaultValueFactory = _ => 56 };
        var cmd = new Command("elementwise", "Element-wise kernels (broadcast driver, unary rows) vs their double-precision reference.") { threads, repeat, warmup, json, hw };
        cmd.SetAction(pr =>
        {
            int t = pr.GetValue(threads);
            if (CommonOptions.CheckThreads(t) is { } err) { Console.Error.WriteLine(err); return 2; }
            int size = pr.GetValue(hw);
            if (size < 1) { Console.Error.WriteLine($"--hw must be positive (got {size})."); return 2; }
            WorkerPool.DefaultThreads = t;
            return Run(Cases(size), t, pr.GetValue(repeat), pr.GetValue(warmup), pr.GetValue(json));
        });
        return cmd;
    }

    private static int Run(Case[] cases, int threads, int repeats, int warmup, bool json)
    {
        var results = new JsonArray();
        var table = new Table().AddColumns("case", "fast ms", "reference ms", "speedup", "GB/s", "max rel diff");
        foreach (var c in cases)
        {
            var rng = new DeterministicRandom(7);
            var inputs = c.Shapes.Select(s => { var d = new float[Broadcast.ElementCount(s)]; rng.Fill(d, 0.1f, 2f); return d; }).ToArray();
            int outLength = Broadcast.ElementCount(c.Shapes.Aggregate((p, q) => Broadcast.Shape(p, q, c.Name)));
            float[] fast = new float[outLength], reference = new float[outLength];
            var ms = Measure.Interleaved(warmup, repeats, [("fast", () => c.Fast(inputs, fast)), ("reference", () => c.Reference(inputs, reference))])
                .Select(m => m.MedianMs).ToArray();
            double diff = 0;
            for (int i = 0; i < outLength; i++) diff = Math.Max(diff, Math.Abs(fast[i] - reference[i]) / Math.Max(1e-6, Math.Abs(reference[i])));
            double bytes = 4.0 * (inputs.Sum(x => x.Length) + outLength);
            results.Add(new JsonObject
            {
                ["case"] = c.Name, ["elements"] = outLength, ["fast_ms"] = BenchJson.Num(ms[0]), ["reference_ms"] = BenchJson.Num(ms[1]),
                ["speedup_vs_reference"] = BenchJson.Num(ms[1] / ms[0]), ["fast_gbps"] = BenchJson.Num(bytes / (ms[0] * 1e6)),
                ["max_rel_diff"] = BenchJson.Num(diff, 8),
            });
            table.AddRow(Markup.Escape(c.Name), $"{ms[0]:F3}", $"{ms[1]:F3}", $"{ms[1] / ms[0]:F1}x", $"{bytes / (ms[0] * 1e6):F1}", $"{diff:E1}");
        }
        if (json)
            Console.WriteLine(BenchJson.Write(new JsonObject { ["bench"] = "elementwise", ["threads"] = threads, ["results"] = results }));
        else
        {
            AnsiConsole.Write(table);
            Console.WriteLine($"{threads} thread(s), median of {repeats} interleaved rounds");
        }
        return 0;
    }
}
