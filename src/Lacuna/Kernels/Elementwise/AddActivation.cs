using System.Numerics;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using Lacuna.Threading;

namespace Lacuna.Kernels.Elementwise;

/// <summary>
/// y = act(a + b) for same-shape operands: the residual Add of a ResNet block with the Relu after it fused in
/// (<see cref="GraphPasses.FuseActivations"/>). The result is bit for bit what the separate Relu/Clip node computes
/// (Relu as max(x, 0) keeping NaN, Clip by the reference's comparisons, <see cref="UnaryKernels.Clip"/>). Add+Relu is one pass over memory instead of two
/// (ResNet-50's 16 separate Relus over up to 0.8 M floats cost as much as the Adds, `lacuna demo`; one pass:
/// 0.25-0.34 ms vs 0.66-1.0 ms for Add then Max on 256x56x56, 1 thread), and large tensors are split across the
/// pool's threads in 32 KB-aligned ranges: the op is bandwidth-bound.
/// </summary>
internal static unsafe class AddActivation
{
    private const int Chunk = 8192;
    private const int ParallelFrom = 1 << 16;

    public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, Activation act, int threads = 0)
    {
        int n = y.Length;
        int parts = n < ParallelFrom ? 1 : Math.Min(WorkerPool.Resolve(threads), (n + Chunk - 1) / Chunk);
        if (parts <= 1) { Range(a, b, y, act); return; }
        fixed (float* pa = a, pb = b, py = y)
        {
            float* xa = pa, xb = pb, xy = py;
            WorkerPool.Shared.Run(parts, part =>
            {
                var (s, e) = WorkerPool.Range(n, parts, part, Chunk);
                Range(new ReadOnlySpan<float>(xa + s, e - s), new ReadOnlySpan<float>(xb + s, e - s), new Span<float>(xy + s, e - s), act);
            });
        }
    }

    /// <summary>y = act(a + b) over one range on the calling thread (also a kernel's fused residual epilogue, <see cref="OutputEpilogue"/>).</summary>
    public static void Range(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, Activation act)
    {
        switch (act.Kind)
        {
            case ActivationKind.Relu: AddRelu(a, b, y); break;
            case ActivationKind.Clip:
                TensorPrimitives.Add(a, b, y);
                UnaryKernels.Clip(y, y, act.Min, act.Max);
                break;
            default: TensorPrimitives.Add(a, b, y); break;
        }
    }

    /// <summary>
    /// y = max(a + b, 0) in one pass, with TensorPrimitives.Max(s, 0)'s result bit for bit (what the Relu node
    /// computes): s ≤ 0 (−0 included) gives +0, NaN stays the NaN of the sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a few calls per run: skip tier-0
    private static void AddRelu(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        int i = 0, n = y.Length;
        if (Vector.IsHardwareAccelerated)
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var s = new Vector<float>(a.Slice(i)) + new Vector<float>(b.Slice(i));
                Vector.ConditionalSelect(Vector.LessThanOrEqual(s, Vector<float>.Zero), Vector<float>.Zero, s).CopyTo(y.Slice(i));
            }
        for (; i < n; i++)
        {
            float s = a[i] + b[i];
            y[i] = s <= 0f ? 0f : s;
        }
    }
}
