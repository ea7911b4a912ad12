using Lacuna.Graph;
using Lacuna.Pruning;
using Lacuna.Tensors;

namespace Lacuna.Tests.Pruning;

public class ChannelShrinkerTests
{
    private static PrunableLayer Layer(ModelGraph g, string name) => PrunableLayer.Find(g).Single(l => l.Name == name);

    [Theory]
    [InlineData("conv1", new[] { 0, 3, 7 })]      // through BN, Relu and MaxPool into conv2's input channels
    [InlineData("conv2", new[] { 1, 2, 15 })]     // through Relu into conv3
    [InlineData("conv3", new[] { 0, 5, 6, 9 })]   // through Relu and Flatten into fc1's columns (channel × 16 pixels)
    public void Shrunk_graph_computes_what_the_masked_graph_computes_and_is_smaller(string layer, int[] channels)
    {
        var masked = TinyNets.ConvBnNet();
        var shrunk = TinyNets.ConvBnNet();
        var chain = ChannelShrinker.Follow(masked, Layer(masked, layer));
        Assert.True(chain.CanShrink, chain.Reason);
        ChannelShrinker.Mask(masked, chain, channels);
        ChannelShrinker.Shrink(shrunk, ChannelShrinker.Follow(shrunk, Layer(shrunk, layer)), channels);
        Assert.Equal(Layer(masked, layer).Rows - channels.Length, Layer(shrunk, layer).Rows);
        Assert.True(TinyNets.Parameters(shrunk) < TinyNets.Parameters(masked));

        using var x = Tensor.Random(17, [3, 1, 8, 8]);
        var expected = TinyNets.Run(masked, x);
        var actual = TinyNets.Run(shrunk, x);
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < expected.Length; i++) Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"output {i}: {expected[i]} vs {actual[i]}");
        // The masked channels really output zero, and masking changed the model (the test is not vacuous).
        var original = TinyNets.Run(TinyNets.ConvBnNet(), x);
        Assert.Contains(original.Zip(expected), p => MathF.Abs(p.First - p.Second) > 1e-4f * scale);
    }

    [Fact]
    public void Channels_feeding_a_residual_add_are_not_followed()
    {
        var g = TinyNets.ConvBnNet(residual: true);
        var chain = ChannelShrinker.Follow(g, Layer(g, "conv3"));
        Assert.False(chain.CanShrink);
        Assert.Contains("Add", chain.Reason);
        var conv2 = ChannelShrinker.Follow(g, Layer(g, "conv2"));
        Assert.Contains("feeds 2 nodes", conv2.Reason);
        Assert.Throws<ArgumentException>(() => ChannelShrinker.Shrink(g, chain, [1]));
        var gemm = ChannelShrinker.Follow(g, Layer(g, "fc1"));
        Assert.Contains("Conv only", gemm.Reason);
    }

    [Fact]
    public void Removing_every_channel_or_one_out_of_range_is_rejected()
    {
        var g = TinyNets.ConvBnNet();
        var chain = ChannelShrinker.Follow(g, Layer(g, "conv2"));
        Assert.Throws<ArgumentException>(() => ChannelShrinker.Shrink(g, chain, Enumerable.Range(0, 16).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelShrinker.Shrink(g, chain, [16]));
    }

    [Fact]
    public void Zero_rows_are_found_exactly()
    {
        float[] w = [0, 0, 1, 0, 0, 0, 0, -0f, 0, 2, 3, 0];
        Assert.Equal([1, 2], ChannelShrinker.ZeroRows(w, 4, 3));
    }
}
