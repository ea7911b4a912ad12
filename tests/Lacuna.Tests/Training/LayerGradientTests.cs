using Lacuna.Kernels;
using Lacuna.Kernels.Reference;
using Lacuna.Kernels.Train;
using Lacuna.Tensors;
using Lacuna.Training;
using Lacuna.Training.Layers;

namespace Lacuna.Tests.Training;

/// <summary>Every training layer's backward pass against finite differences, on the current ISA tier.</summary>
public sealed class LayerGradientTests
{
    [Theory]
    [InlineData(3, 5, 11, ConvTrainMode.Dense)]   // channels not multiples of the 8-lane block
    [InlineData(3, 5, 11, ConvTrainMode.Sparse)]
    [InlineData(3, 8, 16, ConvTrainMode.Auto)]
    [InlineData(1, 9, 3, ConvTrainMode.Sparse)]   // 1x1
    [InlineData(1, 9, 3, ConvTrainMode.Dense)]
    public void Conv2d_sparsetrain_path(int kernel, int c, int k, ConvTrainMode mode)
    {
        var conv = new Conv2d("conv", c, k, kernel, seed: 3) { Mode = mode };
        Assert.True(conv.UsesSparseTrainKernels);
        var x = GradientCheck.Input(2, c, 6, 7, seed: 4);
        for (int i = 0; i < x.Length; i += 3) x.Data[i] = 0f; // ReLU-like zeros for the sparse kernels to skip
        GradientCheck.Run(conv, x, samples: 16);
    }

    [Fact]
    public void Conv2d_reference_path_stride_2()
    {
        var conv = new Conv2d("conv_s2", 3, 4, 3, stride: 2, pad: 1, seed: 5);
        Assert.False(conv.UsesSparseTrainKernels);
        GradientCheck.Run(conv, GradientCheck.Input(2, 3, 7, 6, seed: 6), samples: 16);
    }

    [Theory]
    [InlineData(ConvTrainMode.Dense)]
    [InlineData(ConvTrainMode.Sparse)]
    public void Conv2d_forward_matches_the_reference_convolution(ConvTrainMode mode)
    {
        var conv = new Conv2d("conv", 13, 17, 3, seed: 8) { Mode = mode };
        new DeterministicRandom(9).Fill(conv.Bias!.Value, -0.5f, 0.5f);
        var x = GradientCheck.Input(2, 13, 9, 5, seed: 10);
        for (int i = 0; i < x.Length; i += 2) x.Data[i] = 0f;
        var y = conv.Forward(x, training: true).Span.ToArray();
        var expected = new float[y.Length];
        ReferenceConv2d.Compute(x.Span, [2, 13, 9, 5], conv.Weight.Value, conv.Weight.Shape, conv.Bias.Value, expected, Conv2dParams.Square(3, 1, 1));
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"y[{i}] {y[i]} vs {expected[i]}");
        Assert.Equal(mode, conv.LastStats.ForwardMode);
        Assert.InRange(conv.LastStats.InputZeros, 0.45, 0.6); // measured on the blocked input (padding lanes count as zeros)
    }

    [Fact]
    public void Conv2d_first_layer_skips_the_input_gradient()
    {
        var conv = new Conv2d("first", 1, 8, 3) { NeedsInputGradient = false };
        var x = GradientCheck.Input(2, 1, 5, 5, seed: 11);
        var y = conv.Forward(x, training: true);
        var dx = conv.Backward(new FeatureMap(new float[y.Length], y.N, y.C, y.H, y.W));
        Assert.Null(dx.Data);
        GradientCheck.Run(conv, x, checkInput: false, samples: 8);
    }

    [Fact]
    public void Relu_gradient_and_sparsity()
    {
        var relu = new Relu("relu");
        var x = GradientCheck.Input(2, 3, 4, 5, seed: 12, margin: 0.05f);
        GradientCheck.Run(relu, x, samples: 40);
        relu.Forward(x, training: true);
        double zeros = x.Span.ToArray().Count(v => v <= 0) / (double)x.Length;
        Assert.Equal(zeros, relu.LastSparsity, 9);
    }

    [Fact]
    public void Relu_propagates_nan()
    {
        var relu = new Relu("relu");
        var y = relu.Forward(new FeatureMap([float.NaN, -1f, 2f, 0f], 1, 4, 1, 1), training: true);
        Assert.True(float.IsNaN(y.Data[0]));
        Assert.Equal([0f, 2f, 0f], y.Data[1..4]);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 2)] // overlapping windows: gradients of shared positions add
    public void MaxPool2d_gradient(int kernel, int stride)
    {
        var pool = new MaxPool2d("pool", kernel, stride);
        var x = GradientCheck.Input(2, 3, 7, 6, seed: 13);
        // Distinct values at least 2ε apart, so no perturbation changes which element is the maximum.
        var order = Enumerable.Range(0, x.Length).OrderBy(i => x.Data[i]).ToArray();
        for (int r = 0; r < order.Length; r++) x.Data[order[r]] = r * 0.05f - 3f;
        GradientCheck.Run(pool, x, eps: 1e-2f, samples: 40);
    }

    [Fact]
    public void MaxPool2d_fast_and_general_paths_agree_and_propagate_nan()
    {
        var x = GradientCheck.Input(2, 3, 8, 6, seed: 31);
        x.Data[5] = float.NaN;
        var fast = new MaxPool2d("fast", 2).Forward(x, training: true).Span.ToArray();
        var general = new MaxPool2d("general", 2).Forward(x, training: false).Span.ToArray(); // inference takes the general loop
        Assert.Equal(general, fast);
        Assert.True(float.IsNaN(fast[2])); // x[0, 0, 0, 5] lies in output column 2 of row 0
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AvgPool2d_gradient(bool global)
    {
        var pool = new AvgPool2d("avg", 2, global: global);
        GradientCheck.Run(pool, GradientCheck.Input(2, 3, 5, 6, seed: 14), samples: 30);
    }

    [Fact]
    public void BatchNorm2d_gradient_in_training_mode()
    {
        var bn = new BatchNorm2d("bn", 3);
        new DeterministicRandom(15).Fill(bn.Parameters().First().Value, 0.5f, 1.5f);
        GradientCheck.Run(bn, GradientCheck.Input(4, 3, 3, 2, seed: 16), eps: 1e-2f, samples: 30);
    }

    [Fact]
    public void BatchNorm2d_normalizes_the_batch_and_tracks_running_statistics()
    {
        var bn = new BatchNorm2d("bn", 2, momentum: 0.5f);
        var x = GradientCheck.Input(3, 2, 4, 4, seed: 17);
        for (int i = 0; i < x.Length; i++) x.Data[i] = x.Data[i] * 3 + 5;
        var y = bn.Forward(x, training: true);
        y = y with { Data = y.Span.ToArray() };
        for (int c = 0; c < 2; c++)
        {
            var v = Enumerable.Range(0, 3).SelectMany(n => y.Data.Skip((n * 2 + c) * 16).Take(16)).Select(f => (double)f).ToArray();
            Assert.Equal(0, v.Average(), 4);
            Assert.Equal(1, v.Select(a => a * a).Average(), 3);
            Assert.InRange(bn.RunningMean[c], 2.0, 3.0); // halfway from 0 to ≈5
        }
        var eval = bn.Forward(x, training: false);
        Assert.NotEqual(y.Data[0], eval.Data[0]);
    }

    [Fact]
    public void Linear_gradient()
    {
        var fc = new Linear("fc", 7, 5, seed: 18);
        GradientCheck.Run(fc, GradientCheck.Input(3, 7, 1, 1, seed: 19), samples: 30);
    }

    [Fact]
    public void Linear_rejects_an_unflattened_input()
    {
        var fc = new Linear("fc", 12, 5);
        var e = Assert.Throws<ShapeMismatchException>(() => fc.Forward(FeatureMap.Zeros(1, 3, 2, 2), training: true));
        Assert.Contains("fc", e.Message);
        Assert.Contains("flattened", e.Message);
    }

    [Fact]
    public void Flatten_and_dropout_gradients()
    {
        GradientCheck.Run(new Sequential("flat", new Flatten("f"), new Linear("fc", 12, 4, seed: 20)), GradientCheck.Input(2, 3, 2, 2, seed: 21), samples: 24);
        var drop = new Dropout("drop", 0.5f);
        GradientCheck.Run(drop, GradientCheck.Input(2, 4, 3, 3, seed: 22), beforeForward: () => drop.Reseed(5), samples: 40);
        var y = drop.Forward(FeatureMap.Zeros(1, 1, 1, 1) with { Data = [2f] }, training: false);
        Assert.Equal(2f, y.Data[0]);
    }

    [Fact]
    public void Dropout_keeps_about_one_minus_rate_and_rescales()
    {
        var drop = new Dropout("drop", 0.25f, seed: 3);
        var x = new FeatureMap(Enumerable.Repeat(1f, 40000).ToArray(), 1, 40000, 1, 1);
        var y = drop.Forward(x, training: true).Span.ToArray();
        Assert.InRange(y.Count(v => v == 0f) / 40000.0, 0.23, 0.27);
        Assert.All(y.Where(v => v != 0f), v => Assert.Equal(1f / 0.75f, v, 5));
    }

    [Fact]
    public void Residual_blocks_identity_and_projection()
    {
        // ε = 1e-3: a ReLU between convs must not flip sign under the perturbation.
        var identity = new Residual("res", new Sequential("body", new Conv2d("c1", 4, 4, 3, seed: 23), new Relu("r"), new Conv2d("c2", 4, 4, 3, seed: 24)));
        GradientCheck.Run(identity, GradientCheck.Input(2, 4, 5, 5, seed: 25), samples: 16, atol: 6e-3, eps: 1e-3f);
        var projection = new Residual("res2",
            new Sequential("body2", new Conv2d("d1", 3, 6, 3, bias: false, seed: 26), new BatchNorm2d("bn", 6)),
            new Sequential("proj", new Conv2d("p", 3, 6, 1, bias: false, seed: 27)));
        GradientCheck.Run(projection, GradientCheck.Input(3, 3, 4, 4, seed: 28), samples: 16, atol: 6e-3);
    }

    [Fact]
    public void Softmax_cross_entropy_gradient_and_accuracy()
    {
        var logits = GradientCheck.Input(4, 5, 1, 1, seed: 29);
        int[] labels = [0, 3, 4, 1];
        var grad = new float[20];
        var (loss, correct) = SoftmaxCrossEntropy.Compute(logits, labels, grad);
        int expectedCorrect = 0;
        for (int b = 0; b < 4; b++)
        {
            var row = logits.Data.Skip(b * 5).Take(5).ToArray();
            if (Array.IndexOf(row, row.Max()) == labels[b]) expectedCorrect++;
        }
        Assert.Equal(expectedCorrect, correct);
        for (int i = 0; i < 20; i++)
        {
            float v = logits.Data[i];
            logits.Data[i] = v + 1e-3f; double lp = SoftmaxCrossEntropy.Compute(logits, labels, default).Loss;
            logits.Data[i] = v - 1e-3f; double lm = SoftmaxCrossEntropy.Compute(logits, labels, default).Loss;
            logits.Data[i] = v;
            Assert.Equal((lp - lm) / 2e-3, grad[i], 3);
        }
        Assert.True(loss > 0);
        // Huge logits neither overflow nor lose the answer.
        var big = new FeatureMap([1000f, -1000f], 1, 2, 1, 1);
        Assert.Equal(0, SoftmaxCrossEntropy.Compute(big, [0], default).Loss, 9);
        Assert.Throws<ArithmeticException>(() => SoftmaxCrossEntropy.Compute(new FeatureMap([float.NaN, 0f], 1, 2, 1, 1), [0], default));
        Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.Compute(big, [2], default));
    }
}
