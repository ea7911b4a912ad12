using System.Collections.Concurrent;
using Lacuna.Formats;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Spmm;
using Lacuna.Tensors;
using Lacuna.Threading;

namespace Lacuna.Kernels.Linear;

/// <summary>The epilogue of a token-linear layer.</summary>
public enum TokenLinearActivation
{
    None = 0,
    Relu = 1,
    /// <summary>Exact Gelu (erf form).</summary>
    Gelu = 2,
    /// <summary>Gelu, tanh approximation.</summary>
    GeluTanh = 3,
}

/// <summary>
/// A fully connected layer on token activations, as transformer graphs hold them:
/// Y [T × out] = act(X [T × in] · Wᵀ + b), X and Y token-major (row t is token t), W [out × in] constant (the
/// ONNX Gemm transB = 1 layout; a MatMul weight [in × out] is its transpose), possibly pruned.
/// <para>
/// Candidates, timed against each other on the real weights per (T, threads) the first time that pair runs, as
/// <c>ConvPlanner</c> does for convs (<see cref="KernelTimer.FastestRounds"/>), and the fastest kept:
/// <list type="bullet">
/// <item><c>dense-gemm</c>: the repo's blocked GEMM with C = X·Wᵀ (W read through the transB strides and packed
/// into its panels per call), bias per column and ReLU fused in the GEMM epilogue.</item>
/// <item><c>sparse</c> (weight sparsity ≥ <see cref="MinSparsity"/>, or any <see cref="ISpmmPlan"/> given, e.g. an
/// N:M or block pattern's): SpMM with tokens as the dense dimension. An <see cref="ISpmmPlan"/> computes
/// Yᵀ [out × T] = W · Xᵀ [in × T], so X is transposed into feature-major scratch, the plan runs with n = T (bias
/// and ReLU fused in its epilogue) and Yᵀ is transposed back. The two transposes move T·(in + out) floats against
/// the product's T·nnz FMAs (BERT-base FFN at 0.9: 3840 vs 236 K per token, under 2 %), so this layout keeps the
/// graph token-major everywhere; keeping whole blocks feature-major would save them but needs every other op
/// (LayerNorm over features, attention's head split) in the transposed layout.</item>
/// </list>
/// Gelu is applied to Y after either product (<see cref="Gelu"/>), vectorized in cache-sized row blocks.
/// Thread-safe: concurrent runs share the weights and the choice table.
/// </para>
/// </summary>
public sealed class TokenLinearPlan
{
    /// <summary>Below this weight sparsity no sparse candidate is built (the SpMM crossover, see <c>ConvPlanner.MinSparsity</c>).</summary>
    public const double MinSparsity = 0.5;

    private readonly TokenLinearCandidate[] _candidates;
    private readonly ConcurrentDictionary<(int Tokens, int Threads), int> _chosen = new();
    private readonly TokenLinearActivation _activation;

    private TokenLinearPlan(int outFeatures, int inFeatures, double sparsity, TokenLinearActivation activation, TokenLinearCandidate[] candidates)
    {
        OutFeatures = outFeatures; InFeatures = inFeatures; Sparsity = sparsity; _activation = activation; _candidates = candidates;
    }

    public int OutFeatures { get; }
    public int InFeatures { get; }

    /// <summary>Fraction of zero weights.</summary>
    public double Sparsity { get; }

    /// <summary>Names of the candidates, in the order <see cref="MeasuredMs"/> reports them.</summary>
    public IReadOnlyList<string> CandidateNames => _candidates.Select(c => c.Name).ToArray();

    /// <summary>
    /// Builds the plan. <paramref name="weights"/> is W [out × in] row-major; <paramref name="bias"/> [out] or empty.
    /// <paramref name="sparse"/> replaces the CSR candidate with a structured-pattern plan (from
    /// <c>SparsityPattern.CreatePlan</c>); it must compute W·X + bias with activation <see cref="SpmmActivation"/>(act).
    /// <paramref name="allowSparse"/> false builds the dense candidate only (a dense plan to compare against).
    /// </summary>
    public static TokenLinearPlan Create(ReadOnlySpan<float> weights, int outFeatures, int inFeatures, ReadOnlySpan<float> bias,
        TokenLinearActivation activation = TokenLinearActivation.None, ISpmmPlan? sparse = null, bool allowSparse = true)
    {
        ThrowHelper.IfNegative(outFeatures, nameof(outFeatures));
        ThrowHelper.IfNegative(inFeatures, nameof(inFeatures));
        if (weights.Length != (long)outFeatures * inFeatures)
            ThrowHelper.Shape(nameof(weights), $"token-linear weight has {weights.Length} floats, [out {outFeatures} × in {inFeatures}] needs {(long)outFeatures * inFeatures}.");
        if (!bias.IsEmpty && bias.Length != outFeatures)
            ThrowHelper.Shape(nameof(bias), $"token-linear bias has {bias.Length} floats, out features {outFeatures}.");
        if (!Enum.IsDefined(activation)) ThrowHelper.OutOfRange(nameof(activation), activation, "unknown token-linear activation.");
        if (sparse is not null && (sparse.M != outFeatures || sparse.K != inFeatures))
            ThrowHelper.Shape(nameof(sparse), $"sparse plan is {sparse.M} × {sparse.K}, the layer's weight {outFeatures} × {inFeatures}.");
        long zeros = 0;
        foreach (float w in weights) if (w == 0f) zeros++;
        double sparsity = weights.IsEmpty ? 0 : (double)zeros / weights.Length;
        var candidates = new List<TokenLinearCandidate> { new DenseGemmCandidate(weights, bias.ToArray(), outFeatures, inFeatures, activation) };
        if (allowSparse && (sparse is not null || sparsity >= MinSparsity))
        {
            var plan = sparse ?? SpmmPlan.Create(CsrMatrix.FromDense(weights, outFeatures, inFeatures), bias, SpmmActivation(activation));
            candidates.Add(new PanelSparseCandidate(plan, activation, PanelSparseCandidate.Whole));
            candidates.Add(new PanelSparseCandidate(plan, activation, PanelSparseCandidate.Panel));
        }
        return new TokenLinearPlan(outFeatures, inFeatures, sparsity, activation, [.. candidates]);
    }

    /// <summary>The activation an <see cref="ISpmmPlan"/> candidate must fuse: ReLU, or none (Gelu runs after the product).</summary>
    public static Activation SpmmActivation(TokenLinearActivation activation) =>
        activation == TokenLinearActivation.Relu ? Activation.Relu : Activation.None;

    /// <param name="x">X [tokens × in], token-major</param>
    /// <param name="tokens">rows of X and Y (batch × sequence length)</param>
    /// <param name="y">Y [tokens × out], fully overwritten; must not overlap x</param>
    /// <param name="threads">0: <see cref="WorkerPool.DefaultThreads"/></param>
    public void Run(ReadOnlySpan<float> x, int tokens, Span<float> y, int threads = 0)
    {
        Check(x.Length, tokens, y.Length);
        if (tokens == 0 || OutFeatures == 0) return;
        int t = WorkerPool.Resolve(threads);
        _candidates[ChooseIndex(tokens, t)].Run(x, tokens, y, t);
    }

    /// <summary>Runs one candidate by index (tests and benchmarks compare them).</summary>
    public void RunCandidate(int index, ReadOnlySpan<float> x, int tokens, Span<float> y, int threads = 0)
    {
        if ((uint)index >= (uint)_candidates.Length) ThrowHelper.OutOfRange(nameof(index), index, $"the plan has {_candidates.Length} candidates.");
        Check(x.Length, tokens, y.Length);
        if (tokens == 0 || OutFeatures == 0) return;
        _candidates[index].Run(x, tokens, y, WorkerPool.Resolve(threads));
    }

    /// <summary>The candidate used at (tokens, threads), timing the candidates now if that pair has not run yet.</summary>
    public string ChosenFor(int tokens, int threads = 0) => _candidates[ChooseIndex(Math.Max(1, tokens), WorkerPool.Resolve(threads))].Name;

    /// <summary>The timings behind a pair's choice (ms per candidate), null when that pair has not been planned.</summary>
    public IReadOnlyDictionary<string, double>? MeasuredMs(int tokens, int threads = 0) =>
        _measured.TryGetValue((tokens, WorkerPool.Resolve(threads)), out var ms) ? ms : null;

    /// <summary>What each candidate is (tiers, formats), for inspect and benchmark JSON.</summary>
    public string Describe() => string.Join("; ", _candidates.Select(c => $"{c.Name}: {c.Describe()}")) + $"; weight sparsity {Sparsity:P1}, epilogue {_activation}";

    /// <summary>What one candidate is (its tier and format), by name; null when the plan has no such candidate.</summary>
    public string? DescribeCandidate(string name) => _candidates.FirstOrDefault(c => c.Name == name)?.Describe();

    private readonly ConcurrentDictionary<(int, int), IReadOnlyDictionary<string, double>> _measured = new();

    private int ChooseIndex(int tokens, int threads)
    {
        if (_candidates.Length == 1) return 0;
        return _chosen.GetOrAdd((tokens, threads), key =>
        {
            using var xs = Tensor.Random(23, new[] { key.Tokens, InFeatures });
            var ys = new float[(long)key.Tokens * OutFeatures];
            var ms = KernelTimer.FastestRounds(_candidates.Select(c => (Action)(() => c.Run(xs.Span, key.Tokens, ys, key.Threads))).ToList());
            _measured[key] = _candidates.Select((c, i) => (c.Name, ms[i])).ToDictionary(p => p.Name, p => p.Item2);
            return Array.IndexOf(ms, ms.Min());
        });
    }

    private void Check(int xLength, int tokens, int yLength)
    {
        ThrowHelper.IfNegative(tokens, nameof(tokens));
        if (xLength != (long)tokens * InFeatures)
            ThrowHelper.Shape("x", $"token-linear input has {xLength} floats, [{tokens} tokens × {InFeatures}] needs {(long)tokens * InFeatures}.");
        if (yLength != (long)tokens * OutFeatures)
            ThrowHelper.Shape("y", $"token-linear output has {yLength} floats, [{tokens} tokens × {OutFeatures}] needs {(long)tokens * OutFeatures}.");
    }

    /// <summary>Gelu over Y after the product, if the epilogue is one.</summary>
    internal static void ApplyGelu(Span<float> y, TokenLinearActivation activation, int threads)
    {
        if (activation == TokenLinearActivation.Gelu) Gelu.Compute(y, y, GeluApproximation.None, threads);
        else if (activation == TokenLinearActivation.GeluTanh) Gelu.Compute(y, y, GeluApproximation.Tanh, threads);
    }
}

/// <summary>One way to run a token-linear layer.</summary>
internal abstract class TokenLinearCandidate
{
    public abstract string Name { get; }
    public abstract string Describe();
    public abstract void Run(ReadOnlySpan<float> x, int tokens, Span<float> y, int threads);
}

/// <summary>
/// Y = X·Wᵀ + b on the blocked GEMM, bias per column, ReLU in its epilogue. Wᵀ is packed into the tile's column
/// panels once here: a call has few rows (128 tokens), and repacking all of W on every call cost BERT-base's 73
/// layers about a tenth of their time.
/// </summary>
internal sealed class DenseGemmCandidate(ReadOnlySpan<float> weights, float[] bias, int outFeatures, int inFeatures, TokenLinearActivation activation) : TokenLinearCandidate
{
    private readonly GemmPackedB _weights = Gemm.PackB(outFeatures, inFeatures, weights, Math.Max(1, inFeatures), transB: true);

    public override string Name => "dense-gemm";
    public override string Describe() => $"Gemm {Gemm.Describe()}, W packed once for {_weights.Kernel.Name}";

    public override void Run(ReadOnlySpan<float> x, int tokens, Span<float> y, int threads)
    {
        Gemm.Compute(tokens, x, Math.Max(1, inFeatures), _weights, y, Math.Max(1, outFeatures),
            bias, bias.Length == 0 ? BiasAxis.None : BiasAxis.Column, TokenLinearPlan.SpmmActivation(activation), threads);
        TokenLinearPlan.ApplyGelu(y, activation, threads);
    }
}
