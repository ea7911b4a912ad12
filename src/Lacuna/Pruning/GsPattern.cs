using Lacuna.Formats;
using Lacuna.Kernels;
using Lacuna.Kernels.GsSpmm;
using Lacuna.Kernels.Spmm;

namespace Lacuna.Pruning;

/// <summary>
/// Gather-scatter patterns (Sun et al., arXiv 2112.10898), spelled `gs:V` (row-wise: a group is V consecutive rows,
/// one lane each), `gs:V:col` (column-wise: a group is one row, lane l owns the columns ≡ l mod V) and `gs:V:hybrid`
/// (V/4 rows × 4 column banks), V = 8 or 16. The constraint: within a group every lane holds the same number of
/// non-zeros. Runs on <see cref="GsSpmmPlan"/>.
/// <para>Pruning: a global magnitude threshold for the requested sparsity gives each group its budget (the entries
/// above it); the group keeps budget/V per lane, capped by its sparsest lane's non-zeros, each lane keeping its largest
/// magnitudes. The rounding error is carried from group to group (a column-wise group is one row, whose lanes may hold
/// well under one entry each at 0.9), so the overall sparsity stays close to the request.</para>
/// </summary>
public sealed class GsPattern : SparsityPattern
{
    public GsPattern(int lanes, GsLayout layout)
    {
        if (lanes is not (8 or 16)) throw new ArgumentException($"gs:{lanes}: V must be 8 or 16.", nameof(lanes));
        Lanes = lanes; Layout = layout;
    }

    public int Lanes { get; }
    public GsLayout Layout { get; }
    public override string Name => Layout switch { GsLayout.Column => $"gs:{Lanes}:col", GsLayout.Hybrid => $"gs:{Lanes}:hybrid", _ => $"gs:{Lanes}" };
    public override bool SparsityIsFree => true;
    public override double ResultingSparsity(double requested) => requested;

    private int Banks => GsMatrix.BanksOf(Lanes, Layout);

    public override void Prune(Span<float> weights, int rows, int cols, double sparsity)
    {
        Check(weights.Length, rows, cols);
        if (!(sparsity >= 0 && sparsity <= 1)) ThrowHelper.OutOfRange(nameof(sparsity), sparsity, "Sparsity must be in [0, 1].");
        int total = rows * cols;
        if (total == 0) return;
        var mags = new float[total];
        for (int i = 0; i < total; i++)
        {
            if (float.IsNaN(weights[i])) ThrowHelper.Argument(nameof(weights), $"weights[{i}] is NaN; magnitude pruning needs ordered values.");
            mags[i] = MathF.Abs(weights[i]);
        }
        int keep = total - (int)Math.Round(sparsity * total);
        Array.Sort(mags);
        float threshold = keep == 0 ? float.PositiveInfinity : mags[total - keep];
        int banks = Banks, rpg = Lanes / banks, groups = (rows + rpg - 1) / rpg;
        var lane = new List<(float Mag, int Index)>();
        double carry = 0; // rounding error carried to the next group, so the total stays near the target
        for (int g = 0; g < groups; g++)
        {
            int above = 0, liveLanes = 0, cap = int.MaxValue;
            for (int l = 0; l < Lanes; l++)
            {
                int row = g * rpg + l / banks;
                if (row >= rows || l % banks >= cols) continue;
                liveLanes++;
                int nz = 0;
                for (int c = l % banks; c < cols; c += banks)
                {
                    float m = MathF.Abs(weights[row * cols + c]);
                    if (m >= threshold && m > 0) above++;
                    if (m > 0) nz++;
                }
                cap = Math.Min(cap, nz);
            }
            int perLane = 0;
            if (liveLanes > 0)
            {
                double want = (double)above / liveLanes + carry / liveLanes;
                perLane = Math.Clamp((int)Math.Round(want), 0, cap);
                carry = (want - perLane) * liveLanes;
            }
            for (int l = 0; l < Lanes; l++)
            {
                int row = g * rpg + l / banks;
                if (row >= rows) continue;
                lane.Clear();
                for (int c = l % banks; c < cols; c += banks) lane.Add((MathF.Abs(weights[row * cols + c]), row * cols + c));
                // Largest first, ties by position (lower index kept), so the result is deterministic.
                lane.Sort((a, b) => a.Mag != b.Mag ? b.Mag.CompareTo(a.Mag) : a.Index.CompareTo(b.Index));
                for (int i = perLane; i < lane.Count; i++) weights[lane[i].Index] = 0f;
            }
        }
    }

    public override string? Violation(ReadOnlySpan<float> weights, int rows, int cols)
    {
        Check(weights.Length, rows, cols);
        int banks = Banks, rpg = Lanes / banks, groups = (rows + rpg - 1) / rpg;
        for (int g = 0; g < groups; g++)
        {
            int first = -1, firstLane = -1;
            for (int l = 0; l < Lanes; l++)
            {
                int row = g * rpg + l / banks;
                if (row >= rows || l % banks >= cols) continue;
                int nz = 0;
                for (int c = l % banks; c < cols; c += banks) if (weights[row * cols + c] != 0f) nz++;
                if (first < 0) { first = nz; firstLane = l; }
                else if (nz != first)
                    return $"{Name}: group {g} (rows {g * rpg}-{Math.Min(rows, (g + 1) * rpg) - 1}): lane {l} (row {row}, bank {l % banks}) has {nz} non-zeros but lane {firstLane} has {first}; every lane of a group must hold the same number.";
            }
        }
        return null;
    }

    public override ISpmmPlan? CreatePlan(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> bias, Activation activation)
    {
        if (Violation(weights, rows, cols) is not null) return null;
        return GsSpmmPlan.Create(GsMatrix.FromDense(weights[..(rows * cols)], rows, cols, Lanes, Layout), bias, activation);
    }

    private static void Check(int length, int rows, int cols)
    {
        ThrowHelper.IfNegative(rows, nameof(rows));
        ThrowHelper.IfNegative(cols, nameof(cols));
        ThrowHelper.IfTooShort(length, (long)rows * cols, "weights", $"W [{rows}×{cols}]");
    }

    /// <summary>Reads "gs:V", "gs:V:row", "gs:V:col" or "gs:V:hybrid".</summary>
    internal static SparsityPattern? TryParse(string text)
    {
        if (!text.StartsWith("gs:", StringComparison.Ordinal)) return null;
        var parts = text.Split(':');
        if (parts.Length is < 2 or > 3 || !int.TryParse(parts[1], out int v))
            throw new ArgumentException($"'{text}': expected gs:V, gs:V:col or gs:V:hybrid with V = 8 or 16.", nameof(text));
        var layout = parts.Length == 2 ? GsLayout.Row : parts[2] switch
        {
            "row" => GsLayout.Row,
            "col" => GsLayout.Column,
            "hybrid" => GsLayout.Hybrid,
            _ => throw new ArgumentException($"'{text}': unknown GS layout '{parts[2]}'; expected row, col or hybrid.", nameof(text)),
        };
        return new GsPattern(v, layout);
    }
}
