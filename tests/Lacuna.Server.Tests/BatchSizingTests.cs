namespace Lacuna.Server.Tests;

/// <summary>Padding a batch to the next planned size or trimming it to a planned size it fills, by milliseconds per row.</summary>
public sealed class BatchSizingTests
{
    private static readonly int[] Planned = [1, 2, 4, 8, 16];

    // Per-row cost falls to a floor from batch 4 on, as a CNN's does: 1 row 30 ms, 2 rows 40, 4 rows 48, 8 rows 96, 16 rows 192.
    private static readonly Dictionary<int, double> Flat = new() { [1] = 30, [2] = 40, [4] = 48, [8] = 96, [16] = 192 };

    private static int[] Cumulative(params int[] rows)
    {
        var c = new int[rows.Length];
        for (int i = 0, sum = 0; i < rows.Length; i++) c[i] = sum += rows[i];
        return c;
    }

    [Fact]
    public void A_batch_that_fills_a_planned_size_or_has_one_request_is_kept_whole()
    {
        Assert.Equal(8, BatchSizing.Take(Cumulative(1, 1, 1, 1, 1, 1, 1, 1), Planned, Flat));
        Assert.Equal(1, BatchSizing.Take(Cumulative(3), Planned, Flat));
        Assert.Equal(0, BatchSizing.Take([], Planned, Flat));
    }

    [Fact]
    public void Five_rows_are_trimmed_to_four_rather_than_padded_to_eight()
    {
        // Padded: 96 ms for 5 rows (19.2 per row); trimmed: 48 ms for 4 (12 per row).
        Assert.Equal(4, BatchSizing.Take(Cumulative(1, 1, 1, 1, 1), Planned, Flat));
        // Requests of several rows are kept whole: 2 + 2 fills 4, and the third request (1 row) waits.
        Assert.Equal(2, BatchSizing.Take(Cumulative(2, 2, 1), Planned, Flat));
    }

    [Fact]
    public void Three_rows_are_padded_to_four_when_two_rows_cost_more_per_row()
    {
        // Padded: 48 ms for 3 rows (16 per row); trimmed to 2: 40 ms for 2 (20 per row).
        Assert.Equal(3, BatchSizing.Take(Cumulative(1, 1, 1), Planned, Flat));
    }

    [Fact]
    public void Without_run_times_nothing_is_trimmed()
    {
        Assert.Equal(5, BatchSizing.Take(Cumulative(1, 1, 1, 1, 1), Planned, new Dictionary<int, double>()));
        // A trim target without a time is not chosen either.
        Assert.Equal(5, BatchSizing.Take(Cumulative(1, 1, 1, 1, 1), Planned, new Dictionary<int, double> { [8] = 96 }));
    }
}
