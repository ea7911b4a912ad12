using System.Buffers.Binary;
using System.IO.Compression;

namespace Lacuna.Training.Data;

/// <summary>
/// Reads IDX files (the MNIST / Fashion-MNIST format), plain or gzip: big-endian magic 0x0000TTNN where TT is the
/// element type (only 0x08, unsigned byte, is accepted) and NN the rank, then NN big-endian int32 dimensions,
/// then the elements. The data length must match the dimensions exactly; errors name the file and what is wrong.
/// </summary>
public static class IdxReader
{
    /// <summary>At most this many elements (a 28x28 dataset of 100k images is 78M), so a corrupt header can't allocate gigabytes.</summary>
    public const long MaxElements = 1L << 30;

    public static (int[] Dims, byte[] Data) Read(string path)
    {
        if (path is null) ThrowHelper.ArgumentNull(nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file not found: {path}", path);
        string name = Path.GetFileName(path);
        try
        {
            using var file = File.OpenRead(path);
            using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
            return Read(s, name);
        }
        catch (InvalidDataException e)
        {
            throw new LacunaFormatException(name, $"not a valid gzip stream ({e.Message}).");
        }
    }

    public static (int[] Dims, byte[] Data) Read(Stream stream, string name)
    {
        Span<byte> header = stackalloc byte[4];
        ReadExactly(stream, header, name, "the magic number");
        if (header[0] != 0 || header[1] != 0)
            ThrowHelper.Format(name, $"bad magic {Convert.ToHexString(header)}: the first two bytes of an IDX file are zero.");
        if (header[2] != 0x08)
            ThrowHelper.Format(name, $"element type 0x{header[2]:X2} is not supported (only 0x08, unsigned byte).");
        int rank = header[3];
        if (rank < 1 || rank > 4) ThrowHelper.Format(name, $"rank {rank} is outside 1..4.");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            ReadExactly(stream, header, name, $"dimension {i}");
            int d = BinaryPrimitives.ReadInt32BigEndian(header);
            if (d < 0) ThrowHelper.Format(name, $"dimension {i} is negative ({d}).");
            dims[i] = d;
            count *= d;
            if (count > MaxElements) ThrowHelper.Format(name, $"dimensions [{string.Join(", ", dims[..(i + 1)])}] exceed {MaxElements} elements.");
        }
        var data = new byte[count];
        ReadExactly(stream, data, name, $"{count} data bytes");
        if (stream.ReadByte() != -1) ThrowHelper.Format(name, $"has data after the {count} elements its dimensions describe.");
        return (dims, data);
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string name, string what)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer[total..]);
            if (n == 0) ThrowHelper.Format(name, $"truncated while reading {what} ({total} of {buffer.Length} bytes).");
            total += n;
        }
    }
}
