using Lacuna.Graph;
using Lacuna.Onnx;
using Lacuna.Onnx.Import;
using Lacuna.Pruning;
using Lacuna.Tensors;
using Lacuna.Training.Data;

namespace Lacuna.Cli.Commands;

public static partial class PruneCommand
{
    /// <summary>Where Debian's dataset-fashion-mnist installs the test set.</summary>
    internal const string FashionMnistDirectory = ImageDataset.FashionMnistDirectory;

    /// <summary>
    /// A calibration set and how a model is scored on it: labelled images (score = accuracy, budget = a fraction of the
    /// dense model's) or input tensors (score = −relative output error against the dense model, budget = a bound).
    /// </summary>
    internal sealed class Calibration
    {
        private readonly ImageDataset? _images;
        private readonly int _count;
        private readonly List<IReadOnlyDictionary<string, Tensor>>? _feeds;
        private float[]? _reference;

        private readonly string _input;

        private Calibration(ImageDataset? images, int count, List<IReadOnlyDictionary<string, Tensor>>? feeds, string source, string input)
        {
            _images = images; _count = count; _feeds = feeds; Source = source; _input = input;
        }

        public string Source { get; }
        public bool HasLabels => _images is not null;
        public int Batch { get; init; } = 250;

        /// <summary>
        /// "fashion-mnist" (the last <paramref name="images"/> of its training images: a search tuned on test images
        /// would report an optimistic test accuracy) or a folder of input_N.pb tensors.
        /// </summary>
        public static Calibration Load(string spec, int images, ModelGraph model)
        {
            var runtime = model.Inputs.Where(i => !model.Initializers.ContainsKey(i.Name)).ToList();
            if (runtime.Count == 0) throw new ArgumentException("the model has no runtime input to calibrate with.");
            if (spec.Equals("fashion-mnist", StringComparison.OrdinalIgnoreCase))
            {
                string dir = FashionMnistDirectory;
                var all = ImageDataset.LoadFashionMnist(dir, train: true);
                int n = Math.Min(images, all.Count);
                var data = all.Slice(all.Count - n, n);
                return new Calibration(data, n, null, $"fashion-mnist train, last {n} images", runtime[0].Name);
            }
            if (!Directory.Exists(spec))
                throw new DirectoryNotFoundException($"--calibration '{spec}' is neither fashion-mnist nor a folder of input_N.pb tensors.");
            var sets = Directory.GetDirectories(spec, "test_data_set_*").Order(StringComparer.Ordinal).ToList();
            if (sets.Count == 0) sets.Add(spec);
            var feeds = new List<IReadOnlyDictionary<string, Tensor>>();
            foreach (var set in sets)
            {
                var feed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                for (int i = 0; i < runtime.Count; i++)
                {
                    string file = Path.Combine(set, $"input_{i}.pb");
                    if (!File.Exists(file)) break;
                    var t = OnnxGraphImporter.ToTensor(OnnxSerializer.LoadTensor(file), set);
                    feed[runtime[i].Name] = Tensor.FromArray(t.AsFloats(), t.Dims);
                }
                if (feed.Count == runtime.Count) feeds.Add(feed);
                else if (feed.Count > 0)
                    throw new FileNotFoundException($"--calibration '{set}' has {feed.Count} of the model's {runtime.Count} inputs (input_0.pb …).");
            }
            if (feeds.Count == 0)
                throw new FileNotFoundException($"--calibration '{spec}' holds no input_0.pb (nor test_data_set_*/input_0.pb).");
            return new Calibration(null, 0, feeds, $"{feeds.Count} input set(s) from {spec}", runtime[0].Name);
        }

        /// <summary>Accuracy on the labelled images, or null without labels.</summary>
        public double? Accuracy(ModelGraph g) =>
            _images is null ? null : ModelEvaluation.ClassifierAccuracy(InferenceSession.Create(g, PassOptions.Dense), _images, Batch, _count);

        /// <summary>Relative output error of <paramref name="g"/> against <paramref name="dense"/> on the calibration inputs.</summary>
        public double OutputError(ModelGraph dense, ModelGraph g)
        {
            var feeds = _feeds ?? ImageFeeds();
            _reference ??= ModelEvaluation.Outputs(InferenceSession.Create(dense, PassOptions.Dense), feeds);
            return ModelEvaluation.RelativeError(_reference, ModelEvaluation.Outputs(InferenceSession.Create(g, PassOptions.Dense), feeds));
        }

        private List<IReadOnlyDictionary<string, Tensor>>? _imageFeeds;

        private List<IReadOnlyDictionary<string, Tensor>> ImageFeeds()
        {
            if (_imageFeeds is not null) return _imageFeeds;
            var d = _images!;
            int pixels = d.Height * d.Width;
            _imageFeeds = [];
            for (int s = 0; s < _count; s += Batch)
            {
                int n = Math.Min(Batch, _count - s);
                _imageFeeds.Add(new Dictionary<string, Tensor> { [_input] = Tensor.FromArray(d.Images.AsSpan(s * pixels, n * pixels), n, 1, d.Height, d.Width) });
            }
            return _imageFeeds;
        }
    }
}
