using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lacuna.Graph.Ops;

namespace Lacuna.Cli.Commands;

/// <summary><c>lacuna ops</c>: every operator definition in the registry with its opsets, traits, kernels and node tests.</summary>
public static class OpsCommand
{
    public const string DefaultCases = "/usr/share/libonnx-testdata/data/node";

    public static Command Build()
    {
        var cases = new Option<string>("--cases")
        {
            Description = "Folder of ONNX backend node tests whose cases are counted per operator.",
            DefaultValueFactory = _ => DefaultCases,
        };
        var json = CommonOptions.Json();
        var cmd = new Command("ops", "List every supported operator: opset range, traits, kernels, ONNX node tests it owns.") { cases, json };
        cmd.SetAction(parse =>
        {
            string dir = parse.GetValue(cases)!;
            var names = Directory.Exists(dir) ? Directory.GetDirectories(dir).Select(d => Path.GetFileName(d)!).ToArray() : null;
            var rows = OpRegistry.All.OrderBy(d => d.Name, StringComparer.Ordinal).ThenBy(d => d.Opsets.From)
                .Select(d => (Def: d, Cases: names?.Count(d.OwnsCase))).ToList();
            if (parse.GetValue(json))
            {
                var doc = new JsonObject
                {
                    ["ops"] = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
                    {
                        ["op"] = r.Def.Name, ["from"] = r.Def.Opsets.From, ["to"] = r.Def.Opsets.To, ["traits"] = r.Def.Traits.ToString(),
                        ["kernels"] = r.Def.Kernels, ["cases"] = r.Cases,
                    }).ToArray()),
                };
                Console.WriteLine(doc.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
                return 0;
            }
            if (names is null) Console.Error.WriteLine($"ops: '{dir}' does not exist; case counts are left out.");
            Console.WriteLine($"{"operator",-20} {"opsets",-7} {"traits",-34} {"cases",5}  kernels");
            foreach (var (d, n) in rows)
                Console.WriteLine($"{d.Name,-20} {d.Opsets,-7} {d.Traits,-34} {(n?.ToString() ?? "-"),5}  {d.Kernels}");
            Console.WriteLine($"{rows.Select(r => r.Def.Name).Distinct().Count()} operators, {rows.Count} definitions");
            return 0;
        });
        return cmd;
    }
}
