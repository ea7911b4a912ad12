namespace Lacuna.Kernels;

/// <summary>What each kernel family's dispatcher picked in this process, for <c>lacuna info</c> and benchmark headers.</summary>
public static class KernelInfo
{
    /// <summary>One line per kernel family, in the order families were added to the engine.</summary>
    public static IEnumerable<string> Describe()
    {
        yield return "gemm: " + Gemm.Describe();
    }
}
