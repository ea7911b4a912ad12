using Lacuna.Onnx;

namespace Lacuna.Tests.Onnx;

/// <summary>Save writes a temporary file and renames it: a failed save leaves the previous file intact.</summary>
public sealed class OnnxModelSaveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-save-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SaveThenLoadGivesTheSameModel()
    {
        var model = new OnnxModel(OnnxTestModels.EveryField());
        string path = Path.Combine(_dir, "m.onnx");
        model.Save(path);
        var loaded = OnnxModel.Load(path);
        Assert.True(model.Proto.ContentEquals(loaded.Proto));
        Assert.Equal(model.ToBytes(), File.ReadAllBytes(path));
        Assert.Equal(_dir, loaded.BaseDirectory);
        Assert.Single(Directory.GetFiles(_dir)); // no temporary file left behind
    }

    [Fact]
    public void FailureMidWriteLeavesTheOldFileIntact()
    {
        string path = Path.Combine(_dir, "m.onnx");
        var old = new OnnxModel(OnnxTestModels.ConvNet(seed: 1));
        old.Save(path);
        byte[] before = File.ReadAllBytes(path);

        var replacement = new OnnxModel(OnnxTestModels.ConvNet(seed: 2));
        var e = Assert.Throws<IOException>(() => replacement.Save(path, s => new FailingStream(s, failAfter: 1000)));
        Assert.Equal("disk full (simulated)", e.Message);

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));
        replacement.Save(path); // and a later good save replaces it
        Assert.True(replacement.Proto.ContentEquals(OnnxModel.Load(path).Proto));
    }

    [Fact]
    public void SavingIntoAMissingFolderFailsWithoutCreatingAnything()
    {
        string path = Path.Combine(_dir, "no-such-folder", "m.onnx");
        Assert.ThrowsAny<IOException>(() => new OnnxModel(OnnxTestModels.ConvNet()).Save(path));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    /// <summary>Passes writes through until <c>failAfter</c> bytes, then throws as a full disk would.</summary>
    private sealed class FailingStream(Stream inner, long failAfter) : Stream
    {
        private long _written;

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > failAfter) throw new IOException("disk full (simulated)");
            inner.Write(buffer);
            _written += buffer.Length;
        }

        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
