using System.Runtime.InteropServices;

namespace Lacuna.Bench.Baselines;

/// <summary>
/// OpenBLAS from Debian's <c>libopenblas0-pthread</c> (<c>libopenblas.so.0</c>), the dense GEMM baseline.
/// Loaded lazily with <see cref="NativeLibrary"/> so a missing library is a clear message, not a crash.
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
        foreach (string name in new[] { "libopenblas.so.0", "libopenblas.so", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0" })
        {
            if (!NativeLibrary.TryLoad(name, out nint h)) continue;
            if (!NativeLibrary.TryGetExport(h, "cblas_sgemm", out nint sgemm)) continue;
            var api = new Api { Sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm };
            if (NativeLibrary.TryGetExport(h, "openblas_set_num_threads", out nint set)) api.SetNumThreads = (delegate* unmanaged<int, void>)set;
            if (NativeLibrary.TryGetExport(h, "openblas_get_num_threads", out nint get)) api.GetNumThreads = (delegate* unmanaged<int>)get;
            if (NativeLibrary.TryGetExport(h, "openblas_get_config", out nint cfg)) api.GetConfig = (delegate* unmanaged<nint>)cfg;
            return api;
        }
        return null;
    }

    public static bool IsAvailable => s_api.Value is not null;

    private static Api Require() => s_api.Value ?? throw new DllNotFoundException(InstallHint);

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
