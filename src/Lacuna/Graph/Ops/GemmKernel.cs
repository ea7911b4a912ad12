using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops;

/// <summary>
/// ONNX Gemm: Y[M×N] = act(alpha·op(A)·op(B) + beta·C), C broadcast to [M×N]; and MatMul over row-major stacks.
/// Both run on <see cref="Gemm.Compute(int,int,int,ReadOnlySpan{float},int,bool,ReadOnlySpan{float},int,bool,Span{float},int,float,float,ReadOnlySpan{float},BiasAxis,Activation,int)"/>.
/// A constant C of shape [N] or [1,N] becomes a column bias (pre-scaled by beta); any other C is broadcast into Y
/// first and accumulated with beta.
/// </summary>
internal sealed class GemmKernel : NodeKernel
{
    private int _m, _n, _k;
    private bool _transA, _transB;
    private BatchedMatMul? _batched;
    private float _alpha = 1f, _beta;
    private float[]? _bias;
    private BiasAxis _biasAxis;
    private int[]? _cShape;
    private OpCompiler.FcPlan? _fc;
    private GemmPackedA? _packedB; // a constant op(B)ᵀ [N × K] packed once as the A of Yᵀ = op(B)ᵀ · op(A)ᵀ
    private float[]? _gemvWeight;  // a constant B read as it is, one matrix-vector product per row of A (small M)

    /// <summary>
    /// Up to this many rows of A, a constant-weight Gemm runs as matrix-vector products (<see cref="Gemv"/>): each
    /// reads all of W, and the packed GEMM's tile is mostly empty (ResNet-50's FC at batch 1: packed GEMM 0.83 ms,
    /// ONNX Runtime 0.30 ms).
    /// </summary>
    public const int GemvMaxRows = 2;

    public override string KernelName => _batched is not null ? _batched.Describe()
        : _fc is { Sparse: { } sp } ? $"{sp.Describe()} [{_fc.Measured}]"
        : _fc is not null ? $"Gemm ({Gemm.Describe()}) [{_fc.Measured}]"
        : _packedB is not null ? $"Gemm ({Gemm.Describe()}, constant B packed once)"
        : _gemvWeight is not null ? $"Gemv ({(_transB ? "weight rows" : "weight columns")})"
        : $"Gemm ({Gemm.Describe()})";

    public override string? Pattern => _fc?.Sparse?.Pattern;

    public static GemmKernel CreateGemm(GraphNode n, int[][] s, Func<int, GraphTensor?> constant, OpCompiler.PlanCache? cache = null)
    {
        if (s[0].Length != 2 || s[1].Length != 2)
            throw new ShapeMismatchException("A", $"{n.Describe()}: A and B must be 2-D; got {Broadcast.Format(s[0])} and {Broadcast.Format(s[1])}.");
        bool ta = n.Int("transA", 0) != 0, tb = n.Int("transB", 0) != 0;
        int m = ta ? s[0][1] : s[0][0], k = ta ? s[0][0] : s[0][1];
        int kb = tb ? s[1][1] : s[1][0], nn = tb ? s[1][0] : s[1][1];
        if (k != kb)
            throw new ShapeMismatchException("B", $"{n.Describe()}: inner dimensions differ: A {Broadcast.Format(s[0])} (transA={ta}), B {Broadcast.Format(s[1])} (transB={tb}).");
        var g = new GemmKernel
        {
            Node = n, InShapes = s, OutShapes = [[m, nn]], _m = m, _n = nn, _k = k, _transA = ta, _transB = tb,
            _alpha = n.Float("alpha", 1f), _beta = n.Float("beta", 1f),
        };
        if (n.Inputs.Count > 2 && n.Inputs[2].Length > 0 && g._beta != 0f)
        {
            int[] c = s[2];
            Broadcast.Shape([m, nn], c, "Gemm", "C"); // validates broadcastability to [M, N]
            var cv = constant(2);
            if (cv is not null && (c.SequenceEqual(new[] { nn }) || c.SequenceEqual(new[] { 1, nn })))
            {
                g._bias = cv.AsFloats().Select(v => v * g._beta).ToArray();
                g._biasAxis = BiasAxis.Column;
            }
            else g._cShape = c;
        }
        g._fc = PlanSparse(g, n, constant(1), cache);
        // A constant weight (a fully connected layer) is packed once, as the A of the transposed product:
        // otherwise every call repacks all N·K weights for a handful of rows (ResNet-50's 2048x1000 layer at
        // batch 1 spent most of its time packing B).
        if (g._fc is null && !ta && g._alpha == 1f && g._cShape is null && k > 0 && nn > 0 && constant(1) is { } b)
        {
            if (m <= GemvMaxRows) g._gemvWeight = b.AsFloats();
            else g._packedB = Gemm.PackA(nn, k, b.AsFloats(), tb ? k : nn, !tb, n: m);
        }
        return g;
    }

    /// <summary>
    /// A pruned constant weight (Gemm with transB, alpha 1, bias-only C) gets sparse candidates, timed against the
    /// dense kernel that would run at this batch (<see cref="Gemv"/> up to <see cref="GemvMaxRows"/> rows, else the
    /// GEMM) like a conv layer's (<see cref="ConvPlanner"/>): CSR SpMM at sparsity ≥ <see cref="ConvPlanner.MinSparsity"/>,
    /// and the plan of every structured pattern W [out × in] satisfies (<see cref="PatternPlanning"/>; a forced one
    /// untimed). Null when there is none or dense won.
    /// </summary>
    private static OpCompiler.FcPlan? PlanSparse(GemmKernel g, GraphNode n, GraphTensor? w, OpCompiler.PlanCache? cache)
    {
        if (cache is not { AllowSparse: true } || w is null || !g._transB || g._transA || g._alpha != 1f || g._cShape is not null || g._k == 0)
            return null;
        var wv = w.AsFloats();
        int zeros = wv.Count(v => v == 0f);
        if (zeros == 0) return null;
        var planning = cache.Patterns.ForLayer(n.Name);
        var patterns = planning.For(wv, g._n, g._k);
        bool csr = zeros >= ConvPlanner.MinSparsity * wv.Length;
        if (!csr && patterns.Count == 0) return null;
        return cache.Fc.GetOrAdd((n, g._m, Lacuna.Threading.WorkerPool.Resolve(0)), _ => new Lazy<OpCompiler.FcPlan>(() =>
            ChooseFc(g, wv, n.FusedActivation, csr, patterns, planning.Force))).Value;
    }

    private static OpCompiler.FcPlan ChooseFc(GemmKernel g, float[] wv, Activation act, bool csr, IReadOnlyList<Pruning.SparsityPattern> patterns, bool force)
    {
        var sparse = new List<(string Name, SparseFullyConnected Kernel)>();
        foreach (var p in patterns)
            if (p.CreatePlan(wv, g._n, g._k, g._bias ?? [], act) is { } plan)
            {
                if (force) return new OpCompiler.FcPlan(new SparseFullyConnected(plan, p.Name), $"pattern {p.Name} forced");
                sparse.Add(($"pattern-{p.Name}", new SparseFullyConnected(plan, p.Name)));
            }
        if (csr) sparse.Insert(0, ("spmm", new SparseFullyConnected(wv, g._n, g._k, g._bias ?? [], act)));
        if (sparse.Count == 0) return new OpCompiler.FcPlan(null, "no sparse kernel for this shape");
        using var x = Tensor.Random(19, new[] { g._m, g._k });
        var y = new float[g._m * g._n];
        var actions = new List<Action> { DenseRun(g, wv, x, y, act) };
        foreach (var (_, kernel) in sparse) actions.Add(SparseRun(kernel, x, y, g._m));
        var ms = KernelTimer.FastestRounds(actions);
        int best = 0;
        for (int i = 1; i < ms.Length; i++) if (ms[i] < ms[best]) best = i;
        string measured = $"dense {ms[0]:F3} ms, " + string.Join(", ", sparse.Select((s, i) => $"{s.Name} {ms[i + 1]:F3} ms"));
        return new OpCompiler.FcPlan(best == 0 ? null : sparse[best - 1].Kernel, measured);
    }

    /// <summary>The dense product that runs when no sparse kernel is chosen: Gemv rows for a small batch, else the GEMM.</summary>
    private static Action DenseRun(GemmKernel g, float[] wv, Tensor x, float[] y, Activation act) => g._m <= GemvMaxRows
        ? () =>
        {
            for (int i = 0; i < g._m; i++)
                Gemv.WeightRows(wv, g._n, g._k, x.Span.Slice(i * g._k, g._k), y.AsSpan(i * g._n, g._n), g._bias, act);
        }
        : () => Gemm.Compute(g._m, g._n, g._k, x.Span, g._k, false, wv, g._k, true, y, g._n, 1f, 0f, g._bias,
            g._bias is null ? BiasAxis.None : g._biasAxis, act);

    private static Action SparseRun(SparseFullyConnected kernel, Tensor x, float[] y, int m) => () => kernel.Run(x.Span, y, m);

    public static GemmKernel CreateMatMul(GraphNode n, int[][] s)
    {
        int[] os = ReferenceMatMul.OutputShape(s[0], s[1]);
        var g = new GemmKernel { Node = n, InShapes = s, OutShapes = [os] };
        if (s[0].Length >= 2 && s[1].Length == 2)
        {
            // A stack of row-major [.., K] rows times one [K, N] matrix is one GEMM with M = all rows.
            g._k = s[0][^1];
            g._n = s[1][1];
            g._m = Broadcast.ElementCount(s[0]) / Math.Max(1, g._k);
            if (g._k == 0) g._m = Broadcast.ElementCount(os) / Math.Max(1, g._n);
        }
        else g._batched = new BatchedMatMul(s[0], s[1]);
        return g;
    }

    public override void Run(Frame f)
    {
        if (_batched is not null)
        {
            _batched.Run(In(f, 0), In(f, 1), Out(f));
            return;
        }
        var y = Out(f);
        float beta = 0f;
        if (_cShape is not null)
        {
            var c = In(f, 2);
            int[] strides = Broadcast.Strides(_cShape, [_m, _n]);
            for (int i = 0; i < _m * _n; i++) y[i] = c[Broadcast.SourceIndex(i, [_m, _n], strides)];
            beta = _beta;
        }
        if (_fc?.Sparse is { } fc)
        {
            fc.Run(In(f, 0), y, _m);
            return;
        }
        var act = Node.OpType == "Gemm" ? Node.FusedActivation : Activation.None;
        if (_k == 0 && _cShape is null)
        {
            // An empty reduction: Y = act(bias).
            for (int i = 0; i < _m; i++)
                for (int j = 0; j < _n; j++) y[i * _n + j] = act.Apply(_bias is null ? 0f : _bias[j]);
            return;
        }
        if (_packedB is not null)
        {
            RunPacked(In(f, 0), y, act);
            return;
        }
        if (_gemvWeight is not null)
        {
            var a = In(f, 0);
            for (int i = 0; i < _m; i++)
            {
                ReadOnlySpan<float> x = a.Slice(i * _k, _k);
                Span<float> yi = y.Slice(i * _n, _n);
                if (_transB) Gemv.WeightRows(_gemvWeight, _n, _k, x, yi, _bias, act);
                else Gemv.WeightCols(_gemvWeight, _n, _k, x, yi, _bias, act);
            }
            return;
        }
        Gemm.Compute(_m, _n, _k, In(f, 0), _transA ? _m : _k, _transA, In(f, 1), _transB ? _k : _n, _transB,
            y, _n, _alpha, beta, _bias, _bias is null ? BiasAxis.None : _biasAxis, act);
    }

    /// <summary>Yᵀ [N × M] = op(B)ᵀ (packed) · Aᵀ [K × M], the column bias a row bias there; A and Y transposed through scratch.</summary>
    private void RunPacked(ReadOnlySpan<float> a, Span<float> y, Activation act)
    {
        int m = _m, n = _n, k = _k;
        if (m == 0) return;
        var pool = System.Buffers.ArrayPool<float>.Shared;
        float[] at = pool.Rent(k * m), yt = pool.Rent(n * m);
        try
        {
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) at[p * m + i] = a[i * k + p];
            Gemm.Compute(_packedB!, m, at.AsSpan(0, k * m), m, yt.AsSpan(0, n * m), m, _bias,
                _bias is null ? BiasAxis.None : BiasAxis.Row, act);
            for (int j = 0; j < n; j++)
                for (int i = 0; i < m; i++) y[i * n + j] = yt[j * m + i];
        }
        finally
        {
            pool.Return(at);
            pool.Return(yt);
        }
    }
}
