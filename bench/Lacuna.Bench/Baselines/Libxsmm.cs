using System.Runtime.InteropServices;
using Lacuna.Formats;
using Lacuna.Threading;

namespace Lacuna.Bench.Baselines;

/// <summary>
/// LIBXSMM 1.17's <c>libxsmm_spmdm</c> (sparse A × dense B, Intel's kernel behind TensorFlow's sparse matmul) as
/// an SpMM peer. Debian's <c>libxsmm-dev</c> ships only static archives, so <c>scripts/install-libxsmm.sh</c> links
/// them into <c>.deps/libxsmm/libxsmm.so.1</c> (exporting only <c>libxsmm_*</c>), which is loaded here.
/// </summary>
/// <remarks>
/// spmdm takes A dense and row-major; <c>libxsmm_spmdm_createSparseSlice_fp32_thread</c> converts it into CSR slices of
/// bm×bk blocks with 16-bit local indices, once per matrix (in <see cref="Prepare"/>, untimed, like Lacuna's plan).
/// <c>libxsmm_spmdm_compute_fp32_thread</c> then runs one bm×bn block of C per call, all row-major ('N', 'N', 'N');
/// it ignores alpha (always 1) and honours beta (0 here: C is written, not read). The caller threads it: thread
/// <c>tid</c> of <c>nthreads</c> runs blocks tid, tid+nthreads, ... with its own scratch (sized by
/// <c>max_threads</c> at init), and Lacuna's worker pool runs those threads, as it does Lacuna's.
/// Lookup order: <c>$LACUNA_LIBXSMM</c> (the file or its folder), <c>.deps/libxsmm/libxsmm.so.1</c>, the system loader.
/// </remarks>
public sealed unsafe class Libxsmm : SpmmPeer
{
    public const string EnvironmentVariable = "LACUNA_LIBXSMM";
    public const string LibraryName = "libxsmm.so.1";
    public const string InstallHint = "install it with: bash scripts/install-deps.sh (libxsmm-dev, linked into .deps/libxsmm/" + LibraryName + ")";

    /// <summary>The library found by the usual lookup.</summary>
    public static Libxsmm Default { get; } = new(NativeLibraryFiles.Candidates(EnvironmentVariable, "libxsmm", LibraryName, LibraryName, "libxsmm.so"));

    private readonly IEnumerable<string> _candidates;
    private readonly Lazy<Api?> _api;
    private string? _absentReason;

    /// <summary>A peer that loads the first of <paramref name="candidates"/> (paths or names) exporting the spmdm API.</summary>
    public Libxsmm(IEnumerable<string> candidates)
    {
        _candidates = candidates;
        _api = new Lazy<Api?>(Load);
    }

    public override string Name => "libxsmm";

    public override string? AbsentReason => _api.Value is null ? _absentReason : null;

    public override string Version
    {
        get
        {
            var api = Require();
            string package = NativeLibraryFiles.DebianPackageVersion("libxsmm-dev") is { } v ? $" (Debian libxsmm-dev {v})" : "";
            string arch = Marshal.PtrToStringAnsi(api.GetTargetArch()) ?? "?";
            return $"libxsmm {HeaderVersion}{package}, libxsmm_spmdm fp32, target {arch}, from {api.Path}";
        }
    }

    /// <summary>The release the bindings follow (libxsmm_version.h); the library exports no version string.</summary>
    public const string HeaderVersion = "1.17";

    private sealed class Api
    {
        public required string Path;
        public delegate* unmanaged<int, int, int, int, SpmdmHandle*, CsrSlice**, void> Init;
        public delegate* unmanaged<SpmdmHandle*, void> Destroy;
        public delegate* unmanaged<SpmdmHandle*, int> SliceBlocks;
        public delegate* unmanaged<SpmdmHandle*, int> ComputeBlocks;
        public delegate* unmanaged<SpmdmHandle*, byte, float*, CsrSlice*, int, int, int, void> CreateSlice;
        public delegate* unmanaged<SpmdmHandle*, byte, byte, float*, CsrSlice*, float*, byte, float*, float*, int, int, int, void> Compute;
        public delegate* unmanaged<nint> GetTargetArch;
    }

    /// <summary><c>libxsmm_spmdm_handle</c> (libxsmm_spmdm.h): dimensions, block sizes and counts, datatype, scratch.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SpmdmHandle
    {
        public int M, N, K, Bm, Bn, Bk, Mb, Nb, Kb, Datatype;
        public nint ScratchA, ScratchBC;
        public int ScratchPerThread;
    }

    /// <summary><c>libxsmm_CSR_sparseslice</c>: one bm×bk block of A (16-bit local row and column indices, values).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct CsrSlice
    {
        public ushort* RowIndex;
        public ushort* ColumnIndex;
        public float* Values;
    }

    private Api? Load()
    {
        var tried = new List<string>();
        foreach (string path in _candidates)
        {
            if (!NativeLibrary.TryLoad(path, out nint h)) { tried.Add($"{path} (not loadable)"); continue; }
            nint Get(string name) => NativeLibrary.TryGetExport(h, name, out nint f) ? f : 0;
            nint init = Get("libxsmm_spmdm_init"), destroy = Get("libxsmm_spmdm_destroy"),
                slices = Get("libxsmm_spmdm_get_num_createSparseSlice_blocks"), blocks = Get("libxsmm_spmdm_get_num_compute_blocks"),
                create = Get("libxsmm_spmdm_createSparseSlice_fp32_thread"), compute = Get("libxsmm_spmdm_compute_fp32_thread"),
                arch = Get("libxsmm_get_target_arch");
            if (init == 0 || destroy == 0 || slices == 0 || blocks == 0 || create == 0 || compute == 0 || arch == 0)
            {
                tried.Add($"{path} (no libxsmm_spmdm API)");
                continue;
            }
            return new Api
            {
                Path = path,
                Init = (delegate* unmanaged<int, int, int, int, SpmdmHandle*, CsrSlice**, void>)init,
                Destroy = (delegate* unmanaged<SpmdmHandle*, void>)destroy,
                SliceBlocks = (delegate* unmanaged<SpmdmHandle*, int>)slices,
                ComputeBlocks = (delegate* unmanaged<SpmdmHandle*, int>)blocks,
                CreateSlice = (delegate* unmanaged<SpmdmHandle*, byte, float*, CsrSlice*, int, int, int, void>)create,
                Compute = (delegate* unmanaged<SpmdmHandle*, byte, byte, float*, CsrSlice*, float*, byte, float*, float*, int, int, int, void>)compute,
                GetTargetArch = (delegate* unmanaged<nint>)arch,
            };
        }
        _absentReason = $"{LibraryName} not found (tried {string.Join(", ", tried)}); {InstallHint}";
        return null;
    }

    private Api Require() => _api.Value ?? throw Absent();

    public override PreparedSpmm Prepare(CsrMatrix w, int n, int threads, float* x)
    {
        CheckArguments(w, n, threads);
        return new Prepared(Require(), w, n, threads);
    }

    private sealed class Prepared : PreparedSpmm
    {
        private const byte NoTranspose = (byte)'N';
        private readonly Api _api;
        private readonly int _threads, _blocks;
        private SpmdmHandle* _handle;
        private CsrSlice* _slices;
        private float* _alphaBeta; // [1, 0]: alpha (ignored by spmdm) and beta, passed by pointer

        public Prepared(Api api, CsrMatrix w, int n, int threads)
        {
            _api = api;
            _threads = threads;
            _handle = (SpmdmHandle*)NativeMemory.AllocZeroed((nuint)sizeof(SpmdmHandle));
            _alphaBeta = (float*)NativeMemory.Alloc(2 * sizeof(float));
            _alphaBeta[0] = 1f; _alphaBeta[1] = 0f;
            CsrSlice* slices;
            api.Init(w.Rows, n, w.Cols, threads, _handle, &slices);
            _slices = slices;
            // spmdm reads A dense: densify once, convert into its slices, and drop the dense copy.
            float[] dense = w.ToDense();
            fixed (float* a = dense)
            {
                int sliceBlocks = api.SliceBlocks(_handle);
                for (int t = 0; t < threads; t++)
                    for (int b = t; b < sliceBlocks; b += threads)
                        api.CreateSlice(_handle, NoTranspose, a, _slices, b, t, threads);
            }
            _blocks = api.ComputeBlocks(_handle);
            Detail = $"bm {_handle->Bm}, bn {_handle->Bn}, bk {_handle->Bk}; {_blocks} blocks";
        }

        public override string Detail { get; }

        public override void Run(float* x, float* y)
        {
            ObjectDisposedException.ThrowIf(_handle is null, this);
            if (_threads == 1) RunThread(x, y, 0);
            else WorkerPool.Shared.Run(_threads, t => RunThread(x, y, t));
        }

        private void RunThread(float* x, float* y, int tid)
        {
            for (int b = tid; b < _blocks; b += _threads)
                _api.Compute(_handle, NoTranspose, NoTranspose, _alphaBeta, _slices, x, NoTranspose, _alphaBeta + 1, y, b, tid, _threads);
        }

        public override void Dispose()
        {
            if (_handle is null) return;
            _api.Destroy(_handle); // frees the slices and the scratch spmdm_init allocated
            NativeMemory.Free(_handle);
            NativeMemory.Free(_alphaBeta);
            _handle = null; _slices = null; _alphaBeta = null;
        }
    }
}
