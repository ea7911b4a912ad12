using System.CommandLine;
using System.Text.Json.Nodes;
using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;

namespace Lacuna.Cli.Commands;

/// <summary>
/// <c>lacuna inspect model.onnx</c>: per layer op, shapes, weight sparsity and chosen kernel, plus peak activation
/// memory; or, for a model Lacuna cannot run, every unsupported node (exit code 1).
/// </summary>
public static class InspectCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("model") { Description = "The .onnx file." };
        var batch = new Option<int>("--batch", "-b") { Description = "Batch size to plan for (symbolic batch only).", DefaultValueFactory = _ => 1 };
        var json = CommonOptions.Json();
        var dense = new Option<bool>("--dense") { Description = "Plan with dense kernels only." };
        var cmd = new Command("inspect", "Show each layer's op, shapes, weight sparsity and kernel, and the peak activation memory.") { model, batch, json, dense };
        cmd.SetAction(parse =>
        {
            if (CommonOptions.CheckBatch(parse.GetValue(batch)) is { } badBatch) { Console.Error.WriteLine(badBatch); return 2; }
            try
            {
                // Every unsupported node at once (run stops at the first), so a user sees all that a model needs.
                var onnx = OnnxModel.Load(parse.GetValue(model)!);
                var problems = OnnxGraphImporter.Validate(onnx);
                if (problems.Count > 0)
                {
                    if (parse.GetValue(json))
                        Console.WriteLine(new JsonObject
                        {
                            ["model"] = parse.GetValue(model),
                            ["unsupported"] = new JsonArray(problems.Select(p => (JsonNode)new JsonObject
                            {
                                ["node"] = (p as UnsupportedOperatorException)?.NodeName, ["op"] = (p as UnsupportedOperatorException)?.OpType,
                                ["opset"] = (p as UnsupportedOperatorException)?.Opset, ["message"] = p.Message,
                            }).ToArray()),
                        }.ToJsonString());
                    else
                    {
                        Console.Error.WriteLine($"inspect: {problems.Count} problem(s) stop this model from running:");
                        foreach (var p in problems) Console.Error.WriteLine($"  {p.Message}");
                    }
                    return 1;
                }
                var session = InferenceSession.Create(OnnxGraphImporter.ToGraph(onnx), parse.GetValue(dense) ? PassOptions.Dense : new PassOptions());
                int b = session.RuntimeInputs.Any(i => i.Shape is { Length: > 0 } s && s[0] == GraphValue.Symbolic) ? parse.GetValue(batch) : session.DefaultBatch;
                var plan = session.PlanFor(b);
                var patterns = plan.Patterns;
                var layers = new JsonArray();
                // What the node computes beyond its op: a fused residual Add (Conv) and/or activation, as "Add+Relu".
                static string? Fused(GraphNode n) => string.Join("+", new[]
                {
                    GraphPasses.HasResidual(n) ? "Add" : null,
                    n.FusedActivation.Kind == Lacuna.Kernels.ActivationKind.None ? null : n.FusedActivation.ToString(),
                    n.FusedGelu is null ? null : "Gelu",
                    n.FusedPost.Kind == Lacuna.Kernels.Elementwise.PostActivationKind.None ? null : n.FusedPost.ToString(),
                }.OfType<string>()) is { Length: > 0 } f ? f : null;
                foreach (var (node, kernel, ins, outs) in plan.Steps)
                {
                    var weight = node.Inputs.Skip(1).Select(i => session.Graph.Initializers.GetValueOrDefault(i)).FirstOrDefault(t => t is { Floats: not null });
                    double? sparsity = weight is null ? null : weight.Floats!.Count(v => v == 0f) / (double)Math.Max(1, weight.Length);
                    layers.Add(new JsonObject
                    {
                        ["name"] = node.Name, ["op"] = node.OpType,
                        ["fused"] = Fused(node),
                        ["inputs"] = string.Join(" ", ins.Select(Fmt)), ["outputs"] = string.Join(" ", outs.Select(Fmt)),
                        ["weight_sparsity"] = sparsity, ["kernel"] = kernel, ["pattern"] = patterns.GetValueOrDefault(node),
                    });
                }
                if (parse.GetValue(json))
                {
                    Console.WriteLine(new JsonObject
                    {
                        ["model"] = parse.GetValue(model), ["batch"] = b, ["layers"] = layers,
                        ["peak_activation_bytes"] = plan.Memory.PeakActivationBytes, ["unplanned_activation_bytes"] = plan.Memory.NaiveFloats * 4,
                    }.ToJsonString());
                    return 0;
                }
                Console.WriteLine($"{"layer",-24} {"op",-18} {"inputs",-36} {"outputs",-18} {"sparsity",8}  kernel");
                foreach (var l in layers)
                {
                    string op = l!["op"]!.ToString() + (l["fused"] is null ? "" : "+" + l["fused"]);
                    string sp = l["weight_sparsity"] is null ? "-" : $"{(double)l["weight_sparsity"]!:P1}";
                    Console.WriteLine($"{l["name"],-24} {op,-18} {l["inputs"],-36} {l["outputs"],-18} {sp,8}  {l["kernel"]}");
                }
                Console.WriteLine($"batch {b}: peak activation memory {plan.Memory.PeakActivationBytes:N0} bytes (without reuse {plan.Memory.NaiveFloats * 4:N0})");
                return 0;
            }
            catch (Exception e) when (e is NotSupportedException or FormatException or ArgumentException or IOException)
            {
                Console.Error.WriteLine($"inspect: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }

    private static string Fmt(int[] s) => "[" + string.Join(",", s) + "]";
}
