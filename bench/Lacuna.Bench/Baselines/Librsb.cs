using System.Runtime.InteropServices;
using Lacuna.Formats;

namespace Lacuna.Bench.Baselines;

/// <summary>
/// librsb 1.3 (Debian <c>librsb0</c>, <c>librsb.so.0</c>): the Recursive Sparse Blocks format, a quad-tree of CSR/COO
/// leaves sized to the caches, as an SpMM peer. Each matrix is assembled from Lacuna's CSR, then
/// <c>rsb_tune_spmm</c> re-blocks it for this N and thread count (it times candidate structures on the real X),
/// and <c>rsb_spmm</c> runs the product, row-major X and Y.
/// </summary>
/// <remarks>
/// librsb threads with OpenMP; its thread count is a library-wide option (<c>RSB_IO_WANT_EXECUTING_THREADS</c>), set to
/// the benchmark's. <c>OMP_WAIT_POLICY=passive</c> (a user's value wins) is put into the native environment before
/// the library (and so libgomp) loads: idle OpenMP threads otherwise spin after each call and, on a small machine,
/// steal the core the next contender of an interleaved round runs on — the same reason OpenBLAS is told to sleep.
/// <c>rsb_lib_init</c> runs once, at load; <see cref="Exit"/> calls <c>rsb_lib_exit</c> at the end of a benchmark.
/// Lookup order: <c>$LACUNA_LIBRSB</c> (the file or its folder), <c>.deps/librsb/librsb.so.0</c>, the system loader.
/// </remarks>
public sealed unsafe class Librsb : SpmmPeer
{
    public const string EnvironmentVariable = "LACUNA_LIBRSB";
    public const string LibraryName = "librsb.so.0";
    public const string InstallHint = "install it with: sudo apt-get install librsb-dev   (or: bash scripts/install-deps.sh)";

    private const int NoError = 0;
    private const int OptionExecutingThreads = 0x09; // RSB_IO_WANT_EXECUTING_THREADS
    private const byte TypeFloat = (byte)'S';        // RSB_NUMERICAL_TYPE_FLOAT
    private const int TransposeNone = 0x4E;          // RSB_TRANSPOSITION_N
    private const int RowMajor = 0;                  // RSB_FLAG_WANT_ROW_MAJOR_ORDER
    // RSB_FLAG_DEFAULT_RSB_MATRIX_FLAGS: quad partitioning, 16-bit indices where they fit, COO and CSR leaves.
    private const int DefaultMatrixFlags = 0x002000 | 0x000002 | 0x000100 | 0x004000;

    /// <summary>The library found by the usual lookup.</summary>
    public static Librsb Default { get; } = new(NativeLibraryFiles.Candidates(EnvironmentVariable, "librsb", LibraryName, LibraryName, "librsb.so"));

    // One librsb per process: its init state and thread option are global, whichever instance loaded it.
    private static readonly Lock s_lock = new();
    private static bool s_initialized;
    private static int s_threads;

    private readonly IEnumerable<string> _candidates;
    private readonly Lazy<Api?> _api;
    private string? _absentReason;

    /// <summary>A peer that loads the first of <paramref name="candidates"/> (paths or names) exporting librsb's API.</summary>
    public Librsb(IEnumerable<string> candidates)
    {
        _candidates = candidates;
        _api = new Lazy<Api?>(Load);
    }

    public override string Name => "librsb";

    public override string? AbsentReason => _api.Value is null ? _absentReason : null;

    public override string Version
    {
        get
        {
            var api = Require();
            // Upstream part of the Debian version (1.3.0.2+dfsg-4 -> 1.3.0.2): librsb exports no version query.
            string package = NativeLibraryFiles.DebianPackageVersion("librsb0") is { } v ? $"librsb {v.Split('+', '-')[0]} (Debian librsb0 package)" : "librsb";
            return $"{package}, rsb_spmm after rsb_tune_spmm, OpenMP, from {api.Path}";
        }
    }

    private sealed class Api
    {
        public required string Path;
        public delegate* unmanaged<void*, int> Init;
        public delegate* unmanaged<void*, int> LibExit;
        public delegate* unmanaged<int, void*, int> SetOption;
        public delegate* unmanaged<float*, int*, int*, int, byte, int, int, int, int, int, int*, nint> AllocFromCsr;
        public delegate* unmanaged<nint, nint> Free;
        public delegate* unmanaged<nint*, double*, int*, int, double, int, float*, nint, int, int, float*, int, float*, float*, int, int> Tune;
        public delegate* unmanaged<int, float*, nint, int, int, float*, int, float*, float*, int, int> Spmm;
        public delegate* unmanaged<int, byte*, nuint, int> StrError;
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    private Api? Load()
    {
        if (OperatingSystem.IsLinux()) SetEnv("OMP_WAIT_POLICY", "passive", 0);
        var tried = new List<string>();
        foreach (string path in _candidates)
        {
            if (!NativeLibrary.TryLoad(path, out nint h)) { tried.Add($"{path} (not loadable)"); continue; }
            nint Get(string name) => NativeLibrary.TryGetExport(h, name, out nint f) ? f : 0;
            nint init = Get("rsb_lib_init"), exit = Get("rsb_lib_exit"), set = Get("rsb_lib_set_opt"),
                alloc = Get("rsb_mtx_alloc_from_csr_const"), free = Get("rsb_mtx_free"), tune = Get("rsb_tune_spmm"),
                spmm = Get("rsb_spmm"), strerror = Get("rsb_strerror_r");
            if (init == 0 || exit == 0 || set == 0 || alloc == 0 || free == 0 || tune == 0 || spmm == 0 || strerror == 0)
            {
                tried.Add($"{path} (no rsb_spmm API)");
                continue;
            }
            var api = new Api
            {
                Path = path,
                Init = (delegate* unmanaged<void*, int>)init,
                LibExit = (delegate* unmanaged<void*, int>)exit,
                SetOption = (delegate* unmanaged<int, void*, int>)set,
                AllocFromCsr = (delegate* unmanaged<float*, int*, int*, int, byte, int, int, int, int, int, int*, nint>)alloc,
                Free = (delegate* unmanaged<nint, nint>)free,
                Tune = (delegate* unmanaged<nint*, double*, int*, int, double, int, float*, nint, int, int, float*, int, float*, float*, int, int>)tune,
                Spmm = (delegate* unmanaged<int, float*, nint, int, int, float*, int, float*, float*, int, int>)spmm,
                StrError = (delegate* unmanaged<int, byte*, nuint, int>)strerror,
            };
            lock (s_lock)
            {
                if (!s_initialized)
                {
                    int err = api.Init(null);
                    if (err != NoError) { tried.Add($"{path} (rsb_lib_init: {Describe(api, err)})"); continue; }
                    s_initialized = true;
                    s_threads = 0;
                }
            }
            return api;
        }
        _absentReason = $"{LibraryName} not found (tried {string.Join(", ", tried)}); {InstallHint}";
        return null;
    }

    private Api Require()
    {
        var api = _api.Value ?? throw Absent();
        lock (s_lock)
        {
            if (!s_initialized)
            {
                int err = api.Init(null);
                if (err != NoError) throw new InvalidOperationException($"librsb: rsb_lib_init failed: {Describe(api, err)}");
                s_initialized = true;
                s_threads = 0;
            }
        }
        return api;
    }

    private static string Describe(Api api, int err)
    {
        byte* buf = stackalloc byte[256];
        buf[0] = 0;
        api.StrError(err, buf, 256);
        string text = Marshal.PtrToStringAnsi((nint)buf) ?? "";
        return $"error 0x{err:x}{(text.Length > 0 ? $" ({text.Trim()})" : "")}";
    }

    private static void Check(Api api, int err, string call)
    {
        if (err != NoError) throw new InvalidOperationException($"librsb: {call} failed: {Describe(api, err)}");
    }

    /// <summary>Sets librsb's (process-wide) OpenMP thread count, if it is not already that.</summary>
    private static void UseThreads(Api api, int threads)
    {
        lock (s_lock)
        {
            if (s_threads == threads) return;
            int t = threads;
            Check(api, api.SetOption(OptionExecutingThreads, &t), "rsb_lib_set_opt(RSB_IO_WANT_EXECUTING_THREADS)");
            s_threads = threads;
        }
    }

    /// <summary>
    /// <c>rsb_lib_exit</c>: frees librsb's global state once every prepared matrix is disposed. A later
    /// <see cref="Prepare"/> initializes it again.
    /// </summary>
    public void Exit()
    {
        if (_api.Value is not { } api) return;
        lock (s_lock)
        {
            if (!s_initialized) return;
            s_initialized = false;
            Check(api, api.LibExit(null), "rsb_lib_exit");
        }
    }

    public override PreparedSpmm Prepare(CsrMatrix w, int n, int threads, float* x)
    {
        CheckArguments(w, n, threads);
        var api = Require();
        if (x is null) throw new ArgumentNullException(nameof(x), "rsb_tune_spmm runs on the X to be multiplied; pass it.");
        UseThreads(api, threads);
        return new Prepared(api, w, n, threads, x);
    }

    private sealed class Prepared : PreparedSpmm
    {
        private readonly Api _api;
        private readonly int _n, _threads;
        private nint _matrix;
        private float* _alphaBeta; // [1, 0], passed by pointer

        public Prepared(Api api, CsrMatrix w, int n, int threads, float* x)
        {
            _api = api;
            _n = n;
            _threads = threads;
            _alphaBeta = (float*)NativeMemory.Alloc(2 * sizeof(float));
            _alphaBeta[0] = 1f; _alphaBeta[1] = 0f;
            int err = NoError;
            fixed (float* values = w.Values)
            fixed (int* offsets = w.RowOffsets)
            fixed (int* columns = w.ColumnIndices)
                _matrix = api.AllocFromCsr(values, offsets, columns, w.Nnz, TypeFloat, w.Rows, w.Cols, 1, 1, DefaultMatrixFlags, &err);
            if (_matrix == 0 || err != NoError)
            {
                NativeMemory.Free(_alphaBeta);
                throw new InvalidOperationException($"librsb: rsb_mtx_alloc_from_csr_const [{w.Rows}×{w.Cols}], nnz {w.Nnz}, failed: {Describe(api, err)}");
            }
            // Tune the structure in place for this N (threads fixed: tnp = NULL keeps the benchmark's count).
            // It runs rsb_spmm on the real X into a scratch Y; default rounds and time limit (0, 0.0).
            float* scratch = (float*)NativeMemory.Alloc((nuint)((long)w.Rows * n * sizeof(float)));
            try
            {
                double speedup = 0;
                nint m = _matrix;
                int tuneErr = api.Tune(&m, &speedup, null, 0, 0.0, TransposeNone, _alphaBeta, 0, n, RowMajor, x, n, _alphaBeta + 1, scratch, n);
                _matrix = m; // the tuner may have replaced (and freed) the matrix
                if (tuneErr != NoError) { Dispose(); Check(api, tuneErr, "rsb_tune_spmm"); }
                Detail = $"rsb_tune_spmm: declared speedup {speedup:F2}x over the untuned structure";
            }
            finally
            {
                NativeMemory.Free(scratch);
            }
        }

        public override string Detail { get; } = "";

        public override void Run(float* x, float* y)
        {
            ObjectDisposedException.ThrowIf(_matrix == 0, this);
            UseThreads(_api, _threads);
            int err = _api.Spmm(TransposeNone, _alphaBeta, _matrix, _n, RowMajor, x, _n, _alphaBeta + 1, y, _n);
            if (err != NoError) Check(_api, err, "rsb_spmm");
        }

        public override void Dispose()
        {
            if (_matrix == 0) return;
            _api.Free(_matrix);
            NativeMemory.Free(_alphaBeta);
            _matrix = 0; _alphaBeta = null;
        }
    }
}
