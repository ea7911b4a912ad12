using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lacuna.Training;

/// <summary>
/// A training checkpoint: JSON metadata (network, options, progress, history) and named float arrays (parameters,
/// masks, BatchNorm statistics, optimizer state). File layout, little-endian:
/// "LCNACKPT" · u32 version · u32 metadata bytes · metadata (UTF-8 JSON) · u32 array count ·
/// per array { u16 name bytes · name · u32 floats · floats } · u64 FNV-1a hash of everything before it.
/// <see cref="Save"/> writes a temporary file in the same folder, flushes it to disk and renames it over the target,
/// so a crash or a full disk leaves the previous checkpoint intact. <see cref="Load"/> verifies the hash and every length.
/// </summary>
public sealed class Checkpoint
{
    private static readonly byte[] Magic = "LCNACKPT"u8.ToArray();
    public const uint Version = 1;

    public Checkpoint(JsonObject metadata, IReadOnlyList<(string Name, float[] Data)> arrays)
    {
        Metadata = metadata; Arrays = arrays;
    }

    public JsonObject Metadata { get; }
    public IReadOnlyList<(string Name, float[] Data)> Arrays { get; }

    public void Save(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var hash = new Fnv1a64Stream(fs);
                Write(hash);
                Span<byte> tail = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(tail, hash.Hash);
                fs.Write(tail);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    private void Write(Stream s)
    {
        s.Write(Magic);
        WriteU32(s, Version);
        byte[] meta = Encoding.UTF8.GetBytes(Metadata.ToJsonString());
        WriteU32(s, (uint)meta.Length);
        s.Write(meta);
        WriteU32(s, (uint)Arrays.Count);
        Span<byte> h = stackalloc byte[2];
        foreach (var (name, data) in Arrays)
        {
            byte[] n = Encoding.UTF8.GetBytes(name);
            if (n.Length > ushort.MaxValue) ThrowHelper.Argument(nameof(Arrays), $"Array name '{name[..40]}…' is too long.");
            BinaryPrimitives.WriteUInt16LittleEndian(h, (ushort)n.Length);
            s.Write(h);
            s.Write(n);
            WriteU32(s, (uint)data.Length);
            s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        }
    }

    public static Checkpoint Load(string path)
    {
        string file = Path.GetFileName(path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path); }
        if (!BitConverter.IsLittleEndian) ThrowHelper.NotSupported("Checkpoints are little-endian; this machine is not.");
        if (bytes.Length < Magic.Length + 20 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            ThrowHelper.Format(file, "not a Lacuna checkpoint (the file does not start with LCNACKPT).");
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8));
        if (Fnv1a64Stream.Compute(bytes.AsSpan(0, bytes.Length - 8)) != stored)
            ThrowHelper.Format(file, "checksum mismatch: the checkpoint is truncated or corrupted.");
        var r = new Reader(bytes.AsSpan(0, bytes.Length - 8).ToArray(), file) { Offset = Magic.Length };
        uint version = r.U32("version");
        if (version != Version) ThrowHelper.Format(file, $"checkpoint version {version}; this build reads version {Version}.");
        int metaLength = r.Length("metadata", 1);
        JsonObject meta;
        try { meta = JsonNode.Parse(r.Bytes(metaLength, "metadata"))?.AsObject() ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new LacunaFormatException(file, $"metadata is not a JSON object: {e.Message}"); }
        int count = r.Length("array count", 2 + 4);
        var arrays = new List<(string, float[])>(count);
        for (int i = 0; i < count; i++)
        {
            int nameLength = r.U16($"array {i} name length");
            string name = Encoding.UTF8.GetString(r.Bytes(nameLength, $"array {i} name"));
            int floats = r.Length($"array '{name}' length", 4);
            var data = new float[floats];
            r.Bytes(floats * 4, $"array '{name}'").CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
            arrays.Add((name, data));
        }
        if (r.Offset != r.Data.Length) ThrowHelper.Format(file, $"{r.Data.Length - r.Offset} unexpected bytes after the last array.");
        return new Checkpoint(meta, arrays);
    }

    private static void WriteU32(Stream s, uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        s.Write(b);
    }

    private sealed class Reader(byte[] data, string file)
    {
        public byte[] Data { get; } = data;
        public int Offset { get; set; }

        public ReadOnlySpan<byte> Bytes(int n, string what)
        {
            if (n < 0 || Offset + (long)n > Data.Length)
                ThrowHelper.Format(file, $"truncated at byte {Offset} reading {what} ({n} bytes).");
            var s = Data.AsSpan(Offset, n);
            Offset += n;
            return s;
        }

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, what));
        public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, what));

        /// <summary>A u32 count, each unit of which needs at least <paramref name="unit"/> more bytes.</summary>
        public int Length(string what, int unit)
        {
            uint v = U32(what);
            if ((long)v * unit > Data.Length - Offset)
                ThrowHelper.Format(file, $"{what} is {v}, more than the {Data.Length - Offset} bytes left can hold.");
            return (int)v;
        }
    }

    /// <summary>Passes writes through while hashing them (FNV-1a, 64-bit).</summary>
    private sealed class Fnv1a64Stream(Stream inner) : Stream
    {
        private const ulong Offset64 = 14695981039346656037, Prime = 1099511628211;
        public ulong Hash { get; private set; } = Offset64;

        public static ulong Compute(ReadOnlySpan<byte> data)
        {
            ulong h = Offset64;
            foreach (byte b in data) h = (h ^ b) * Prime;
            return h;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ulong h = Hash;
            foreach (byte b in buffer) h = (h ^ b) * Prime;
            Hash = h;
            inner.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
