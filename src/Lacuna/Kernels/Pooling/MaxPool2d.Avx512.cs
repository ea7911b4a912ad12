using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.Pooling;

// The 3x3 stride-2 max pool of ResNet, Inception and DenseNet stems on AVX-512: an output row from the column maxima
// of its three input rows, written once into a row padded with -inf on both sides, then 16 outputs per step (the
// even, odd and next-even lanes picked by two-source permutes). The padding makes edge windows ordinary steps: an
// earlier version stopped its vector steps where they would read past the row and ran the last 7 of 56 stem outputs
// tap by tap, which cost more than the other 49 (ResNet-50's stem pool, 64x112x112: about 1 ms at 1 thread).
public static partial class MaxPool2d
{
    private static bool IsKernel3Stride2(Pool2dParams p) =>
        Avx512F.IsSupported && p.KernelH == 3 && p.KernelW == 3 && p.StrideW == 2 && p.DilationH == 1 && p.DilationW == 1;

    /// <summary>
    /// Length of the padded column-maxima row <see cref="Kernel3Stride2Row"/> needs: the left pad, the row, and -inf
    /// past it far enough for the last 16-output step (columns up to 2·max(ow, 16) + 1).
    /// </summary>
    private static int Stride2ScratchLength(int w, int ow, int padLeft) => Math.Max(padLeft + w, 2 * Math.Max(ow, 16) + 2) + 16;

    /// <summary>
    /// One output row of a 3x3, column-stride-2 pool whose three input rows r0..r2 all lie inside the input.
    /// <paramref name="padded"/> (<see cref="Stride2ScratchLength"/> floats) holds -inf outside [padLeft, padLeft + w)
    /// on entry and keeps it; the row's column maxima go in between. Maxima are taken as
    /// <see cref="VectorLoops.MaxInto"/> does (first value kept on ties, NaN propagates), rows first and then columns,
    /// the generic path's order; an -inf pad never displaces a value, as padding never wins in the reference.
    /// </summary>
    private static unsafe void Kernel3Stride2Row(float* r0, float* r1, float* r2, int w, int padLeft, Span<float> outRow, Span<float> padded)
    {
        int ow = outRow.Length;
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        fixed (float* cm = padded, o = outRow)
        {
            float* c = cm + padLeft;
            int x = 0;
            for (; x + 16 <= w; x += 16) Rows3(r0, r1, r2, x).Store(c + x);
            if (x < w && w >= 16) Rows3(r0, r1, r2, w - 16).Store(c + w - 16); // overlapping last step, same values
            else for (; x < w; x++) c[x] = Pick(Pick(r0[x], r1[x]), r2[x]);
            if (ow < 16)
            {
                float* tmp = stackalloc float[16];
                Step16(cm, tmp, even, odd);
                new ReadOnlySpan<float>(tmp, ow).CopyTo(outRow);
                return;
            }
            int ox = 0;
            for (; ox + 16 <= ow; ox += 16) Step16(cm + 2 * ox, o + ox, even, odd);
            if (ox < ow) Step16(cm + 2 * (ow - 16), o + ow - 16, even, odd);
        }
    }

    /// <summary>16 outputs from padded column maxima s[0 .. 33]: output j is the maximum of s[2j], s[2j + 1], s[2j + 2].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Step16(float* s, float* o, Vector512<int> even, Vector512<int> odd)
    {
        Vector512<float> a = Avx512F.LoadVector512(s), b = Avx512F.LoadVector512(s + 16);
        Vector512<float> c = Avx512F.LoadVector512(s + 2), d = Avx512F.LoadVector512(s + 18);
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

    private static float Pick(float m, float v) => (v > m || float.IsNaN(v)) && !float.IsNaN(m) ? v : m;
}
