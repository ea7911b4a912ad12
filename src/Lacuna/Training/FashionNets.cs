using Lacuna.Training.Layers;

namespace Lacuna.Training;

/// <summary>
/// The networks `lacuna train` trains on 28x28 grey images (Fashion-MNIST). All convs are 3x3 stride 1 "same" (or 1x1),
/// the shapes the SparseTrain kernels handle; resolution drops by pooling.
/// </summary>
public static class FashionNets
{
    public static readonly string[] Names = ["vgg", "resnet"];

    public static Network Build(string name, int width = 32, ulong seed = 1, int classes = 10) => name switch
    {
        "vgg" => Vgg(width, seed, classes),
        "resnet" => ResNet(width, seed, classes),
        _ => throw new ArgumentException($"Unknown network '{name}' (known: {string.Join(", ", Names)}).", nameof(name)),
    };

    /// <summary>
    /// VGG-style: [conv-ReLU]×2 per stage at width w, 2w, 4w (28, 14, 7 pixels), max-pool between stages, then
    /// FC 4w·3·3 → 8w with dropout, FC → classes. No BatchNorm between conv and ReLU, so every conv's dy is exactly as
    /// sparse as the ReLU after it and every non-initial conv's x as sparse as the ReLU before it.
    /// </summary>
    public static Network Vgg(int width = 32, ulong seed = 1, int classes = 10)
    {
        if (width < 1) ThrowHelper.OutOfRange(nameof(width), width, "Width must be at least 1.");
        var layers = new List<Layer>();
        int c = 1, s = 0;
        int[] stages = [width, 2 * width, 4 * width];
        for (int st = 0; st < stages.Length; st++)
        {
            for (int i = 0; i < 2; i++)
            {
                string n = $"conv{st + 1}_{i + 1}";
                layers.Add(new Conv2d(n, c, stages[st], 3, seed: seed + (ulong)s++));
                layers.Add(new Relu(n + ".relu"));
                c = stages[st];
            }
            layers.Add(new MaxPool2d($"pool{st + 1}", 2));
        }
        layers.Add(new Flatten("flatten"));
        layers.Add(new Dropout("drop1", 0.3f, seed + 100));
        layers.Add(new Linear("fc1", c * 3 * 3, 8 * width, seed + (ulong)s++));
        layers.Add(new Relu("fc1.relu"));
        layers.Add(new Dropout("drop2", 0.3f, seed + 101));
        layers.Add(new Linear("fc2", 8 * width, classes, seed + (ulong)s));
        return new Network("fashion-vgg", new Sequential("vgg", [.. layers]), 1, 28, 28, classes);
    }

    /// <summary>
    /// A small ResNet: stem conv(w)-BN-ReLU at 28 px, max-pool, two basic blocks at w (14 px), average-pool, a block with
    /// a 1x1 projection to 2w and one more block (7 px), global average pool, FC → classes. Basic block:
    /// ReLU(conv-BN-ReLU-conv-BN + shortcut).
    /// </summary>
    public static Network ResNet(int width = 32, ulong seed = 1, int classes = 10)
    {
        if (width < 1) ThrowHelper.OutOfRange(nameof(width), width, "Width must be at least 1.");
        ulong s = seed;
        var layers = new List<Layer>
        {
            new Conv2d("stem.conv", 1, width, 3, bias: false, seed: s++),
            new BatchNorm2d("stem.bn", width),
            new Relu("stem.relu"),
            new MaxPool2d("stem.pool", 2),
        };
        Layer Block(string name, int cin, int cout)
        {
            var body = new Sequential(name + ".body",
                new Conv2d(name + ".conv1", cin, cout, 3, bias: false, seed: s++),
                new BatchNorm2d(name + ".bn1", cout),
                new Relu(name + ".relu1"),
                new Conv2d(name + ".conv2", cout, cout, 3, bias: false, seed: s++),
                new BatchNorm2d(name + ".bn2", cout));
            Layer? shortcut = cin == cout ? null : new Sequential(name + ".proj",
                new Conv2d(name + ".proj.conv", cin, cout, 1, bias: false, seed: s++),
                new BatchNorm2d(name + ".proj.bn", cout));
            return new Sequential(name, new Residual(name + ".add", body, shortcut), new Relu(name + ".relu"));
        }
        layers.Add(Block("block1", width, width));
        layers.Add(Block("block2", width, width));
        layers.Add(new AvgPool2d("pool2", 2));
        layers.Add(Block("block3", width, 2 * width));
        layers.Add(Block("block4", 2 * width, 2 * width));
        layers.Add(new AvgPool2d("gap", global: true));
        layers.Add(new Flatten("flatten"));
        layers.Add(new Linear("fc", 2 * width, classes, s));
        return new Network("fashion-resnet", new Sequential("resnet", [.. layers]), 1, 28, 28, classes);
    }
}
