using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Pooling;

// The 3x3 stride-2 max pool of ResNet, Inception and DenseNet stems on AVX-512: an output row straight from its
// three input rows, 16 outputs per step (each tap row's column maxima over 34 inputs, then the even, odd and
// next-even lanes picked by two-source permutes). Row by row through the generic path that was some seven short
// vector loops per output row: ResNet-50's stem pool (64x112x112) took 0.39 ms, against ONNX Runtime's 0.09.
public static partial class MaxPool2d
{
    private static bool IsKernel3Stride2(Pool2dParams p) =>
        Avx512F.IsSupported && p.KernelH == 3 && p.KernelW == 3 && p.StrideW == 2 && p.DilationH == 1 && p.DilationW == 1;

    /// <summary>
    /// One output row of a 3x3, column-stride-2 pool whose three input rows r0..r2 all lie inside the input: every
    /// output column, interior ones 16 at a time while their loads stay inside the row, the rest tap by tap.
    /// Maxima are taken as <see cref="VectorLoops.MaxInto"/> does (first value kept on ties, NaN propagates), rows
    /// first and then columns, the generic path's order.
    /// </summary>
    private static unsafe void Kernel3Stride2Row(float* r0, float* r1, float* r2, int w, int padLeft, Span<float> outRow, int ox0, int ox1)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        int ox = ox0;
        fixed (float* o = outRow)
        {
            for (; ox + 16 <= ox1 && 2 * ox - padLeft + 34 <= w; ox += 16) Step16(r0, r1, r2, 2 * ox - padLeft, o + ox, even, odd);
            // The last partial step as a full one ending at ox1 (it rewrites some outputs with the same values).
            int last = ox1 - 16;
            if (ox < ox1 && last >= ox0 && 2 * last - padLeft + 34 <= w)
            {
                Step16(r0, r1, r2, 2 * last - padLeft, o + last, even, odd);
                ox = ox1;
            }
        }
        for (int j = 0; j < outRow.Length; j++)
        {
            if (j == ox0) j = ox; // [ox0, ox) is done
            if (j >= outRow.Length) break;
            outRow[j] = Window3(r0, r1, r2, 2 * j - padLeft, w);
        }
    }

    /// <summary>16 outputs from input columns s .. s + 33 of the three rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Step16(float* r0, float* r1, float* r2, int s, float* o, Vector512<int> even, Vector512<int> odd)
    {
        Vector512<float> a = Rows3(r0, r1, r2, s), b = Rows3(r0, r1, r2, s + 16);
        Vector512<float> c = Rows3(r0, r1, r2, s + 2), d = Rows3(r0, r1, r2, s + 18);
        var m = Take(Take(Avx512F.PermuteVar16x32x2(a, even, b), Avx512F.PermuteVar16x32x2(a, odd, b)),
            Avx512F.PermuteVar16x32x2(c, even, d));
        m.Store(o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Rows3(float* r0, float* r1, float* r2, int s) =>
        Take(Take(Avx512F.LoadVector512(r0 + s), Avx512F.LoadVector512(r1 + s)), Avx512F.LoadVector512(r2 + s));

    /// <summary>m, or v where v is greater or NaN (unless m already is NaN): <see cref="VectorLoops.MaxInto"/>'s rule.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Take(Vector512<float> m, Vector512<float> v) =>
        Vector512.ConditionalSelect((Vector512.GreaterThan(v, m) | ~Vector512.Equals(v, v)) & Vector512.Equals(m, m), v, m);

    /// <summary>The window of columns x0..x0+2 (those inside [0, w)) over the three rows, rows first, then columns.</summary>
    private static unsafe float Window3(float* r0, float* r1, float* r2, int x0, int w)
    {
        float m = float.NegativeInfinity;
        bool first = true;
        for (int x = Math.Max(0, x0); x < Math.Min(w, x0 + 3); x++)
        {
            float c = r0[x];
            c = Pick(c, r1[x]);
            c = Pick(c, r2[x]);
            m = first ? c : Pick(m, c);
            first = false;
        }
        return m;
    }

    private static float Pick(float m, float v) => (v > m || float.IsNaN(v)) && !float.IsNaN(m) ? v : m;
}
