using System.Globalization;
using System.Text.Json.Nodes;

namespace Lacuna.Cli.Report;

/// <summary>
/// The headline ratios of a <c>lacuna bench ... --json</c> document. <c>bench model</c> (and its per-pattern form)
/// gives one row per model and pattern; other benchmarks give their summary's geomeans and, per result, the fields
/// that are ratios (<c>speedup_*</c>, <c>ratio_*</c>, <c>*_vs_*</c>; differences and errors are not ratios).
/// </summary>
internal static class BenchRows
{
    /// <summary>Benchmarks over many matrices list hundreds of results; the report keeps the first ones and counts the rest.</summary>
    public const int MaxRows = 40;

    private static readonly string[] ModelRatios = ["speedup_vs_onnxruntime", "speedup_vs_dense", "dense_vs_onnxruntime"];

    public static BenchResult Read(string file, JsonObject o)
    {
        string bench = ReportReader.Str(o, "bench")!;
        var rows = new List<BenchRow>();
        int total;
        if (bench is "model" or "model-patterns")
        {
            var models = bench == "model" ? [o] : (o["rows"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            foreach (var m in models)
                rows.Add(new BenchRow(ModelCase(m), ModelRatios.Where(k => ReportReader.Num(m, k) is not null)
                    .Select(k => (k, ReportReader.Num(m, k)!.Value)).ToList()));
            total = rows.Count;
        }
        else
        {
            if (o["summary"] is JsonObject summary)
            {
                AddRatios(rows, "summary", summary);
                foreach (var (key, value) in summary)
                    if (value is JsonObject nested) AddRatios(rows, $"summary {key}", nested);
            }
            var results = (o["results"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            foreach (var r in results) AddRatios(rows, ResultCase(r), r);
            total = rows.Count;
        }
        int threads = ReportReader.Int(o, "threads") ?? 0;
        return new BenchResult(file, bench, ReportReader.Str(o, "cpu"), ReportReader.Str(o, "tier") ?? ReportReader.Str(o, "isa"),
            threads > 0 ? threads : null, rows.Take(MaxRows).ToList(), Math.Max(0, total - MaxRows));
    }

    private static void AddRatios(List<BenchRow> rows, string label, JsonObject o)
    {
        var ratios = o.Where(kv => IsRatio(kv.Key) && ReportReader.Num(o, kv.Key) is not null)
            .Select(kv => (kv.Key, ReportReader.Num(o, kv.Key)!.Value)).ToList();
        if (ratios.Count > 0) rows.Add(new BenchRow(label, ratios));
    }

    private static bool IsRatio(string key) =>
        !key.Contains("diff", StringComparison.Ordinal) && !key.Contains("error", StringComparison.Ordinal)
        && (key.Contains("speedup", StringComparison.Ordinal) || key.Contains("ratio", StringComparison.Ordinal) || key.Contains("_vs_", StringComparison.Ordinal));

    private static string ModelCase(JsonObject m)
    {
        var parts = new List<string> { ReportReader.Str(m, "model") ?? "model" };
        if (ReportReader.Str(m, "pattern") is { } p) parts.Add(p);
        if (ReportReader.Num(m, "sparsity") is { } s) parts.Add($"{(s * 100).ToString("0.#", CultureInfo.InvariantCulture)}% zeros");
        if (ReportReader.Int(m, "batch") is { } b) parts.Add($"batch {b}");
        if (ReportReader.Int(m, "seq") is { } q) parts.Add($"seq {q}");
        return string.Join(", ", parts);
    }

    /// <summary>What names a result row: its name, matrix or layer and its shape, whichever it has.</summary>
    private static string ResultCase(JsonObject r)
    {
        var parts = new List<string>();
        foreach (string key in new[] { "name", "matrix", "layer", "case", "op", "kernel", "pattern", "series" })
            if (ReportReader.Str(r, key) is { } s) parts.Add(s);
        var dims = new[] { "m", "k", "n" }.Select(k => ReportReader.Int(r, k)).ToArray();
        if (dims.Any(d => d is not null)) parts.Add(string.Join(" ", new[] { "m", "k", "n" }.Zip(dims).Where(z => z.Second is not null).Select(z => $"{z.First}={z.Second}")));
        if (ReportReader.Num(r, "sparsity") is { } sp) parts.Add($"{(sp * 100).ToString("0.#", CultureInfo.InvariantCulture)}% zeros");
        return parts.Count > 0 ? string.Join(", ", parts) : "result";
    }
}
