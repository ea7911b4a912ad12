using System.Buffers.Binary;
using System.IO.Compression;

namespace Lacuna.Tests.TestUtil;

/// <summary>
/// A PNG decoder for what headless Chromium writes (8-bit RGB or RGBA, not interlaced): enough to check that a
/// screenshot has the requested size and really shows something, without an imaging library.
/// </summary>
internal sealed class PngImage
{
    public int Width { get; }
    public int Height { get; }
    private readonly byte[] _pixels; // RGB or RGBA rows, unfiltered
    private readonly int _channels;

    private PngImage(int width, int height, int channels, byte[] pixels) => (Width, Height, _channels, _pixels) = (width, height, channels, pixels);

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            int i = (y * Width + x) * _channels;
            return (_pixels[i], _pixels[i + 1], _pixels[i + 2]);
        }
    }

    public static PngImage Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (file.Length < 8 || !file.AsSpan(0, 8).SequenceEqual(signature)) throw new FormatException($"{path}: not a PNG file");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (int at = 8; at + 8 <= file.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
            var data = file.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                byte depth = data[8], color = data[9], interlace = data[12];
                if (depth != 8 || color is not (2 or 6) || interlace != 0)
                    throw new NotSupportedException($"{path}: PNG with bit depth {depth}, colour type {color}, interlace {interlace}; expected 8-bit RGB(A), not interlaced");
                channels = color == 2 ? 3 : 4;
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            at += 12 + length; // length, type, data, CRC
        }
        if (channels == 0) throw new FormatException($"{path}: PNG without IHDR");
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(inflated);
        return new PngImage(width, height, channels, Unfilter(inflated.ToArray(), width, height, channels));
    }

    /// <summary>Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth).</summary>
    private static byte[] Unfilter(byte[] raw, int width, int height, int bpp)
    {
        int stride = width * bpp;
        if (raw.Length < height * (stride + 1)) throw new FormatException("PNG image data is shorter than its size says");
        var pixels = new byte[height * stride];
        for (int y = 0; y < height; y++)
        {
            byte filter = raw[y * (stride + 1)];
            var src = raw.AsSpan(y * (stride + 1) + 1, stride);
            var row = pixels.AsSpan(y * stride, stride);
            ReadOnlySpan<byte> up = y > 0 ? pixels.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
                int predicted = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new FormatException($"PNG row {y} has unknown filter {filter}"),
                };
                row[i] = (byte)(src[i] + predicted);
            }
        }
        return pixels;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
