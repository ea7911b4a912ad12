using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lacuna.Onnx.Import;

namespace Lacuna.Cli.Commands;

/// <summary><c>lacuna conformance DIR</c>: runs every ONNX backend test case under DIR through the inference session.</summary>
public static class ConformanceCommand
{
    public static Command Build()
    {
        var dir = new Argument<string>("dir") { Description = "Folder of ONNX backend cases (<case>/model.onnx + test_data_set_*)." };
        var json = CommonOptions.Json();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also list the unsupported cases and why." };
        var byOp = new Option<bool>("--by-op") { Description = "Count passed/failed/unsupported per operator (the registry's case prefixes)." };
        var cmd = new Command("conformance", "Run ONNX backend node tests (rtol 1e-3, atol 1e-7) and count passed/failed/unsupported.") { dir, json, verbose, byOp };
        cmd.SetAction(parse =>
        {
            string root = parse.GetValue(dir)!;
            if (!Directory.Exists(root))
            {
                Console.Error.WriteLine($"conformance: folder '{root}' does not exist.");
                return 2;
            }
            var r = ConformanceRunner.RunAll(root);
            var perOp = parse.GetValue(byOp) ? ConformanceRunner.ByOperator(r) : null;
            if (parse.GetValue(json))
            {
                var doc = new JsonObject
                {
                    ["bench"] = "conformance", ["passed"] = r.Passed, ["failed"] = r.Failed, ["unsupported"] = r.Unsupported,
                    ["failures"] = new JsonArray(r.Failures.Select(f => (JsonNode)JsonValue.Create(f)!).ToArray()),
                };
                if (perOp is not null)
                    doc["by_op"] = new JsonArray(perOp.Select(o => (JsonNode)new JsonObject
                    {
                        ["op"] = o.Operator, ["passed"] = o.Passed, ["failed"] = o.Failed, ["unsupported"] = o.Unsupported,
                    }).ToArray());
                Console.WriteLine(doc.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            }
            else
            {
                if (perOp is not null)
                {
                    Console.WriteLine($"{"operator",-20} {"passed",7} {"failed",7} {"unsupported",12}");
                    foreach (var o in perOp) Console.WriteLine($"{o.Operator,-20} {o.Passed,7} {o.Failed,7} {o.Unsupported,12}");
                }
                Console.WriteLine($"passed {r.Passed}, failed {r.Failed}, unsupported {r.Unsupported}");
                foreach (var f in r.Failures) Console.WriteLine($"FAILED {f}");
                if (parse.GetValue(verbose))
                    foreach (var u in r.UnsupportedCases) Console.WriteLine($"unsupported {u}");
            }
            return r.Failed == 0 ? 0 : 1;
        });
        return cmd;
    }
}
