namespace Lacuna.Tests.TestUtil;

/// <summary>
/// Tests that change process-wide settings (<c>WorkerPool.DefaultThreads</c>) run in this collection, which xunit runs
/// alone: a plan is keyed by the thread count, so a concurrent change would give another test a different plan.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalThreadsCollection
{
    public const string Name = "Global threads";
}
