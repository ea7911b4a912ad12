using System.CommandLine;
using System.Text.Json;
using Lacuna.Cli.Commands;

namespace Lacuna.Tests.Cli;

/// <summary>
/// <c>lacuna bench spmm</c> with its peers (LIBXSMM, librsb; installed by scripts/install-deps.sh) end to end on
/// tiny DLMC-format matrices of odd shapes: each peer checked, timed and summarized, or left out with --peers none.
/// </summary>
[Collection("Console")]
public sealed class BenchSpmmPeersCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-peers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var root = new RootCommand { BenchCommand.Build() };
        var oldOut = Console.Out; var oldErr = Console.Error;
        var o = new StringWriter(); var e = new StringWriter();
        Console.SetOut(o); Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    private string Folder()
    {
        string sub = Directory.CreateDirectory(Path.Combine(_dir, "0.9")).FullName;
        File.WriteAllText(Path.Combine(_dir, "rn50_batchsizes.txt"), "one_row,19\nodd,23\n");
        // 1×8 with 3 non-zeros; 5×7 with an empty row (row 2).
        File.WriteAllText(Path.Combine(sub, "one_row.smtx"), "1, 8, 3\n0 3\n1 4 6\n");
        File.WriteAllText(Path.Combine(sub, "odd.smtx"), "5, 7, 9\n0 2 4 4 7 9\n0 6 1 3 0 2 5 1 4\n");
        return sub;
    }

    [Fact]
    public void Every_peer_is_checked_timed_and_summarized()
    {
        var (code, output, err) = Invoke("bench", "spmm", "--dlmc", Folder(), "--repeat", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var peers = doc.RootElement.GetProperty("peers");
        var summary = doc.RootElement.GetProperty("summary");
        foreach (string peer in new[] { "libxsmm", "librsb" })
        {
            Assert.True(peers.GetProperty(peer).GetProperty("available").GetBoolean());
            Assert.Contains(peer, peers.GetProperty(peer).GetProperty("version").GetString());
            foreach (var r in doc.RootElement.GetProperty("results").EnumerateArray())
            {
                Assert.False(r.TryGetProperty($"{peer}_error", out var e), e.ToString());
                Assert.True(r.GetProperty($"{peer}_ms").GetDouble() > 0);
                Assert.Equal(r.GetProperty($"{peer}_ms").GetDouble() / r.GetProperty("lacuna_sparse_ms").GetDouble(),
                    r.GetProperty($"speedup_vs_{peer}").GetDouble(), 0.01 * r.GetProperty($"speedup_vs_{peer}").GetDouble());
                Assert.True(r.GetProperty($"{peer}_vs_openblas").GetDouble() > 0);
                Assert.False(string.IsNullOrEmpty(r.GetProperty($"{peer}_kernel").GetString()));
            }
            Assert.True(summary.GetProperty($"geomean_speedup_vs_{peer}").GetDouble() > 0);
            Assert.True(summary.GetProperty($"geomean_{peer}_vs_openblas").GetDouble() > 0);
            Assert.Equal(2, summary.GetProperty($"{peer}_matrices").GetInt32());
            Assert.Equal(0, summary.GetProperty($"{peer}_failed").GetInt32());
        }
    }

    [Fact]
    public void Peers_none_leaves_them_out_and_an_unknown_peer_is_a_one_line_error()
    {
        string dir = Folder();
        var (code, output, err) = Invoke("bench", "spmm", "--dlmc", dir, "--repeat", "1", "--warmup", "0", "--peers", "none", "--json");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("libxsmm", output);
        Assert.DoesNotContain("librsb", output);
        using (var doc = JsonDocument.Parse(output))
            Assert.Empty(doc.RootElement.GetProperty("peers").EnumerateObject());

        var only = Invoke("bench", "spmm", "--dlmc", dir, "--repeat", "1", "--warmup", "0", "--peers", "librsb", "--json");
        Assert.True(only.Code == 0, only.Err);
        Assert.DoesNotContain("libxsmm", only.Out);
        Assert.Contains("speedup_vs_librsb", only.Out);

        var bad = Invoke("bench", "spmm", "--dlmc", dir, "--peers", "mkl");
        Assert.Equal(2, bad.Code);
        Assert.Equal("Unknown peer 'mkl' in --peers (known: libxsmm, librsb, or all, none).", bad.Err.Trim());
    }
}
