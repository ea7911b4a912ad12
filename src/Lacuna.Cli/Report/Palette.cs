namespace Lacuna.Cli.Report;

/// <summary>
/// One colour and marker per name for the whole page, so a method looks the same in every chart. The study's methods
/// come first in a fixed order; "nm:2:4" and "nm2:4", "block:4x4" and "block4x4" (prune's and the study's spellings)
/// share a colour.
/// </summary>
internal sealed class Palette
{
    // Twelve hues that stay apart on white (and, with the four marker shapes, for the common colour-vision
    // deficiencies): enough for the study's eleven methods to differ by colour alone.
    private static readonly string[] s_colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22", "#222222", "#b8860b"];

    public static readonly string[] StudyMethods = ["magnitude", "global", "block4x4", "block16x1", "nm2:4", "nm1:4", "nm1:8", "gs", "channel", "tasd", "tasder"];

    private readonly Dictionary<string, int> _index = [];

    public Palette(IEnumerable<string>? seed = null)
    {
        foreach (string name in seed ?? []) Index(name);
    }

    public string Color(string name) => s_colors[Index(name) % s_colors.Length];

    public int Marker(string name) => Index(name) % 4;

    /// <summary>Names in the order of their colours (the order legends list them).</summary>
    public IEnumerable<string> Order(IEnumerable<string> names) => names.Distinct().OrderBy(Index);

    private int Index(string name)
    {
        string key = name.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        if (!_index.TryGetValue(key, out int i)) _index[key] = i = _index.Count;
        return i;
    }
}
