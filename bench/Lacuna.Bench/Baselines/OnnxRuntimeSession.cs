using System.Runtime.InteropServices;

namespace Lacuna.Bench.Baselines;

/// <summary>
/// One ONNX Runtime inference session on the CPU execution provider, created from model bytes, with a fixed
/// intra-op thread count (the caller's thread included, as Lacuna counts), sequential execution and all graph
/// optimizations on: ONNX Runtime as a user would configure it for a thread budget.
/// <code>
/// using var ort = OnnxRuntimeSession.Create(model.ToBytes(), threads: 2);
/// var (y, shape) = ort.Run(x, new long[] { 1, 3, 224, 224 });
/// </code>
/// </summary>
public sealed unsafe partial class OnnxRuntimeSession : IDisposable
{
    private const int OrtLoggingLevelError = 3, OrtEnableAll = 99;

    private static readonly Lazy<nint> s_env = new(() => OnnxRuntime.Api.CreateEnv(OrtLoggingLevelError, "lacuna"));

    private readonly OrtApiTable _api;
    private nint _session, _memoryInfo;
    private readonly nint[] _inputNames, _outputNames;

    private OnnxRuntimeSession(OrtApiTable api, nint session, int threads)
    {
        _api = api;
        _session = session;
        Threads = threads;
        InputNames = Enumerable.Range(0, api.SessionCount(session, inputs: true)).Select(i => api.SessionName(session, true, i)).ToArray();
        OutputNames = Enumerable.Range(0, api.SessionCount(session, inputs: false)).Select(i => api.SessionName(session, false, i)).ToArray();
        _inputNames = InputNames.Select(Marshal.StringToCoTaskMemUTF8).ToArray();
        _outputNames = OutputNames.Select(Marshal.StringToCoTaskMemUTF8).ToArray();
        _memoryInfo = api.CreateCpuMemoryInfo();
    }

    public IReadOnlyList<string> InputNames { get; }
    public IReadOnlyList<string> OutputNames { get; }
    public int Threads { get; }

    /// <param name="model">A serialized ONNX ModelProto.</param>
    /// <param name="threads">Intra-op threads (≥ 1).</param>
    /// <param name="allowSpinning">
    /// ONNX Runtime's default (true) lets idle pool threads spin for work; false makes them sleep at once.
    /// </param>
    public static OnnxRuntimeSession Create(byte[] model, int threads, bool allowSpinning = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "Thread count must be at least 1.");
        var api = OnnxRuntime.Api;
        nint options = api.CreateSessionOptions();
        try
        {
            api.SetIntraOpNumThreads(options, threads);
            api.SetInterOpNumThreads(options, 1);
            api.SetGraphOptimizationLevel(options, OrtEnableAll);
            if (!allowSpinning) api.AddSessionConfigEntry(options, "session.intra_op.allow_spinning", "0");
            nint session = api.CreateSessionFromArray(s_env.Value, model, options);
            return new OnnxRuntimeSession(api, session, threads);
        }
        finally { api.ReleaseSessionOptions(options); }
    }

    /// <summary>Runs the model on one float input (the model's only runtime input) and returns its first output.</summary>
    public (float[] Data, long[] Shape) Run(ReadOnlySpan<float> input, long[] shape)
    {
        ObjectDisposedException.ThrowIf(_session == 0, this);
        if (_inputNames.Length != 1)
            throw new ArgumentException($"the model has {_inputNames.Length} inputs ({string.Join(", ", InputNames)}); this runner feeds exactly one.");
        long count = 1;
        foreach (long d in shape) count *= d;
        if (count != input.Length)
            throw new ArgumentException($"input has {input.Length} values but shape [{string.Join(", ", shape)}] needs {count}.", nameof(input));
        fixed (float* px = input)
        {
            nint x = _api.CreateFloatTensor(_memoryInfo, px, count, shape);
            nint y = 0;
            try
            {
                fixed (nint* inNames = _inputNames, outNames = _outputNames)
                    _api.Run(_session, inNames, &x, 1, outNames, 1, &y);
                var (type, dims) = _api.TensorShape(y);
                if (type != 1) throw new NotSupportedException($"output '{OutputNames[0]}' has ONNX element type {type}; only float (1) is read.");
                long n = 1;
                foreach (long d in dims) n *= d;
                var data = new float[n];
                new ReadOnlySpan<float>(_api.TensorData(y), (int)n).CopyTo(data);
                return (data, dims);
            }
            finally
            {
                if (y != 0) _api.ReleaseValue(y);
                _api.ReleaseValue(x);
            }
        }
    }

    public void Dispose()
    {
        if (_session == 0) return;
        _api.ReleaseSession(_session);
        _api.ReleaseMemoryInfo(_memoryInfo);
        foreach (nint p in _inputNames) Marshal.FreeCoTaskMem(p);
        foreach (nint p in _outputNames) Marshal.FreeCoTaskMem(p);
        _session = 0;
        _memoryInfo = 0;
    }
}
