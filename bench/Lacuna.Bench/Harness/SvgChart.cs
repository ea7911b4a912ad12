using System.Globalization;
using System.Text;

namespace Lacuna.Bench.Harness;

/// <summary>
/// A minimal line chart as standalone SVG: one series of (x, y) points with markers, a dashed horizontal
/// reference line (speedup 1 = dense), axes with ticks and labels. No dependencies, opens in any browser.
/// </summary>
public static class SvgChart
{
    public static string Line(string title, string xLabel, string yLabel, IReadOnlyList<(double X, double Y)> points, double referenceY = 1.0)
    {
        const int width = 640, height = 400, left = 70, right = 20, top = 40, bottom = 55;
        double xMin = points.Count == 0 ? 0 : points.Min(p => p.X), xMax = points.Count == 0 ? 1 : points.Max(p => p.X);
        if (xMax <= xMin) xMax = xMin + 1;
        double yMax = Math.Max(referenceY, points.Count == 0 ? 1 : points.Max(p => p.Y)) * 1.1;
        double yMin = 0;
        double Px(double x) => left + (x - xMin) / (xMax - xMin) * (width - left - right);
        double Py(double y) => top + (1 - (y - yMin) / (yMax - yMin)) * (height - top - bottom);
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        sb.Append($"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{Escape(title)}</text>\n");
        sb.Append($"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        sb.Append($"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        for (int i = 0; i <= 5; i++)
        {
            double yv = yMin + (yMax - yMin) * i / 5, xv = xMin + (xMax - xMin) * i / 5;
            sb.Append($"<text x=\"{left - 8}\" y=\"{F(Py(yv) + 4)}\" text-anchor=\"end\">{F(yv)}</text>\n");
            sb.Append($"<text x=\"{F(Px(xv))}\" y=\"{height - bottom + 18}\" text-anchor=\"middle\">{F(xv)}</text>\n");
        }
        sb.Append($"<text x=\"{width / 2}\" y=\"{height - 12}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        sb.Append($"<text x=\"16\" y=\"{height / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {height / 2})\">{Escape(yLabel)}</text>\n");
        sb.Append($"<line x1=\"{left}\" y1=\"{F(Py(referenceY))}\" x2=\"{width - right}\" y2=\"{F(Py(referenceY))}\" stroke=\"gray\" stroke-dasharray=\"6 4\"/>\n");
        sb.Append($"<text x=\"{width - right - 4}\" y=\"{F(Py(referenceY) - 6)}\" text-anchor=\"end\" fill=\"gray\">dense = {F(referenceY)}</text>\n");
        if (points.Count > 0)
        {
            sb.Append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
            sb.Append(string.Join(" ", points.Select(p => $"{F(Px(p.X))},{F(Py(p.Y))}")));
            sb.Append("\"/>\n");
            foreach (var p in points)
                sb.Append($"<circle cx=\"{F(Px(p.X))}\" cy=\"{F(Py(p.Y))}\" r=\"3.5\" fill=\"#1f77b4\"><title>{F(p.X)}: {F(p.Y)}x</title></circle>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
