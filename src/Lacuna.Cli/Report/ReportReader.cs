using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lacuna.Cli.Report;

/// <summary>
/// Reads the result files given to <c>lacuna report</c> (files, or folders of <c>*.json</c>) and sorts each into the
/// study file, a prune, a train or a bench result by its shape. A file that is none of these, is not JSON, or gives a
/// fraction as a percent is a <see cref="FormatException"/> naming the file and what was expected.
/// </summary>
public static class ReportReader
{
    public const string Expected = "expected docs/pruning-study.json (an array of {\"model\", \"rows\"}) or the --json output of "
        + "lacuna prune (\"command\": \"prune\"), lacuna train (\"command\": \"train\") or lacuna bench (\"bench\": ...)";

    /// <param name="skipUnknown">Warn about (instead of rejecting) valid JSON files of another kind.</param>
    /// <param name="warn">Where the warnings about skipped files go.</param>
    public static ReportData Read(IEnumerable<string> paths, bool skipUnknown, Action<string> warn)
    {
        var data = new ReportData();
        foreach (string file in Expand(paths))
        {
            JsonNode? root;
            try { root = JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true }); }
            catch (JsonException e) { throw new FormatException($"{file}: not valid JSON ({e.Message})"); }
            if (!Add(data, file, root))
            {
                if (!skipUnknown) throw new FormatException($"{file}: not a Lacuna result; {Expected} (--skip-unknown leaves such files out)");
                warn($"{file}: skipped, not a Lacuna result");
                continue;
            }
            data.Files.Add(file);
        }
        if (data.IsEmpty) throw new FormatException($"no results to report; {Expected}");
        return data;
    }

    /// <summary>Files as given; folders become their <c>*.json</c> files (sorted, not recursive). Missing paths are errors.</summary>
    private static IEnumerable<string> Expand(IEnumerable<string> paths)
    {
        foreach (string path in paths)
        {
            if (File.Exists(path)) { yield return path; continue; }
            if (!Directory.Exists(path)) throw new FileNotFoundException($"{path}: no such file or folder");
            var files = Directory.GetFiles(path, "*.json").Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new FileNotFoundException($"{path}: folder has no *.json files");
            foreach (string f in files) yield return f;
        }
    }

    private static bool Add(ReportData data, string file, JsonNode? root)
    {
        switch (root)
        {
            case JsonArray models when models.Count > 0 && models.All(m => m is JsonObject o && o["rows"] is JsonArray):
                for (int i = 0; i < models.Count; i++) data.Study.Add(ReadStudyModel(file, $"[{i}]", (JsonObject)models[i]!));
                return true;
            case JsonObject o when o["rows"] is JsonArray && o["model"] is JsonValue && o["bench"] is null:
                data.Study.Add(ReadStudyModel(file, "", o));
                return true;
            case JsonObject o when Str(o, "command") == "prune":
                data.Prunes.Add(ReadPrune(file, o));
                return true;
            case JsonObject o when Str(o, "command") == "train":
                data.Trains.Add(ReadTrain(file, o));
                return true;
            case JsonObject o when Str(o, "bench") is not null:
                data.Benches.Add(BenchRows.Read(file, o));
                return true;
            default:
                return false;
        }
    }

    private static StudyModel ReadStudyModel(string file, string at, JsonObject o)
    {
        var rows = new List<StudyRow>();
        var array = (JsonArray)o["rows"]!;
        for (int i = 0; i < array.Count; i++)
        {
            string where = $"{at}.rows[{i}]";
            if (array[i] is not JsonObject r) throw new FormatException($"{file}: {where} is not an object");
            string method = Str(r, "method") ?? throw new FormatException($"{file}: {where} has no \"method\"");
            rows.Add(new StudyRow(method, Fraction(file, where, r, "sparsity"), Fraction(file, where, r, "accuracy"),
                Num(r, "speedup_vs_dense"), r["fine_tuned"] is JsonValue v && v.TryGetValue(out bool b) ? b : null));
        }
        return new StudyModel(file, Str(o, "dataset") ?? "", Str(o, "model") ?? "", Fraction(file, at, o, "dense_accuracy"), rows);
    }

    private static PruneResult ReadPrune(string file, JsonObject o)
    {
        string method = Str(o, "method") ?? throw new FormatException($"{file}: prune result has no \"method\"");
        var layers = new List<PruneLayer>();
        if (o["layers"] is JsonArray array)
            for (int i = 0; i < array.Count; i++)
            {
                if (array[i] is not JsonObject l) throw new FormatException($"{file}: layers[{i}] is not an object");
                layers.Add(new PruneLayer(Str(l, "name") ?? $"layer {i}", Str(l, "op"), Int(l, "rows"), Int(l, "cols"), Str(l, "pattern"),
                    Fraction(file, $"layers[{i}]", l, "sparsity"), Num(l, "kept_norm"), Num(l, "estimated_speedup"),
                    Num(l, "accelerator_speedup"), Num(l, "measured_speedup"), Str(l, "kernel"), Str(l, "note")));
            }
        var acc = o["accelerator"] as JsonObject;
        double? energyRatio = acc is not null && Num(acc, "dense_energy") is > 0 && Num(acc, "energy") is { } e ? e / Num(acc, "dense_energy") : null;
        double? sparsity = Fraction(file, "", o, "sparsity");
        return new PruneResult(file, Str(o, "model") ?? Path.GetFileName(file), Str(o, "output"), method, sparsity,
            Fraction(file, "", o, "dense_accuracy"), Fraction(file, "", o, "accuracy"), Num(o, "relative_output_error"),
            Num(o, "macs_dense"), Num(o, "macs_kept"), Num(o, "measured_speedup") ?? Num(o, "speedup_vs_dense") ?? Ratio(o, "dense_ms", "sparse_ms"),
            acc is null ? null : Num(acc, "speedup"), energyRatio, Str(o, "cpu"), Str(o, "isa") ?? Str(o, "tier"),
            Int(o, "threads"), Int(o, "batch"), layers);
    }

    private static TrainResult ReadTrain(string file, JsonObject o)
    {
        var history = new List<TrainEpoch>();
        if (o["history"] is JsonArray h)
            foreach (var e in h.OfType<JsonObject>())
                history.Add(new TrainEpoch(Int(e, "Epoch") ?? history.Count + 1, Fraction(file, "history", e, "TrainAccuracy"),
                    Fraction(file, "history", e, "TestAccuracy"), Num(e, "TrainLoss"), Num(e, "TestLoss")));
        var layers = new List<TrainLayer>();
        if (o["layers"] is JsonArray array)
            for (int i = 0; i < array.Count; i++)
                if (array[i] is JsonObject l)
                    layers.Add(new TrainLayer(Str(l, "name") ?? $"layer {i}", Int(l, "rows"), Int(l, "cols"),
                        Fraction(file, $"layers[{i}]", l, "sparsity"), Str(l, "pattern")));
        // The options that tell runs apart (the net, its width, epochs and any pruning), not every hyper-parameter.
        var options = (o["options"] as JsonObject ?? [])
            .Where(kv => kv.Value is JsonValue && (kv.Key is "Network" or "Width" or "Epochs" or "BatchSize" or "Optimizer" or "LearningRate"
                || kv.Key.Contains("Prun", StringComparison.OrdinalIgnoreCase) || kv.Key.Contains("Sparsity", StringComparison.OrdinalIgnoreCase)
                || kv.Key.Contains("Pattern", StringComparison.OrdinalIgnoreCase)))
            .Select(kv => (kv.Key, kv.Value!.ToString())).ToList();
        return new TrainResult(file, Str(o, "network") ?? "", Int(o, "threads"), Num(o, "seconds"), Fraction(file, "", o, "test_accuracy"),
            options, history, layers);
    }

    /// <summary>A fraction in [0, 1]; a value above 1 is most likely a percent, which the report refuses rather than misplots.</summary>
    private static double? Fraction(string file, string where, JsonObject o, string name)
    {
        double? v = Num(o, name);
        if (v is < 0 or > 1)
            throw new FormatException($"{file}: {where}{(where.Length > 0 ? "." : "")}{name} is {v.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}; expected a fraction in [0, 1], not a percent");
        return v;
    }

    private static double? Ratio(JsonObject o, string numerator, string denominator) =>
        Num(o, numerator) is { } n && Num(o, denominator) is > 0 and var d ? n / d : null;

    internal static double? Num(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.GetValue<double>() is var d && double.IsFinite(d) ? d : null;

    internal static int? Int(JsonObject o, string name) => Num(o, name) is { } d && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue ? (int)d : null;

    internal static string? Str(JsonObject o, string name) => o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
