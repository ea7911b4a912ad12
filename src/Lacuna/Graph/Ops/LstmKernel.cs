using System.Buffers;
using Lacuna.Kernels;
using Lacuna.Kernels.Recurrent;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops;

/// <summary>
/// ONNX LSTM on matrix products plus <see cref="LstmCell"/>: per direction, the input projection of all T·B steps is
/// one GEMM (Gx [T·B × 4H] = X · Wᵀ + Wb + Rb), then each step adds H · Rᵀ (a GEMM, or matrix-vector products at
/// batch ≤ <see cref="GemmKernel.GemvMaxRows"/>) and runs the gate math. A constant, pruned W or R (GNMT's pruned
/// encoder) also gets a sparse candidate (<see cref="SparseFullyConnected"/>: Yᵀ = W · Xᵀ on CSR SpMM), timed against
/// the dense product at this plan's batch as the conv planner times its candidates.
/// </summary>
internal sealed class LstmKernel : NodeKernel
{
    private LstmSpec _spec = null!;
    private SparseFullyConnected?[] _sparseW = [], _sparseR = [];
    private float[]? _constantBias; // [D × 4H], Wb + Rb, when B is a constant
    private string _measured = "";

    public override string KernelName =>
        $"LSTM ({string.Join("; ", Enumerable.Range(0, _spec.Directions).Select(d => $"W {(_sparseW[d] is { } w ? w.Describe() : "dense")}, R {(_sparseR[d] is { } r ? r.Describe() : "dense")}"))}){_measured}";

    public static LstmSpec Spec(OpContext c)
    {
        var n = c.Node;
        int[] x = c.X, w = c.InShapes[1], r = c.InShapes[2];
        bool batchFirst = n.Int("layout", 0) != 0;
        if (x.Length != 3) throw new ShapeMismatchException("X", $"{n.Describe()}: X must be 3-D ([seq, batch, input], or [batch, seq, input] with layout=1); got {Broadcast.Format(x)}.");
        if (w.Length != 3 || r.Length != 3) throw new ShapeMismatchException("W", $"{n.Describe()}: W and R must be 3-D; got {Broadcast.Format(w)} and {Broadcast.Format(r)}.");
        var direction = n.String("direction", "forward") switch
        {
            "forward" => RnnDirection.Forward,
            "reverse" => RnnDirection.Reverse,
            "bidirectional" => RnnDirection.Bidirectional,
            var other => throw c.Unsupported($"direction '{other}' is not one of forward, reverse, bidirectional."),
        };
        int dirs = direction == RnnDirection.Bidirectional ? 2 : 1;
        int hidden = (int)n.Int("hidden_size", w[1] / 4);
        int t = batchFirst ? x[1] : x[0], b = batchFirst ? x[0] : x[1], i = x[2];
        if (w[0] != dirs || w[1] != 4 * hidden || w[2] != i)
            throw new ShapeMismatchException("W", $"{n.Describe()}: W is {Broadcast.Format(w)}; [{dirs}, {4 * hidden}, {i}] expected (directions, 4·hidden_size, input size).");
        if (r[0] != dirs || r[1] != 4 * hidden || r[2] != hidden)
            throw new ShapeMismatchException("R", $"{n.Describe()}: R is {Broadcast.Format(r)}; [{dirs}, {4 * hidden}, {hidden}] expected.");
        RnnActivation[] acts;
        try
        {
            acts = RnnActivation.Parse(n.Strings("activations"), n.Floats("activation_alpha"), n.Floats("activation_beta"),
                [RnnActivation.Sigmoid, RnnActivation.Tanh, RnnActivation.Tanh], 3 * dirs, n.Describe());
        }
        catch (ArgumentException e) { throw c.Unsupported(e.Message); }
        return new LstmSpec(t, b, i, hidden, direction, batchFirst, n.Float("clip", 0f), n.Int("input_forget", 0) != 0, acts);
    }

    public static int[][] OutputShapes(OpContext c)
    {
        var s = Spec(c);
        return [s.YShape, s.StateShape, s.StateShape];
    }

    public static LstmKernel Create(OpContext c, int[][] outShapes) => Create(c, outShapes, sparse: null);

    /// <param name="sparse">null: measure; true: every pruned W/R takes SpMM untimed (tests); false: dense only</param>
    internal static LstmKernel Create(OpContext c, int[][] outShapes, bool? sparse)
    {
        var s = Spec(c);
        var k = new LstmKernel { Node = c.Node, InShapes = c.InShapes, OutShapes = outShapes, _spec = s };
        k._sparseW = new SparseFullyConnected?[s.Directions];
        k._sparseR = new SparseFullyConnected?[s.Directions];
        if (c.Has(3) && c.Constant(3) is { } bias) k._constantBias = CombinedBias(bias.AsFloats(), s);
        else if (!c.Has(3)) k._constantBias = new float[s.Directions * 4 * s.Hidden];
        if (sparse != false && (sparse == true || c.Cache is { AllowSparse: true })
            && k._constantBias is not null && c.Constant(1) is { } w && c.Constant(2) is { } r)
            k.PlanSparse(w.AsFloats(), r.AsFloats(), measure: sparse is null);
        return k;
    }

    private static float[] CombinedBias(ReadOnlySpan<float> b, LstmSpec s)
    {
        int h4 = 4 * s.Hidden;
        var sum = new float[s.Directions * h4];
        for (int d = 0; d < s.Directions; d++)
            for (int j = 0; j < h4; j++) sum[d * h4 + j] = b[d * 2 * h4 + j] + b[d * 2 * h4 + h4 + j];
        return sum;
    }

    /// <summary>Per direction, W and R each become sparse where they are pruned and SpMM measured faster at this batch.</summary>
    private void PlanSparse(float[] w, float[] r, bool measure)
    {
        var s = _spec;
        int h4 = 4 * s.Hidden, rowsW = s.SeqLength * s.Batch;
        var notes = new List<string>();
        for (int d = 0; d < s.Directions; d++)
        {
            var wd = w.AsMemory(d * h4 * s.InputSize, h4 * s.InputSize);
            var rd = r.AsMemory(d * h4 * s.Hidden, h4 * s.Hidden);
            var bias = _constantBias.AsMemory(d * h4, h4);
            _sparseW[d] = Choose(wd, h4, s.InputSize, rowsW, bias, $"W[{d}]", notes, measure);
            _sparseR[d] = Choose(rd, h4, s.Hidden, s.Batch, Memory<float>.Empty, $"R[{d}]", notes, measure);
        }
        if (notes.Count > 0) _measured = $" [{string.Join("; ", notes)}]";
    }

    private static SparseFullyConnected? Choose(ReadOnlyMemory<float> weight, int n, int k, int rows, ReadOnlyMemory<float> bias, string name, List<string> notes, bool measure)
    {
        var wv = weight.Span;
        int zeros = 0;
        foreach (float v in wv) if (v == 0f) zeros++;
        if (rows == 0 || k == 0 || zeros < ConvPlanner.MinSparsity * wv.Length) return null;
        var sparse = new SparseFullyConnected(wv, n, k, bias.Span, Activation.None);
        if (!measure) return sparse;
        using var x = Tensor.Random(23, new[] { rows, k });
        var y = new float[(long)rows * n];
        var ms = KernelTimer.FastestRounds(new Action[]
        {
            () => DenseProduct(x.Span, rows, k, weight.Span, n, bias.Span, y),
            () => sparse.Run(x.Span, y, rows),
        });
        notes.Add($"{name} at {rows} rows: dense {ms[0]:F3} ms, spmm {ms[1]:F3} ms");
        return ms[1] < ms[0] ? sparse : null;
    }

    /// <summary>Y [rows × n] = X [rows × k] · Wᵀ + bias (W [n × k]; bias [n] or empty).</summary>
    private static void DenseProduct(ReadOnlySpan<float> x, int rows, int k, ReadOnlySpan<float> w, int n, ReadOnlySpan<float> bias, Span<float> y)
    {
        if (rows <= GemmKernel.GemvMaxRows)
        {
            for (int i = 0; i < rows; i++) Gemv.WeightRows(w, n, k, x.Slice(i * k, k), y.Slice(i * n, n), bias, Activation.None);
            return;
        }
        Gemm.Compute(rows, n, k, x, k, false, w, k, true, y, n, bias: bias, biasAxis: bias.IsEmpty ? BiasAxis.None : BiasAxis.Column);
    }

    private ReadOnlySpan<float> Optional(Frame f, int i) => HasInput(i) ? In(f, i) : ReadOnlySpan<float>.Empty;
    private Span<float> OptionalOut(Frame f, int i) => i < OutSlots.Length && OutSlots[i] >= 0 ? Out(f, i) : Span<float>.Empty;

    public override void Run(Frame f)
    {
        var s = _spec;
        int T = s.SeqLength, B = s.Batch, I = s.InputSize, H = s.Hidden, h4 = 4 * H;
        var x = In(f, 0);
        var w = In(f, 1);
        var r = In(f, 2);
        int[]? lens = null;
        if (HasInput(4))
        {
            var raw = In(f, 4);
            lens = new int[raw.Length];
            for (int b = 0; b < raw.Length; b++) lens[b] = (int)raw[b];
        }
        var initH = Optional(f, 5);
        var initC = Optional(f, 6);
        var p = Optional(f, 7);
        Span<float> y = OptionalOut(f, 0), yH = OptionalOut(f, 1), yC = OptionalOut(f, 2);
        s.Validate(x.Length, w.Length, r.Length, Optional(f, 3).Length, lens, initH.Length, initC.Length, p.Length, y.Length, yH.Length, yC.Length);
        var bias = _constantBias ?? CombinedBias(In(f, 3), s);
        bool ragged = lens is not null && lens.Any(l => l < T);
        if (ragged) y.Clear();

        var pool = ArrayPool<float>.Shared;
        float[] gx = pool.Rent(T * B * h4), gr = pool.Rent(B * h4), h = pool.Rent(B * H), c = pool.Rent(B * H), tmp = pool.Rent(H);
        try
        {
            for (int d = 0; d < s.Directions; d++)
            {
                var (fa, ga, ha) = s.ActivationsOf(d);
                var bd = bias.AsSpan(d * h4, h4);
                var pd = p.IsEmpty ? ReadOnlySpan<float>.Empty : p.Slice(d * 3 * H, 3 * H);
                var rd = r.Slice(d * h4 * H, h4 * H);
                // Gx rows follow X's rows (step-major, or sequence-major with layout=1).
                if (_sparseW[d] is { } sw) sw.Run(x, gx, T * B);
                else DenseProduct(x, T * B, I, w.Slice(d * h4 * I, h4 * I), h4, bd, gx);
                for (int b = 0; b < B; b++)
                {
                    int so = s.StateOffset(d, b);
                    if (initH.IsEmpty) h.AsSpan(b * H, H).Clear(); else initH.Slice(so, H).CopyTo(h.AsSpan(b * H, H));
                    if (initC.IsEmpty) c.AsSpan(b * H, H).Clear(); else initC.Slice(so, H).CopyTo(c.AsSpan(b * H, H));
                }
                int steps = lens is null ? T : lens.Max();
                for (int step = 0; step < steps; step++)
                {
                    if (_sparseR[d] is { } sr) sr.Run(h.AsSpan(0, B * H), gr, B);
                    else DenseProduct(h.AsSpan(0, B * H), B, H, rd, h4, ReadOnlySpan<float>.Empty, gr);
                    for (int b = 0; b < B; b++)
                    {
                        int len = lens?[b] ?? T;
                        if (step >= len) continue;
                        int t = s.Reversed(d) ? len - 1 - step : step;
                        var g = gr.AsSpan(b * h4, h4);
                        System.Numerics.Tensors.TensorPrimitives.Add(g, gx.AsSpan(s.XRow(t, b) * h4, h4), g);
                        var hb = h.AsSpan(b * H, H);
                        LstmCell.Step(g, pd, c.AsSpan(b * H, H), hb, tmp.AsSpan(0, H), fa, ga, ha, s.Clip, s.InputForget);
                        if (!y.IsEmpty) hb.CopyTo(y.Slice((int)s.YOffset(t, d, b), H));
                    }
                }
                for (int b = 0; b < B; b++)
                {
                    int so = s.StateOffset(d, b);
                    if (!yH.IsEmpty) h.AsSpan(b * H, H).CopyTo(yH.Slice(so, H));
                    if (!yC.IsEmpty) c.AsSpan(b * H, H).CopyTo(yC.Slice(so, H));
                }
            }
        }
        finally
        {
            pool.Return(gx); pool.Return(gr); pool.Return(h); pool.Return(c); pool.Return(tmp);
        }
    }
}
