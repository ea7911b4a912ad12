using System.Text.Json;
using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Kernels;

namespace Lacuna.Bench.Harness;

/// <summary>The JSON every <c>lacuna bench ... --json</c> prints: one document, numbers rounded for reading.</summary>
public static class BenchJson
{
    private static readonly JsonSerializerOptions s_options = new() { WriteIndented = true };

    /// <summary>
    /// The document, with the machine it ran on added where the benchmark did not say: <c>cpu</c>, Lacuna's
    /// <c>tier</c>, the processor count, and, when the run used OpenBLAS, the core it ran and how it was chosen.
    /// </summary>
    public static string Write(JsonObject doc)
    {
        doc.TryAdd("cpu", CpuInfo.Current.Describe());
        doc.TryAdd("tier", IsaTiers.Best.ToString());
        doc.TryAdd("processors", Environment.ProcessorCount);
        if (OpenBlas.WasUsed)
            foreach (var (key, value) in OpenBlas.Report()) doc.TryAdd(key, value?.DeepClone());
        return doc.ToJsonString(s_options);
    }

    /// <summary>Rounds to <paramref name="digits"/> significant digits; NaN/∞ become null (JSON has neither).</summary>
    public static JsonNode? Num(double value, int digits = 4)
    {
        if (double.IsNaN(value) || double.IsInfinity(value)) return null;
        if (value == 0) return JsonValue.Create(0.0);
        int scale = digits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(value)));
        double rounded = scale >= 0 && scale <= 15 ? Math.Round(value, scale) : value;
        return JsonValue.Create(rounded);
    }
}
