using System.Diagnostics;
using Lacuna.Onnx;
using Lacuna.Tensors;

namespace Lacuna.Tests.Onnx;

/// <summary>
/// Mutation fuzzing of the reader: valid models with bits flipped, bytes inserted or deleted, spans duplicated,
/// and tails cut off. Every case must either parse — and then also write, re-read equal, and give its tensors'
/// values or a format error — or throw <see cref="LacunaFormatException"/>; any other exception, or a case slower
/// than the per-case bound, fails. CI runs 2000 cases; set LACUNA_FUZZ_CASES for more and LACUNA_FUZZ_SEED for other cases.
/// </summary>
public class OnnxFuzzTests
{
    private static readonly TimeSpan PerCaseBound = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task MutatedModelsParseOrFailWithFormatException()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("LACUNA_FUZZ_CASES"), out int n) && n > 0 ? n : 2000;
        ulong seed = ulong.TryParse(Environment.GetEnvironmentVariable("LACUNA_FUZZ_SEED"), out ulong s) ? s : 0x0F0F_2024;
        byte[][] seeds =
        [
            OnnxSerializer.ToBytes(OnnxTestModels.ConvNet()),
            OnnxSerializer.ToBytes(OnnxTestModels.EveryField()),
            [.. OnnxSerializer.ToBytes(OnnxTestModels.ConvNet(seed: 3)), .. OnnxRoundTripTests.UnknownFieldsOfEveryWireType()],
        ];
        int parsed = 0, rejected = 0;
        var slowest = TimeSpan.Zero;
        string? failure = null;

        // On a worker task so a hang fails the test instead of stalling the run.
        var run = Task.Run(() =>
        {
            var rng = new DeterministicRandom(seed);
            var watch = new Stopwatch();
            for (int c = 0; c < cases && failure is null; c++)
            {
                byte[] input = Mutate(seeds[c % seeds.Length], ref rng);
                watch.Restart();
                try
                {
                    Exercise(input);
                    parsed++;
                }
                catch (LacunaFormatException) { rejected++; }
                catch (Exception e)
                {
                    failure = $"case {c}: {e.GetType().Name}: {e.Message}\ninput: {Convert.ToHexString(input)}\n{e.StackTrace}";
                }
                if (watch.Elapsed > slowest) slowest = watch.Elapsed;
                if (watch.Elapsed > PerCaseBound) failure ??= $"case {c} took {watch.Elapsed.TotalMilliseconds:F0} ms";
            }
        });
        var limit = Task.Delay(PerCaseBound * 10 + TimeSpan.FromMilliseconds(cases * 5));
        bool finished = await Task.WhenAny(run, limit) == run;
        Assert.True(finished, "fuzzing did not finish: a case hangs");
        Assert.True(failure is null, failure);
        Assert.Equal(cases, parsed + rejected);
        // Both outcomes must be common, or the mutations are too mild or too destructive to test much.
        Assert.True(parsed > cases / 20 && rejected > cases / 5, $"parsed {parsed}, rejected {rejected}");
    }

    /// <summary>Parse; if accepted, the model must round-trip and its tensors must read or fail cleanly.</summary>
    private static void Exercise(byte[] input)
    {
        var model = OnnxSerializer.ParseModel(input);
        byte[] written = OnnxSerializer.ToBytes(model);
        var back = OnnxSerializer.ParseModel(written);
        if (!model.ContentEquals(back)) throw new InvalidOperationException("accepted input does not round-trip");
        if (model.Graph is null) return;
        foreach (var t in model.Graph.Initializer)
        {
            try
            {
                _ = t.ToFloatArray();
                if (t.DataType is TensorDataType.Int64 or TensorDataType.Int32) _ = t.ToInt64Array();
            }
            catch (LacunaFormatException) { }
        }
    }

    private static byte[] Mutate(byte[] seed, ref DeterministicRandom rng)
    {
        var data = new List<byte>(seed);
        int mutations = 1 + rng.NextInt(3);
        for (int m = 0; m < mutations && data.Count > 0; m++)
        {
            int at = rng.NextInt(data.Count);
            switch (rng.NextInt(6))
            {
                case 0: // flip 1-3 bits
                    for (int b = 1 + rng.NextInt(3); b > 0; b--) data[rng.NextInt(data.Count)] ^= (byte)(1 << rng.NextInt(8));
                    break;
                case 1: // truncate
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 2: // insert random bytes
                    for (int k = 1 + rng.NextInt(8); k > 0; k--) data.Insert(at, (byte)rng.NextInt(256));
                    break;
                case 3: // duplicate a span
                    int len = 1 + rng.NextInt(Math.Min(64, data.Count - at));
                    data.InsertRange(rng.NextInt(data.Count + 1), data.GetRange(at, len));
                    break;
                case 4: // delete a span
                    data.RemoveRange(at, 1 + rng.NextInt(Math.Min(16, data.Count - at)));
                    break;
                default: // overwrite with a boundary value (varint continuation, max byte, zero)
                    data[at] = rng.NextInt(3) switch { 0 => 0x80, 1 => 0xFF, _ => 0x00 };
                    break;
            }
        }
        return [.. data];
    }
}
