namespace Lacuna.Graph;

/// <summary>
/// Assigns activation values to shared buffers by liveness over the execution order: a value is live from the step
/// that writes it to the last step that reads it (graph outputs to the end). A step's outputs are placed before its
/// dead inputs are released, so an output never aliases an input of the same step. Best fit: the smallest free
/// buffer that is large enough, else the largest free buffer grown, else a new buffer.
/// </summary>
public sealed class MemoryPlan
{
    private MemoryPlan(Dictionary<string, (int Offset, int Length)> placement, long arenaFloats, long naiveFloats)
    {
        Placement = placement;
        ArenaFloats = arenaFloats;
        NaiveFloats = naiveFloats;
    }

    /// <summary>
    /// Buffers start at multiples of this many floats (64 bytes, a cache line) from an arena that starts on a line
    /// (an <see cref="Tensors.AlignedBuffer"/>), so every tensor's rows start where the kernels' tiles assume: a 512-bit
    /// access at an address off a line touches two lines. A plain float[] arena is only 8-byte aligned (40 bytes
    /// past a line in 9 of 10 processes); aligning it and its buffers took ResNet-50 at DLMC 0.9 (batch 1, 2 threads,
    /// `lacuna run --repeat 40`, medians of 9 processes each; a tenth of each ran in the slow state the README describes)
    /// from 13.0-14.4 ms (6 of 9 at 13.0-13.6) to 12.3-13.7 ms (8 of 9 at 12.3-12.9).
    /// </summary>
    public const int AlignFloats = 16;

    /// <summary>Where each activation value lives in the arena, in floats.</summary>
    public IReadOnlyDictionary<string, (int Offset, int Length)> Placement { get; }
    public long ArenaFloats { get; }
    /// <summary>Floats needed with one buffer per value (no reuse), for comparison.</summary>
    public long NaiveFloats { get; }
    public long PeakActivationBytes => ArenaFloats * sizeof(float);

    /// <param name="steps">For each step in order: the values it reads and the values it writes.</param>
    /// <param name="lengths">Element count of every activation value.</param>
    /// <param name="preassigned">Values live before the first step (graph inputs).</param>
    /// <param name="keepAlive">Values live to the end (graph outputs).</param>
    public static MemoryPlan Create(IReadOnlyList<(IReadOnlyList<string> Reads, IReadOnlyList<string> Writes)> steps,
        IReadOnlyDictionary<string, int> lengths, IEnumerable<string> preassigned, IReadOnlySet<string> keepAlive)
    {
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < steps.Count; s++)
            foreach (var r in steps[s].Reads)
                if (lengths.ContainsKey(r)) lastUse[r] = s;

        var bufferSize = new List<int>();
        var free = new List<int>();
        var bufferOf = new Dictionary<string, int>(StringComparer.Ordinal);
        void Place(string v)
        {
            if (bufferOf.ContainsKey(v)) return;
            int len = lengths[v];
            int best = -1;
            foreach (int b in free)
                if (bufferSize[b] >= len && (best < 0 || bufferSize[b] < bufferSize[best])) best = b;
            if (best < 0 && free.Count > 0) best = free.MaxBy(b => bufferSize[b]);
            if (best < 0) { bufferSize.Add(len); best = bufferSize.Count - 1; }
            else { free.Remove(best); bufferSize[best] = Math.Max(bufferSize[best], len); }
            bufferOf[v] = best;
        }
        void Release(string v, int step)
        {
            if (keepAlive.Contains(v) || !bufferOf.TryGetValue(v, out int b)) return;
            if (lastUse.GetValueOrDefault(v, -1) <= step && !free.Contains(b)) free.Add(b);
        }
        foreach (var v in preassigned) Place(v);
        foreach (var v in bufferOf.Keys.ToList()) if (!lastUse.ContainsKey(v)) Release(v, -1);
        for (int s = 0; s < steps.Count; s++)
        {
            foreach (var w in steps[s].Writes) if (lengths.ContainsKey(w)) Place(w);
            foreach (var w in steps[s].Writes) if (!lastUse.ContainsKey(w)) Release(w, s);
            foreach (var r in steps[s].Reads.Distinct()) if (lastUse.GetValueOrDefault(r, -1) == s) Release(r, s);
        }

        var offsets = new int[bufferSize.Count];
        long total = 0;
        for (int b = 0; b < bufferSize.Count; b++) { offsets[b] = checked((int)total); total += (bufferSize[b] + AlignFloats - 1) / AlignFloats * AlignFloats; }
        if (total > Array.MaxLength) throw new OutOfMemoryException($"the activation arena needs {total} floats.");
        var placement = bufferOf.ToDictionary(kv => kv.Key, kv => (offsets[kv.Value], lengths[kv.Key]), StringComparer.Ordinal);
        return new MemoryPlan(placement, total, lengths.Values.Sum(v => (long)v));
    }
}
