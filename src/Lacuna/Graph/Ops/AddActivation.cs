using System.Numerics.Tensors;
using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Threading;

namespace Lacuna.Graph.Ops;

/// <summary>
/// y = act(a + b) for same-shape operands: the residual Add of a ResNet block with the Relu after it fused in
/// (<see cref="GraphPasses.FuseActivations"/>). The activation is applied exactly as the separate Relu/Clip node
/// would (Relu as max(x, 0) keeping NaN, Clip by the reference), so fusing changes no bit. Works in 32 KB chunks, so
/// the activation reads what the add just wrote while it is still in L1/L2 instead of a second trip to memory
/// (ResNet-50's 16 separate Relus over 0.8 M-float tensors cost about as much as the Adds themselves, `lacuna demo`),
/// and splits large tensors across the pool's threads: both passes are bandwidth-bound.
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

    private static void Range(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, Activation act)
    {
        for (int s = 0; s < y.Length; s += Chunk)
        {
            int len = Math.Min(Chunk, y.Length - s);
            var ys = y.Slice(s, len);
            TensorPrimitives.Add(a.Slice(s, len), b.Slice(s, len), ys);
            switch (act.Kind)
            {
                case ActivationKind.Relu: TensorPrimitives.Max(ys, 0f, ys); break;
                case ActivationKind.Clip: ReferenceElementwise.Clip(ys, ys, act.Min, act.Max); break;
            }
        }
    }
}
