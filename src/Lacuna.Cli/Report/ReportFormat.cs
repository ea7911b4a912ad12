using System.Globalization;
using System.Net;

namespace Lacuna.Cli.Report;

/// <summary>How the report writes numbers (invariant culture; a missing value is "–") and escapes text.</summary>
internal static class ReportFormat
{
    public const string Missing = "–";

    public static string Pct(double? v, string format = "0.0") => v is { } d ? (d * 100).ToString(format, CultureInfo.InvariantCulture) + "%" : Missing;

    public static string Ratio(double? v) => v is { } d ? d.ToString(d < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + "×" : Missing;

    public static string Num(double? v, string format = "0.####") => v is { } d ? d.ToString(format, CultureInfo.InvariantCulture) : Missing;

    public static string Int(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? Missing;

    /// <summary>Multiply-add counts: 1.23 G, 456 M.</summary>
    public static string Count(double? v) => v switch
    {
        null => Missing,
        >= 1e9 => (v.Value / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + " G",
        >= 1e6 => (v.Value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + " M",
        >= 1e3 => (v.Value / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + " k",
        _ => v.Value.ToString("0", CultureInfo.InvariantCulture),
    };

    public static string Html(string? s) => WebUtility.HtmlEncode(s ?? Missing);

    /// <summary>A table: header cells, then rows of already-escaped cells.</summary>
    public static string Table(string cssClass, IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows) =>
        $"<table class=\"{cssClass}\"><thead><tr>{string.Concat(header.Select(h => $"<th>{Html(h)}</th>"))}</tr></thead><tbody>"
        + string.Concat(rows.Select(r => $"<tr>{string.Concat(r.Select(c => $"<td>{c}</td>"))}</tr>")) + "</tbody></table>";
}
