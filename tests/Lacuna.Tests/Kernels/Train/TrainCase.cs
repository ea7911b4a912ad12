using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Train;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Train;

/// <summary>
/// One training-conv test case: a shape, ReLU-like zero fractions for x and dy (zeros at random positions,
/// the rest uniform in [-1, 1] and never zero), NCHW data and the reference results.
/// </summary>
public sealed record TrainCase(ConvTrainShape Shape, double XZeros, double DyZeros)
{
    public override string ToString() => $"{Shape} zeros x {XZeros:F2} dy {DyZeros:F2}";

    public int[] XShape => new[] { Shape.Batch, Shape.InChannels, Shape.Height, Shape.Width };
    public int[] YShape => new[] { Shape.Batch, Shape.OutChannels, Shape.Height, Shape.Width };
    public int[] WShape => new[] { Shape.OutChannels, Shape.InChannels, Shape.Kernel, Shape.Kernel };

    /// <summary>
    /// Spatial sizes 1, 3, 7, 8, 9, 14 × channels (8→8, 16→24, 24→16) × batch 1/3, with ~50% and ~80% zeros;
    /// plus no zeros, all zeros, channels that are not multiples of 8, and 1x1 kernels.
    /// </summary>
    public static IEnumerable<TrainCase> All()
    {
        int i = 0;
        foreach (int hw in new[] { 1, 3, 7, 8, 9, 14 })
            foreach (var (c, k) in new[] { (8, 8), (16, 24), (24, 16) })
            {
                double z = i % 2 == 0 ? 0.5 : 0.8;
                yield return new TrainCase(new ConvTrainShape(i % 3 == 0 ? 3 : 1, c, k, hw, hw + (i % 4 == 1 ? 1 : 0), 3), z, 1.3 - z);
                i++;
            }
        yield return new TrainCase(new ConvTrainShape(3, 16, 24, 9, 9, 3), 0, 0);
        yield return new TrainCase(new ConvTrainShape(3, 16, 24, 9, 9, 3), 1, 1);
        yield return new TrainCase(new ConvTrainShape(2, 5, 12, 7, 9, 3), 0.5, 0.5);
        yield return new TrainCase(new ConvTrainShape(1, 12, 5, 8, 8, 3), 0.8, 0.5);
        yield return new TrainCase(new ConvTrainShape(3, 16, 24, 9, 14, 1), 0.5, 0.8);
        yield return new TrainCase(new ConvTrainShape(1, 8, 80, 7, 7, 1), 0.8, 0.5);
        yield return new TrainCase(new ConvTrainShape(1, 72, 8, 3, 5, 3), 0.5, 0.5);
        // BWW's mask walk: W > 32 takes one row per mask (W = 40), and rows longer than 64 pixels take two masks (W = 70).
        yield return new TrainCase(new ConvTrainShape(2, 8, 16, 3, 40, 3), 0.5, 0.5);
        yield return new TrainCase(new ConvTrainShape(1, 8, 8, 2, 70, 1), 0.6, 0.4);
    }

    private static float[] Sparse(int length, double zeros, ulong seed)
    {
        var data = TestData.Random(length, seed);
        var rng = new DeterministicRandom(seed ^ 0x5EED);
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] == 0f) data[i] = 0.5f;
            if (rng.NextDouble() < zeros) data[i] = 0f;
        }
        return data;
    }

    /// <summary>NCHW x, dy and weight [K, C, KS, KS].</summary>
    public (float[] X, float[] Dy, float[] W) Data()
    {
        var s = Shape;
        ulong seed = (ulong)(s.Batch * 1000003 + s.InChannels * 1009 + s.OutChannels * 101 + s.Height * 13 + s.Width + s.Kernel * 7);
        return (Sparse(s.Batch * s.InChannels * s.Height * s.Width, XZeros, seed),
                Sparse(s.Batch * s.OutChannels * s.Height * s.Width, DyZeros, seed + 1),
                TestData.Random((int)s.WeightLength, seed + 2));
    }

    public float[] Blocked(float[] nchw, int channels)
    {
        var b = new float[ConvTrainLayout.BlockedLength(Shape.Batch, channels, Shape.Height, Shape.Width)];
        ConvTrainLayout.ToBlocked(nchw, b, Shape.Batch, channels, Shape.Height, Shape.Width);
        return b;
    }

    public float[] Nchw(float[] blocked, int channels)
    {
        var r = new float[Shape.Batch * channels * Shape.Height * Shape.Width];
        ConvTrainLayout.ToNchw(blocked, r, Shape.Batch, channels, Shape.Height, Shape.Width);
        return r;
    }

    public float[] ExpectedY(float[] x, float[] w)
    {
        var y = new float[Shape.Batch * Shape.OutChannels * Shape.Height * Shape.Width];
        ReferenceConv2d.Compute(x, XShape, w, WShape, default, y, Shape.Params);
        return y;
    }

    public float[] ExpectedDx(float[] dy, float[] w)
    {
        var dx = new float[Shape.Batch * Shape.InChannels * Shape.Height * Shape.Width];
        ReferenceConv2dBackward.BackwardInput(dy, w, WShape, dx, XShape, Shape.Params);
        return dx;
    }

    public float[] ExpectedDw(float[] x, float[] dy)
    {
        var dw = new float[Shape.WeightLength];
        ReferenceConv2dBackward.BackwardWeights(x, XShape, dy, dw, WShape, Shape.Params);
        return dw;
    }
}
