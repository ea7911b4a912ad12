namespace Lacuna.Onnx;

/// <summary>
/// Writes a file by writing a temporary file beside it, flushing it to disk, then renaming it over the target.
/// The rename is atomic on one file system, so readers see the old file or the new one, never half of one,
/// and a write that fails leaves the old file untouched (the temporary file is deleted).
/// </summary>
internal static class AtomicFile
{
    /// <param name="wrap">Test hook: wraps the file stream (e.g. to inject a failure part-way).</param>
    public static void Write(string path, Action<Stream> write, Func<Stream, Stream>? wrap = null)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var stream = wrap?.Invoke(fs) ?? fs;
                write(stream);
                stream.Flush();
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
