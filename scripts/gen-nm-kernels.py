#!/usr/bin/env python3
# Writes src/Lacuna/Kernels/Nm/NmSpmm.{Avx512,Avx2,Vector128}.cs: the N:M SpMM register tiles of each tier.
# The tiles keep R x V accumulators in named locals (the JIT only enregisters locals), so the bodies are long and
# regular; generating them keeps the three tiers identical in structure. Run from the repository root after a change:
#   python3 scripts/gen-nm-kernels.py
import os

tiers = {
 'Avx512': dict(vec='Vector512<float>', lanes=16, load='Avx512F.LoadVector512({p})', bc='Vector512.Create({w})',
    fma='Avx512F.FusedMultiplyAdd({b}, {x}, {c})', max='Avx512F.Max', min='Avx512F.Min', store='Avx512F.Store({p}, {v})',
    create='Vector512.Create({s})', usings=['System.Runtime.Intrinsics', 'System.Runtime.Intrinsics.X86'],
    doc='AVX-512 (16 lanes)'),
 'Avx2': dict(vec='Vector256<float>', lanes=8, load='Avx.LoadVector256({p})', bc='Avx.BroadcastScalarToVector256({wp})',
    fma='Fma.MultiplyAdd({b}, {x}, {c})', max='Avx.Max', min='Avx.Min', store='Avx.Store({p}, {v})',
    create='Vector256.Create({s})', usings=['System.Runtime.Intrinsics', 'System.Runtime.Intrinsics.X86'],
    doc='AVX2 + FMA (8 lanes)'),
 'Vector128': dict(vec='Vector128<float>', lanes=4, load='Vector128.Load({p})', bc='Vector128.Create({w})',
    fma='{c} + {b} * {x}', max='Vector128.Max', min='Vector128.Min', store='Vector128.Store({v}, {p})',
    create='Vector128.Create({s})', usings=['System.Runtime.Intrinsics'],
    doc='portable 128-bit vectors (4 lanes; multiply then add: the tier has no guaranteed FMA)'),
}

def cond(v, body):
    return body if v == 0 else f'if (V > {v}) {body}'

def body(t, rows, vecs, unroll):
    """rows: accumulator rows; for the row kernel, accumulator row u holds slot u of each step."""
    L = t['lanes']
    o = []
    o.append('        nint ldx = a->Ldx, ldy = a->Ldy, ws = a->WStride;')
    o.append('        float* x = a->X, w = a->W, bias = a->Bias, y = a->Y;')
    o.append('        int* cols = a->Cols;')
    o.append('        int slots = a->Slots, stride = a->SlotStride;')
    o.append(f'        var lo = {t["create"].format(s="a->Activation == ActivationKind.Relu ? 0f : a->Min")};')
    o.append(f'        var hi = {t["create"].format(s="a->Max")};')
    o.append('        bool clamp = a->Activate && a->Activation != ActivationKind.None, accumulate = a->Accumulate;')
    o.append('        for (int b = 0; b < a->Blocks; b++, cols += stride, w += stride * ws, bias += ws, y += ws * ldy)')
    o.append('        {')
    o.append(f'            {t["vec"]} ' + ', '.join(f'c{r}_{v} = default' for r in range(rows) for v in range(vecs)) + ';')
    R = '1' if unroll else 'R'
    out_rows = 1 if unroll else rows
    def rc(r): return '' if (unroll and r == 0) else f'if ({R} > {r}) '
    o.append('            if (accumulate)')
    o.append('            {')
    for r in range(out_rows):
        o.append(f'                {rc(r)}{{ ' + ' '.join(cond(v, f'c{r}_{v} = {t["load"].format(p=f"y + {r} * ldy + {v*L}")};') for v in range(vecs)) + ' }')
    o.append('            }')
    o.append('            else')
    o.append('            {')
    for r in range(out_rows):
        o.append(f'                {rc(r)}{{ var bv = {t["create"].format(s=f"bias[{r}]")}; ' + ' '.join(cond(v, f'c{r}_{v} = bv;') for v in range(vecs)) + ' }')
    o.append('            }')
    def slot(indent, colexpr, pairs):
        # pairs: list of (condition, accumulator row, weight offset expr)
        s = []
        s.append(f'{indent}float* p = x + {colexpr} * ldx;')
        for v in range(vecs):
            ld = t['load'].format(p=f'p + {v*L}' if v else 'p')
            s.append(f'{indent}var x{v} = {ld};' if v == 0 else f'{indent}var x{v} = V > {v} ? {ld} : default;')
        for c, r, wo in pairs:
            bc = t['bc'].format(w=f'wp[{wo}]', wp=f'wp + {wo}')
            fm = ' '.join(cond(v, f'c{r}_{v} = {t["fma"].format(b="bv", x=f"x{v}", c=f"c{r}_{v}")};') for v in range(vecs))
            s.append(f'{indent}{c}{{ var bv = {bc}; {fm} }}')
        return s
    o.append('            float* wp = w;')
    o.append('            int s = 0;')
    if unroll:
        o.append('            for (; s + U <= slots; s += U, wp += U * ws)')
        o.append('            {')
        for u in range(rows):
            o.append('                {' if u == 0 else f'                if (U > {u})')
            if u: o.append('                {')
            o += slot('                    ', f'cols[s + {u}]', [('', u, f'{u} * ws')])
            o.append('                }')
        o.append('            }')
        o.append('            for (; s < slots; s++, wp += ws)')
        o.append('            {')
        o += slot('                ', 'cols[s]', [('', 0, '0')])
        o.append('            }')
        for u in range(1, rows):
            o.append(f'            if (U > {u}) {{ ' + ' '.join(cond(v, f'c0_{v} += c{u}_{v};') for v in range(vecs)) + ' }')
    else:
        o.append('            for (; s < slots; s++, wp += ws)')
        o.append('            {')
        o += slot('                ', 'cols[s]', [(f'if (R > {r}) ' if r else '', r, f'{r}') for r in range(rows)])
        o.append('            }')
    o.append('            if (clamp)')
    o.append('            {')
    for r in range(out_rows):
        o.append(f'                {rc(r)}{{ ' + ' '.join(cond(v, f'c{r}_{v} = {t["min"]}({t["max"]}(c{r}_{v}, lo), hi);') for v in range(vecs)) + ' }')
    o.append('            }')
    for r in range(out_rows):
        o.append(f'            {rc(r)}{{ ' + ' '.join(cond(v, t['store'].format(p=f'y + {r} * ldy + {v*L}', v=f'c{r}_{v}') + ';') for v in range(vecs)) + ' }')
    o.append('        }')
    return o

def gen(name, t):
    o = []
    o.append('// Generated by scripts/gen-nm-kernels.py (edit that, not this). Accumulators are written out as c{row}_{vector}: the JIT keeps only named locals')
    o.append('// in registers; R, V and U are constants of each generic instance, so the unused lines compile away.')
    o.append('using System.Runtime.CompilerServices;')
    for u in t['usings']: o.append(f'using {u};')
    o.append('')
    o.append('namespace Lacuna.Kernels.Nm;')
    o.append('')
    o.append('internal static unsafe partial class NmSpmm')
    o.append('{')
    o.append(f'    /// <summary>')
    o.append(f'    /// {t["doc"]}, one row per block (per-row N:M; see <see cref="NmArgs"/>): each slot loads V vectors of X for V')
    o.append(f'    /// FMAs. U consecutive slots go to U accumulator sets, so a narrow tile still has 8 independent FMA chains.')
    o.append(f'    /// </summary>')
    o.append('    [MethodImpl(MethodImplOptions.AggressiveOptimization)]')
    o.append(f'    public static void {name}RowTile<TVectors>(NmArgs* a) where TVectors : struct, INmVectors')
    o.append('    {')
    o.append('        int V = TVectors.Vectors, U = V >= 8 ? 1 : V >= 4 ? 2 : 4;')
    o += body(t, 4, 8, True)
    o.append('    }')
    o.append('')
    o.append(f'    /// <summary>{t["doc"]}, R rows sharing each slot (row-shared N:M): V loads of X feed R × V FMAs.</summary>')
    o.append('    [MethodImpl(MethodImplOptions.AggressiveOptimization)]')
    o.append(f'    public static void {name}SharedTile<TRows, TVectors>(NmArgs* a) where TRows : struct, INmRows where TVectors : struct, INmVectors')
    o.append('    {')
    o.append('        int R = TRows.Rows, V = TVectors.Vectors;')
    o += body(t, 8, 4, False)
    o.append('    }')
    o.append('}')
    return '\n'.join(o) + '\n'

for name, t in tiers.items():
    open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'Lacuna', 'Kernels', 'Nm', f'NmSpmm.{name}.cs'), 'w').write(gen(name, t))
