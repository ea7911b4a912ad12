using System.CommandLine;
using Lacuna.Bench.Harness;
using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Cli.Commands;

/// <summary><c>lacuna run model.onnx</c>: runs a model on a given or random input; prints output shapes, a checksum and the median time.</summary>
public static class RunCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("model") { Description = "The .onnx file." };
        var input = new Option<string>("--input", "-i") { Description = "A TensorProto .pb file for the (single) input, or 'random'.", DefaultValueFactory = _ => "random" };
        var batch = new Option<int>("--batch", "-b") { Description = "Batch size for a random input (the model's batch must be symbolic to change it); 0 = the model's." };
        var threads = CommonOptions.Threads();
        var repeat = CommonOptions.Repeat(5);
        var dense = new Option<bool>("--dense") { Description = "Dense kernels only (no sparse planning): the baseline for a pruned model." };
        var cmd = new Command("run", "Run an ONNX model: output shapes, checksum, median time.") { model, input, batch, threads, repeat, dense };
        cmd.SetAction(parse =>
        {
            if (CommonOptions.CheckThreads(parse.GetValue(threads)) is string bad) { Console.Error.WriteLine(bad); return 2; }
            WorkerPool.DefaultThreads = parse.GetValue(threads);
            try
            {
                var session = InferenceSession.Create(OnnxGraphImporter.Load(parse.GetValue(model)!),
                    parse.GetValue(dense) ? PassOptions.Dense : new PassOptions());
                var feeds = Feeds(session, parse.GetValue(input)!, parse.GetValue(batch));
                IReadOnlyDictionary<string, Tensor> outputs = session.Run(feeds);
                var timing = Measure.Interleaved(1, Math.Max(1, parse.GetValue(repeat)), [("run", () => outputs = session.Run(feeds))]);
                foreach (var (name, t) in outputs)
                {
                    double sum = 0, abs = 0;
                    foreach (float v in t.Span) { sum += v; abs += Math.Abs(v); }
                    Console.WriteLine($"{name}: {t.Shape}  sum={sum:G9}  sum|x|={abs:G9}");
                }
                Console.WriteLine($"median {timing[0].MedianMs:F3} ms (min {timing[0].MinMs:F3}, {timing[0].Repeats} runs, {parse.GetValue(threads)} threads)");
                return 0;
            }
            catch (Exception e) when (e is NotSupportedException or FormatException or ArgumentException or IOException)
            {
                Console.Error.WriteLine($"run: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }

    private static Dictionary<string, Tensor> Feeds(InferenceSession session, string input, int batch)
    {
        var feeds = new Dictionary<string, Tensor>();
        if (input != "random")
        {
            if (session.RuntimeInputs.Count != 1) throw new ArgumentException($"--input gives one tensor but the model has {session.RuntimeInputs.Count} inputs.");
            var t = OnnxSerializer.LoadTensor(input);
            feeds[session.RuntimeInputs[0].Name] = Tensor.FromArray(t.ToFloatArray(), t.Dims.Select(d => (int)d).ToArray());
            return feeds;
        }
        int b = batch > 0 ? batch : session.DefaultBatch;
        ulong seed = 1;
        foreach (var v in session.RuntimeInputs)
        {
            var dims = v.Shape!.Select((d, i) => d == GraphValue.Symbolic || (i == 0 && batch > 0) ? b : d).ToArray();
            feeds[v.Name] = Tensor.Random(seed++, dims);
        }
        return feeds;
    }
}
