using Lacuna.Kernels;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Kernels;

public class DeinterleaveTests
{
    public static TheoryData<int> Lengths()
    {
        var d = new TheoryData<int>();
        // Around the 16-float step and its tail (0, odd and even lengths).
        foreach (int n in new[] { 0, 1, 2, 3, 14, 15, 16, 17, 18, 31, 32, 33, 47, 48, 49, 113 }) d.Add(n);
        return d;
    }

    [Theory, MemberData(nameof(Lengths))]
    public unsafe void EvenOddAndEvensMatchTheDefinition(int n)
    {
        float[] src = TestData.Random(Math.Max(n, 1), (ulong)n + 5);
        int evens = (n + 1) / 2, odds = n / 2;
        // One guard float past each output: nothing may be written there.
        var even = new float[evens + 1]; var odd = new float[odds + 1]; var only = new float[evens + 1];
        Array.Fill(even, float.NaN); Array.Fill(odd, float.NaN); Array.Fill(only, float.NaN);
        fixed (float* s = src, e = even, o = odd, e2 = only)
        {
            Deinterleave.EvenOdd(s, n, e, o);
            Deinterleave.Evens(s, n, e2);
        }
        for (int j = 0; j < evens; j++) { Assert.Equal(src[2 * j], even[j]); Assert.Equal(src[2 * j], only[j]); }
        for (int j = 0; j < odds; j++) Assert.Equal(src[2 * j + 1], odd[j]);
        Assert.True(float.IsNaN(even[evens]) && float.IsNaN(odd[odds]) && float.IsNaN(only[evens]), "wrote past the output");
    }
}
