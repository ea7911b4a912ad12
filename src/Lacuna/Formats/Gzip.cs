using System.IO.Compression;

namespace Lacuna.Formats;

/// <summary>
/// Whole-file gzip decompression that notices truncation. <see cref="GZipStream"/> returns whatever it could
/// inflate when a file ends early (it does not check the trailer), so a cut-off download would otherwise parse
/// as a shorter file. A single-member gzip file ends with CRC-32 and ISIZE (RFC 1952 §2.3.1); both must match.
/// </summary>
internal static class Gzip
{
    private const int HeaderAndTrailerBytes = 18;

    /// <summary>Decompresses <paramref name="path"/>; throws <see cref="LacunaFormatException"/> naming the file when it is not intact gzip.</summary>
    public static byte[] ReadAllBytesChecked(string path)
    {
        byte[] compressed = File.ReadAllBytes(path);
        string name = Path.GetFileName(path);
        if (compressed.Length < HeaderAndTrailerBytes)
            ThrowHelper.Format(name, $"gzip file is truncated: {compressed.Length} bytes, fewer than a gzip header and trailer ({HeaderAndTrailerBytes}).");
        if (compressed[0] != 0x1f || compressed[1] != 0x8b)
            ThrowHelper.Format(name, $"not a gzip file (starts with {compressed[0]:x2} {compressed[1]:x2}, not 1f 8b).");
        byte[] data;
        try
        {
            using var gz = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gz.CopyTo(output);
            data = output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new LacunaFormatException(name, $"gzip file is truncated or corrupt ({e.Message}).");
        }
        uint crc = BitConverter.ToUInt32(compressed, compressed.Length - 8);
        uint size = BitConverter.ToUInt32(compressed, compressed.Length - 4);
        if (size != (uint)data.Length || crc != Crc32(data))
            ThrowHelper.Format(name, $"gzip file is truncated or corrupt: its trailer says {size} bytes with CRC {crc:x8}, " +
                $"but {data.Length} bytes with CRC {Crc32(data):x8} were decompressed.");
        return data;
    }

    private static readonly uint[] s_table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>The gzip/zlib CRC-32 (reflected polynomial 0xEDB88320).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data) c = s_table[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }
}
