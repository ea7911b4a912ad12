using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.DirectConv;

/// <summary>One random conv problem and its reference answer.</summary>
public sealed record ConvCase(string Name, int N, int C, int H, int W, int M, Conv2dParams P, Activation Act, bool HasBias)
{
    public int[] InputShape => new[] { N, C, H, W };
    public int[] WeightShape => new[] { M, C / P.Groups, P.KernelH, P.KernelW };
    public int[] OutputShape => P.OutputShape(InputShape, WeightShape);
    public int OutputLength => OutputShape.Aggregate(1, (a, b) => a * b);
    public int Reduction => C / P.Groups * P.KernelH * P.KernelW;

    public (float[] X, float[] W, float[] B) Data()
    {
        ulong seed = (ulong)Name.GetHashCode() & 0xffff;
        return (TestData.Random(N * C * H * W, seed + 1), TestData.Random(WeightShape.Aggregate(1, (a, b) => a * b), seed + 2),
            HasBias ? TestData.Random(M, seed + 3) : Array.Empty<float>());
    }

    public float[] Expected(float[] x, float[] w, float[] b)
    {
        var y = TestData.Poisoned(OutputLength);
        ReferenceConv2d.Compute(x, InputShape, w, WeightShape, b, y, P, Act);
        return y;
    }

    public override string ToString() => Name;

    private static readonly Activation[] s_acts = { Activation.None, Activation.Relu, Activation.Clip(-0.25f, 0.5f) };

    /// <summary>
    /// The coverage list: kernels 1/3/5/7, strides 1/2/3, symmetric and asymmetric pads, dilation 2, groups
    /// 1/2/depthwise, batch 1 and 3, output widths around 4/8/16/24/32 lanes, channel counts around the
    /// 1/4/8/16/24-row tiles, every activation, with and without bias. Small, so the reference stays cheap.
    /// </summary>
    public static IEnumerable<ConvCase> All()
    {
        int i = 0;
        ConvCase Make(int n, int c, int h, int w, int m, Conv2dParams p)
        {
            var act = s_acts[i % 3];
            bool bias = i % 4 != 1;
            string name = $"#{i} n{n} c{c} {h}x{w} m{m} k{p.KernelH}x{p.KernelW} s{p.StrideH}x{p.StrideW} p{p.PadTop},{p.PadLeft},{p.PadBottom},{p.PadRight} d{p.DilationH}x{p.DilationW} g{p.Groups} {act}{(bias ? " bias" : "")}";
            i++;
            return new ConvCase(name, n, c, h, w, m, p, act, bias);
        }
        // Widths around every vector width and tile (3x3 pad 1 keeps OW = W).
        foreach (int w in new[] { 1, 7, 8, 9, 13, 14, 15, 16, 17, 23, 24, 25, 29, 31, 33 })
            yield return Make(1, 3, 4, w, 5, Conv2dParams.Square(3, pad: 1));
        // Channel counts around the 4-, 8-, 16-, 32- and 48-row tiles.
        foreach (int m in new[] { 1, 3, 4, 5, 7, 8, 9, 12, 17, 31, 33, 47, 49 })
            yield return Make(1, 2, 5, 9, m, Conv2dParams.Square(3, pad: 1));
        // Kernel sizes and strides.
        foreach (int k in new[] { 1, 3, 5, 7 })
            foreach (int s in new[] { 1, 2, 3 })
                yield return Make(1, 3, 11, 17, 6, Conv2dParams.Square(k, stride: s, pad: k / 2));
        // 1x1 pointwise, strided 1x1, padded 1x1.
        yield return Make(3, 5, 4, 9, 9, Conv2dParams.Square(1));
        yield return Make(1, 4, 7, 15, 8, Conv2dParams.Square(1, stride: 2));
        yield return Make(1, 4, 3, 5, 8, Conv2dParams.Square(1, pad: 1));
        // 1x1 whose rows are whole tiles of many tiles (7, 14, 4, 8, 16 columns): read straight from the input, batch 2.
        yield return Make(2, 6, 3, 28, 33, Conv2dParams.Square(1));
        yield return Make(2, 5, 2, 16, 20, Conv2dParams.Square(1));
        // Stride 2 over rows long enough for the vector stride-phase split (32 floats per step), odd and even pads.
        yield return Make(1, 3, 5, 70, 6, Conv2dParams.Square(3, stride: 2, pad: 1));
        yield return Make(1, 2, 4, 67, 5, Conv2dParams.Square(5, stride: 2, pad: 2));
        yield return Make(1, 2, 4, 66, 5, Conv2dParams.Square(3, stride: 2));
        // Asymmetric pads and rectangular kernels/strides.
        yield return Make(1, 3, 9, 13, 5, new Conv2dParams(3, 3, 1, 1, PadTop: 0, PadLeft: 1, PadBottom: 2, PadRight: 0));
        yield return Make(1, 2, 10, 19, 9, new Conv2dParams(2, 3, 2, 1, PadTop: 1, PadLeft: 0, PadBottom: 0, PadRight: 2));
        yield return Make(1, 2, 8, 20, 4, new Conv2dParams(3, 5, 1, 3, PadTop: 2, PadLeft: 3, PadBottom: 1, PadRight: 0));
        // Dilation 2 (and with stride 2).
        yield return Make(1, 3, 9, 17, 5, Conv2dParams.Square(3, pad: 2, dilation: 2));
        yield return Make(1, 3, 12, 18, 8, Conv2dParams.Square(3, stride: 2, pad: 1, dilation: 2));
        // Groups 2 and depthwise.
        yield return Make(1, 4, 6, 11, 10, Conv2dParams.Square(3, pad: 1, groups: 2));
        yield return Make(1, 6, 7, 9, 6, Conv2dParams.Square(3, stride: 2, pad: 1, groups: 2));
        yield return Make(1, 5, 8, 17, 5, Conv2dParams.Square(3, pad: 1, groups: 5));
        yield return Make(1, 4, 9, 33, 4, Conv2dParams.Square(3, stride: 2, pad: 1, groups: 4));
        yield return Make(1, 3, 6, 8, 6, Conv2dParams.Square(3, pad: 1, groups: 3)); // depthwise multiplier 2
        // Batch 3.
        yield return Make(3, 3, 6, 9, 5, Conv2dParams.Square(3, pad: 1));
        yield return Make(3, 4, 9, 16, 4, Conv2dParams.Square(3, stride: 2, pad: 1, groups: 4));
        yield return Make(3, 2, 12, 12, 3, Conv2dParams.Square(7, stride: 2, pad: 3));
        // A ResNet-like 7x7/2 stem and a wider 3x3 to cross many tiles.
        yield return Make(1, 3, 20, 20, 16, Conv2dParams.Square(7, stride: 2, pad: 3));
        yield return Make(1, 16, 10, 27, 20, Conv2dParams.Square(3, pad: 1));
        // Full and partial blocks of the tall AVX-512 tiles (16 and 24 rows) at widths around 8, 16, 32 and 64.
        yield return Make(1, 3, 4, 8, 24, Conv2dParams.Square(3, pad: 1));
        yield return Make(1, 3, 3, 28, 32, Conv2dParams.Square(3, pad: 1));
        yield return Make(1, 5, 3, 15, 49, Conv2dParams.Square(1));
        yield return Make(1, 4, 5, 40, 17, Conv2dParams.Square(3, pad: 1));
        yield return Make(1, 3, 3, 70, 3, Conv2dParams.Square(3, pad: 1, groups: 3));
    }
}
