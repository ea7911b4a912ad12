using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.SparseConv;

/// <summary>
/// Vector j of an AVX-512 tile pass that may end in a partial vector (<see cref="ISparseConvTail"/>): the direct sparse
/// conv and the block-direct conv load and store their passes through these.
/// </summary>
internal static unsafe class TailVectors512
{
    /// <summary>Vector <paramref name="j"/> at <paramref name="p"/>; the last one of a masked pass reads only its mask's lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load<TTail>(float* p, int j, int nv, Vector512<float> mask) where TTail : struct, ISparseConvTail =>
        TTail.Masked && j == nv - 1
            ? Avx512F.MaskLoad(p + j * 16, mask, Vector512<float>.Zero)
            : Avx512F.LoadVector512(p + j * 16);

    /// <summary>Epilogue (activation as a clamp to [lo, hi]) and store of vector <paramref name="j"/>; the last one of a masked pass under its mask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TTail>(float* dst, Vector512<float> s, int j, int nv, Vector512<float> mask, bool clamp,
        Vector512<float> lo, Vector512<float> hi) where TTail : struct, ISparseConvTail
    {
        if (clamp) s = Avx512F.Min(Avx512F.Max(s, lo), hi);
        if (TTail.Masked && j == nv - 1) Avx512F.MaskStore(dst + j * 16, mask, s);
        else Avx512F.Store(dst + j * 16, s);
    }
}
