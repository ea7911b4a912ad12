using Lacuna.Kernels;
using Lacuna.Kernels.Elementwise;
using Lacuna.Kernels.Conv3d;
using Lacuna.Tensors;

namespace Lacuna.Graph.Ops;

/// <summary>
/// Conv on a rank-5 input [N, C, D, H, W] (video and volumetric models): <see cref="Vol2ColConv3d"/>, im2col into the
/// dense GEMM with the bias and the fused activation as its epilogue, for constant and run-time weights alike. A
/// residual fused by <see cref="GraphPasses.FuseResidualAdds"/> (input 3) is added after it with the node's activation,
/// as <see cref="ConvKernel"/> does for 2-D layers, and a fused post-activation after that. The 2-D planner's sparse candidates do not apply here.
/// </summary>
internal sealed class Conv3dKernel : NodeKernel
{
    private ConvNdParams _p = null!;
    private bool _residual;

    public override string KernelName => "Vol2ColConv3d (GEMM)" + (_residual ? " + residual" : "");

    public static Conv3dKernel Create(GraphNode n, int[][] s)
    {
        var p = Params(n, s[1]);
        int[] y = Shape(n, s[0], s[1]);
        bool residual = GraphPasses.HasResidual(n);
        if (n.Inputs.Count > GraphPasses.ConvResidualInput + 1)
            throw UnsupportedOperatorException.For(n, $"has {n.Inputs.Count} inputs; a Conv takes X, W, B and (fused) a residual.");
        if (residual && !s[GraphPasses.ConvResidualInput].AsSpan().SequenceEqual(y))
            throw UnsupportedOperatorException.For(n, $"fused residual '{n.Inputs[GraphPasses.ConvResidualInput]}' has shape {Broadcast.Format(s[GraphPasses.ConvResidualInput])}; the conv output is {Broadcast.Format(y)}.");
        return new Conv3dKernel { Node = n, InShapes = s, OutShapes = [y], _p = p, _residual = residual };
    }

    /// <summary>The output shape [N, M, OD, OH, OW]; a weight that does not fit the input is a model error naming the node.</summary>
    public static int[] Shape(GraphNode n, int[] x, int[] w)
    {
        var p = Params(n, w);
        try { return p.OutputShape(x, w); }
        catch (ShapeMismatchException e) { throw new LacunaFormatException(n.Describe(), e.Message); }
    }

    /// <summary>kernel_shape, strides, pads, dilations and group of a 3-D Conv (auto_pad already resolved into pads).</summary>
    internal static ConvNdParams Params(GraphNode n, int[] weightShape)
    {
        string autoPad = n.String("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "")) throw UnsupportedOperatorException.For(n, $"auto_pad {autoPad} was not resolved (input spatial size unknown).");
        int[] Read(string name, int count, int fallback)
        {
            var v = n.Ints(name);
            if (v is null) return Enumerable.Repeat(fallback, count).ToArray();
            if (v.Length != count) throw UnsupportedOperatorException.For(n, $"{name} has {v.Length} values; {count} expected for a 3-D convolution.");
            return v.Select(a => checked((int)a)).ToArray();
        }
        int[] k = n.Ints("kernel_shape") is null ? weightShape[2..] : Read("kernel_shape", 3, 1);
        int[] pads = Read("pads", 6, 0);
        try { return new ConvNdParams(k, Read("strides", 3, 1), pads[..3], pads[3..], Read("dilations", 3, 1), checked((int)n.Int("group", 1))); }
        catch (ArgumentOutOfRangeException e) { throw new LacunaFormatException(n.Describe(), e.Message); }
    }

    public override void Run(Frame f)
    {
        var y = Out(f);
        var act = _residual ? Activation.None : Node.FusedActivation;
        Vol2ColConv3d.Compute(In(f, 0), InShapes[0], In(f, 1), InShapes[1], HasInput(2) ? In(f, 2) : default, y, _p, act);
        // The memory plan never places an output over an input of its own step, so the residual is intact here.
        if (_residual) AddActivation.Run(y, In(f, GraphPasses.ConvResidualInput), y, Node.FusedActivation, y.Length < ConvKernel.ResidualParallelFrom ? 1 : 0);
        Node.FusedPost.Apply(y); // a fused Sigmoid/HardSigmoid/HardSwish (GraphPasses.FuseActivations), last
    }
}
