using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;
using Lacuna.Kernels.Spmm;
using Lacuna.Pruning;

namespace Lacuna.Graph.Ops;

/// <summary>
/// A conv layer with constant weights as the candidate providers (<see cref="ConvCandidateProvider"/>) see it: its
/// weights [M, C/g, kh, kw], bias, geometry at one input H×W, and the facts several families test, computed once.
/// A ref struct so the weights are never copied or captured: each provider packs its own copy into its plans.
/// </summary>
internal readonly ref struct ConvLayer
{
    public ConvLayer(ReadOnlySpan<float> weight, int[] weightShape, ReadOnlySpan<float> bias, Conv2dParams p, int h, int w,
        Activation act, bool allowSparse, SpmmPrecision precision, PatternPlanning patterns)
    {
        WeightShape = weightShape; P = p; H = h; W = w; Act = act; AllowSparse = allowSparse; Precision = precision;
        Geometry = new ConvGeometry(weightShape[1] * p.Groups, h, w, weightShape[0], p);
        Weight = weight[..(Geometry.M * Geometry.K)];
        Bias = bias;
        long zeros = 0;
        foreach (float v in Weight) if (v == 0f) zeros++;
        Sparsity = Weight.IsEmpty ? 0 : (double)zeros / Weight.Length;
        // Structured patterns are matched against W [M × C·kh·kw] (OIHW flattened), the layout every pattern prunes.
        Patterns = allowSparse && p.Groups == 1 && zeros > 0 ? patterns.For(Weight, M, K) : [];
        ForcePatterns = patterns.Force;
    }

    /// <summary>[M, C/g, kh, kw] flattened: for groups = 1, W [M × K] row-major.</summary>
    public ReadOnlySpan<float> Weight { get; }
    public int[] WeightShape { get; }
    public ReadOnlySpan<float> Bias { get; }
    public Conv2dParams P { get; }
    public int H { get; }
    public int W { get; }
    public Activation Act { get; }
    public bool AllowSparse { get; }
    public SpmmPrecision Precision { get; }
    public ConvGeometry Geometry { get; }

    /// <summary>Fraction of zero weights.</summary>
    public double Sparsity { get; }

    /// <summary>The structured patterns W satisfies among those the session allows (<see cref="PatternPlanning"/>).</summary>
    public IReadOnlyList<SparsityPattern> Patterns { get; }

    /// <summary>A satisfied pattern runs untimed (<see cref="PatternPlanning.Force"/>).</summary>
    public bool ForcePatterns { get; }

    public int M => Geometry.M;
    public int C => Geometry.C;
    /// <summary>Columns of W: C/g·kh·kw.</summary>
    public int K => Geometry.K;
    public int OutputPixels => Geometry.OutputPixels;
    public int OutLength => Geometry.OutputImage;
    public int InLength => Geometry.InputImage;

    /// <summary>1x1, stride 1, unpadded, undilated: the conv is W [M × C] · X [C × H·W] per image.</summary>
    public bool IsPointwise => WeightShape[2] == 1 && WeightShape[3] == 1 && P.StrideH == 1 && P.StrideW == 1
        && P.DilationH == 1 && P.DilationW == 1 && P.PadTop == 0 && P.PadLeft == 0 && P.PadBottom == 0 && P.PadRight == 0;

    /// <summary>1x1 with stride > 1 and no padding: a pointwise product on a gathered input (<see cref="StridedPointwise"/>).</summary>
    public bool IsStridedPointwise => StridedPointwise.Applies(WeightShape, P);

    /// <summary>
    /// The unstructured sparse families' gate: sparse kernels allowed, one group, and sparsity ≥
    /// <see cref="ConvPlanner.MinSparsity"/>.
    /// </summary>
    public bool UnstructuredSparse => AllowSparse && P.Groups == 1 && Sparsity >= ConvPlanner.MinSparsity;

    /// <summary>The dense plan's own shape rule (<see cref="DenseConv2dPlan.ChooseAlgorithm"/>).</summary>
    public ConvAlgorithm DenseAlgorithm => DenseConv2dPlan.ChooseAlgorithm(Geometry);
}
