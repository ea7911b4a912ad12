using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Kernels.Elementwise;

/// <summary>
/// NumPy broadcasting of two operands reduced, once per shape pair, to runs of contiguous inner spans: output axes of
/// size 1 are dropped and neighbouring axes along which both operands are either contiguous or broadcast are merged.
/// What remains is an outer odometer and one inner run per step, on which a span operation runs:
/// same shape → one run over everything; scalar operand → one run against a repeated value; per-channel
/// ([1,C,1,1] against [N,C,H,W]) → N·C runs of H·W against one value each; anything else → the innermost merged
/// axis as the run. Immutable; one plan serves concurrent calls.
/// </summary>
public sealed class BroadcastPlan
{
    private readonly int[] _outer;          // outer dimensions, outermost first
    private readonly int[] _outerA, _outerB; // element strides of A and B along them
    private readonly int _run;              // inner run length
    private readonly bool _aRuns, _bRuns;   // whether A / B advance along the run (else repeated)

    public BroadcastPlan(ReadOnlySpan<int> aShape, ReadOnlySpan<int> bShape, string op = "broadcast")
    {
        OutShape = Broadcast.Shape(aShape, bShape, op);
        ALength = Broadcast.ElementCount(aShape);
        BLength = Broadcast.ElementCount(bShape);
        Count = Broadcast.ElementCount(OutShape);
        int[] sa = Broadcast.Strides(aShape, OutShape), sb = Broadcast.Strides(bShape, OutShape);
        var dims = new List<(int D, int A, int B)>();
        for (int i = 0; i < OutShape.Length; i++)
        {
            if (OutShape[i] == 1) continue;
            if (dims.Count > 0)
            {
                var (d, a, b) = dims[^1];
                // The outer axis steps over exactly one inner block for each operand (or stays put for both).
                if (a == sa[i] * OutShape[i] && b == sb[i] * OutShape[i])
                {
                    dims[^1] = (d * OutShape[i], sa[i], sb[i]);
                    continue;
                }
            }
            dims.Add((OutShape[i], sa[i], sb[i]));
        }
        if (dims.Count == 0) dims.Add((1, 0, 0));
        var inner = dims[^1];
        _run = inner.D;
        _aRuns = inner.A != 0;
        _bRuns = inner.B != 0;
        dims.RemoveAt(dims.Count - 1);
        _outer = dims.Select(x => x.D).ToArray();
        _outerA = dims.Select(x => x.A).ToArray();
        _outerB = dims.Select(x => x.B).ToArray();
    }

    public int[] OutShape { get; }
    public int Count { get; }
    public int ALength { get; }
    public int BLength { get; }

    /// <summary>Number of inner runs per call (1 for same shape or a scalar operand); for inspection and tests.</summary>
    public int Runs => Count == 0 ? 0 : Count / _run;

    /// <summary>Length of each inner run.</summary>
    public int RunLength => _run;

    /// <summary>
    /// y = op(a, b) broadcast; y may be a when a has the output shape (in place). From 64 K elements the runs (or one
    /// long run's 32 KB chunks) are split across the pool's threads: the operation is bandwidth-bound.
    /// </summary>
    public unsafe void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, BinarySpanOp op, int threads = 0)
    {
        if (a.Length < ALength || b.Length < BLength || y.Length < Count)
            ThrowHelper.Argument(nameof(y), $"{op.Name}: spans of {a.Length}, {b.Length}, {y.Length} elements are shorter than the plan's {ALength}, {BLength}, {Count}.");
        if (Count == 0) return;
        int runs = Count / _run;
        int parts = Count < ElementwiseParallel.ParallelFrom ? 1 : WorkerPool.Resolve(threads);
        if (parts <= 1)
        {
            RunRange(a, b, y, op, 0, runs, 0, _run);
            return;
        }
        // One long run: split its elements; many runs: split the runs (whole runs of at least a chunk per part).
        bool splitRun = runs < parts;
        int total = splitRun ? _run : runs;
        int grain = splitRun ? ElementwiseParallel.Chunk : Math.Max(1, ElementwiseParallel.Chunk / _run);
        parts = Math.Min(parts, (total + grain - 1) / grain);
        int alen = ALength, blen = BLength, count = Count, run = _run;
        fixed (float* pa = a, pb = b, py = y)
        {
            float* xa = pa, xb = pb, xy = py;
            WorkerPool.Shared.Run(parts, part =>
            {
                var (s, e) = WorkerPool.Range(total, parts, part, grain);
                var sa = new ReadOnlySpan<float>(xa, alen);
                var sb = new ReadOnlySpan<float>(xb, blen);
                var sy = new Span<float>(xy, count);
                if (splitRun) RunRange(sa, sb, sy, op, 0, runs, s, e);
                else RunRange(sa, sb, sy, op, s, e, 0, run);
            });
        }
    }

    /// <summary>Runs [r0, r1), and of each run the elements [s, e).</summary>
    private void RunRange(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, BinarySpanOp op, int r0, int r1, int s, int e)
    {
        if (r0 >= r1 || s >= e) return;
        Span<int> index = stackalloc int[_outer.Length];
        int offA = 0, offB = 0;
        for (int ax = _outer.Length - 1, rest = r0; ax >= 0; ax--)
        {
            index[ax] = rest % _outer[ax];
            rest /= _outer[ax];
            offA += index[ax] * _outerA[ax];
            offB += index[ax] * _outerB[ax];
        }
        int len = e - s;
        for (int r = r0; r < r1; r++)
        {
            var yr = y.Slice(r * _run + s, len);
            if (_aRuns && _bRuns) op.Both(a.Slice(offA + s, len), b.Slice(offB + s, len), yr);
            else if (_aRuns) op.RightScalar(a.Slice(offA + s, len), b[offB], yr);
            else if (_bRuns) op.LeftScalar(a[offA], b.Slice(offB + s, len), yr);
            else
            {
                // Both operands repeat along the run: one value, filled.
                op.Both(a.Slice(offA, 1), b.Slice(offB, 1), yr[..1]);
                yr.Fill(yr[0]);
            }
            // Odometer over the outer axes, innermost first.
            for (int ax = _outer.Length - 1; ax >= 0; ax--)
            {
                offA += _outerA[ax];
                offB += _outerB[ax];
                if (++index[ax] < _outer[ax]) break;
                offA -= _outerA[ax] * _outer[ax];
                offB -= _outerB[ax] * _outer[ax];
                index[ax] = 0;
            }
        }
    }
}
