using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Bench.Harness;
using Lacuna.Formats;
using Lacuna.Tensors;

namespace Lacuna.Cli.Commands.Bench;

/// <summary>
/// The peer libraries' part of <c>lacuna bench spmm</c> (<c>--peers</c>): per matrix, each available peer is prepared
/// (its format, its tuning), run once and checked against <see cref="Kernels.Reference.ReferenceSpmm"/>, and only
/// then timed, in the same interleaved rounds as Lacuna and OpenBLAS. A peer whose library is missing is reported as
/// absent; a peer that fails on a matrix (an error, or a result off the reference) is reported with its error and
/// left out of that matrix's timing and of its geomeans.
/// </summary>
public sealed unsafe class BenchSpmmPeers : IDisposable
{
    /// <summary>Largest accepted max |Y_peer − Y_ref| / max |Y_ref| (fp32 against a double-accumulated reference).</summary>
    public const double Tolerance = 1e-4;

    private readonly IReadOnlyList<SpmmPeer> _peers;
    private readonly SpmmPeer[] _available;
    private readonly Dictionary<SpmmPeer, (List<double> VsLacuna, List<double> VsOpenBlas, int Failed)> _stats = new();
    private readonly List<(SpmmPeer Peer, PreparedSpmm Prepared, Tensor Y, int Index)> _timed = new();
    private readonly List<(string Key, string Value)> _notes = new(); // this matrix's <peer>_kernel / <peer>_error

    public BenchSpmmPeers(IReadOnlyList<SpmmPeer> peers)
    {
        _peers = peers;
        _available = peers.Where(p => p.IsAvailable).ToArray();
        foreach (var p in _available) _stats[p] = (new List<double>(), new List<double>(), 0);
    }

    public bool Any => _available.Length > 0;

    /// <summary>Each chosen peer: version, or why it is absent (the JSON's top-level <c>peers</c>).</summary>
    public JsonObject Report()
    {
        var o = new JsonObject();
        foreach (var p in _peers) o[p.Name] = p.Report();
        return o;
    }

    /// <summary>Table columns: time and Lacuna's speedup for each available peer.</summary>
    public IEnumerable<string> Columns => _available.SelectMany(p => new[] { $"{p.Name} ms", $"vs {p.Name}" });

    /// <summary>
    /// Prepares and checks every available peer on this matrix; those that pass join <paramref name="contenders"/>.
    /// A failure becomes <c>&lt;peer&gt;_error</c> in the matrix's row (written by <see cref="Record"/>).
    /// </summary>
    public void AddContenders(List<(string, Action)> contenders, CsrMatrix w, int n, int threads, Tensor x, ReadOnlySpan<float> reference)
    {
        DisposeMatrix();
        _notes.Clear();
        foreach (var peer in _available)
        {
            PreparedSpmm? prepared = null;
            var y = new Tensor(w.Rows, n);
            try
            {
                prepared = peer.Prepare(w, n, threads, x.Pointer);
                y.Span.Fill(float.NaN); // an element the peer leaves unwritten fails the check
                prepared.Run(x.Pointer, y.Pointer);
                double err = MaxRelError(y.Span, reference);
                if (!(err <= Tolerance))
                    throw new InvalidOperationException($"result differs from the reference by {err:E2} of max |Y| (tolerance {Tolerance:E0})");
                _notes.Add(($"{peer.Name}_kernel", prepared.Detail));
                var p = prepared; var py = y.Pointer; float* px = x.Pointer;
                _timed.Add((peer, prepared, y, contenders.Count));
                contenders.Add((peer.Name, () => p.Run(px, py)));
            }
            catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or ArgumentException)
            {
                prepared?.Dispose();
                y.Dispose();
                _notes.Add(($"{peer.Name}_error", e.Message));
                var s = _stats[peer];
                _stats[peer] = (s.VsLacuna, s.VsOpenBlas, s.Failed + 1);
            }
        }
    }

    /// <summary>
    /// Per matrix, into <paramref name="row"/>: <c>&lt;peer&gt;_kernel</c> or <c>&lt;peer&gt;_error</c>, and for the timed peers
    /// <c>&lt;peer&gt;_ms</c>, <c>speedup_vs_&lt;peer&gt;</c> and <c>&lt;peer&gt;_vs_openblas</c>; returns the table cells.
    /// </summary>
    public IEnumerable<string> Record(Measure.Timing[] t, double lacunaMs, double openBlasMs, JsonObject row)
    {
        foreach (var (key, value) in _notes) row[key] = value;
        _notes.Clear();
        var cells = new List<string>();
        foreach (var peer in _available)
        {
            int i = _timed.FindIndex(e => e.Peer == peer);
            if (i < 0) { cells.Add("failed"); cells.Add("-"); continue; }
            double ms = t[_timed[i].Index].MedianMs;
            _stats[peer].VsLacuna.Add(ms / lacunaMs);
            _stats[peer].VsOpenBlas.Add(openBlasMs / ms);
            row[$"{peer.Name}_ms"] = BenchJson.Num(ms);
            row[$"speedup_vs_{peer.Name}"] = BenchJson.Num(ms / lacunaMs);
            row[$"{peer.Name}_vs_openblas"] = BenchJson.Num(openBlasMs / ms);
            cells.Add($"{ms:F3}");
            cells.Add($"{ms / lacunaMs:F2}");
        }
        return cells;
    }

    /// <summary>Summary: <c>geomean_speedup_vs_&lt;peer&gt;</c>, <c>geomean_&lt;peer&gt;_vs_openblas</c>, and the matrices each peer failed.</summary>
    public void Summarize(JsonObject summary)
    {
        foreach (var peer in _available)
        {
            var s = _stats[peer];
            summary[$"geomean_speedup_vs_{peer.Name}"] = BenchJson.Num(Measure.GeometricMean(s.VsLacuna));
            summary[$"geomean_{peer.Name}_vs_openblas"] = BenchJson.Num(Measure.GeometricMean(s.VsOpenBlas));
            summary[$"{peer.Name}_matrices"] = s.VsLacuna.Count;
            summary[$"{peer.Name}_failed"] = s.Failed;
        }
    }

    /// <summary>Lines for the table view: each peer's geomeans, or why it is absent or failed.</summary>
    public IEnumerable<string> SummaryLines()
    {
        foreach (var peer in _peers)
        {
            if (!peer.IsAvailable) { yield return $"{peer.Name}: absent ({peer.AbsentReason})"; continue; }
            var s = _stats[peer];
            yield return $"{peer.Name}: Lacuna {Measure.GeometricMean(s.VsLacuna):F2}x faster (geomean over {s.VsLacuna.Count}), "
                + $"{peer.Name} {Measure.GeometricMean(s.VsOpenBlas):F2}x OpenBLAS{(s.Failed > 0 ? $"; failed on {s.Failed} matrices (see JSON)" : "")} — {peer.Version}";
        }
    }

    /// <summary>Ends the peers' libraries' use (librsb's <c>rsb_lib_exit</c>) once every matrix is released.</summary>
    public void Dispose()
    {
        DisposeMatrix();
        foreach (var peer in _available)
            if (peer is Librsb rsb) rsb.Exit();
    }

    private void DisposeMatrix()
    {
        foreach (var e in _timed) { e.Prepared.Dispose(); e.Y.Dispose(); }
        _timed.Clear();
    }

    public static double MaxRelError(ReadOnlySpan<float> actual, ReadOnlySpan<float> reference)
    {
        double maxRef = 1e-30, maxDiff = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
            double d = Math.Abs((double)actual[i] - reference[i]);
            if (double.IsNaN(d)) return double.PositiveInfinity; // an unwritten (NaN) element
            maxDiff = Math.Max(maxDiff, d);
        }
        return maxDiff / maxRef;
    }
}
