using Lacuna.Graph;
using Lacuna.Training.Layers;

namespace Lacuna.Training;

/// <summary>
/// A classifier: <see cref="Body"/> maps images [N, C, H, W] to logits [N, classes, 1, 1]. Owns the thread setting of
/// its layers, lists its parameters and state in a stable order (the checkpoint order), and exports its inference
/// graph for the ONNX engine.
/// </summary>
public sealed class Network
{
    private int _threads;

    public Network(string name, Sequential body, int channels, int height, int width, int classes)
    {
        Name = name; Body = body; Channels = channels; Height = height; Width = width; Classes = classes;
        var (c, h, w) = body.OutputShape(channels, height, width);
        if (c * h * w != classes)
            ThrowHelper.Shape(nameof(body), $"Network '{name}' ends in [{c}, {h}, {w}], not {classes} logits.");
        body.NeedsInputGradient = false;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in Parameters)
            if (!names.Add(p.Name)) ThrowHelper.Argument(nameof(body), $"Network '{name}' has two parameters named '{p.Name}'.");
    }

    public string Name { get; }
    public Sequential Body { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }

    public IReadOnlyList<Parameter> Parameters => Body.Parameters().ToList();
    public IEnumerable<(string Name, float[] Data)> Buffers => Body.Buffers();
    public IEnumerable<Layer> Leaves => Body.Leaves();
    public IEnumerable<Conv2d> Convs => Leaves.OfType<Conv2d>();
    public IEnumerable<Relu> Relus => Leaves.OfType<Relu>();
    public long ParameterCount => Parameters.Sum(p => (long)p.Length);

    /// <summary>Threads of every layer (0 = the worker pool's default).</summary>
    public int Threads
    {
        get => _threads;
        set
        {
            _threads = value;
            foreach (var l in Leaves)
                switch (l)
                {
                    case Conv2d c: c.Threads = value; break;
                    case Linear f: f.Threads = value; break;
                    case Relu r: r.Threads = value; break;
                    case MaxPool2d m: m.Threads = value; break;
                    case BatchNorm2d b: b.Threads = value; break;
                }
        }
    }

    public FeatureMap Forward(FeatureMap images, bool training)
    {
        if (images.C != Channels || images.H != Height || images.W != Width)
            ThrowHelper.Shape(nameof(images), $"Network '{Name}' takes [N, {Channels}, {Height}, {Width}] images but got {images.ShapeText}.");
        return Body.Forward(images, training);
    }

    public void Backward(FeatureMap logitsGradient) => Body.Backward(logitsGradient);

    /// <summary>The inference graph (input "input" [N, C, H, W], output "logits" [N, classes]); weights are copied.</summary>
    public ModelGraph ToGraph()
    {
        var g = new GraphExport(Name, Channels, Height, Width);
        string last = Body.Export(g, g.Input);
        if (Body.OutputShape(Channels, Height, Width) is not (_, 1, 1))
            last = g.Node("Flatten", "flatten_logits", [last], GraphAttribute.Of("axis", 1L));
        // Name the output "logits" whatever layer produced it.
        var producer = g.Graph.Nodes.Last(n => n.Outputs.Contains(last));
        producer.Outputs[producer.Outputs.IndexOf(last)] = "logits";
        return g.Finish("logits", Classes);
    }
}
