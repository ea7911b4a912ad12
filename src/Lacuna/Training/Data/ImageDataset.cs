using Lacuna.Tensors;

namespace Lacuna.Training.Data;

/// <summary>
/// A labelled single-channel image dataset in memory: images normalized to (x/255 - Mean) / Std as float32 [N, 1, H, W],
/// labels in [0, Classes). Batches are drawn in a seeded shuffled order, optionally augmented.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>Fashion-MNIST's training-set pixel mean and standard deviation (of x/255).</summary>
    public const float FashionMean = 0.2860f, FashionStd = 0.3530f;

    public ImageDataset(float[] images, int[] labels, int height, int width, int classes)
    {
        if (images is null) ThrowHelper.ArgumentNull(nameof(images));
        if (labels is null) ThrowHelper.ArgumentNull(nameof(labels));
        if ((long)labels.Length * height * width != images.Length)
            ThrowHelper.Shape(nameof(images), $"{images.Length} pixels do not make {labels.Length} images of {height}x{width}.");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classes)
                ThrowHelper.OutOfRange(nameof(labels), labels[i], $"Label {i} is {labels[i]}, outside [0, {classes}).");
        Images = images; Labels = labels; Height = height; Width = width; Classes = classes;
    }

    public float[] Images { get; }
    public int[] Labels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }
    public int Count => Labels.Length;

    /// <summary>Where Debian's dataset-fashion-mnist installs the IDX files (scripts/install-deps.sh installs it).</summary>
    public const string FashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>
    /// Fashion-MNIST's training (60,000) or test (10,000) split from <paramref name="directory"/>, each file gzipped or
    /// not; a missing file is a <see cref="FileNotFoundException"/> saying how to install it.
    /// </summary>
    public static ImageDataset LoadFashionMnist(string directory, bool train)
    {
        string prefix = train ? "train" : "t10k";
        string Find(string stem)
        {
            foreach (string name in new[] { stem + ".gz", stem })
                if (File.Exists(Path.Combine(directory, name))) return Path.Combine(directory, name);
            throw new FileNotFoundException($"{stem}(.gz) not found in {directory}: install Debian's dataset-fashion-mnist (bash scripts/install-deps.sh) or pass --data DIR.");
        }
        return LoadIdx(Find(prefix + "-images-idx3-ubyte"), Find(prefix + "-labels-idx1-ubyte"));
    }

    /// <summary>Images [start, start + count) as a dataset of their own (copies).</summary>
    public ImageDataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
            ThrowHelper.OutOfRange(nameof(count), $"{start}+{count}", $"The slice must lie within the {Count} images.");
        int pixels = Height * Width;
        return new ImageDataset(Images.AsSpan(start * pixels, count * pixels).ToArray(), Labels.AsSpan(start, count).ToArray(), Height, Width, Classes);
    }

    /// <summary>Loads an IDX images/labels pair (e.g. Fashion-MNIST's <c>train-images-idx3-ubyte.gz</c>, <c>train-labels-idx1-ubyte.gz</c>).</summary>
    public static ImageDataset LoadIdx(string imagesPath, string labelsPath, float mean = FashionMean, float std = FashionStd, int classes = 10)
    {
        var (idims, pixels) = IdxReader.Read(imagesPath);
        var (ldims, labelBytes) = IdxReader.Read(labelsPath);
        if (idims.Length != 3) ThrowHelper.Format(Path.GetFileName(imagesPath), $"images must be rank 3 [N, H, W]; got rank {idims.Length}.");
        if (ldims.Length != 1) ThrowHelper.Format(Path.GetFileName(labelsPath), $"labels must be rank 1 [N]; got rank {ldims.Length}.");
        if (idims[0] != ldims[0])
            ThrowHelper.Format(Path.GetFileName(labelsPath), $"{ldims[0]} labels for {idims[0]} images.");
        if (!(std > 0)) ThrowHelper.OutOfRange(nameof(std), std, "Standard deviation must be positive.");
        var images = new float[pixels.Length];
        float scale = 1f / (255f * std), shift = mean / std;
        for (int i = 0; i < pixels.Length; i++) images[i] = pixels[i] * scale - shift;
        var labels = Array.ConvertAll(labelBytes, b => (int)b);
        return new ImageDataset(images, labels, idims[1], idims[2], classes);
    }

    /// <summary>
    /// The batches of one epoch in a seeded random order (the last may be smaller). With <paramref name="augment"/>,
    /// each image is flipped horizontally with probability 1/2 and shifted by up to <paramref name="maxShift"/> pixels
    /// (zero fill, which is the normalized value of a background pixel only approximately; it is what random-crop with
    /// padding does).
    /// </summary>
    public IEnumerable<(Tensor Images, int[] Labels)> Batches(int batchSize, ulong seed, bool augment = false, int maxShift = 2)
    {
        if (batchSize < 1) ThrowHelper.OutOfRange(nameof(batchSize), batchSize, "Batch size must be at least 1.");
        var order = new int[Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var rng = new DeterministicRandom(seed);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        int pixels = Height * Width;
        for (int start = 0; start < Count; start += batchSize)
        {
            int n = Math.Min(batchSize, Count - start);
            var x = new Tensor(n, 1, Height, Width);
            var y = new int[n];
            var dst = x.Span;
            for (int b = 0; b < n; b++)
            {
                int idx = order[start + b];
                y[b] = Labels[idx];
                var src = Images.AsSpan(idx * pixels, pixels);
                var outImg = dst.Slice(b * pixels, pixels);
                if (!augment) { src.CopyTo(outImg); continue; }
                bool flip = (rng.NextUInt64() & 1) == 1;
                int dy = rng.NextInt(2 * maxShift + 1) - maxShift, dx = rng.NextInt(2 * maxShift + 1) - maxShift;
                for (int r = 0; r < Height; r++)
                    for (int c = 0; c < Width; c++)
                    {
                        int sr = r + dy, sc = (flip ? Width - 1 - c : c) + dx;
                        outImg[r * Width + c] = (uint)sr < (uint)Height && (uint)sc < (uint)Width ? src[sr * Width + sc] : 0f;
                    }
            }
            yield return (x, y);
        }
    }
}
