namespace Lacuna.Pruning;

/// <summary>Placeholder until GlobalMagnitude is merged from main.</summary>
internal static class GlobalPruning
{
    public static void Apply(float[][] weights, double sparsity) =>
        throw new NotSupportedException("global magnitude pruning is not in this build yet.");
}
