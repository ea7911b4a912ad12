using Lacuna.Graph;
using Lacuna.Onnx.Import;
using Lacuna.Onnx.Zoo;
using Lacuna.Tensors;

namespace Lacuna.Tests.Graph;

/// <summary><see cref="PassOptions.PlanningCancellation"/>: a cancelled plan throws; the graph is untouched, so a new session plans it.</summary>
public class PlanningCancellationTests
{
    [Fact]
    public void A_cancelled_plan_throws_and_a_later_session_plans_and_runs()
    {
        var graph = OnnxGraphImporter.ToGraph(ZooBuilder.Build("resnet-mini", seed: 3, sparsity: 0.9).Model);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var session = InferenceSession.Create(graph, new PassOptions { PlanningCancellation = cancelled.Token });
        Assert.ThrowsAny<OperationCanceledException>(() => session.PlanFor(1));

        var fresh = InferenceSession.Create(graph);
        using var x = Tensor.Random(4, new[] { 1, 3, 32, 32 });
        var y = fresh.Run(new Dictionary<string, Tensor> { ["input"] = x })["logits"];
        Assert.Equal(10, y.Length);
        Assert.Contains(y.ToArray(), v => v != 0f);
    }
}
