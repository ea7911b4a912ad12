using System.Globalization;
using System.Net;
using System.Text;

namespace Lacuna.Cli.Report;

/// <summary>A point of a line chart and its tooltip.</summary>
internal sealed record ChartPoint(double X, double Y, string Tip);

/// <summary>A line chart's series: its points are joined in x order; each point also gets a marker, so a one-point series shows.</summary>
internal sealed record ChartSeries(string Name, string Color, int Marker, IReadOnlyList<ChartPoint> Points);

/// <summary>An axis: its label, how its ticks read, whether it holds fractions (kept within [0, 1]) or whole numbers, and a value it must show.</summary>
internal sealed record ChartAxis(string Label, Func<double, string> Format, bool Fraction = false, bool Integer = false, double? Include = null);

/// <summary>A bar of a bar chart: its category label, its height (null: not measured), the legend group that colours it.</summary>
internal sealed record ChartBar(string Label, double? Value, string Group, string Color, string Tip);

/// <summary>
/// Writes charts as inline SVG (no script, no external resources): axes with ticks, grid lines and labels, a title
/// and a legend. Each series (or each group of bars) is one <c>&lt;g data-series="NAME"&gt;</c>, so a page can be
/// checked for what it drew.
/// </summary>
internal static class SvgChart
{
    private const int Left = 64, Top = 34, Bottom = 50, LegendWidth = 140, LegendRow = 18;
    private const int PlotWidth = 370, PlotHeight = 250, Inset = 6;

    public static string Line(string id, string kind, string title, ChartAxis xAxis, ChartAxis yAxis, IReadOnlyList<ChartSeries> series,
        (double Y, string Label)? reference = null)
    {
        var points = series.SelectMany(s => s.Points).ToList();
        var (x0, x1, xStep) = Scale(points.Select(p => p.X), xAxis);
        var (y0, y1, yStep) = Scale(points.Select(p => p.Y).Concat(reference is { } r ? [r.Y] : []), yAxis);
        // Points keep a few pixels from the frame, so a marker at the end of a range is not cut in half by it.
        double X(double v) => Left + Inset + (v - x0) / (x1 - x0) * (PlotWidth - 2 * Inset);
        double Y(double v) => Top + PlotHeight - Inset - (v - y0) / (y1 - y0) * (PlotHeight - 2 * Inset);

        int height = Math.Max(Top + PlotHeight + Bottom, Top + 10 + series.Count * LegendRow);
        var svg = Open(id, kind, title, Left + PlotWidth + LegendWidth, height);
        svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"plot\" x=\"{Left}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\"/>");
        foreach (double t in Ticks(x0, x1, xStep))
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{N(X(t))}\" y1=\"{Top}\" x2=\"{N(X(t))}\" y2=\"{Top + PlotHeight}\"/>")
               .Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{N(X(t))}\" y=\"{Top + PlotHeight + 16}\" text-anchor=\"middle\">{E(xAxis.Format(t))}</text>");
        YTicks(svg, y0, y1, yStep, yAxis, Y);
        AxisLabels(svg, xAxis.Label, yAxis.Label, Left + PlotWidth / 2.0, Top + PlotHeight + 40);
        if (reference is { } line)
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"reference\" x1=\"{Left}\" y1=\"{N(Y(line.Y))}\" x2=\"{Left + PlotWidth}\" y2=\"{N(Y(line.Y))}\"/>")
               .Append(CultureInfo.InvariantCulture, $"<text class=\"reference-label\" x=\"{Left + PlotWidth - 4}\" y=\"{N(Y(line.Y) - 4)}\" text-anchor=\"end\">{E(line.Label)}</text>");
        foreach (var s in series)
        {
            var ordered = s.Points.OrderBy(p => p.X).ToList();
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-series=\"{E(s.Name)}\">");
            if (ordered.Count > 1)
                svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\" points=\"{string.Join(' ', ordered.Select(p => $"{N(X(p.X))},{N(Y(p.Y))}"))}\"/>");
            foreach (var p in ordered) svg.Append(Marker(s.Marker, X(p.X), Y(p.Y), s.Color, p.Tip));
            svg.Append("</g>");
        }
        Legend(svg, series.Select(s => (s.Name, s.Color, (int?)s.Marker)).ToList(), Left + PlotWidth + 16);
        return svg.Append("</svg>").ToString();
    }

    public static string Bars(string id, string kind, string title, ChartAxis yAxis, IReadOnlyList<ChartBar> bars)
    {
        // Bars grow from zero, and fractions (sparsity) span the whole [0, 1] so bars of different charts compare by eye.
        var (y0, y1, yStep) = Scale(bars.Where(b => b.Value is not null).Select(b => b.Value!.Value).Append(0).Append(yAxis.Fraction ? 1 : 0), yAxis);
        double Y(double v) => Top + PlotHeight - (v - y0) / (y1 - y0) * PlotHeight;
        double slot = Math.Clamp(PlotWidth / (double)Math.Max(1, bars.Count), 14, 40);
        double plotWidth = Math.Max(PlotWidth, slot * bars.Count);
        const int labelSpace = 96; // layer names, rotated
        // Groups of the bars that have a value: a kernel seen only on a layer without a sparsity draws nothing, so no legend entry.
        var groups = bars.Where(b => b.Value is not null).Select(b => (b.Group, b.Color)).Distinct().ToList();
        int height = Math.Max(Top + PlotHeight + labelSpace, Top + 10 + groups.Count * LegendRow);
        var svg = Open(id, kind, title, (int)(Left + plotWidth + LegendWidth), height);
        svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"plot\" x=\"{Left}\" y=\"{Top}\" width=\"{N(plotWidth)}\" height=\"{PlotHeight}\"/>");
        YTicks(svg, y0, y1, yStep, yAxis, Y, plotWidth);
        AxisLabels(svg, "", yAxis.Label, Left + plotWidth / 2, height - 4);
        for (int i = 0; i < bars.Count; i++)
        {
            double cx = Left + (i + 0.5) * slot;
            string label = bars[i].Label.Length > 16 ? bars[i].Label[..15] + "…" : bars[i].Label;
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" transform=\"translate({N(cx + 3)},{Top + PlotHeight + 10}) rotate(-45)\" text-anchor=\"end\">{E(label)}<title>{E(bars[i].Label)}</title></text>");
            if (bars[i].Value is null)
                svg.Append(CultureInfo.InvariantCulture, $"<text class=\"missing\" x=\"{N(cx)}\" y=\"{Top + PlotHeight - 4}\" text-anchor=\"middle\">n/a</text>");
        }
        foreach (var (group, color) in groups)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-series=\"{E(group)}\" fill=\"{color}\">");
            for (int i = 0; i < bars.Count; i++)
            {
                if (bars[i].Group != group || bars[i].Value is not { } v) continue;
                double cx = Left + (i + 0.5) * slot, top = Y(v), h = Math.Max(Top + PlotHeight - top, 1.5); // a zero bar stays visible
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{N(cx - slot * 0.35)}\" y=\"{N(Top + PlotHeight - h)}\" width=\"{N(slot * 0.7)}\" height=\"{N(h)}\"><title>{E(bars[i].Tip)}</title></rect>");
                if (bars.Count <= 24)
                    svg.Append(CultureInfo.InvariantCulture, $"<text class=\"value\" x=\"{N(cx)}\" y=\"{N(Top + PlotHeight - h - 3)}\" text-anchor=\"middle\">{E(yAxis.Format(v))}</text>");
            }
            svg.Append("</g>");
        }
        Legend(svg, groups.Select(g => (g.Group, g.Color, (int?)null)).ToList(), (int)(Left + plotWidth + 16));
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A range with "nice" ticks (1, 2, 2.5 or 5 times a power of ten, about five of them) that holds every value.</summary>
    internal static (double Lo, double Hi, double Step) Scale(IEnumerable<double> values, ChartAxis axis)
    {
        var v = values.ToList();
        if (axis.Include is { } must) v.Add(must);
        if (v.Count == 0) v.Add(axis.Fraction ? 0.5 : 1);
        double min = v.Min(), max = v.Max();
        if (max - min < 1e-12) // one value: centre it in a small range around it
        {
            double pad = axis.Integer ? 1 : Math.Max(Math.Abs(min) * 0.1, 0.05);
            min -= pad; max += pad;
        }
        double raw = (max - min) / 5, mag = Math.Pow(10, Math.Floor(Math.Log10(raw))), f = raw / mag;
        double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
        if (axis.Integer) step = Math.Max(1, Math.Round(step));
        double lo = Math.Floor(min / step + 1e-9) * step, hi = Math.Ceiling(max / step - 1e-9) * step;
        if (axis.Fraction) { lo = Math.Max(lo, 0); hi = Math.Min(hi, 1); }
        if (hi <= lo) hi = lo + step;
        return (lo, hi, step);
    }

    private static IEnumerable<double> Ticks(double lo, double hi, double step)
    {
        for (int i = 0; lo + i * step <= hi + step * 1e-6; i++) yield return Math.Round(lo + i * step, 10);
    }

    private static StringBuilder Open(string id, string kind, string title, int width, int height) =>
        new StringBuilder().Append(CultureInfo.InvariantCulture,
                $"<svg id=\"{E(id)}\" class=\"chart\" data-chart=\"{E(kind)}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{E(title)}\">")
            .Append(CultureInfo.InvariantCulture, $"<text class=\"title\" x=\"{Left}\" y=\"20\">{E(title)}</text>");

    private static void YTicks(StringBuilder svg, double y0, double y1, double step, ChartAxis axis, Func<double, double> y, double plotWidth = PlotWidth)
    {
        foreach (double t in Ticks(y0, y1, step))
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" y1=\"{N(y(t))}\" x2=\"{N(Left + plotWidth)}\" y2=\"{N(y(t))}\"/>")
               .Append(CultureInfo.InvariantCulture, $"<text class=\"tick\" x=\"{Left - 6}\" y=\"{N(y(t) + 4)}\" text-anchor=\"end\">{E(axis.Format(t))}</text>");
    }

    private static void AxisLabels(StringBuilder svg, string x, string y, double xCentre, double xBaseline)
    {
        if (x.Length > 0) svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis-label\" x=\"{N(xCentre)}\" y=\"{N(xBaseline)}\" text-anchor=\"middle\">{E(x)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis-label\" transform=\"translate(16,{Top + PlotHeight / 2}) rotate(-90)\" text-anchor=\"middle\">{E(y)}</text>");
    }

    private static void Legend(StringBuilder svg, List<(string Name, string Color, int? Marker)> entries, int x)
    {
        svg.Append("<g class=\"legend\">");
        for (int i = 0; i < entries.Count; i++)
        {
            var (name, color, marker) = entries[i];
            int y = Top + 8 + i * LegendRow;
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"legend-item\" data-legend=\"{E(name)}\">");
            if (marker is { } m)
                svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 22}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"2\"/>").Append(Marker(m, x + 11, y, color, name));
            else
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x + 4}\" y=\"{y - 6}\" width=\"14\" height=\"12\" fill=\"{color}\"/>");
            string text = name.Length > 18 ? name[..17] + "…" : name;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 28}\" y=\"{y + 4}\">{E(text)}</text></g>");
        }
        svg.Append("</g>");
    }

    /// <summary>Circle, square, triangle or diamond: a series stays identifiable where colours are hard to tell apart.</summary>
    private static string Marker(int kind, double x, double y, string color, string tip)
    {
        var (tag, attributes) = (kind % 4) switch
        {
            0 => ("circle", $"cx=\"{N(x)}\" cy=\"{N(y)}\" r=\"4\""),
            1 => ("rect", $"x=\"{N(x - 3.5)}\" y=\"{N(y - 3.5)}\" width=\"7\" height=\"7\""),
            2 => ("path", $"d=\"M{N(x)},{N(y - 5)}L{N(x + 4.5)},{N(y + 3.5)}L{N(x - 4.5)},{N(y + 3.5)}Z\""),
            _ => ("path", $"d=\"M{N(x)},{N(y - 5)}L{N(x + 5)},{N(y)}L{N(x)},{N(y + 5)}L{N(x - 5)},{N(y)}Z\""),
        };
        return $"<{tag} {attributes} fill=\"{color}\" stroke=\"#fff\" stroke-width=\"1\"><title>{E(tip)}</title></{tag}>";
    }

    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
