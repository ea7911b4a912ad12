using Lacuna.Kernels;
using Lacuna.Kernels.SparseConv;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels.SparseConv;

public class PhasePlanesTests
{
    public static TheoryData<int, int, int, int> Geometries()
    {
        var d = new TheoryData<int, int, int, int>();
        // Widths around the 16-column deinterleave step and its tail, for strides 1-3 and both pad parities.
        foreach (int stride in new[] { 1, 2, 3 })
            foreach (int w in new[] { 1, 2, 7, 15, 16, 17, 18, 31, 32, 33, 56 })
                foreach (int pad in new[] { 0, 1, 3 })
                    d.Add(stride, w, pad, pad == 3 ? 0 : pad);
        return d;
    }

    /// <summary>
    /// Every float of the planes (slack included) against the documented mapping: plane (c, qh, qw) at [i, j] holds
    /// padded input row sh·i + qh, column sw·j + qw, zero where that is padding or beyond the padded image.
    /// </summary>
    [Theory, MemberData(nameof(Geometries))]
    public unsafe void FillMatchesThePaddedPhaseMapping(int stride, int w, int padLeft, int padRight)
    {
        int c = w == 56 ? 200 : 3, h = 5; // 200 channels: large enough for the threaded fill
        var p = new Conv2dParams(3, 3, stride, stride, 1, padLeft, 1, padRight);
        var planes = new PhasePlanes(c, h, w, p, p.OutputHeight(h));
        float[] image = TestData.Random(c * h * w, (ulong)(stride * 1000 + w * 10 + padLeft));
        foreach (int threads in new[] { 1, 2 })
        {
            var dst = new float[planes.Length];
            Array.Fill(dst, float.NaN);
            fixed (float* pi = image, pd = dst) planes.Fill(pi, pd, threads);
            for (int ch = 0; ch < c; ch++)
                for (int qh = 0; qh < stride; qh++)
                    for (int qw = 0; qw < stride; qw++)
                        for (int i = 0; i < planes.Hq; i++)
                            for (int j = 0; j < planes.Wq; j++)
                            {
                                int y = stride * i + qh - p.PadTop, x = stride * j + qw - padLeft;
                                float expected = y >= 0 && y < h && x >= 0 && x < w ? image[(ch * h + y) * w + x] : 0f;
                                long at = ((long)(ch * stride + qh) * stride + qw) * planes.PlaneSize + i * planes.Wq + j;
                                Assert.True(expected.Equals(dst[at]), $"threads {threads}: plane ({ch},{qh},{qw}) [{i},{j}] is {dst[at]}, expected {expected}");
                            }
            for (long at = planes.Length - planes.Slack; at < planes.Length; at++) Assert.Equal(0f, dst[at]);
        }
    }
}
