using Lacuna.Graph;
using Lacuna.Graph.Ops;
using Lacuna.Tensors;
using Lacuna.Tests.TestUtil;
using Xunit.Sdk;

namespace Lacuna.Tests.Kernels.Elementwise;

/// <summary>Inputs, comparisons and a one-node runner shared by the element-wise tests.</summary>
internal static class ElementwiseCheck
{
    /// <summary>Random values in [min, max] (never all zero), with NaN, ±Inf, ±0 sprinkled in when <paramref name="specials"/>.</summary>
    public static float[] Data(int length, ulong seed, bool specials, float min = -2f, float max = 2f)
    {
        var d = TestData.Random(length, seed, min, max);
        if (!specials) return d;
        float[] s = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 100f, -100f];
        for (int i = 0; i < d.Length; i += 3) d[i] = s[(i / 3 + (int)(seed % 7)) % s.Length];
        return d;
    }

    /// <summary>Equal (Inf, ±0 included), both NaN, or within atol + rtol·|expected|; an unwritten (NaN-poisoned) element fails.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context, float rtol = 2e-6f, float atol = 1e-6f)
    {
        if (expected.Length != actual.Length) throw new XunitException($"{context}: length {actual.Length}, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (e == a || (float.IsNaN(e) && float.IsNaN(a))) continue;
            if (float.IsNaN(a) || float.IsNaN(e) || !(MathF.Abs(e - a) <= atol + rtol * MathF.Abs(e)))
                throw new XunitException($"{context}: element {i} is {a}, expected {e}.");
        }
    }

    /// <summary>Compiles one node for the given input shapes (no constants) and runs it with NaN-poisoned outputs.</summary>
    public static float[][] RunNode(GraphNode n, float[][] inputs, int[][] shapes, Func<int, GraphTensor?>? constant = null) =>
        RunKernel(OpCompiler.Compile(n, shapes, constant ?? (_ => null), null), inputs);

    /// <summary>
    /// Runs a compiled kernel on <paramref name="inputs"/> (one per node input; null for an omitted one) with every
    /// output NaN-poisoned first; returns the outputs.
    /// </summary>
    public static float[][] RunKernel(NodeKernel k, float[]?[] inputs)
    {
        var slots = new List<Slot>();
        k.InSlots = inputs.Select((x, i) =>
        {
            if (x is null) return -1;
            slots.Add(new Slot(0, x.Length, new GraphTensor($"in{i}", [x.Length], x)));
            return slots.Count - 1;
        }).ToArray();
        int offset = 0;
        var outSlots = new int[k.OutShapes.Length];
        for (int o = 0; o < outSlots.Length; o++)
        {
            int len = Broadcast.ElementCount(k.OutShapes[o]);
            slots.Add(new Slot(offset, len, null));
            outSlots[o] = slots.Count - 1;
            offset += (len + 15) / 16 * 16;
        }
        k.OutSlots = outSlots;
        using var arena = new AlignedBuffer(Math.Max(1, offset));
        arena.Span.Fill(float.NaN);
        k.Run(new Frame(arena, [.. slots]));
        return outSlots.Select(s => arena.Span.Slice(slots[s].Offset, slots[s].Length).ToArray()).ToArray();
    }
}
