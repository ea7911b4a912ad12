using System.Diagnostics.CodeAnalysis;

namespace Lacuna;

/// <summary>
/// The one place public entry points throw from. Kernels never validate (they <c>Debug.Assert</c>);
/// the boundary does, and every message names the argument and the shapes involved.
/// </summary>
public static class ThrowHelper
{
    [DoesNotReturn]
    public static void Argument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void ArgumentNull(string paramName) =>
        throw new ArgumentNullException(paramName);

    [DoesNotReturn]
    public static void OutOfRange(string paramName, object? actual, string message) =>
        throw new ArgumentOutOfRangeException(paramName, actual, message);

    [DoesNotReturn]
    public static void Shape(string paramName, string message) =>
        throw new ShapeMismatchException(paramName, message);

    [DoesNotReturn]
    public static void Format(string where, string message) =>
        throw new LacunaFormatException(where, message);

    [DoesNotReturn]
    public static void NotSupported(string message) =>
        throw new NotSupportedException(message);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when <paramref name="value"/> is negative.</summary>
    public static void IfNegative(int value, string paramName)
    {
        if (value < 0) OutOfRange(paramName, value, $"'{paramName}' must be non-negative but was {value}.");
    }

    /// <summary>Throws when a span is shorter than the layout requires.</summary>
    public static void IfTooShort(int actual, long required, string paramName, string layout)
    {
        if (actual < required)
            Shape(paramName, $"'{paramName}' has {actual} elements but {layout} needs {required}.");
    }
}

/// <summary>Shapes of arguments don't agree. <see cref="ArgumentException.ParamName"/> names the argument.</summary>
public sealed class ShapeMismatchException : ArgumentException
{
    public ShapeMismatchException(string paramName, string message) : base(message, paramName) { }
}

/// <summary>A file or in-memory format is malformed; <see cref="Where"/> says where (tensor, row, byte offset).</summary>
public sealed class LacunaFormatException : FormatException
{
    public string Where { get; }

    public LacunaFormatException(string where, string message) : base($"{where}: {message}") => Where = where;
}
