using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Lacuna.Bench.Harness;
using Lacuna.Kernels.Reference;

namespace Lacuna.Bench.Baselines;

/// <summary>
/// OpenBLAS from Debian's <c>libopenblas0-pthread</c> (<c>libopenblas.so.0</c>), the dense GEMM baseline.
/// Loaded lazily with <see cref="NativeLibrary"/> so a missing library is a clear message, not a crash. Before the
/// load, <see cref="OpenBlasCore"/> picks the kernel set (OpenBLAS reads <c>OPENBLAS_CORETYPE</c> once, at load);
/// after it, <see cref="Verify"/> checks that kernel set against the reference GEMM, so a wrong kernel is never timed.
/// </summary>
public static unsafe class OpenBlas
{
    public const string InstallHint = "OpenBLAS is not installed. Install it with: sudo apt-get install libopenblas0-pthread   (or: bash scripts/install-deps.sh)";

    private const int CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112;

    private static readonly Lazy<Api?> s_api = new(Load);

    private sealed class Api
    {
        public delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemm;
        public delegate* unmanaged<int, void> SetNumThreads;
        public delegate* unmanaged<int> GetNumThreads;
        public delegate* unmanaged<nint> GetConfig;
        public delegate* unmanaged<nint> GetCorename;
        public OpenBlasCore.Choice Choice = null!;
        public string? Error;
        public double VerifiedError;
    }

    private static string? s_requestedCore;

    /// <summary>
    /// The core <c>--openblas-core</c> asked for; set before the first use (OpenBLAS fixes its core at load).
    /// </summary>
    public static string? RequestedCore
    {
        get => s_requestedCore;
        set
        {
            if (s_api.IsValueCreated && !string.Equals(value, s_requestedCore, StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException("OpenBLAS is already loaded: its core can only be chosen before the first use.");
            s_requestedCore = value;
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    private static Api? Load()
    {
        // OpenBLAS's idle pthreads busy-wait ~2^28 cycles after each call. On this 2-core machine that spinning
        // steals the second core from whichever contender runs next in Measure.Interleaved (it halved Lacuna's
        // 2-thread GEMM); 2^4 cycles makes them sleep at once, as Lacuna's pool does. Read by OpenBLAS at load,
        // so it goes into the native environment (Environment.SetEnvironmentVariable does not); a user's value wins.
        if (OperatingSystem.IsLinux()) SetEnv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
        OpenBlasCore.Choice choice;
        try
        {
            choice = OpenBlasCore.Choose(s_requestedCore, CpuInfo.Current,
                Environment.GetEnvironmentVariable(OpenBlasCore.EnvironmentVariable), Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE"));
        }
        catch (ArgumentException e)
        {
            return new Api { Error = e.Message, Choice = new OpenBlasCore.Choice(null, "invalid", null) };
        }
        if (choice.Requested is { } core && OperatingSystem.IsLinux()) SetEnv("OPENBLAS_CORETYPE", core, 1);
        foreach (string name in new[] { "libopenblas.so.0", "libopenblas.so", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0" })
        {
            if (!NativeLibrary.TryLoad(name, out nint h)) continue;
            if (!NativeLibrary.TryGetExport(h, "cblas_sgemm", out nint sgemm)) continue;
            var api = new Api { Sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm };
            if (NativeLibrary.TryGetExport(h, "openblas_set_num_threads", out nint set)) api.SetNumThreads = (delegate* unmanaged<int, void>)set;
            if (NativeLibrary.TryGetExport(h, "openblas_get_num_threads", out nint get)) api.GetNumThreads = (delegate* unmanaged<int>)get;
            if (NativeLibrary.TryGetExport(h, "openblas_get_config", out nint cfg)) api.GetConfig = (delegate* unmanaged<nint>)cfg;
            if (NativeLibrary.TryGetExport(h, "openblas_get_corename", out nint corename)) api.GetCorename = (delegate* unmanaged<nint>)corename;
            api.Choice = choice;
            api.VerifiedError = Verify(api);
            if (api.VerifiedError > VerifyTolerance)
                api.Error = $"OpenBLAS core {CoreOf(api)} computed wrong sgemm results (largest error {api.VerifiedError:E2} relative to max |C|); "
                    + $"choose another with --openblas-core NAME ({string.Join(", ", OpenBlasCore.Supported(CpuInfo.Current))}).";
            return api;
        }
        return null;
    }

    /// <summary>Loaded, and its chosen core computes correct results.</summary>
    public static bool IsAvailable => s_api.Value is { Error: null };

    /// <summary>Whether this process loaded OpenBLAS and may have timed it.</summary>
    public static bool WasUsed => s_api.IsValueCreated && s_api.Value is { Error: null };

    /// <summary>Why OpenBLAS cannot be used (not installed, or its core gives wrong results); null when it can.</summary>
    public static string? Problem => s_api.Value is null ? InstallHint : s_api.Value.Error;

    private static Api Require()
    {
        var api = s_api.Value ?? throw new DllNotFoundException(InstallHint);
        return api.Error is null ? api : throw new InvalidOperationException(api.Error);
    }

    /// <summary>The core OpenBLAS runs, from <c>openblas_get_corename</c> (e.g. "Cooperlake").</summary>
    public static string Core => CoreOf(Require());

    private static string CoreOf(Api api) =>
        api.GetCorename != null ? Marshal.PtrToStringAnsi(api.GetCorename()) ?? "unknown" : api.Choice.Requested ?? "unknown";

    /// <summary>
    /// What a benchmark's JSON says of this baseline: the core it ran, the one requested and why, the
    /// <c>OPENBLAS_CORETYPE</c> the process inherited (and replaced), the build config and the verification error.
    /// </summary>
    public static JsonObject Report()
    {
        var api = Require();
        return new JsonObject
        {
            ["openblas_core"] = CoreOf(api),
            ["openblas_core_requested"] = api.Choice.Requested,
            ["openblas_core_source"] = api.Choice.Source,
            ["openblas_coretype_inherited"] = api.Choice.Inherited,
            ["openblas_config"] = Config,
            ["openblas_verified_max_rel_error"] = BenchJson.Num(api.VerifiedError, 3),
        };
    }

    /// <summary>Relative error above which a core is wrong: fp32 sums of ≤ 300 products of [-1, 1] values stay near 1e-6.</summary>
    public const double VerifyTolerance = 1e-4;

    /// <summary>
    /// Largest error of <c>cblas_sgemm</c> against <see cref="ReferenceGemm"/>, relative to the largest |C|, over
    /// shapes that reach every kernel edge (1×1×1, odd sizes around 16-lane tiles, both transposes, beta ≠ 0)
    /// and one big enough for OpenBLAS to use its threads.
    /// </summary>
    private static double Verify(Api api)
    {
        var shapes = new (int M, int N, int K, bool TA, bool TB, float Beta)[]
        {
            (1, 1, 1, false, false, 0f), (17, 33, 65, false, false, 0f), (31, 47, 29, true, false, 0f),
            (16, 64, 300, false, true, 0.5f), (100, 37, 129, true, true, 0f), (256, 256, 256, false, false, 0f),
        };
        double worst = 0;
        var rng = new Random(12345);
        foreach (var (m, n, k, ta, tb, beta) in shapes)
        {
            float[] a = Fill(m * k), b = Fill(k * n), c = Fill(m * n), expected = (float[])c.Clone();
            ReferenceGemm.Compute(m, n, k, a, ta ? m : k, ta, b, tb ? k : n, tb, expected, n, 1f, beta);
            fixed (float* pa = a, pb = b, pc = c)
                api.Sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1f, pa, ta ? m : k, pb, tb ? k : n, beta, pc, n);
            double maxAbs = 1e-30, maxDiff = 0;
            for (int i = 0; i < c.Length; i++)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(expected[i]));
                maxDiff = Math.Max(maxDiff, double.IsNaN(c[i]) ? double.PositiveInfinity : Math.Abs(c[i] - expected[i]));
            }
            worst = Math.Max(worst, maxDiff / maxAbs);
        }
        return worst;

        float[] Fill(int count)
        {
            var x = new float[count];
            for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            return x;
        }
    }

    public static void SetThreads(int threads)
    {
        var api = Require();
        if (api.SetNumThreads != null) api.SetNumThreads(threads);
    }

    public static string Config
    {
        get
        {
            var api = Require();
            return api.GetConfig != null ? Marshal.PtrToStringAnsi(api.GetConfig()) ?? "" : "";
        }
    }

    /// <summary>Row-major C[M×N] = alpha·op(A)·op(B) + beta·C, the same contract as <c>Lacuna.Kernels.Gemm</c>.</summary>
    public static void Sgemm(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB, float* c, int ldc, float alpha = 1f, float beta = 0f)
    {
        var api = Require();
        api.Sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
