namespace Lacuna.Pruning;

/// <summary>
/// When masks are (re)computed during training and to which sparsity, in global steps.
/// <para>"oneshot": once, at <see cref="StartStep"/>, to the final sparsity. "gradual": the cubic schedule of Zhu and
/// Gupta (2017), s(t) = s_f + (s_i − s_f)(1 − (t − t0)/(t1 − t0))³ for t in [t0, t1], applied every
/// <see cref="EverySteps"/> steps from t0 and once more at t1; s_f holds from t1 on (fine-tuning with fixed masks).</para>
/// <para>Patterns whose sparsity is fixed (N:M, TASD series) have no ramp: their one update is at t0 under either kind,
/// then the rest of the run fine-tunes with that mask (see <see cref="FixedPattern"/>).</para>
/// </summary>
public sealed record PruningSchedule(string Kind, double InitialSparsity, double FinalSparsity, long StartStep, long EndStep, int EverySteps, bool FixedPattern = false)
{
    public static readonly string[] Kinds = ["oneshot", "gradual"];

    /// <summary>The cubic ramp at step t (clamped: s_i before t0, s_f from t1).</summary>
    public static double Cubic(double t, double t0, double t1, double initial, double final)
    {
        if (t1 <= t0) return t >= t0 ? final : initial;
        double f = Math.Clamp((t - t0) / (t1 - t0), 0, 1);
        double r = 1 - f;
        return final + (initial - final) * r * r * r;
    }

    private bool Ramps => Kind == "gradual" && !FixedPattern && EndStep > StartStep;

    /// <summary>Whether masks are recomputed before step <paramref name="step"/> runs.</summary>
    public bool IsDue(long step) => Ramps
        ? step >= StartStep && step <= EndStep && ((step - StartStep) % EverySteps == 0 || step == EndStep)
        : step == StartStep;

    /// <summary>The target sparsity at <paramref name="step"/> (what the progress line shows).</summary>
    public double TargetAt(long step) => Ramps
        ? Cubic(step, StartStep, EndStep, InitialSparsity, FinalSparsity)
        : step >= StartStep ? FinalSparsity : 0;
}
