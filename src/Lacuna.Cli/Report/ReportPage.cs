using System.Text;
using static Lacuna.Cli.Report.ReportFormat;

namespace Lacuna.Cli.Report;

/// <summary>
/// Writes the report: one HTML page with its CSS, its charts as inline SVG and one small inline script that measures
/// the charts after layout (nothing is fetched: the page reads the same offline, in a mail attachment or a CI artifact).
/// Sections, in order, for whatever was given: the study, prune results, training runs, benchmarks.
/// </summary>
public sealed class ReportPage
{
    private readonly ReportData _data;
    private readonly Palette _methods = new(Palette.StudyMethods);
    private readonly Palette _kernels = new();
    private readonly StringBuilder _html = new();
    private int _charts;

    private ReportPage(ReportData data) => _data = data;

    public static string Render(ReportData data, string title) => new ReportPage(data).Write(title);

    private static readonly ChartAxis s_sparsity = new("weight sparsity", v => Pct(v, "0.#"), Fraction: true);
    private static readonly ChartAxis s_accuracy = new("test accuracy", v => Pct(v, "0.#"), Fraction: true);
    private static readonly ChartAxis s_speedup = new("speed-up over dense", v => Ratio(v), Include: 1);

    private string Write(string title)
    {
        _html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append($"<title>{Html(title)}</title><style>{Css}</style></head><body>")
            .Append($"<h1>{Html(title)}</h1>")
            .Append($"<p class=\"meta\">Written by <code>lacuna report</code> from {_data.Files.Count} file(s): ")
            .Append(string.Join(", ", _data.Files.Select(f => $"<code>{Html(f)}</code>"))).Append("</p>");
        if (_data.Study.Count > 0) Study();
        if (_data.Prunes.Count > 0) Prunes();
        if (_data.Trains.Count > 0) Trains();
        if (_data.Benches.Count > 0) Benches();
        _html.Append("<pre id=\"render-check\" hidden></pre><script>").Append(RenderCheckScript).Append("</script></body></html>");
        return _html.ToString();
    }

    private string NextId() => $"chart-{++_charts}";

    private void Study()
    {
        _html.Append("<section id=\"study\"><h2>Pruning study</h2>");
        foreach (var m in _data.Study)
        {
            _html.Append($"<h3>{Html(string.Join(" · ", new[] { m.Dataset, m.Model }.Where(s => s.Length > 0)))}</h3>")
                .Append($"<p class=\"meta\">dense accuracy {Pct(m.DenseAccuracy, "0.00")}; {m.Rows.Count} rows from <code>{Html(m.Source)}</code></p><div class=\"charts\">");
            string tip(StudyRow r) => $"{r.Method} at {Pct(r.Sparsity)}: accuracy {Pct(r.Accuracy, "0.00")}, {Ratio(r.SpeedupVsDense)}"
                + (r.FineTuned is { } ft ? ft ? ", fine-tuned" : ", no fine-tuning" : "");
            LineChart("accuracy", $"{m.Model}: accuracy vs sparsity", s_sparsity, s_accuracy,
                m.Rows.Select(r => (r.Method, r.Sparsity, r.Accuracy, tip(r))),
                m.DenseAccuracy is { } d ? (d, $"dense {Pct(d, "0.0")}") : null);
            LineChart("speedup", $"{m.Model}: speed-up vs sparsity", s_sparsity, s_speedup,
                m.Rows.Select(r => (r.Method, r.Sparsity, r.SpeedupVsDense, tip(r))), (1, "dense 1×"));
            _html.Append("</div>").Append(StudyTable(m));
        }
        _html.Append("</section>");
    }

    /// <summary>Methods down, sparsities across; each cell: accuracy, its change from dense in points, the speed-up.</summary>
    private string StudyTable(StudyModel m)
    {
        var sparsities = m.Rows.Select(r => r.Sparsity).Distinct().OrderBy(s => s ?? -1).ToList();
        var methods = _methods.Order(m.Rows.Select(r => r.Method)).ToList();
        string cell(StudyRow r) => $"{Pct(r.Accuracy, "0.00")}"
            + (r.Accuracy is { } a && m.DenseAccuracy is { } d ? $" <span class=\"delta\">{Num((a - d) * 100, "+0.00;-0.00;0.00")}</span>" : "")
            + $"<br>{Ratio(r.SpeedupVsDense)}{(r.FineTuned == false ? " <span class=\"delta\">no FT</span>" : "")}";
        return Table("numbers study", new[] { "method" }.Concat(sparsities.Select(s => s is null ? "sparsity ?" : Pct(s, "0.#"))),
            methods.Select(method => new[] { Html(method) }.Concat(sparsities.Select(s =>
                string.Join("<hr>", m.Rows.Where(r => r.Method == method && r.Sparsity == s).Select(cell)))))) +
            "<p class=\"meta\">Each cell: test accuracy, its change from dense in points, and the measured speed-up over the dense plan; \"no FT\": not fine-tuned.</p>";
    }

    private void Prunes()
    {
        _html.Append("<section id=\"prune\"><h2>Prune results</h2>");
        foreach (var group in _data.Prunes.GroupBy(p => Path.GetFileName(p.Model)))
        {
            var runs = group.ToList();
            _html.Append($"<h3>{Html(group.Key)}: {runs.Count} prune result(s)</h3><div class=\"charts\">");
            string tip(PruneResult p) => $"{p.Method} at {Pct(p.Sparsity)}: accuracy {Pct(p.Accuracy, "0.00")}, CPU {Ratio(p.MeasuredSpeedup)}, accelerator {Ratio(p.AcceleratorSpeedup)} ({p.Source})";
            double? dense = runs.Select(p => p.DenseAccuracy).FirstOrDefault(a => a is not null);
            if (runs.Any(p => p.Accuracy is not null))
                LineChart("accuracy", $"{group.Key}: accuracy vs sparsity", s_sparsity, s_accuracy,
                    runs.Select(p => (p.Method, p.Sparsity, p.Accuracy, tip(p))), dense is { } d ? (d, $"dense {Pct(d, "0.0")}") : null);
            if (runs.Any(p => p.MeasuredSpeedup is not null))
                LineChart("speedup", $"{group.Key}: measured CPU speed-up", s_sparsity, s_speedup,
                    runs.Select(p => (p.Method, p.Sparsity, p.MeasuredSpeedup, tip(p))), (1, "dense 1×"));
            if (runs.Any(p => p.AcceleratorSpeedup is not null))
                LineChart("accelerator-speedup", $"{group.Key}: accelerator model speed-up", s_sparsity, s_speedup with { Label = "modelled speed-up over dense" },
                    runs.Select(p => (p.Method, p.Sparsity, p.AcceleratorSpeedup, tip(p))), (1, "dense 1×"));
            if (!runs.Any(p => p.Accuracy is not null || p.MeasuredSpeedup is not null || p.AcceleratorSpeedup is not null))
                _html.Append("<p class=\"empty\">No accuracy or speed-up in these results (prune without a calibration set or timing).</p>");
            _html.Append("</div>");
        }
        _html.Append(Table("numbers", ["file", "model", "method", "sparsity", "accuracy", "dense accuracy", "rel. output error", "MACs kept",
                "CPU speed-up", "accelerator speed-up", "accelerator energy", "threads", "batch", "ISA", "CPU"],
            _data.Prunes.Select(p => new[]
            {
                $"<code>{Html(Path.GetFileName(p.Source))}</code>", Html(Path.GetFileName(p.Model)), Html(p.Method), Pct(p.Sparsity), Pct(p.Accuracy, "0.00"),
                Pct(p.DenseAccuracy, "0.00"), Num(p.RelativeOutputError, "0.####"), p.MacsKept is null ? Missing : $"{Count(p.MacsKept)} ({Pct(p.MacsKeptFraction)})",
                Ratio(p.MeasuredSpeedup), Ratio(p.AcceleratorSpeedup), Pct(p.AcceleratorEnergyRatio), Int(p.Threads), Int(p.Batch), Html(p.Isa), Html(p.Cpu),
            })));
        foreach (var p in _data.Prunes.Where(p => p.Layers.Count > 0))
        {
            _html.Append($"<h3>{Html(p.Method)} on {Html(Path.GetFileName(p.Model))}: per layer</h3>")
                .Append($"<p class=\"meta\">from <code>{Html(p.Source)}</code>{(p.Output is null ? "" : $", wrote <code>{Html(p.Output)}</code>")}; bars coloured by the kernel the plan chose</p><div class=\"charts\">");
            Bars("layers", $"{p.Method}: sparsity and kernel per layer", s_sparsity,
                p.Layers.Select(l => new ChartBar(l.Name, l.Sparsity, l.Kernel ?? "(no kernel)", _kernels.Color(l.Kernel ?? "(no kernel)"),
                    $"{l.Name}: {Pct(l.Sparsity)} zeros, {l.Pattern ?? "?"}, kernel {l.Kernel ?? "?"}, measured {Ratio(l.MeasuredSpeedup)}")).ToList());
            _html.Append("</div>").Append(Table("numbers layers", ["layer", "op", "rows × cols", "pattern", "sparsity", "kept norm", "estimated", "accelerator", "measured", "kernel", "note"],
                p.Layers.Select(l => new[]
                {
                    Html(l.Name), Html(l.Op), l.Rows is null && l.Cols is null ? Missing : $"{Int(l.Rows)} × {Int(l.Cols)}", Html(l.Pattern), Pct(l.Sparsity),
                    Num(l.KeptNorm, "0.0000"), Ratio(l.EstimatedSpeedup), Ratio(l.AcceleratorSpeedup), Ratio(l.MeasuredSpeedup), Html(l.Kernel), l.Note is null ? "" : Html(l.Note),
                })));
        }
        _html.Append("</section>");
    }

    private void Trains()
    {
        _html.Append("<section id=\"train\"><h2>Training runs</h2>");
        foreach (var t in _data.Trains)
        {
            _html.Append($"<h3>{Html(t.Network)}: test accuracy {Pct(t.TestAccuracy, "0.00")}</h3>")
                .Append($"<p class=\"meta\"><code>{Html(t.Source)}</code>; {Html(string.Join(", ", t.Options.Select(o => $"{o.Name} {o.Value}")))}")
                .Append($"{(t.Threads is { } th ? $"; {th} thread(s)" : "")}{(t.Seconds is { } s ? $"; {Num(s, "0.#")} s" : "")}</p><div class=\"charts\">");
            var epochs = new ChartAxis("epoch", v => Num(v, "0"), Integer: true);
            LineChart("training", $"{t.Network}: accuracy per epoch", epochs, s_accuracy with { Label = "accuracy" },
                t.History.Select(e => ("test", (double?)e.Epoch, e.TestAccuracy, $"epoch {e.Epoch}: test {Pct(e.TestAccuracy, "0.00")}"))
                    .Concat(t.History.Select(e => ("train", (double?)e.Epoch, e.TrainAccuracy, $"epoch {e.Epoch}: train {Pct(e.TrainAccuracy, "0.00")}"))), null);
            if (t.Layers.Count > 0)
                Bars("layers", $"{t.Network}: sparsity per layer", s_sparsity,
                    t.Layers.Select(l => new ChartBar(l.Name, l.Sparsity, l.Pattern ?? "(no pattern)", _kernels.Color(l.Pattern ?? "(no pattern)"),
                        $"{l.Name} ({Int(l.Rows)} × {Int(l.Cols)}): {Pct(l.Sparsity)} zeros, {l.Pattern ?? "?"}")).ToList());
            _html.Append("</div>").Append(Table("numbers", ["epoch", "train loss", "train accuracy", "test loss", "test accuracy"],
                t.History.Select(e => new[] { Int(e.Epoch), Num(e.TrainLoss, "0.0000"), Pct(e.TrainAccuracy, "0.00"), Num(e.TestLoss, "0.0000"), Pct(e.TestAccuracy, "0.00") })));
        }
        _html.Append("</section>");
    }

    private void Benches()
    {
        _html.Append("<section id=\"bench\"><h2>Benchmarks</h2><p class=\"meta\">Ratios of medians measured in one process, interleaved (above 1: the first contender is faster).</p>");
        var rows = new List<string[]>();
        foreach (var b in _data.Benches)
        {
            foreach (var r in b.Rows)
                rows.Add([$"<code>{Html(Path.GetFileName(b.Source))}</code>", Html(b.Bench), Html(r.Case),
                    string.Join("<br>", r.Ratios.Select(x => $"{Html(x.Metric)} <b>{Ratio(x.Value)}</b>")), Html(b.Cpu), Html(b.Tier), Int(b.Threads)]);
            if (b.RowsLeftOut > 0)
                rows.Add([$"<code>{Html(Path.GetFileName(b.Source))}</code>", Html(b.Bench), $"… and {b.RowsLeftOut} more rows", "", "", "", ""]);
            if (b.Rows.Count == 0)
                rows.Add([$"<code>{Html(Path.GetFileName(b.Source))}</code>", Html(b.Bench), "(no ratios in this result)", "", Html(b.Cpu), Html(b.Tier), Int(b.Threads)]);
        }
        _html.Append(Table("numbers bench", ["file", "bench", "case", "ratios", "CPU", "ISA tier", "threads"], rows)).Append("</section>");
    }

    /// <summary>A line chart of (series, x, y) points; points missing x or y are left out, and so is a series left with none.</summary>
    private void LineChart(string kind, string title, ChartAxis x, ChartAxis y, IEnumerable<(string Series, double? X, double? Y, string Tip)> points,
        (double, string)? reference)
    {
        var kept = points.Where(p => p.X is not null && p.Y is not null).ToList();
        if (kept.Count == 0) { _html.Append($"<p class=\"empty\">{Html(title)}: no values to plot.</p>"); return; }
        var series = _methods.Order(kept.Select(p => p.Series))
            .Select(name => new ChartSeries(name, _methods.Color(name), _methods.Marker(name),
                kept.Where(p => p.Series == name).Select(p => new ChartPoint(p.X!.Value, p.Y!.Value, p.Tip)).ToList()))
            .ToList();
        _html.Append("<figure>").Append(SvgChart.Line(NextId(), kind, title, x, y, series, reference)).Append("</figure>");
    }

    private void Bars(string kind, string title, ChartAxis y, List<ChartBar> bars) =>
        _html.Append("<figure class=\"wide\">").Append(SvgChart.Bars(NextId(), kind, title, y, bars)).Append("</figure>");

    private const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1500px;padding:0 16px;color:#222;background:#fff}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:28px}h3{font-size:15px;margin:18px 0 4px}
        .meta{color:#555;font-size:13px;margin:2px 0 8px}.empty{color:#777;font-style:italic}
        .charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}figure{margin:0}figure.wide{max-width:100%;overflow-x:auto}
        svg.chart{background:#fff;border:1px solid #ddd;border-radius:4px}
        svg.chart text{font-family:inherit;font-size:11px;fill:#333}svg.chart .title{font-size:14px;font-weight:600;fill:#111}
        svg.chart .axis-label{font-size:12px;fill:#222}svg.chart .tick{fill:#555}svg.chart .value{font-size:9px;fill:#333}svg.chart .missing{fill:#999}
        svg.chart .plot{fill:#fbfbfb;stroke:#999}svg.chart .grid{stroke:#e4e4e4}
        svg.chart .reference{stroke:#666;stroke-dasharray:5 4;stroke-width:1.2}svg.chart .reference-label{fill:#555;font-size:11px}
        table.numbers{border-collapse:collapse;font-size:12px;margin:8px 0 16px}
        table.numbers th,table.numbers td{border:1px solid #ddd;padding:3px 8px;text-align:right;vertical-align:top}
        table.numbers th{background:#f2f2f2}table.numbers td:first-child,table.numbers th:first-child{text-align:left}
        table.numbers tbody tr:nth-child(even){background:#fafafa}table.bench td:nth-child(-n+4){text-align:left}
        code{font-size:12px}.delta{color:#777;font-size:11px}table.study td{white-space:nowrap}table.study hr{border:0;border-top:1px dashed #ccc;margin:2px 0}
        """;

    // After layout, the size of every chart and of each series in it (data-series), written into #render-check as JSON
    // and as data-rendered on the series: a headless browser's dumped DOM then shows whether anything came out empty.
    private const string RenderCheckScript = """
        window.addEventListener('load', function () {
          var charts = [];
          document.querySelectorAll('svg.chart').forEach(function (svg) {
            var box = svg.getBoundingClientRect(), series = [];
            svg.querySelectorAll('[data-series]').forEach(function (g) {
              var b = g.getBBox();
              g.setAttribute('data-rendered', b.width > 0 && b.height > 0 ? 'yes' : 'no');
              series.push({ name: g.getAttribute('data-series'), width: b.width, height: b.height });
            });
            charts.push({ id: svg.id, kind: svg.getAttribute('data-chart'), width: box.width, height: box.height, series: series });
          });
          document.getElementById('render-check').textContent = JSON.stringify(charts);
        });
        """;
}
