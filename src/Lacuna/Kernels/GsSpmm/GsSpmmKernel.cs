using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lacuna.Kernels.GsSpmm;

/// <summary>
/// Arguments of one GS SpMM call: groups [G0, G1) of a <see cref="Formats.GsMatrix"/> with V lanes and Banks banks,
/// X [K × N] and Y [M × N] row-major. Per group, per column j and per step s, lane l accumulates
/// Values[e] · X[Cols[e]·N + j] with e = (Offsets[g] + s)·V + l; then the Banks lanes of each row are summed and
/// Y[row, j] = act(sum + Bias[row]) for rows below M.
/// </summary>
internal unsafe struct GsSpmmArgs
{
    public float* X;
    public int N, M;
    public float* Values;
    public int* Cols, Offsets;
    /// <summary>The column indices as 16 bits (K ≤ 65536; null otherwise), for the gather bodies that read them.</summary>
    public ushort* Cols16;
    /// <summary>
    /// Column · N per stored entry, prescaled by the plan for this N (read by the bodies built with scaled: true):
    /// 16-bit where (K − 1) · N ≤ 65535, else 32-bit in <see cref="Scaled32"/>; the other is null.
    /// </summary>
    public ushort* Scaled16;
    public int* Scaled32;
    public int Lanes, Banks;
    public float* Bias;
    public float* Y;
    public int G0, G1;
    public ActivationKind Activation;
    public float Min, Max;
}

/// <summary>One registry entry: a tier, the lane counts (V) its body takes, and whether it gathers (lanes along rows, one
/// column per FMA) or broadcasts (each lane's accumulator a vector along n).</summary>
internal sealed unsafe class GsSpmmKernel(IsaTier tier, string name, Func<int, bool> takes, delegate*<GsSpmmArgs*, void> body, bool index16 = false, bool scaled = false)
{
    /// <summary>Reads X offsets prescaled for the run's N (<see cref="GsSpmmArgs.Scaled16"/> or <see cref="GsSpmmArgs.Scaled32"/>).</summary>
    public bool Scaled { get; } = scaled;
    /// <summary>Reads 16-bit column indices (<see cref="GsSpmmArgs.Cols16"/>): two fewer bytes per non-zero.</summary>
    public bool Index16 { get; } = index16;
    public IsaTier Tier { get; } = tier;
    public string Name { get; } = name;
    public bool Takes(int lanes) => takes(lanes);
    public delegate*<GsSpmmArgs*, void> Body { get; } = body;
    public override string ToString() => Name;
}

/// <summary>
/// The GS SpMM registry, widest first: hardware gathers and row-lockstep broadcast bodies on AVX-512 and AVX2, one
/// body each on Vector128 (no gather instruction) and scalar.
/// </summary>
internal static unsafe class GsSpmmKernels
{
    public static readonly GsSpmmKernel[] All =
    {
        new(IsaTier.Avx512, "Avx512 gather16", v => v == 16, &GsSpmm.RunAvx512<GsIndex32>),
        new(IsaTier.Avx512, "Avx512 gather16 u16", v => v == 16, &GsSpmm.RunAvx512<GsIndex16>, index16: true),
        new(IsaTier.Avx512, "Avx512 rows 1x16", v => v % 8 == 0, &GsSpmm.RunAvx512Rows),
        new(IsaTier.Avx512, "Avx512 rows16 1x16", v => v == 16, &GsSpmm.RunAvx512Rows16),
        new(IsaTier.Avx512, "Avx512 rows16 packed 1x16", v => v == 16, &GsSpmm.RunAvx512Rows16Packed, index16: true),
        new(IsaTier.Avx512, "Avx512 rows16 packed 1x8", v => v == 16, &GsSpmm.RunAvx512Rows16Packed8, index16: true),
        new(IsaTier.Avx512, "Avx512 scaled 1x16", v => v == 16, &GsSpmm.RunAvx512Scaled16, scaled: true),
        new(IsaTier.Avx512, "Fma scalar lanes16 u16", v => v == 16, &GsSpmm.RunScalarLanes16, index16: true),
        new(IsaTier.Avx512, "Fma scalar lanes16 scaled", v => v == 16, &GsSpmm.RunScalarLanesScaled16, scaled: true),
        new(IsaTier.Avx2Fma, "Avx2 gather8", v => v % 8 == 0, &GsSpmm.RunAvx2<GsIndex32>),
        new(IsaTier.Avx2Fma, "Avx2 gather8 u16", v => v % 8 == 0, &GsSpmm.RunAvx2<GsIndex16>, index16: true),
        new(IsaTier.Avx2Fma, "Avx2 rows 1x8", v => v % 8 == 0, &GsSpmm.RunAvx2Rows),
        new(IsaTier.Avx2Fma, "Fma scalar lanes u16", v => v % 8 == 0, &GsSpmm.RunScalarLanes, index16: true),
        new(IsaTier.Vector128, "Vector128 4 lanes", v => v % 4 == 0, &GsSpmm.RunVector128),
        new(IsaTier.Scalar, "Scalar", _ => true, &GsSpmm.Scalar),
    };

    public static IsaTier BestTier { get; } = IsaTiers.BestOf(All.Select(k => k.Tier));

    /// <summary>
    /// The bodies a plan on <paramref name="tier"/> may time for V = <paramref name="lanes"/>: every AVX2-or-wider body
    /// up to the tier (an AVX-512 plan also runs AVX2's 8-lane gathers), else the tier's one body. Where
    /// <paramref name="index16"/> (K ≤ 65536) the gathers that read 16-bit indices are candidates too: the widening
    /// costs an instruction per step against two bytes per entry saved, and which wins varies.
    /// </summary>
    public static GsSpmmKernel[] Candidates(IsaTier tier, int lanes, bool index16) => tier >= IsaTier.Avx2Fma
        ? All.Where(k => k.Tier <= tier && k.Tier >= IsaTier.Avx2Fma && k.Takes(lanes) && (!k.Index16 || index16)).ToArray()
        : [All.First(k => k.Tier == tier && k.Takes(lanes))];
}

// Scratch sums are written before they are read: no zeroing of the stackalloc'd buffers.
[SkipLocalsInit]
internal static unsafe partial class GsSpmm
{
    /// <summary>Columns handled per pass over a group's steps: each step's values and indices are loaded once for them.</summary>
    public const int Columns = 4;

    /// <summary>
    /// Writes a pass's outputs: <paramref name="sums"/> holds, for each of <paramref name="jc"/> columns, the V lane sums
    /// (lane-major for the gather bodies); a row's Banks lanes are added, then bias and activation. A group writes V·jc
    /// scalars against its steps·V·jc multiply-adds, so the scalar epilogue costs little.
    /// </summary>
    public static void Emit(GsSpmmArgs* a, int g, int j0, int jc, float* sums) => Emit(a, g, j0, jc, sums, 1, a->Lanes);

    /// <summary>As above with lane l's sum for column jj at sums[l·laneStride + jj·colStride].</summary>
    public static void Emit(GsSpmmArgs* a, int g, int j0, int jc, float* sums, int laneStride, int colStride)
    {
        if (a->N == 1 && a->Banks == 1 && a->Lanes == 16 && laneStride == 1 && Avx512F.IsSupported)
        {
            EmitRows16(a, g, sums);
            return;
        }
        int v = a->Lanes, banks = a->Banks, rpg = v / banks;
        nint n = a->N;
        var act = new Activation(a->Activation, a->Min, a->Max);
        for (int r = 0; r < rpg; r++)
        {
            int row = g * rpg + r;
            if (row >= a->M) break;
            for (int jj = 0; jj < jc; jj++)
            {
                float s = 0f;
                for (int b = 0; b < banks; b++) s += sums[jj * colStride + (r * banks + b) * laneStride];
                a->Y[row * n + j0 + jj] = act.Apply(s + a->Bias[row]);
            }
        }
    }

    /// <summary>
    /// Row-wise, V = 16, n = 1: the group's 16 outputs are consecutive in Y, so bias, activation and store are one
    /// vector each (under a mask for the last group); the scalar path's per-element calls cost about a tenth of a
    /// group's multiply-adds at K = 512.
    /// </summary>
    private static void EmitRows16(GsSpmmArgs* a, int g, float* sums)
    {
        int r0 = g * 16, rows = Math.Min(16, a->M - r0);
        var mask = rows == 16 ? Vector512<float>.AllBitsSet : LaneMask.First16(rows);
        var s = Vector512.Load(sums) + Avx512F.MaskLoad(a->Bias + r0, mask, Vector512<float>.Zero);
        if (a->Activation == ActivationKind.Relu) s = Avx512F.Max(s, Vector512<float>.Zero);
        else if (a->Activation == ActivationKind.Clip) s = Avx512F.Min(Avx512F.Max(s, Vector512.Create(a->Min)), Vector512.Create(a->Max));
        Avx512F.MaskStore(a->Y + r0, mask, s);
    }

    /// <summary>Scalar: lane by lane, no gathers.</summary>
    public static void Scalar(GsSpmmArgs* a)
    {
        int v = a->Lanes, n = a->N;
        float* sums = stackalloc float[Columns * 16];
        for (int g = a->G0; g < a->G1; g++)
            for (int j0 = 0; j0 < n; j0 += Columns)
            {
                int jc = Math.Min(Columns, n - j0);
                for (int i = 0; i < jc * v; i++) sums[i] = 0f;
                for (int s = a->Offsets[g]; s < a->Offsets[g + 1]; s++)
                    for (int l = 0; l < v; l++)
                    {
                        int e = s * v + l;
                        float w = a->Values[e];
                        float* p = a->X + (nint)a->Cols[e] * n + j0;
                        for (int jj = 0; jj < jc; jj++) sums[jj * v + l] += w * p[jj];
                    }
                Emit(a, g, j0, jc, sums);
            }
    }
}

/// <summary>How a gather body reads a step's column indices: 32-bit, or 16-bit widened (K ≤ 65536).</summary>
internal unsafe interface IGsIndex
{
    static abstract Vector512<int> Load16(GsSpmmArgs* a, int e);
    static abstract Vector256<int> Load8(GsSpmmArgs* a, int e);
}

internal unsafe struct GsIndex32 : IGsIndex
{
    public static Vector512<int> Load16(GsSpmmArgs* a, int e) => Vector512.Load(a->Cols + e);
    public static Vector256<int> Load8(GsSpmmArgs* a, int e) => Vector256.Load(a->Cols + e);
}

internal unsafe struct GsIndex16 : IGsIndex
{
    public static Vector512<int> Load16(GsSpmmArgs* a, int e) => Avx512F.ConvertToVector512Int32(Vector256.Load(a->Cols16 + e));
    public static Vector256<int> Load8(GsSpmmArgs* a, int e) => Avx2.ConvertToVector256Int32(Vector128.Load(a->Cols16 + e));
}
