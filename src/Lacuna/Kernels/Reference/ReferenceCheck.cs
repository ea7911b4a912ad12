using Lacuna.Tensors;

namespace Lacuna.Kernels.Reference;

/// <summary>Boundary checks shared by the reference operators; every message names the operator, the argument and the shapes.</summary>
internal static class ReferenceCheck
{
    /// <summary>Validates a shape (no negative dimension) and returns its element count (1 for rank 0).</summary>
    public static int Count(ReadOnlySpan<int> shape, string paramName, string op)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) ThrowHelper.Shape(paramName, $"{op}: shape {Broadcast.Format(shape)} of '{paramName}' has a negative dimension.");
            n *= d;
            if (n > int.MaxValue) ThrowHelper.Shape(paramName, $"{op}: shape {Broadcast.Format(shape)} of '{paramName}' has more than int.MaxValue elements.");
        }
        return (int)n;
    }

    /// <summary>Checks that a data span holds exactly the elements its shape describes.</summary>
    public static void Data(int length, ReadOnlySpan<int> shape, string paramName, string op)
    {
        int n = Count(shape, paramName, op);
        if (length != n)
            ThrowHelper.Shape(paramName, $"{op}: '{paramName}' has {length} elements but its shape {Broadcast.Format(shape)} needs {n}.");
    }

    /// <summary>Checks that the output span can hold the result.</summary>
    public static void Output(int length, ReadOnlySpan<int> outputShape, string op)
    {
        int n = Count(outputShape, "output", op);
        if (length < n)
            ThrowHelper.Shape("output", $"{op}: 'output' has {length} elements but the output shape {Broadcast.Format(outputShape)} needs {n}.");
    }

    /// <summary>Normalizes an axis in [-rank, rank - 1] (or [-rank, rank] when <paramref name="inclusiveEnd"/>, as Flatten allows) to a non-negative axis.</summary>
    public static int Axis(long axis, int rank, string paramName, string op, bool inclusiveEnd = false)
    {
        int upper = inclusiveEnd ? rank : rank - 1;
        int lower = -rank;
        if (axis < lower || axis > upper)
            ThrowHelper.OutOfRange(paramName, axis, $"{op}: {paramName}={axis} is outside [{lower}, {upper}] for rank {rank}.");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>Row-major strides of a shape, in elements.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    public static int Product(ReadOnlySpan<int> dims)
    {
        long n = 1;
        foreach (int d in dims) n *= d;
        return (int)n;
    }
}
