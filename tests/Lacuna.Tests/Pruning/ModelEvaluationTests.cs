using Lacuna.Graph;
using Lacuna.Pruning;
using Lacuna.Training.Data;

namespace Lacuna.Tests.Pruning;

public class ModelEvaluationTests
{
    /// <summary>Flatten → Gemm with W = I: the logits are the pixels, so the predicted class is the brightest pixel.</summary>
    private static ModelGraph BrightestPixel()
    {
        var g = new ModelGraph();
        g.Inputs.Add(new GraphValue("x", [GraphValue.Symbolic, 1, 2, 2], "N"));
        var eye = new float[16];
        for (int i = 0; i < 4; i++) eye[i * 5] = 1;
        g.AddInitializer(new GraphTensor("w", [4, 4], eye));
        g.Nodes.Add(new GraphNode("flat", "Flatten", ["x"], ["f"], [GraphAttribute.Of("axis", 1L)]));
        g.Nodes.Add(new GraphNode("fc", "Gemm", ["f", "w"], ["y"], [GraphAttribute.Of("transB", 1L)]));
        g.Outputs.Add(new GraphValue("y", [GraphValue.Symbolic, 4], "N"));
        return g;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void Classifier_accuracy_counts_argmax_hits_at_any_batch(int batch)
    {
        // Five images; the brightest pixels are 0, 3, 1, 2, 2 and the labels 0, 3, 2, 2, 1: three hits.
        float[] images = [9, 1, 2, 3, /**/ 0, 1, 2, 8, /**/ 1, 7, 2, 0, /**/ 0, 0, 5, 1, /**/ 2, 3, 4, 1];
        var data = new ImageDataset(images, [0, 3, 2, 2, 1], 2, 2, 4);
        var session = InferenceSession.Create(BrightestPixel());
        Assert.Equal(0.6, ModelEvaluation.ClassifierAccuracy(session, data, batch), 12);
        Assert.Equal(2.0 / 3, ModelEvaluation.ClassifierAccuracy(session, data, batch, images: 3), 12);
    }

    [Fact]
    public void Relative_error_is_the_norm_ratio()
    {
        Assert.Equal(0.5, ModelEvaluation.RelativeError([3, 4], [3 + 1.5f, 4 + 2]), 6);
        Assert.Equal(0, ModelEvaluation.RelativeError([0, 0], [0, 0]));
        Assert.ThrowsAny<ArgumentException>(() => ModelEvaluation.RelativeError([1], [1, 2]));
    }

    [Fact]
    public void Timing_reports_every_layer_and_the_kernel_it_ran()
    {
        var g = TinyNets.ConvBnNet();
        var t = ModelEvaluation.TimeSparseVsDense(g, batch: 2, threads: 1, runs: 2, warmup: 1);
        Assert.True(t.DenseMs > 0 && t.SparseMs > 0);
        foreach (var layer in new[] { "conv1", "conv2", "conv3", "fc1", "fc2" })
        {
            Assert.True(t.LayerDenseMs[layer] > 0, layer);
            Assert.True(t.LayerSparseMs[layer] > 0, layer);
            Assert.False(string.IsNullOrEmpty(t.SparseKernels[layer]));
        }
    }
}
