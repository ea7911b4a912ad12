using Lacuna.Graph;
using Lacuna.Pruning;
using Lacuna.Tests.TestUtil;

namespace Lacuna.Tests.Pruning;

public class SparsityPatternDetectTests
{
    [Fact]
    public void Detect_finds_a_pattern_the_weights_satisfy_and_not_one_they_violate()
    {
        var w = TestData.Random(12 * 10, 3);
        var evens = new EveryOtherColumnPattern();
        Assert.Empty(SparsityPattern.Detect(w, 12, 10, [evens]));
        evens.Prune(w, 12, 10, 0);
        Assert.Equal([evens], SparsityPattern.Detect(w, 12, 10, [evens]));
        // Unstructured is never "detected": its CSR kernels are candidates anyway.
        Assert.Equal([evens], SparsityPattern.Detect(w, 12, 10, [UnstructuredPattern.Instance, evens]));
    }

    [Fact]
    public void Detect_keeps_the_first_satisfied_pattern_of_each_family()
    {
        var w = TestData.Random(6 * 10, 4);
        var first = new EveryOtherColumnPattern("test:a");
        first.Prune(w, 6, 10, 0);
        var sameFamily = new EveryOtherColumnPattern("test:b");
        var otherFamily = new EveryOtherColumnPattern("other:a");
        Assert.Equal("test", SparsityPattern.Family(first));
        Assert.Equal("series", SparsityPattern.Family(new EveryOtherColumnPattern("2:4+1:8")));
        Assert.Equal([first, otherFamily], SparsityPattern.Detect(w, 6, 10, [first, sameFamily, otherFamily]));
        // A list the user chose keeps every satisfied pattern.
        Assert.Equal([first, sameFamily, otherFamily], SparsityPattern.Detect(w, 6, 10, [first, sameFamily, otherFamily], firstPerFamily: false));
        Assert.Equal([first, sameFamily], PatternPlanning.Only([first, sameFamily]).For(w, 6, 10));
    }

    [Fact]
    public void Detect_skips_a_pattern_that_claims_weights_with_fewer_zeros_than_it_leaves()
    {
        var dense = TestData.Random(8 * 8, 5);
        Assert.Empty(SparsityPattern.Detect(dense, 8, 8, [new EveryOtherColumnPattern(honest: false)]));
    }

    [Fact]
    public void Detect_over_the_registered_patterns_finds_nothing_in_a_random_dense_matrix()
    {
        Assert.DoesNotContain(SparsityPattern.Detectable, p => p is UnstructuredPattern);
        Assert.Empty(SparsityPattern.Detect(TestData.Random(32 * 48, 6), 32, 48));
        // Every detectable spelling reads back as itself.
        Assert.All(SparsityPattern.Detectable, p => Assert.Equal(p.Name, SparsityPattern.Parse(p.Name).Name));
    }

    [Fact]
    public void Detect_tells_row_shared_nm_from_per_row_nm_of_the_same_density()
    {
        var shared = TestData.Random(20 * 36, 7);
        new NmPattern(2, 4, 8).Prune(shared, 20, 36, 0);
        Assert.Equal(["nm:2:4:r8"], SparsityPattern.Detect(shared, 20, 36).Where(p => SparsityPattern.Family(p) == "nm").Select(p => p.Name));
        var perRow = TestData.Random(20 * 36, 8);
        new NmPattern(2, 4).Prune(perRow, 20, 36, 0);
        Assert.Equal(["nm:2:4"], SparsityPattern.Detect(perRow, 20, 36).Where(p => SparsityPattern.Family(p) == "nm").Select(p => p.Name));
        var sparser = TestData.Random(20 * 36, 9);
        new NmPattern(1, 8).Prune(sparser, 20, 36, 0);
        Assert.Equal(["nm:1:8"], SparsityPattern.Detect(sparser, 20, 36).Where(p => SparsityPattern.Family(p) == "nm").Select(p => p.Name));
    }

    [Fact]
    public void Detect_rejects_a_short_weight_span()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => SparsityPattern.Detect(new float[5], 2, 3));
        Assert.Contains("W [2×3]", e.Message);
    }

    [Fact]
    public void Pattern_planning_restricts_or_disables_structured_candidates()
    {
        var w = TestData.Random(4 * 6, 7);
        var evens = new EveryOtherColumnPattern();
        evens.Prune(w, 4, 6, 0);
        Assert.Equal([evens], PatternPlanning.Only([evens]).For(w, 4, 6));
        Assert.Empty(PatternPlanning.None.For(w, 4, 6));
        Assert.Empty(PatternPlanning.Only([UnstructuredPattern.Instance]).For(w, 4, 6));
        Assert.True(PatternPlanning.Only([evens], force: true).Force);
        Assert.Equal("test-evens (forced)", PatternPlanning.Only([evens], force: true).ToString());
        Assert.Equal("detect", PatternPlanning.Detect.ToString());
    }
}
