using System.CommandLine;
using Lacuna.Onnx.Zoo;

namespace Lacuna.Cli.Commands;

/// <summary><c>lacuna zoo list | export</c>: standard CNNs as ONNX with seeded (optionally pruned or DLMC) weights.</summary>
public static class ZooCommand
{
    public static Command Build()
    {
        var zoo = new Command("zoo", "Standard CNNs (ResNet-50/18, VGG-16, MobileNetV1/V2, DenseNet-121, GoogLeNet) and transformer encoders (BERT-base, Transformer-base) built as ONNX with seeded weights.");
        zoo.Subcommands.Add(List());
        zoo.Subcommands.Add(Export());
        return zoo;
    }

    private static Command List()
    {
        var cmd = new Command("list", "Names, parameter counts and FLOPs at batch 1 (2 per conv/Gemm multiply-accumulate).");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($"{"name",-17} {"parameters",14} {"GFLOPs",8} {"layers",7}  description");
            foreach (var e in ZooBuilder.Entries)
            {
                var m = ZooBuilder.Build(e.Name, new ZooOptions(WithWeights: false));
                Console.WriteLine($"{e.Name,-17} {m.ParameterCount,14:N0} {m.Flops / 1e9,8:F3} {m.Layers.Count,7}  {e.Description}");
            }
            return 0;
        });
        return cmd;
    }

    private static Command Export()
    {
        var name = new Argument<string>("name") { Description = $"Model: {string.Join(", ", ZooBuilder.Names)}." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The .onnx file to write (atomically).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Weight seed.", DefaultValueFactory = _ => 1UL };
        var sparsity = new Option<double>("--sparsity") { Description = "Magnitude-prune every conv/Gemm weight but the first conv to this fraction of zeros (within --pattern)." };
        var pattern = CommonOptions.Pattern();
        var pruneFirst = new Option<bool>("--prune-first-conv") { Description = "Prune the first conv as well." };
        var dlmc = new Option<DirectoryInfo?>("--dlmc") { Description = "DLMC folder of one method and sparsity (e.g. .../rn50/magnitude_pruning/0.9 for resnet50, .../transformer/magnitude_pruning/0.9 for transformer-base)." };
        var imageSize = new Option<int?>("--image-size") { Description = "Input height and width (mobilenetv2, densenet121, googlenet: 32 and up; default 224)." };
        var seq = new Option<int?>("--seq") { Description = "Transformers (bert-base, transformer-base): the exported sequence length (default: symbolic)." };
        var cmd = new Command("export", "Build a zoo model and save it as ONNX.") { name, output, seed, sparsity, pattern, pruneFirst, dlmc, imageSize, seq };
        cmd.SetAction(pr =>
        {
            var (p, error) = CommonOptions.ParsePattern(pr.GetValue(pattern)!);
            error ??= CommonOptions.CheckPatternSparsity(p!, pr.GetValue(sparsity));
            if (error is not null) { Console.Error.WriteLine($"error: {error}"); return 2; }
            var options = new ZooOptions(pr.GetValue(seed), pr.GetValue(sparsity), pr.GetValue(pruneFirst), pr.GetValue(dlmc)?.FullName,
                ImageSize: pr.GetValue(imageSize), Pattern: p, SequenceLength: pr.GetValue(seq));
            ZooModel model;
            try
            {
                model = ZooBuilder.Build(pr.GetValue(name)!, options);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException)
            {
                Console.Error.WriteLine($"error: {CommonOptions.Message(e)}");
                return 2;
            }
            string path = pr.GetValue(output)!.FullName;
            model.Model.Save(path);
            Console.WriteLine($"{model.Name}: {model.ParameterCount:N0} parameters, {model.Flops / 1e9:F3} GFLOPs at batch 1");
            Console.WriteLine($"weight sparsity {model.WeightSparsity:P2} over {model.Layers.Count} conv/Gemm/linear layers"
                + (model.Pattern is { } pat ? $", pattern {pat}" : ""));
            if (model.Dlmc is { } d)
            {
                Console.WriteLine($"DLMC: {d.Mapped} of {d.Expected} layers mapped from {d.Directory}");
                if (d.UnusedFiles.Count > 0) Console.WriteLine($"DLMC files not mapped: {string.Join(", ", d.UnusedFiles)}");
            }
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length:N0} bytes)");
            return 0;
        });
        return cmd;
    }
}
