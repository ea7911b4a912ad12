using System.IO.Compression;
using Lacuna.Training.Data;

namespace Lacuna.Tests.Training;

public sealed class ImageDatasetTests : IDisposable
{
    private const string FashionDir = "/usr/share/datasets/fashion-mnist";
    private readonly string _dir = Directory.CreateTempSubdirectory("lacuna-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteIdx(string name, byte[] bytes, bool gzip)
    {
        string path = Path.Combine(_dir, name + (gzip ? ".gz" : ""));
        if (!gzip) { File.WriteAllBytes(path, bytes); return path; }
        using var f = File.Create(path);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(bytes);
        return path;
    }

    private static byte[] Idx(byte type, int[] dims, byte[] data)
    {
        var b = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (int d in dims) b.AddRange(new[] { (byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d });
        b.AddRange(data);
        return b.ToArray();
    }

    [Fact]
    public void Slice_copies_its_images_and_labels_and_refuses_ranges_outside()
    {
        var images = new float[5 * 2 * 3];
        for (int i = 0; i < images.Length; i++) images[i] = i + 0.5f;
        var ds = new ImageDataset(images, [4, 3, 2, 1, 0], 2, 3, 5);
        var s = ds.Slice(1, 3);
        Assert.Equal(3, s.Count);
        Assert.Equal([3, 2, 1], s.Labels);
        Assert.Equal(images.AsSpan(6, 18).ToArray(), s.Images);
        s.Images[0] = -1;
        Assert.Equal(6.5f, ds.Images[6]); // a copy
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Slice(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.Slice(-1, 1));
        Assert.Contains("dataset-fashion-mnist", Assert.Throws<FileNotFoundException>(() => ImageDataset.LoadFashionMnist(_dir, train: true)).Message);
    }

    [Fact]
    public void Synthetic_idx_pair_loads_normalizes_and_batches_every_image_once()
    {
        var pixels = Enumerable.Range(0, 5 * 2 * 3).Select(i => (byte)(i * 8)).ToArray();
        string images = WriteIdx("img", Idx(8, new[] { 5, 2, 3 }, pixels), gzip: true);
        string labels = WriteIdx("lbl", Idx(8, new[] { 5 }, new byte[] { 3, 1, 4, 1, 5 }), gzip: false);
        var ds = ImageDataset.LoadIdx(images, labels, mean: 0.5f, std: 0.25f, classes: 6);
        Assert.Equal((5, 2, 3), (ds.Count, ds.Height, ds.Width));
        Assert.Equal((pixels[7] / 255f - 0.5f) / 0.25f, ds.Images[7], 5);
        var seen = new List<int>();
        foreach (var (x, y) in ds.Batches(2, seed: 9))
        {
            Assert.Equal(y.Length, x.Shape[0]);
            Assert.Equal(new[] { y.Length, 1, 2, 3 }, x.Shape.AsSpan().ToArray());
            seen.AddRange(y);
            x.Dispose();
        }
        Assert.Equal(new[] { 1, 1, 3, 4, 5 }, seen.Order().ToArray());
        var a = ds.Batches(5, 4, augment: true).First().Images.ToArray();
        var b = ds.Batches(5, 4, augment: true).First().Images.ToArray();
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 8, 1, 0, 0, 0, 1, 7 }, "magic")]
    [InlineData(new byte[] { 0, 0, 0x0D, 1, 0, 0, 0, 1, 7 }, "element type")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 3, 7 }, "truncated")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 1, 7, 7 }, "after")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0xFF, 0, 0, 1 }, "negative")]
    [InlineData(new byte[] { 0, 0, 8, 2, 0x7F, 0, 0, 0, 0x7F, 0, 0, 0 }, "exceed")]
    [InlineData(new byte[] { 0, 0 }, "truncated")]
    public void Malformed_files_are_named_errors(byte[] bytes, string expected)
    {
        string path = WriteIdx("bad.idx", bytes, gzip: false);
        var e = Assert.Throws<LacunaFormatException>(() => IdxReader.Read(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains("bad.idx", e.Message);
    }

    [Fact]
    public void Mismatched_pairs_and_bad_labels_are_rejected()
    {
        string images = WriteIdx("i", Idx(8, new[] { 2, 1, 1 }, new byte[] { 1, 2 }), false);
        string labels3 = WriteIdx("l3", Idx(8, new[] { 3 }, new byte[] { 0, 1, 2 }), false);
        Assert.Contains("3 labels for 2 images", Assert.Throws<LacunaFormatException>(() => ImageDataset.LoadIdx(images, labels3)).Message);
        string labelsBad = WriteIdx("lb", Idx(8, new[] { 2 }, new byte[] { 0, 12 }), false);
        Assert.Equal("labels", Assert.Throws<ArgumentOutOfRangeException>(() => ImageDataset.LoadIdx(images, labelsBad)).ParamName);
    }

    [Fact]
    public void Fashion_mnist_test_set_from_debian_loads()
    {
        Assert.True(Directory.Exists(FashionDir), $"{FashionDir} is missing: install Debian's dataset-fashion-mnist (scripts/install-deps.sh does).");
        var ds = ImageDataset.LoadIdx(Path.Combine(FashionDir, "t10k-images-idx3-ubyte.gz"), Path.Combine(FashionDir, "t10k-labels-idx1-ubyte.gz"));
        Assert.Equal((10000, 28, 28), (ds.Count, ds.Height, ds.Width));
        Assert.All(ds.Labels.GroupBy(l => l), g => Assert.Equal(1000, g.Count()));
        double mean = ds.Images.Average(v => (double)v);
        Assert.InRange(mean, -0.05, 0.05); // normalized with the training-set statistics
    }
}
