using Lacuna.Tensors;

namespace Lacuna.Tests.TestUtil;

/// <summary>Random (never all-zero) inputs and NaN-poisoned outputs for kernel tests.</summary>
public static class TestData
{
    public static float[] Random(int length, ulong seed, float min = -1f, float max = 1f)
    {
        var data = new float[length];
        new DeterministicRandom(seed).Fill(data, min, max);
        return data;
    }

    /// <summary>An output buffer filled with NaN, so any element a kernel forgets to write fails the comparison.</summary>
    public static float[] Poisoned(int length)
    {
        var data = new float[length];
        Array.Fill(data, float.NaN);
        return data;
    }

    public static void Poison(Span<float> span) => span.Fill(float.NaN);

    /// <summary>Sizes just below, at and above each width (0, 1, w-1, w, w+1, 2w-1, 2w+1 ...) plus odd primes.</summary>
    public static int[] EdgeSizes(params int[] widths)
    {
        var set = new SortedSet<int> { 0, 1, 2, 3, 5, 7, 13, 31, 37 };
        foreach (int w in widths)
            foreach (int s in new[] { w - 1, w, w + 1, 2 * w - 1, 2 * w, 2 * w + 1, 3 * w + 1 })
                if (s >= 0) set.Add(s);
        return set.ToArray();
    }
}
