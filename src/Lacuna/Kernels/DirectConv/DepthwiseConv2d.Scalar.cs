namespace Lacuna.Kernels.DirectConv;

// Scalar sweep: four wide outputs at a time, the definition the vector tiers follow.
internal static unsafe partial class DepthwiseConv2d
{
    public static void ScalarSweep(DepthwiseArgs* a)
    {
        float* x = a->Planes, w = a->Weights, y = a->Output;
        int* offs = a->TapOffsets;
        int taps = a->Taps, count = a->Count;
        var act = new Activation(a->Activation, a->Min, a->Max);
        for (int i = 0; i < count; i += 4)
        {
            float c0 = a->Bias, c1 = c0, c2 = c0, c3 = c0;
            float* xi = x + i;
            for (int t = 0; t < taps; t++)
            {
                float* xp = xi + offs[t];
                float b = w[t];
                c0 += xp[0] * b; c1 += xp[1] * b; c2 += xp[2] * b; c3 += xp[3] * b;
            }
            y[i] = act.Apply(c0); y[i + 1] = act.Apply(c1); y[i + 2] = act.Apply(c2); y[i + 3] = act.Apply(c3);
        }
    }
}
