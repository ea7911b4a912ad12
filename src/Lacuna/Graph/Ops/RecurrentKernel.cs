using System.Buffers;
using System.Numerics.Tensors;
using Lacuna.Kernels;
using Lacuna.Kernels.Recurrent;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops;

/// <summary>
/// ONNX RNN, GRU and LSTM on matrix products plus <see cref="RecurrentCells"/>. Per direction, the input projection of
/// all T·B steps is one GEMM (Gx [T·B × G·H] = X · Wᵀ + Wb + Rb, the recurrent biases folded in where the equations
/// allow), then each step adds H · Rᵀ (a GEMM, or matrix-vector products at batch ≤ <see cref="GemmKernel.GemvMaxRows"/>;
/// GRU in two products, since its candidate's product reads the reset gate) and runs the gate math. A constant, pruned
/// W or R (GNMT's pruned encoder) also gets a sparse candidate (<see cref="SparseFullyConnected"/>: Yᵀ = W · Xᵀ on CSR
/// SpMM), timed against the dense product at this plan's batch as the conv planner times its candidates.
/// </summary>
internal sealed class RecurrentKernel : NodeKernel
{
    /// <summary>
    /// Y [rows × N] = X [rows × K] · Wᵀ + bias, W the N×K block at <see cref="Offset"/> of the node's W or R input; the
    /// sparse form (bias built in) when the planner chose it.
    /// </summary>
    private sealed record Product(string Name, int Offset, int N, int K, float[]? Bias)
    {
        public SparseFullyConnected? Sparse { get; set; }

        public void Run(ReadOnlySpan<float> weights, ReadOnlySpan<float> x, int rows, Span<float> y)
        {
            if (Sparse is not null) Sparse.Run(x, y, rows);
            else Dense(x, rows, K, weights.Slice(Offset, N * K), N, Bias, y);
        }
    }

    private RecurrentSpec _spec = null!;
    private Product[] _input = [];     // per direction: X · Wᵀ
    private Product[][] _recurrent = []; // per direction: H · Rᵀ (GRU: R_zr, then R_h)
    private float[][]? _inputBias;     // per direction, when B is constant or absent
    private string _measured = "";

    public override string KernelName => $"{_spec.OpName} ({string.Join("; ", _input.Concat(_recurrent.SelectMany(r => r)).Select(p => $"{p.Name} {(p.Sparse is { } s ? s.Describe() : "dense")}"))}){_measured}";

    public static RecurrentSpec Spec(OpContext c, RecurrentCell cell)
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
        int dirs = direction == RnnDirection.Bidirectional ? 2 : 1, gates = RecurrentSpec.GatesOf(cell);
        int hidden = (int)n.Int("hidden_size", w[1] / gates);
        int t = batchFirst ? x[1] : x[0], b = batchFirst ? x[0] : x[1], i = x[2];
        if (w[0] != dirs || w[1] != gates * hidden || w[2] != i)
            throw new ShapeMismatchException("W", $"{n.Describe()}: W is {Broadcast.Format(w)}; [{dirs}, {gates * hidden}, {i}] expected (directions, {gates}·hidden_size, input size).");
        if (r[0] != dirs || r[1] != gates * hidden || r[2] != hidden)
            throw new ShapeMismatchException("R", $"{n.Describe()}: R is {Broadcast.Format(r)}; [{dirs}, {gates * hidden}, {hidden}] expected.");
        var defaults = RecurrentSpec.DefaultActivations(cell);
        RnnActivation[] acts;
        try
        {
            acts = RnnActivation.Parse(n.Strings("activations"), n.Floats("activation_alpha"), n.Floats("activation_beta"), defaults, defaults.Length * dirs, n.Describe());
        }
        catch (ArgumentException e) { throw c.Unsupported(e.Message); }
        return new RecurrentSpec(cell, t, b, i, hidden, direction, batchFirst, n.Float("clip", 0f), acts,
            InputForget: n.Int("input_forget", 0) != 0, LinearBeforeReset: n.Int("linear_before_reset", 0) != 0);
    }

    public static int[][] OutputShapes(OpContext c, RecurrentCell cell)
    {
        var s = Spec(c, cell);
        return cell == RecurrentCell.Lstm ? [s.YShape, s.StateShape, s.StateShape] : [s.YShape, s.StateShape];
    }

    public static RecurrentKernel Create(OpContext c, int[][] outShapes, RecurrentCell cell) => Create(c, outShapes, cell, sparse: null);

    /// <param name="sparse">null: measure; true: every pruned W/R block takes SpMM untimed (tests); false: dense only</param>
    internal static RecurrentKernel Create(OpContext c, int[][] outShapes, RecurrentCell cell, bool? sparse)
    {
        var s = Spec(c, cell);
        var k = new RecurrentKernel { Node = c.Node, InShapes = c.InShapes, OutShapes = outShapes, _spec = s };
        float[]? bias = c.Has(3) ? c.Constant(3)?.AsFloats() : null;
        if (!c.Has(3) || bias is not null)
            k._inputBias = Enumerable.Range(0, s.Directions).Select(d => InputBias(s, bias, d)).ToArray();
        int gh = s.Gates * s.Hidden, h = s.Hidden;
        k._input = Enumerable.Range(0, s.Directions).Select(d => new Product($"W[{d}]", d * gh * s.InputSize, gh, s.InputSize, k._inputBias?[d])).ToArray();
        k._recurrent = Enumerable.Range(0, s.Directions).Select(d => cell == RecurrentCell.Gru
            ? new[]
            {
                new Product($"R[{d}] z,r", d * gh * h, 2 * h, h, null),
                new Product($"R[{d}] h", d * gh * h + 2 * h * h, h, h, s.LinearBeforeReset ? RecurrentBiasH(s, bias, d) : null),
            }
            : [new Product($"R[{d}]", d * gh * h, gh, h, null)]).ToArray();
        bool biasKnown = k._inputBias is not null && !(s.LinearBeforeReset && c.Has(3) && bias is null);
        if (sparse != false && (sparse == true || c.Cache is { AllowSparse: true }) && biasKnown && c.Constant(1) is { } w && c.Constant(2) is { } r)
            k.PlanSparse(w.AsFloats(), r.AsFloats(), measure: sparse is null);
        return k;
    }

    /// <summary>Wb + Rb of direction d, except GRU's Rbh when linear_before_reset (it sits inside the reset product).</summary>
    private static float[] InputBias(RecurrentSpec s, ReadOnlySpan<float> b, int d)
    {
        int gh = s.Gates * s.Hidden;
        var sum = new float[gh];
        if (b.IsEmpty) return sum;
        for (int j = 0; j < gh; j++)
        {
            bool keepRecurrent = s.Cell == RecurrentCell.Gru && s.LinearBeforeReset && j >= 2 * s.Hidden;
            sum[j] = b[d * 2 * gh + j] + (keepRecurrent ? 0f : b[d * 2 * gh + gh + j]);
        }
        return sum;
    }

    private static float[]? RecurrentBiasH(RecurrentSpec s, float[]? b, int d) =>
        b?.AsSpan(d * 6 * s.Hidden + 5 * s.Hidden, s.Hidden).ToArray();

    /// <summary>Each pruned block of W or R becomes sparse where SpMM measured faster at this plan's rows.</summary>
    private void PlanSparse(float[] w, float[] r, bool measure)
    {
        var s = _spec;
        var notes = new List<string>();
        for (int d = 0; d < s.Directions; d++)
        {
            _input[d].Sparse = Choose(_input[d], w, s.SeqLength * s.Batch, notes, measure);
            foreach (var p in _recurrent[d]) p.Sparse = Choose(p, r, s.Batch, notes, measure);
        }
        if (notes.Count > 0) _measured = $" [{string.Join("; ", notes)}]";
    }

    private static SparseFullyConnected? Choose(Product p, float[] tensor, int rows, List<string> notes, bool measure)
    {
        var wv = tensor.AsSpan(p.Offset, p.N * p.K);
        int zeros = 0;
        foreach (float v in wv) if (v == 0f) zeros++;
        if (rows == 0 || p.K == 0 || zeros < ConvPlanner.MinSparsity * wv.Length) return null;
        var sparse = new SparseFullyConnected(wv, p.N, p.K, p.Bias ?? [], Activation.None);
        if (!measure) return sparse;
        using var x = Lacuna.Tensors.Tensor.Random(23, new[] { rows, p.K });
        var y = new float[(long)rows * p.N];
        var ms = KernelTimer.FastestRounds(new Action[]
        {
            () => Dense(x.Span, rows, p.K, tensor.AsSpan(p.Offset, p.N * p.K), p.N, p.Bias, y),
            () => sparse.Run(x.Span, y, rows),
        });
        notes.Add($"{p.Name} at {rows} rows: dense {ms[0]:F3} ms, spmm {ms[1]:F3} ms");
        return ms[1] < ms[0] ? sparse : null;
    }

    /// <summary>Y [rows × n] = X [rows × k] · Wᵀ + bias (W [n × k]; bias [n] or null).</summary>
    private static void Dense(ReadOnlySpan<float> x, int rows, int k, ReadOnlySpan<float> w, int n, float[]? bias, Span<float> y)
    {
        if (rows <= GemmKernel.GemvMaxRows)
        {
            for (int i = 0; i < rows; i++) Gemv.WeightRows(w, n, k, x.Slice(i * k, k), y.Slice(i * n, n), bias, Activation.None);
            return;
        }
        Gemm.Compute(rows, n, k, x, k, false, w, k, true, y, n, bias: bias, biasAxis: bias is null ? BiasAxis.None : BiasAxis.Column);
    }

    private ReadOnlySpan<float> Optional(Frame f, int i) => HasInput(i) ? In(f, i) : ReadOnlySpan<float>.Empty;
    private Span<float> OptionalOut(Frame f, int i) => i < OutSlots.Length && OutSlots[i] >= 0 ? Out(f, i) : Span<float>.Empty;

    public override void Run(Frame f)
    {
        var s = _spec;
        int T = s.SeqLength, B = s.Batch, H = s.Hidden, G = s.Gates, gh = G * H;
        var x = In(f, 0);
        var w = In(f, 1);
        var r = In(f, 2);
        var biasIn = Optional(f, 3);
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
        s.Validate(x.Length, w.Length, r.Length, biasIn.Length, lens, initH.Length, initC.Length, p.Length, y.Length, yH.Length, yC.Length);
        if (lens is not null && lens.Any(l => l < T)) y.Clear();
        var biasArray = _inputBias is null ? biasIn.ToArray() : null; // a run-time B (the ONNX node tests feed it)

        var pool = ArrayPool<float>.Shared;
        float[] gx = pool.Rent(T * B * gh), gr = pool.Rent(B * gh), h = pool.Rent(B * H), c = pool.Rent(B * H), q = pool.Rent(B * H), hh = pool.Rent(B * H), tmp = pool.Rent(H);
        try
        {
            for (int d = 0; d < s.Directions; d++)
            {
                var input = _input[d];
                if (biasArray is not null) input = input with { Bias = InputBias(s, biasArray, d) };
                var rec = _recurrent[d];
                if (biasArray is not null && s.Cell == RecurrentCell.Gru) rec = [rec[0], rec[1] with { Bias = s.LinearBeforeReset ? RecurrentBiasH(s, biasArray, d) : null }];
                var pd = p.IsEmpty ? ReadOnlySpan<float>.Empty : p.Slice(d * 3 * H, 3 * H);
                input.Run(w, x, T * B, gx); // rows follow X's rows (step-major, or sequence-major with layout=1)
                for (int b = 0; b < B; b++)
                {
                    int so = s.StateOffset(d, b);
                    if (initH.IsEmpty) h.AsSpan(b * H, H).Clear(); else initH.Slice(so, H).CopyTo(h.AsSpan(b * H, H));
                    if (initC.IsEmpty) c.AsSpan(b * H, H).Clear(); else initC.Slice(so, H).CopyTo(c.AsSpan(b * H, H));
                }
                int steps = lens is null ? T : lens.Max();
                for (int step = 0; step < steps; step++)
                    Step(s, d, step, lens, w, r, rec, pd, gx, gr, h, c, q, hh, tmp, y);
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
            pool.Return(gx); pool.Return(gr); pool.Return(h); pool.Return(c); pool.Return(q); pool.Return(hh); pool.Return(tmp);
        }
    }

    /// <summary>One step of direction d for every sequence still running; finished ones keep their state.</summary>
    private static void Step(RecurrentSpec s, int d, int step, int[]? lens, ReadOnlySpan<float> w, ReadOnlySpan<float> r, Product[] rec,
        ReadOnlySpan<float> pd, float[] gx, float[] gr, float[] h, float[] c, float[] q, float[] hh, float[] tmp, Span<float> y)
    {
        int T = s.SeqLength, B = s.Batch, H = s.Hidden, gh = s.Gates * H;
        var hs = h.AsSpan(0, B * H);
        rec[0].Run(r, hs, B, gr);
        if (s.Cell == RecurrentCell.Gru)
        {
            // z and q (reset) for every running sequence, then the candidate's product, which reads q.
            for (int b = 0; b < B; b++)
            {
                if (!Running(lens, b, step, T, s, d, out int t)) continue;
                RecurrentCells.GruGates(gx.AsSpan(s.XRow(t, b) * gh, 2 * H), gr.AsSpan(b * 2 * H, 2 * H), s.ActivationOf(d, 0), s.Clip);
                if (!s.LinearBeforeReset) TensorPrimitives.Multiply(gr.AsSpan(b * 2 * H + H, H), h.AsSpan(b * H, H), q.AsSpan(b * H, H));
            }
            // The candidate's recurrent term into hh: H·Rhᵀ + Rbh (reset applied below), or (q ⊙ H)·Rhᵀ.
            rec[1].Run(r, s.LinearBeforeReset ? hs : q.AsSpan(0, B * H), B, hh.AsSpan(0, B * H));
        }
        for (int b = 0; b < B; b++)
        {
            if (!Running(lens, b, step, T, s, d, out int t)) continue;
            var hb = h.AsSpan(b * H, H);
            var xb = gx.AsSpan(s.XRow(t, b) * gh, gh);
            switch (s.Cell)
            {
                case RecurrentCell.Rnn:
                    RecurrentCells.Rnn(xb, gr.AsSpan(b * H, H), hb, s.ActivationOf(d, 0), s.Clip);
                    break;
                case RecurrentCell.Gru:
                    var rh = hh.AsSpan(b * H, H);
                    if (s.LinearBeforeReset) TensorPrimitives.Multiply(rh, gr.AsSpan(b * 2 * H + H, H), rh);
                    RecurrentCells.GruFinish(xb.Slice(2 * H, H), rh, gr.AsSpan(b * 2 * H, H), hb, s.ActivationOf(d, 1), s.Clip);
                    break;
                default:
                    var g = gr.AsSpan(b * gh, gh);
                    TensorPrimitives.Add(g, xb, g);
                    RecurrentCells.Lstm(g, pd, c.AsSpan(b * H, H), hb, tmp.AsSpan(0, H), s.ActivationOf(d, 0), s.ActivationOf(d, 1), s.ActivationOf(d, 2), s.Clip, s.InputForget);
                    break;
            }
            if (!y.IsEmpty) hb.CopyTo(y.Slice((int)s.YOffset(t, d, b), H));
        }
    }

    /// <summary>Whether sequence b still runs at this step, and the time index it reads (reverse: from its last valid step).</summary>
    private static bool Running(int[]? lens, int b, int step, int T, RecurrentSpec s, int d, out int t)
    {
        int len = lens?[b] ?? T;
        t = s.Reversed(d) ? len - 1 - step : step;
        return step < len;
    }
}
