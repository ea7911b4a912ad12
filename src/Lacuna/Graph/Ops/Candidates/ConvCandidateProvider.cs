namespace Lacuna.Graph.Ops;

/// <summary>
/// One kernel family's candidates for a conv layer: when the family applies, and its prepared kernels (weights packed
/// into the family's format). <see cref="ConvPlanner.Providers"/> lists them; a new family joins the list without
/// touching the others. Every candidate is built by a static helper that captures only its own plan: a lambda
/// written inside <see cref="Add"/> would share that method's closure object with its siblings, and the chosen kernel
/// would keep every other candidate's packed weights alive (ResNet-50 at 0.9: about 100 MB of dense weights held by
/// sparse kernels).
/// </summary>
internal abstract class ConvCandidateProvider
{
    /// <summary>The family's name, for tests and diagnostics.</summary>
    public abstract string Family { get; }

    /// <summary>Whether the family has a kernel for this layer.</summary>
    public abstract bool Applies(in ConvLayer layer);

    /// <summary>Adds the family's candidates for a layer it <see cref="Applies"/> to.</summary>
    public abstract void Add(in ConvLayer layer, List<ConvCandidate> candidates);

    public override string ToString() => Family;
}
