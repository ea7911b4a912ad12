using System.Globalization;

namespace Lacuna.Onnx;

/// <summary>
/// Reads tensor values stored outside the model (data_location = EXTERNAL; external_data keys "location",
/// "offset", "length"). A model file is untrusted input, so the location may only name a file inside the model's
/// folder: absolute paths and ".." segments are refused, and symbolic links are resolved to real paths that must
/// still lie inside the (real) folder. Offset and length are checked against the file before anything is read.
/// </summary>
internal static class ExternalTensorData
{
    private const int MaxSymlinkHops = 40;

    /// <param name="expectedBytes">Bytes the tensor's dims and type need; the stored span must be exactly this long.</param>
    public static byte[] Read(TensorProto tensor, string? baseDirectory, long expectedBytes)
    {
        string where = $"{TensorProtoData.Where(tensor)} external_data";
        if (baseDirectory is null)
            throw new LacunaFormatException(where, "the tensor is stored in an external file but the model has no folder (parsed from memory); load it from a path.");

        string? location = null;
        long offset = 0, length = -1;
        foreach (var entry in tensor.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseNonNegative(entry.Value, "offset", where); break;
                case "length": length = ParseNonNegative(entry.Value, "length", where); break;
            }
        }
        if (string.IsNullOrEmpty(location)) throw new LacunaFormatException(where, "has no 'location'.");

        string file = ResolveInside(baseDirectory, location, where);
        using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = RandomAccess.GetLength(handle);
        if (offset > fileLength)
            throw new LacunaFormatException(where, $"offset {offset} is beyond the end of '{location}' ({fileLength} bytes).");
        if (length < 0) length = fileLength - offset;
        if (length > fileLength - offset)
            throw new LacunaFormatException(where, $"offset {offset} + length {length} is beyond the end of '{location}' ({fileLength} bytes).");
        if (length != expectedBytes)
            throw new LacunaFormatException(where, $"holds {length} bytes but dims [{string.Join(", ", tensor.Dims)}] of {tensor.DataType} need {expectedBytes}.");
        if (length > Array.MaxLength)
            throw new LacunaFormatException(where, $"length {length} is larger than one array can hold.");

        var bytes = new byte[length];
        int done = 0;
        while (done < bytes.Length)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(done), offset + done);
            if (n <= 0) throw new LacunaFormatException(where, $"'{location}' ended early (file changed while reading?).");
            done += n;
        }
        return bytes;
    }

    private static long ParseNonNegative(string text, string key, string where)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
            throw new LacunaFormatException(where, $"'{key}' = '{text}' is not a non-negative integer.");
        return v;
    }

    /// <summary>The real path of <paramref name="location"/> under <paramref name="baseDirectory"/>; throws when it leaves the folder.</summary>
    internal static string ResolveInside(string baseDirectory, string location, string where)
    {
        if (location.Contains('\0')) throw new LacunaFormatException(where, "location contains a NUL character.");
        if (Path.IsPathRooted(location) || location.StartsWith('/') || location.StartsWith('\\') || location.Contains(':'))
            throw new LacunaFormatException(where, $"location '{location}' is absolute; it must be relative to the model's folder.");
        foreach (var segment in location.Split('/', '\\'))
            if (segment == "..")
                throw new LacunaFormatException(where, $"location '{location}' climbs out with '..'; it must stay inside the model's folder.");

        string realBase = RealPath(Path.GetFullPath(baseDirectory));
        string realFile;
        try { realFile = RealPath(Path.Combine(realBase, location)); }
        catch (IOException e) { throw new LacunaFormatException(where, $"location '{location}': {e.Message}"); }
        string prefix = realBase.EndsWith(Path.DirectorySeparatorChar) ? realBase : realBase + Path.DirectorySeparatorChar;
        if (!realFile.StartsWith(prefix, StringComparison.Ordinal))
            throw new LacunaFormatException(where, $"location '{location}' resolves to '{realFile}', outside the model's folder '{realBase}' (symbolic link?).");
        if (!File.Exists(realFile))
            throw new LacunaFormatException(where, $"location '{location}' is not an existing file in '{realBase}'.");
        return realFile;
    }

    /// <summary>
    /// <paramref name="fullPath"/> with every symbolic link (in any component) replaced by its target, and
    /// "." / ".." applied after links are followed, as the OS would. Loops end after <see cref="MaxSymlinkHops"/>.
    /// </summary>
    internal static string RealPath(string fullPath)
    {
        string root = Path.GetPathRoot(fullPath) ?? throw new IOException($"'{fullPath}' is not absolute.");
        var pending = new Stack<string>();
        PushComponents(pending, fullPath[root.Length..]);
        string current = root;
        int hops = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part.Length == 0 || part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? root; continue; }
            string next = Path.Join(current, part);
            string? target = new FileInfo(next).LinkTarget;
            if (target is null) { current = next; continue; }
            if (++hops > MaxSymlinkHops) throw new IOException($"too many symbolic links resolving '{fullPath}'.");
            PushComponents(pending, Path.IsPathRooted(target) ? target[(Path.GetPathRoot(target)?.Length ?? 0)..] : target);
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target)!;
        }
        return current;
    }

    private static void PushComponents(Stack<string> pending, string relative)
    {
        var parts = relative.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        for (int i = parts.Length - 1; i >= 0; i--) pending.Push(parts[i]);
    }
}
