using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.Reference;

/// <summary>
/// Identities between reference operators on random shapes and data: each operator is checked by another,
/// independently written one (padding made explicit, a transpose undone, a batch split up).
/// </summary>
public class ReferenceCrossCheckTests
{
    private const int Trials = 40;

    private static int Count(int[] s) => s.Aggregate(1, (a, d) => a * d);

    private static int[] RandomShape(ref DeterministicRandom rng, int maxRank, int maxDim)
    {
        var s = new int[rng.NextInt(maxRank + 1)];
        for (int i = 0; i < s.Length; i++) s[i] = 1 + rng.NextInt(maxDim);
        return s;
    }

    [Fact]
    public void AddAndMulAreCommutativeUnderBroadcasting()
    {
        var rng = new DeterministicRandom(1);
        for (int t = 0; t < Trials; t++)
        {
            int[] full = RandomShape(ref rng, 4, 3);
            // b keeps a random suffix of the full shape with some dims set to 1.
            int[] b = full[rng.NextInt(full.Length + 1)..].Select(d => rng.NextInt(2) == 0 ? 1 : d).ToArray();
            float[] x = TestData.Random(Count(full), (ulong)t), y = TestData.Random(Count(b), (ulong)t + 100);
            int n = Count(ReferenceElementwise.BinaryShape(full, b));
            float[] ab = TestData.Poisoned(n), ba = TestData.Poisoned(n);
            ReferenceElementwise.Add(x, full, y, b, ab);
            ReferenceElementwise.Add(y, b, x, full, ba);
            KernelAssert.Exact(ab, ba, $"Add {Broadcast.Format(full)} {Broadcast.Format(b)}");
            ReferenceElementwise.Mul(x, full, y, b, ab);
            ReferenceElementwise.Mul(y, b, x, full, ba);
            KernelAssert.Exact(ab, ba, $"Mul {Broadcast.Format(full)} {Broadcast.Format(b)}");
            // Sum of the two equals Add.
            ReferenceElementwise.Add(x, full, y, b, ab);
            ReferenceElementwise.Sum([x, y], [full, b], ba);
            KernelAssert.Exact(ab, ba, "Sum vs Add");
        }
    }

    [Fact]
    public void TransposeThenInversePermutationIsIdentity()
    {
        var rng = new DeterministicRandom(2);
        for (int t = 0; t < Trials; t++)
        {
            int[] shape = RandomShape(ref rng, 5, 4);
            int[] perm = Enumerable.Range(0, shape.Length).OrderBy(_ => rng.NextInt(1000)).ToArray();
            int[] inverse = new int[perm.Length];
            for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
            float[] x = TestData.Random(Count(shape), (ulong)t + 7), y = TestData.Poisoned(x.Length), z = TestData.Poisoned(x.Length);
            ReferenceShapeOps.Transpose(x, shape, perm, y);
            ReferenceShapeOps.Transpose(y, ReferenceShapeOps.TransposeShape(shape, perm), inverse, z);
            KernelAssert.Exact(x, z, $"perm [{string.Join(",", perm)}] of {Broadcast.Format(shape)}");
        }
    }

    [Fact]
    public void PadThenNegativePadRestoresTheInputInEveryMode()
    {
        var rng = new DeterministicRandom(3);
        for (int t = 0; t < Trials; t++)
        {
            int[] shape = RandomShape(ref rng, 3, 4);
            int[] pads = Enumerable.Range(0, 2 * shape.Length).Select(_ => rng.NextInt(5)).ToArray();
            int[] crop = pads.Select(p => -p).ToArray();
            float[] x = TestData.Random(Count(shape), (ulong)t + 9);
            int[] padded = ReferenceShapeOps.PadShape(shape, pads);
            foreach (var mode in new[] { PadMode.Constant, PadMode.Reflect, PadMode.Edge })
            {
                float[] y = TestData.Poisoned(Count(padded)), z = TestData.Poisoned(x.Length);
                ReferenceShapeOps.Pad(x, shape, pads, y, mode, 0.25f);
                ReferenceShapeOps.Pad(y, padded, crop, z, PadMode.Constant);
                KernelAssert.Exact(x, z, $"{mode} pads [{string.Join(",", pads)}] of {Broadcast.Format(shape)}");
            }
        }
    }

    [Fact]
    public void BatchedMatMulEqualsOneMatMulPerBatch()
    {
        var rng = new DeterministicRandom(4);
        for (int t = 0; t < Trials; t++)
        {
            int batch = 1 + rng.NextInt(3), m = 1 + rng.NextInt(4), k = 1 + rng.NextInt(5), n = 1 + rng.NextInt(4);
            float[] a = TestData.Random(batch * m * k, (ulong)t + 11), b = TestData.Random(k * n, (ulong)t + 12);
            float[] y = TestData.Poisoned(batch * m * n), one = TestData.Poisoned(m * n);
            ReferenceMatMul.Compute(a, [batch, m, k], b, [k, n], y); // B broadcast to every batch
            for (int i = 0; i < batch; i++)
            {
                ReferenceMatMul.Compute(a.AsSpan(i * m * k, m * k), [m, k], b, [k, n], one);
                KernelAssert.Exact(one, y.AsSpan(i * m * n, m * n), $"batch {i} of {batch}x{m}x{k} · {k}x{n}");
            }
        }
    }

    public static TheoryData<Pool2dParams> PoolCases() => new()
    {
        new Pool2dParams(3, 3, 2, 2, 1, 0, 2, 1),
        new Pool2dParams(2, 3, 1, 2, 0, 2, 1, 0),
        new Pool2dParams(3, 2, 2, 1, 2, 1, 0, 1, DilationH: 2),
        Pool2dParams.Square(3, 1, 1),
    };

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void PoolPaddingEqualsExplicitPad(Pool2dParams p)
    {
        // AveragePool with count_include_pad = AveragePool of the zero-padded input (no ceil overflow), and it equals a
        // depthwise convolution with weight 1/(KH·KW); MaxPool = MaxPool of the -inf-padded input.
        int[] shape = { 2, 3, 7, 8 };
        float[] x = TestData.Random(Count(shape), 21);
        int[] pads = { 0, 0, p.PadTop, p.PadLeft, 0, 0, p.PadBottom, p.PadRight };
        int[] paddedShape = ReferenceShapeOps.PadShape(shape, pads);
        var unpadded = p with { PadTop = 0, PadLeft = 0, PadBottom = 0, PadRight = 0 };
        int[] os = p.OutputShape(shape);
        Assert.Equal(os, unpadded.OutputShape(paddedShape));
        int n = Count(os);
        float[] zeros = new float[Count(paddedShape)], minusInf = new float[zeros.Length];
        ReferenceShapeOps.Pad(x, shape, pads, zeros, PadMode.Constant, 0f);
        ReferenceShapeOps.Pad(x, shape, pads, minusInf, PadMode.Constant, float.NegativeInfinity);

        float[] direct = TestData.Poisoned(n), viaPad = TestData.Poisoned(n);
        ReferencePool.AveragePool(x, shape, direct, p with { CountIncludePad = true });
        ReferencePool.AveragePool(zeros, paddedShape, viaPad, unpadded);
        KernelAssert.Close(viaPad, direct, p.KernelH * p.KernelW, "AveragePool count_include_pad");

        var conv = new Conv2dParams(p.KernelH, p.KernelW, p.StrideH, p.StrideW, p.PadTop, p.PadLeft, p.PadBottom, p.PadRight,
            p.DilationH, p.DilationW, Groups: 3);
        float[] w = Enumerable.Repeat(1f / (p.KernelH * p.KernelW), 3 * p.KernelH * p.KernelW).ToArray();
        float[] viaConv = TestData.Poisoned(n);
        ReferenceConv2d.Compute(x, shape, w, [3, 1, p.KernelH, p.KernelW], default, viaConv, conv);
        KernelAssert.Close(viaConv, direct, p.KernelH * p.KernelW, "AveragePool vs depthwise conv");

        ReferencePool.MaxPool(x, shape, direct, p);
        ReferencePool.MaxPool(minusInf, paddedShape, viaPad, unpadded);
        KernelAssert.Exact(viaPad, direct, "MaxPool");
    }
}
