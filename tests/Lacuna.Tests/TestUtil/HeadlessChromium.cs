using System.Diagnostics;

namespace Lacuna.Tests.TestUtil;

/// <summary>
/// Runs Debian's <c>chromium</c> headless on a local page, with a time limit and its own throw-away profile. A missing
/// browser fails the test (it is installed by scripts/install-deps.sh), never skips it.
/// </summary>
internal static class HeadlessChromium
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(90);

    public static string Executable()
    {
        if (Environment.GetEnvironmentVariable("LACUNA_CHROMIUM") is { Length: > 0 } own)
        {
            Assert.True(File.Exists(own), $"LACUNA_CHROMIUM={own}: no such file (unset it to use chromium from PATH; scripts/install-deps.sh installs it)");
            return own;
        }
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            foreach (string name in new[] { "chromium", "chromium-browser" })
                if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        Assert.Fail("chromium not found on PATH: run scripts/install-deps.sh (it installs the Debian package chromium), or set LACUNA_CHROMIUM");
        return "";
    }

    /// <summary>The DOM after the page's load event (its scripts have run).</summary>
    public static string DumpDom(string htmlFile) => Run(["--dump-dom", new Uri(htmlFile).AbsoluteUri]).Stdout;

    /// <summary>A PNG of the page's first <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public static void Screenshot(string htmlFile, string pngFile, int width, int height) =>
        Run([$"--screenshot={pngFile}", $"--window-size={width},{height}", "--hide-scrollbars", new Uri(htmlFile).AbsoluteUri]);

    private static (string Stdout, string Stderr) Run(IEnumerable<string> args)
    {
        string profile = Directory.CreateTempSubdirectory("lacuna-chromium-").FullName;
        try
        {
            var info = new ProcessStartInfo(Executable())
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
            foreach (string a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                         $"--user-data-dir={profile}" }.Concat(args))
                info.ArgumentList.Add(a);
            using var p = Process.Start(info)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(s_limit))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"chromium did not finish within {s_limit.TotalSeconds} s");
            }
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"chromium exited with {p.ExitCode}: {Tail(stderr.Result)}");
            return (stdout.Result, stderr.Result);
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static string Tail(string s) => s.Length > 2000 ? s[^2000..] : s;
}
