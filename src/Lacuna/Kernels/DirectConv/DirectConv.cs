using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Lacuna.Kernels.DirectConv;

/// <summary>
/// Direct-convolution register tiles, one partial file per tier (DirectConv.Avx2.cs, .Vector128.cs,
/// .Scalar.cs). Each tile accumulates Rows output channels × Width output columns in registers over every
/// input channel and tap, broadcasting one weight per channel row and loading contiguous input (the
/// driver's padded copy splits columns by stride phase, so any stride and dilation reads contiguously).
/// No validation, no ISA branching: the registry picks the tier.
/// </summary>
internal static unsafe partial class DirectConv
{
    /// <summary>
    /// Copies the valid ValidRows × ValidWidth corner of a computed tile (row-major, <paramref name="width"/>
    /// columns) to the output: the edge path, taken only at the last channel block or column block.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StorePartial(float* tile, int width, DirectConvArgs* a)
    {
        Debug.Assert(a->ValidWidth <= width);
        for (int r = 0; r < a->ValidRows; r++)
        {
            float* dst = a->Output + r * a->OutputChannelStride;
            for (int j = 0; j < a->ValidWidth; j++) dst[j] = tile[r * width + j];
        }
    }
}
