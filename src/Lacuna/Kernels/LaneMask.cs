using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lacuna.Kernels;

/// <summary>Masks of a vector's first lanes, for the masked loads and stores of partial tiles in every kernel family.</summary>
internal static class LaneMask
{
    /// <summary>Lanes 0..valid-1 of an 8-lane mask (all for valid ≥ 8, none for valid ≤ 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> First8(int valid) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(valid)).AsSingle();

    /// <summary>Lanes 0..valid-1 of a 16-lane mask (all for valid ≥ 16, none for valid ≤ 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> First16(int valid) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(valid)).AsSingle();
}
