using System.Text.Json.Nodes;
using Lacuna.Bench.Baselines;
using Lacuna.Cli.Commands.Bench;
using Lacuna.Formats;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Bench;

/// <summary>
/// The SpMM peers of <c>lacuna bench spmm</c> (LIBXSMM's spmdm, librsb) against the reference, and the absent-library
/// path. Both libraries are installed by scripts/install-deps.sh (which the test script runs), so these tests fail,
/// rather than skip, when one is missing.
/// </summary>
public unsafe class SpmmPeerTests
{
    public static TheoryData<string, int, int, int, int> Shapes()
    {
        var data = new TheoryData<string, int, int, int, int>();
        // (M, K, N, threads): M = 1; N not a multiple of 16 (and 1, and above libxsmm's 96-column block);
        // odd K, K above libxsmm's 128-deep block; M above its 32-row block; 2 threads.
        foreach (string peer in new[] { "libxsmm", "librsb" })
            foreach (var (m, k, n, t) in new[] { (1, 5, 17, 1), (7, 13, 33, 1), (64, 9, 1, 1), (33, 301, 50, 1), (130, 257, 97, 1), (75, 129, 200, 2), (40, 64, 16, 2) })
                data.Add(peer, m, k, n, t);
        return data;
    }

    private static SpmmPeer Peer(string name) => SpmmPeers.All.Single(p => p.Name == name);

    /// <summary>A random CSR matrix, about 30% dense, with values in [-1, 1] (never zero) and row M/2 empty.</summary>
    private static CsrMatrix RandomCsr(int m, int k, ulong seed)
    {
        var dense = TestData.Random(m * k, seed);
        var keep = TestData.Random(m * k, seed + 1, 0f, 1f);
        for (int i = 0; i < dense.Length; i++)
        {
            if (keep[i] > 0.3f || i / k == m / 2 && m > 1) dense[i] = 0f;
            else if (dense[i] == 0f) dense[i] = 0.5f;
        }
        var w = CsrMatrix.FromDense(dense, m, k);
        Assert.True(w.Nnz > 0);
        return w;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Peer_matches_the_reference(string name, int m, int k, int n, int threads)
    {
        var peer = Peer(name);
        Assert.True(peer.IsAvailable, peer.AbsentReason);
        var w = RandomCsr(m, k, (ulong)(m * 1000 + k * 10 + n));
        if (m > 1) Assert.Equal(0, w.RowLength(m / 2));
        var x1 = TestData.Random(k * n, 11);
        var x2 = TestData.Random(k * n, 12); // the timed X need not be the one a tuner ran on
        var expected = new float[m * n];
        var y = TestData.Poisoned(m * n);
        fixed (float* px1 = x1, px2 = x2, py = y)
        {
            using var prepared = peer.Prepare(w, n, threads, px1);
            Assert.False(string.IsNullOrEmpty(prepared.Detail));
            prepared.Run(px1, py);
            ReferenceSpmm.Compute(w, x1, n, expected);
            KernelAssert.Close(expected, y, k, $"{name} [{m}×{k}]·[{k}×{n}], {threads} thread(s)");

            TestData.Poison(y);
            prepared.Run(px2, py);
            ReferenceSpmm.Compute(w, x2, n, expected);
            KernelAssert.Close(expected, y, k, $"{name} second X, [{m}×{k}]·[{k}×{n}], {threads} thread(s)");
        }
    }

    [Fact]
    public void Peers_name_their_library_version()
    {
        var xsmm = Peer("libxsmm");
        var rsb = Peer("librsb");
        Assert.True(xsmm.IsAvailable, xsmm.AbsentReason);
        Assert.True(rsb.IsAvailable, rsb.AbsentReason);
        Assert.StartsWith("libxsmm 1.17", xsmm.Version);
        Assert.Contains("libxsmm_spmdm", xsmm.Version);
        Assert.StartsWith("librsb 1.3", rsb.Version);
        Assert.Contains("rsb_tune_spmm", rsb.Version);
        var report = xsmm.Report();
        Assert.True(report["available"]!.GetValue<bool>());
        Assert.Equal(xsmm.Version, report["version"]!.GetValue<string>());
    }

    [Fact]
    public void A_missing_library_is_an_absent_peer_not_an_exception()
    {
        SpmmPeer[] absent = [new Libxsmm(["/nonexistent/libxsmm.so.1"]), new Librsb(["/nonexistent/librsb.so.0", "libc.so.6"])];
        foreach (var peer in absent)
        {
            Assert.False(peer.IsAvailable);
            Assert.Contains("/nonexistent/", peer.AbsentReason);
            var report = peer.Report();
            Assert.False(report["available"]!.GetValue<bool>());
            Assert.Equal(peer.AbsentReason, report["reason"]!.GetValue<string>());
            var e = Assert.Throws<DllNotFoundException>(() => peer.Prepare(RandomCsr(3, 4, 1), 5, 1, null));
            Assert.Contains($"{peer.Name} is not available", e.Message);
        }
        // A library that loads but is not the peer's (libc) is named as such.
        Assert.Contains("libc.so.6 (no rsb_spmm API)", absent[1].AbsentReason);

        // The benchmark's bookkeeping reports them absent and times nothing.
        using var runs = new BenchSpmmPeers(absent);
        Assert.False(runs.Any);
        Assert.Empty(runs.Columns);
        var json = runs.Report();
        Assert.False(json["libxsmm"]!["available"]!.GetValue<bool>());
        Assert.False(json["librsb"]!["available"]!.GetValue<bool>());
        Assert.All(runs.SummaryLines(), line => Assert.Contains(": absent (", line));
    }

    /// <summary>A peer whose kernel is wrong: it writes W·X + 1.</summary>
    private sealed class OffByOnePeer : SpmmPeer
    {
        public override string Name => "offbyone";
        public override string? AbsentReason => null;
        public override string Version => "test";
        public override PreparedSpmm Prepare(CsrMatrix w, int n, int threads, float* x) => new Prepared(w, n);

        private sealed class Prepared(CsrMatrix w, int n) : PreparedSpmm
        {
            public override string Detail => "wrong";
            public override void Run(float* x, float* y)
            {
                var ys = new Span<float>(y, w.Rows * n);
                ReferenceSpmm.Compute(w, new ReadOnlySpan<float>(x, w.Cols * n), n, ys);
                foreach (ref float v in ys) v += 1f;
            }
            public override void Dispose() { }
        }
    }

    [Fact]
    public void A_peer_with_a_wrong_result_is_reported_and_not_timed()
    {
        var w = RandomCsr(9, 20, 5);
        const int n = 21;
        using var x = Tensor.Random(3, new[] { 20, n });
        var reference = new float[9 * n];
        ReferenceSpmm.Compute(w, x.Span, n, reference);
        using var runs = new BenchSpmmPeers([new OffByOnePeer()]);
        var contenders = new List<(string, Action)> { ("sparse", () => { }) };
        runs.AddContenders(contenders, w, n, 1, x, reference);
        Assert.Single(contenders);
        var row = new JsonObject();
        var cells = runs.Record([new("sparse", 1, 1, 1, 1)], 1.0, 2.0, row);
        Assert.Contains("differs from the reference", row["offbyone_error"]!.GetValue<string>());
        Assert.Equal(new[] { "failed", "-" }, cells);
        Assert.False(row.ContainsKey("offbyone_ms"));
        var summary = new JsonObject();
        runs.Summarize(summary);
        Assert.Equal(1, summary["offbyone_failed"]!.GetValue<int>());
        Assert.Equal(0, summary["offbyone_matrices"]!.GetValue<int>());
    }

    [Fact]
    public void Peers_option_parses_all_none_and_lists()
    {
        Assert.Equal(new[] { "libxsmm", "librsb" }, SpmmPeers.Parse("all").Select(p => p.Name));
        Assert.Empty(SpmmPeers.Parse("none"));
        Assert.Equal(new[] { "librsb", "libxsmm" }, SpmmPeers.Parse(" librsb , LIBXSMM,librsb").Select(p => p.Name));
        var e = Assert.Throws<ArgumentException>(() => SpmmPeers.Parse("libxsmm,mkl"));
        Assert.Contains("Unknown peer 'mkl'", e.Message);
    }

    [Fact]
    public void Relative_error_counts_an_unwritten_element_as_infinite()
    {
        Assert.Equal(0.25, BenchSpmmPeers.MaxRelError([1f, 2.5f], [1f, 2f]), 12);
        Assert.Equal(double.PositiveInfinity, BenchSpmmPeers.MaxRelError([float.NaN, 2f], [1f, 2f]));
    }
}
