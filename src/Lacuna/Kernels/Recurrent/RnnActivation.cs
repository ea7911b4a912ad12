using System.Numerics.Tensors;

namespace Lacuna.Kernels.Recurrent;

/// <summary>The activation functions ONNX recurrent operators name in their <c>activations</c> attribute.</summary>
public enum RnnActivationKind { Sigmoid, Tanh, Relu, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus }

/// <summary>
/// One gate activation of an RNN/GRU/LSTM with its alpha and beta (the ones its ONNX operator of the same name takes).
/// <see cref="Apply(float)"/> is the definition; <see cref="Apply(Span{float})"/> the vector form the fast plan uses.
/// </summary>
public readonly record struct RnnActivation(RnnActivationKind Kind, float Alpha = 0f, float Beta = 0f)
{
    public static RnnActivation Sigmoid => new(RnnActivationKind.Sigmoid);
    public static RnnActivation Tanh => new(RnnActivationKind.Tanh);

    public float Apply(float x) => Kind switch
    {
        RnnActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        RnnActivationKind.Tanh => MathF.Tanh(x),
        RnnActivationKind.Relu => x > 0f ? x : 0f,
        RnnActivationKind.Affine => Alpha * x + Beta,
        RnnActivationKind.LeakyRelu => x >= 0f ? x : Alpha * x,
        RnnActivationKind.ThresholdedRelu => x > Alpha ? x : 0f,
        RnnActivationKind.ScaledTanh => Alpha * MathF.Tanh(Beta * x),
        RnnActivationKind.HardSigmoid => Math.Clamp(Alpha * x + Beta, 0f, 1f),
        RnnActivationKind.Elu => x >= 0f ? x : Alpha * (MathF.Exp(x) - 1f),
        RnnActivationKind.Softsign => x / (1f + MathF.Abs(x)),
        RnnActivationKind.Softplus => MathF.Log(1f + MathF.Exp(x)),
        _ => x,
    };

    /// <summary>In place over a gate's values; the common gates (sigmoid, tanh, relu) on TensorPrimitives' vector code.</summary>
    public void Apply(Span<float> values)
    {
        switch (Kind)
        {
            case RnnActivationKind.Sigmoid: TensorPrimitives.Sigmoid(values, values); return;
            case RnnActivationKind.Tanh: TensorPrimitives.Tanh(values, values); return;
            case RnnActivationKind.Relu: TensorPrimitives.Max(values, 0f, values); return;
            default:
                for (int i = 0; i < values.Length; i++) values[i] = Apply(values[i]);
                return;
        }
    }

    private static bool TakesAlpha(RnnActivationKind k) => k is RnnActivationKind.Affine or RnnActivationKind.LeakyRelu
        or RnnActivationKind.ThresholdedRelu or RnnActivationKind.ScaledTanh or RnnActivationKind.HardSigmoid or RnnActivationKind.Elu;

    private static bool TakesBeta(RnnActivationKind k) => k is RnnActivationKind.Affine or RnnActivationKind.ScaledTanh or RnnActivationKind.HardSigmoid;

    /// <summary>The default alpha and beta of the ONNX operator of the same name.</summary>
    private static (float Alpha, float Beta) Defaults(RnnActivationKind k) => k switch
    {
        RnnActivationKind.LeakyRelu => (0.01f, 0f),
        RnnActivationKind.HardSigmoid => (0.2f, 0.5f),
        RnnActivationKind.Affine or RnnActivationKind.ScaledTanh or RnnActivationKind.ThresholdedRelu or RnnActivationKind.Elu => (1f, 0f),
        _ => (0f, 0f),
    };

    /// <summary>
    /// The <paramref name="count"/> activations of a node: <paramref name="names"/> (case-insensitive, as ONNX spells
    /// them) or <paramref name="defaults"/> repeated per direction when absent; alphas and betas consumed in order by the
    /// functions that take them, the operator's default where the list runs out.
    /// </summary>
    public static RnnActivation[] Parse(string[]? names, float[]? alphas, float[]? betas, RnnActivation[] defaults, int count, string where)
    {
        if (names is null || names.Length == 0)
            return Enumerable.Range(0, count).Select(i => defaults[i % defaults.Length]).ToArray();
        if (names.Length != count)
            throw new ArgumentException($"{where}: 'activations' lists {names.Length} functions; {count} are needed ({defaults.Length} per direction).");
        var result = new RnnActivation[count];
        int ai = 0, bi = 0;
        for (int i = 0; i < count; i++)
        {
            if (!Enum.TryParse<RnnActivationKind>(names[i], ignoreCase: true, out var kind))
                throw new ArgumentException($"{where}: activation '{names[i]}' is not one of {string.Join(", ", Enum.GetNames<RnnActivationKind>())}.");
            var (alpha, beta) = Defaults(kind);
            if (TakesAlpha(kind) && alphas is not null && ai < alphas.Length) alpha = alphas[ai++];
            if (TakesBeta(kind) && betas is not null && bi < betas.Length) beta = betas[bi++];
            result[i] = new RnnActivation(kind, alpha, beta);
        }
        return result;
    }

    public override string ToString() => TakesAlpha(Kind) ? $"{Kind}({Alpha}{(TakesBeta(Kind) ? $", {Beta}" : "")})" : Kind.ToString();
}
