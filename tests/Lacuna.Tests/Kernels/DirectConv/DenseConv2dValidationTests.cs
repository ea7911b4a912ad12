using Lacuna.Kernels;
using Lacuna.Kernels.DirectConv;

namespace Lacuna.Tests.Kernels.DirectConv;

/// <summary>Bad shapes and lengths throw, naming the argument.</summary>
public class DenseConv2dValidationTests
{
    private static readonly int[] In = { 1, 4, 8, 8 }, Wt = { 6, 4, 3, 3 };
    private static readonly Conv2dParams P = Conv2dParams.Square(3, pad: 1);

    private static void Compute(int[] inShape, int[] wShape, int inLen = 256, int wLen = 216, int biasLen = 6, int outLen = 384, Conv2dParams? p = null) =>
        DenseConv2d.Compute(new float[inLen], inShape, new float[wLen], wShape, new float[biasLen], new float[outLen], p ?? P, Activation.Relu);

    [Fact]
    public void Compute_RejectsBadShapes_NamingTheArgument()
    {
        Assert.Equal("input", Assert.ThrowsAny<ArgumentException>(() => Compute(new[] { 1, 4, 8 }, Wt)).ParamName);
        Assert.Equal("weight", Assert.ThrowsAny<ArgumentException>(() => Compute(In, new[] { 6, 3, 3, 3 })).ParamName);
        Assert.Equal("weight", Assert.ThrowsAny<ArgumentException>(() => Compute(In, new[] { 6, 4, 5, 5 })).ParamName);
        Assert.Equal("input", Assert.ThrowsAny<ArgumentException>(() => Compute(In, Wt, inLen: 255)).ParamName);
        Assert.Equal("weight", Assert.ThrowsAny<ArgumentException>(() => Compute(In, Wt, wLen: 215)).ParamName);
        Assert.Equal("bias", Assert.ThrowsAny<ArgumentException>(() => Compute(In, Wt, biasLen: 5)).ParamName);
        Assert.Equal("output", Assert.ThrowsAny<ArgumentException>(() => Compute(In, Wt, outLen: 383)).ParamName);
        Assert.Equal("input", Assert.ThrowsAny<ArgumentException>(() => Compute(new[] { 1, 4, 2, 2 }, Wt, p: Conv2dParams.Square(3))).ParamName);
        Assert.Equal("weight", Assert.ThrowsAny<ArgumentException>(() => Compute(In, new[] { 6, 2, 3, 3 }, p: Conv2dParams.Square(3, pad: 1, groups: 2) with { Groups = 4 })).ParamName);
    }

    [Fact]
    public void Plan_RejectsBadArguments_NamingThem()
    {
        var w = new float[216];
        Assert.Equal("weightShape", Assert.ThrowsAny<ArgumentException>(() => DenseConv2dPlan.Create(w, new[] { 6, 4, 3 }, default, P, 8, 8)).ParamName);
        Assert.Equal("inputHeight", Assert.ThrowsAny<ArgumentException>(() => DenseConv2dPlan.Create(w, Wt, default, P, -1, 8)).ParamName);
        Assert.Equal("algorithm", Assert.ThrowsAny<ArgumentException>(() => DenseConv2dPlan.Create(w, Wt, default, P, 8, 8, default, ConvAlgorithm.Pointwise)).ParamName);
        Assert.Equal("bias", Assert.ThrowsAny<ArgumentException>(() => DenseConv2dPlan.Create(w, Wt, new float[4], P, 8, 8)).ParamName);
        var plan = DenseConv2dPlan.Create(w, Wt, default, P, 8, 8);
        Assert.Equal("input", Assert.ThrowsAny<ArgumentException>(() => plan.Run(new float[255], new float[384], 1)).ParamName);
        Assert.Equal("output", Assert.ThrowsAny<ArgumentException>(() => plan.Run(new float[512], new float[384], 2)).ParamName);
        Assert.Equal("batch", Assert.ThrowsAny<ArgumentException>(() => plan.Run(new float[256], new float[384], -1)).ParamName);
        Assert.Equal("threads", Assert.ThrowsAny<ArgumentException>(() => plan.Run(new float[256], new float[384], 1, -1)).ParamName);
    }
}
