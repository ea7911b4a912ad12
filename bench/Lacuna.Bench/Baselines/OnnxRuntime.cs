using System.Runtime.InteropServices;

namespace Lacuna.Bench.Baselines;

/// <summary>An error reported by ONNX Runtime (an <c>OrtStatus</c>), with the call that failed.</summary>
public sealed class OnnxRuntimeException(string call, int code, string message)
    : Exception($"ONNX Runtime {call} failed (error code {code}): {message}")
{
    public string Call { get; } = call;
    public int Code { get; } = code;
}

/// <summary>
/// ONNX Runtime's native CPU library (<c>libonnxruntime.so.1</c>, 1.30.0, taken from the npm package
/// <c>onnxruntime-node</c> by <c>scripts/install-onnxruntime.sh</c>), the dense inference baseline.
/// Bound through its C API: <c>OrtGetApiBase()</c> → <c>GetApi(version)</c> → the <c>OrtApi</c> table of
/// function pointers, read at the slot indices below. Loaded lazily, so a missing library is a clear message.
/// </summary>
/// <remarks>
/// Lookup order: <c>$LACUNA_ONNXRUNTIME</c> (the library file or its folder), then
/// <c>.deps/onnxruntime/libonnxruntime.so.1</c> in the repository (found by walking up from the current
/// directory and from the application folder to <c>Lacuna.slnx</c>), then the system loader.
/// </remarks>
public static unsafe class OnnxRuntime
{
    public const string ExpectedVersion = "1.30.0";
    public const string EnvironmentVariable = "LACUNA_ONNXRUNTIME";
    public const string LibraryName = "libonnxruntime.so.1";
    public const string InstallHint = "ONNX Runtime is not installed. Install it with: bash scripts/install-deps.sh   (puts "
        + LibraryName + " " + ExpectedVersion + " under .deps/onnxruntime/; or set " + EnvironmentVariable + " to the library)";

    /// <summary>
    /// The API version requested from <c>GetApi</c>. The OrtApi table only ever grows at its end, so every slot
    /// used here (all present since version 1, <see cref="Slot.AddSessionConfigEntry"/> since 3) keeps its index
    /// in 1.30; asking for 17 works with any library from 1.17 on.
    /// </summary>
    private const uint RequestedApiVersion = 17;

    private static readonly Lazy<OrtApiTable?> s_api = new(Load);
    private static string? s_loadedFrom;
    private static string? s_version;

    public static bool IsAvailable => s_api.Value is not null;

    /// <summary>Where the library was loaded from (null when it was not found).</summary>
    public static string? LibraryPath => s_api.Value is null ? null : s_loadedFrom;

    /// <summary>The library's own version string (<c>OrtApiBase::GetVersionString</c>), e.g. 1.30.0.</summary>
    public static string Version => s_api.Value is null ? throw new DllNotFoundException(InstallHint) : s_version!;

    internal static OrtApiTable Api => s_api.Value ?? throw new DllNotFoundException(InstallHint);

    /// <summary>Paths tried, in order.</summary>
    public static IEnumerable<string> Candidates()
    {
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(env)) yield return Directory.Exists(env) ? Path.Combine(env, LibraryName) : env;
        var seen = new HashSet<string>();
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Lacuna.slnx")))
                {
                    string p = Path.Combine(dir.FullName, ".deps", "onnxruntime", LibraryName);
                    if (seen.Add(p)) yield return p;
                    break;
                }
        yield return LibraryName;
    }

    private static OrtApiTable? Load()
    {
        foreach (string path in Candidates())
        {
            if (!NativeLibrary.TryLoad(path, out nint handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out nint getBase)) continue;
            // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t version); const char* (*GetVersionString)(void); }
            nint* apiBase = ((delegate* unmanaged<nint*>)getBase)();
            var getApi = (delegate* unmanaged<uint, nint*>)apiBase[0];
            var getVersion = (delegate* unmanaged<nint>)apiBase[1];
            nint* table = getApi(RequestedApiVersion);
            string version = Marshal.PtrToStringUTF8(getVersion()) ?? "?";
            if (table is null)
                throw new NotSupportedException($"{path} (ONNX Runtime {version}) does not provide C API version {RequestedApiVersion}; install {ExpectedVersion} with scripts/install-deps.sh.");
            s_loadedFrom = path;
            s_version = version;
            var api = new OrtApiTable(table);
            api.CheckStatusRoundTrip();
            return api;
        }
        return null;
    }
}

/// <summary>
/// The OrtApi slots Lacuna calls. Indices are positions in <c>struct OrtApi</c> of
/// include/onnxruntime/core/session/onnxruntime_c_api.h (counted from its first member, CreateStatus = 0);
/// the struct is append-only across releases, so they hold for 1.30.
/// </summary>
internal enum Slot
{
    CreateStatus = 0,
    GetErrorCode = 1,
    GetErrorMessage = 2,
    CreateEnv = 3,
    CreateSessionFromArray = 8,
    Run = 9,
    CreateSessionOptions = 10,
    SetSessionGraphOptimizationLevel = 23,
    SetIntraOpNumThreads = 24,
    SetInterOpNumThreads = 25,
    SessionGetInputCount = 30,
    SessionGetOutputCount = 31,
    SessionGetInputName = 36,
    SessionGetOutputName = 37,
    CreateTensorWithDataAsOrtValue = 49,
    GetTensorMutableData = 51,
    GetTensorElementType = 60,
    GetDimensionsCount = 61,
    GetDimensions = 62,
    GetTensorTypeAndShape = 65,
    CreateCpuMemoryInfo = 69,
    AllocatorFree = 76,
    GetAllocatorWithDefaultOptions = 78,
    ReleaseEnv = 92,
    ReleaseStatus = 93,
    ReleaseMemoryInfo = 94,
    ReleaseSession = 95,
    ReleaseValue = 96,
    ReleaseTensorTypeAndShapeInfo = 99,
    ReleaseSessionOptions = 100,
    AddSessionConfigEntry = 130,
}

/// <summary>Typed calls into the OrtApi table; every status-returning call goes through <see cref="Check"/>.</summary>
internal sealed unsafe class OrtApiTable(nint* table)
{
    private nint F(Slot s) => table[(int)s];

    /// <summary>Turns a non-null OrtStatus into an exception naming the call (and releases the status).</summary>
    public void Check(nint status, string call)
    {
        if (status == 0) return;
        int code = ((delegate* unmanaged<nint, int>)F(Slot.GetErrorCode))(status);
        string message = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)F(Slot.GetErrorMessage))(status)) ?? "";
        ReleaseStatus(status);
        throw new OnnxRuntimeException(call, code, message);
    }

    /// <summary>
    /// Creates a status and reads it back: if the slot indices were wrong this would not return code 2 and the
    /// same message, so a table mismatch fails at load with a clear message instead of a crash later.
    /// </summary>
    public void CheckStatusRoundTrip()
    {
        const string probe = "lacuna probe";
        nint msg = Marshal.StringToCoTaskMemUTF8(probe);
        try
        {
            nint status = ((delegate* unmanaged<int, nint, nint>)F(Slot.CreateStatus))(2, msg);
            int code = ((delegate* unmanaged<nint, int>)F(Slot.GetErrorCode))(status);
            string? back = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)F(Slot.GetErrorMessage))(status));
            ReleaseStatus(status);
            if (code != 2 || back != probe)
                throw new NotSupportedException($"ONNX Runtime's C API table does not have the expected layout (status probe returned {code} '{back}').");
        }
        finally { Marshal.FreeCoTaskMem(msg); }
    }

    public void ReleaseStatus(nint p) => ((delegate* unmanaged<nint, void>)F(Slot.ReleaseStatus))(p);
    public void ReleaseEnv(nint p) => ((delegate* unmanaged<nint, void>)F(Slot.ReleaseEnv))(p);
    public void ReleaseMemoryInfo(nint p) => ((delegate* unmanaged<nint, void>)F(Slot.ReleaseMemoryInfo))(p);
    public void ReleaseSession(nint p) => ((delegate* unmanaged<nint, void>)F(Slot.ReleaseSession))(p);
    public void ReleaseValue(nint p) => ((delegate* unmanaged<nint, void>)F(Slot.ReleaseValue))(p);
    public void ReleaseTensorTypeAndShapeInfo(nint p) => ((delegate* unmanaged<nint, void>)F(Slot.ReleaseTensorTypeAndShapeInfo))(p);
    public void ReleaseSessionOptions(nint p) => ((delegate* unmanaged<nint, void>)F(Slot.ReleaseSessionOptions))(p);

    public nint CreateEnv(int logLevel, string logId)
    {
        nint id = Marshal.StringToCoTaskMemUTF8(logId), env;
        try { Check(((delegate* unmanaged<int, nint, nint*, nint>)F(Slot.CreateEnv))(logLevel, id, &env), "CreateEnv"); }
        finally { Marshal.FreeCoTaskMem(id); }
        return env;
    }

    public nint CreateSessionOptions()
    {
        nint o;
        Check(((delegate* unmanaged<nint*, nint>)F(Slot.CreateSessionOptions))(&o), "CreateSessionOptions");
        return o;
    }

    public void SetIntraOpNumThreads(nint options, int n) =>
        Check(((delegate* unmanaged<nint, int, nint>)F(Slot.SetIntraOpNumThreads))(options, n), "SetIntraOpNumThreads");

    public void SetInterOpNumThreads(nint options, int n) =>
        Check(((delegate* unmanaged<nint, int, nint>)F(Slot.SetInterOpNumThreads))(options, n), "SetInterOpNumThreads");

    public void SetGraphOptimizationLevel(nint options, int level) =>
        Check(((delegate* unmanaged<nint, int, nint>)F(Slot.SetSessionGraphOptimizationLevel))(options, level), "SetSessionGraphOptimizationLevel");

    public void AddSessionConfigEntry(nint options, string key, string value)
    {
        nint k = Marshal.StringToCoTaskMemUTF8(key), v = Marshal.StringToCoTaskMemUTF8(value);
        try { Check(((delegate* unmanaged<nint, nint, nint, nint>)F(Slot.AddSessionConfigEntry))(options, k, v), $"AddSessionConfigEntry({key})"); }
        finally { Marshal.FreeCoTaskMem(k); Marshal.FreeCoTaskMem(v); }
    }

    public nint CreateSessionFromArray(nint env, byte[] model, nint options)
    {
        nint session;
        fixed (byte* p = model)
            Check(((delegate* unmanaged<nint, byte*, nuint, nint, nint*, nint>)F(Slot.CreateSessionFromArray))(env, p, (nuint)model.Length, options, &session), "CreateSessionFromArray");
        return session;
    }

    public int SessionCount(nint session, bool inputs)
    {
        nuint n;
        var slot = inputs ? Slot.SessionGetInputCount : Slot.SessionGetOutputCount;
        Check(((delegate* unmanaged<nint, nuint*, nint>)F(slot))(session, &n), slot.ToString());
        return (int)n;
    }

    public string SessionName(nint session, bool input, int index)
    {
        nint allocator, name;
        Check(((delegate* unmanaged<nint*, nint>)F(Slot.GetAllocatorWithDefaultOptions))(&allocator), "GetAllocatorWithDefaultOptions");
        var slot = input ? Slot.SessionGetInputName : Slot.SessionGetOutputName;
        Check(((delegate* unmanaged<nint, nuint, nint, nint*, nint>)F(slot))(session, (nuint)index, allocator, &name), slot.ToString());
        string s = Marshal.PtrToStringUTF8(name) ?? "";
        Check(((delegate* unmanaged<nint, nint, nint>)F(Slot.AllocatorFree))(allocator, name), "AllocatorFree");
        return s;
    }

    public nint CreateCpuMemoryInfo()
    {
        nint info;
        // OrtArenaAllocator = 1, OrtMemTypeDefault = 0
        Check(((delegate* unmanaged<int, int, nint*, nint>)F(Slot.CreateCpuMemoryInfo))(1, 0, &info), "CreateCpuMemoryInfo");
        return info;
    }

    /// <summary>A float tensor over caller memory (which must stay pinned until the value is released).</summary>
    public nint CreateFloatTensor(nint memoryInfo, float* data, long count, long[] shape)
    {
        nint value;
        fixed (long* s = shape)
            Check(((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)F(Slot.CreateTensorWithDataAsOrtValue))(
                memoryInfo, data, (nuint)(count * sizeof(float)), s, (nuint)shape.Length, 1 /* FLOAT */, &value), "CreateTensorWithDataAsOrtValue");
        return value;
    }

    /// <summary>A tensor of ONNX element type <paramref name="elementType"/> (1 float, 7 int64, 9 bool) over caller memory.</summary>
    public nint CreateTensor(nint memoryInfo, void* data, long bytes, long[] shape, int elementType)
    {
        nint value;
        fixed (long* s = shape)
            Check(((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)F(Slot.CreateTensorWithDataAsOrtValue))(
                memoryInfo, data, (nuint)bytes, s, (nuint)shape.Length, elementType, &value), "CreateTensorWithDataAsOrtValue");
        return value;
    }

    public void Run(nint session, nint* inputNames, nint* inputs, int inputCount, nint* outputNames, int outputCount, nint* outputs) =>
        Check(((delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)F(Slot.Run))(
            session, 0, inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs), "Run");

    public float* TensorData(nint value)
    {
        void* p;
        Check(((delegate* unmanaged<nint, void**, nint>)F(Slot.GetTensorMutableData))(value, &p), "GetTensorMutableData");
        return (float*)p;
    }

    /// <summary>Element type (ONNX data type number) and dimensions of a tensor value.</summary>
    public (int ElementType, long[] Dims) TensorShape(nint value)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)F(Slot.GetTensorTypeAndShape))(value, &info), "GetTensorTypeAndShape");
        try
        {
            int type;
            nuint rank;
            Check(((delegate* unmanaged<nint, int*, nint>)F(Slot.GetTensorElementType))(info, &type), "GetTensorElementType");
            Check(((delegate* unmanaged<nint, nuint*, nint>)F(Slot.GetDimensionsCount))(info, &rank), "GetDimensionsCount");
            var dims = new long[(int)rank];
            fixed (long* d = dims)
                Check(((delegate* unmanaged<nint, long*, nuint, nint>)F(Slot.GetDimensions))(info, d, rank), "GetDimensions");
            return (type, dims);
        }
        finally { ReleaseTensorTypeAndShapeInfo(info); }
    }
}
