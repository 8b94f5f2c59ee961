using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.RecommendationsApi;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

public sealed class RecommendationReaderTests
{
    private const string Serving = InProcessApi.ServingTableName;

    private static (InMemoryTables Tables, SteppedClock Clock, RecommendationReader Reader) Reader(int cacheSeconds = 30, params PublishedRunData[] runs)
    {
        var tables = new InMemoryTables((Serving, ServingTable.KeyName));
        foreach (var run in runs)
        {
            TwoRuns.Publish(tables, Serving, run);
        }

        var clock = new SteppedClock();
        var reader = new RecommendationReader(tables, Serving, new CustomerSegmentation.RecommendationsApi.PublishedRuns(tables, Serving, TimeSpan.FromSeconds(cacheSeconds), clock));
        return (tables, clock, reader);
    }

    [Fact]
    public async Task ForCustomer_KnownCustomer_IsItsRecommendationsInRankOrderFromTheCurrentRun()
    {
        var (tables, _, reader) = Reader(30, TwoRuns.A);

        var answer = await reader.ForCustomerAsync("C001", null, CancellationToken.None);

        Assert.Equal((CustomerStanding.Known, TwoRuns.RunA, "2026-11-16T06:12:40Z", "West_Plumbing"),
            (answer.Standing, answer.Run.RunId, answer.Run.PublishedAt, answer.Segment));
        Assert.Equal(
        [
            new Recommendation("PA100", 1, 0.91, 0.667, 8.67, "Plumbing", "Valves", "PA900", 4, "PA900 \u2192 PA100 (support=0.077, confidence=0.667, lift=8.67)"),
            new Recommendation("PA101", 2, 0.52, 0.4, 2.5, "Plumbing", "Pipes", "PA901", 10, "PA901 \u2192 PA101 (support=0.05, confidence=0.400, lift=2.50)"),
            new Recommendation("PA102", 3, 0.2, null, null, "Fasteners", "Screws", "fallback", 1, "Popular in your segment: Fasteners"),
        ], answer.Recommendations);
        tables.AssertNoViolations();
    }

    [Fact]
    public async Task ForCustomer_KnownCustomerWithoutRecommendations_IsKnownWithAnEmptyList()
    {
        var (_, _, reader) = Reader(30, TwoRuns.A);

        var answer = await reader.ForCustomerAsync("C004", new SegmentQuery("West", "Plumbing"), CancellationToken.None);

        Assert.Equal((CustomerStanding.Known, "West_Plumbing", 0), (answer.Standing, answer.Segment, answer.Recommendations.Count));
    }

    [Fact]
    public async Task ForCustomer_NeverSeenWithSegment_IsTheTopFivePopularProductsScoredByShare()
    {
        var (_, _, reader) = Reader(30, TwoRuns.A);

        var answer = await reader.ForCustomerAsync("C999", new SegmentQuery("West", "Plumbing"), CancellationToken.None);

        Assert.Equal((CustomerStanding.ColdStart, "West_Plumbing"), (answer.Standing, answer.Segment));
        Assert.Equal(
        [
            new Recommendation("PA300", 1, 0.5, null, null, "Plumbing", "Pipes", null, 10, "Popular in segment West_Plumbing: bought by 50% of its customers (60 of 120)"),
            new Recommendation("PA301", 2, 0.4, null, null, "Plumbing", "Valves", null, 2, "Popular in segment West_Plumbing: bought by 40% of its customers (48 of 120)"),
            new Recommendation("PA302", 3, 0.25, null, null, "Fasteners", "Screws", null, 50, "Popular in segment West_Plumbing: bought by 25% of its customers (30 of 120)"),
            new Recommendation("PA303", 4, 0.1, null, null, "Tools", "Wrenches", null, 1, "Popular in segment West_Plumbing: bought by 10% of its customers (12 of 120)"),
            new Recommendation("PA304", 5, 0.05, null, null, "Plumbing", "Fittings", null, 8, "Popular in segment West_Plumbing: bought by 5% of its customers (6 of 120)"),
        ], answer.Recommendations);
    }

    [Fact]
    public async Task ForCustomer_ColdStartShareUnderHalfAPercent_SaysUnderOnePercent()
    {
        var run = TwoRuns.B with { Segments = [new("West", "Plumbing", 201, [new("PB300", "Plumbing", "Pipes", 2, 12), new("PB301", "Plumbing", "Valves", 1, 2)])] };
        var (_, _, reader) = Reader(30, run);

        var answer = await reader.ForCustomerAsync("C999", new SegmentQuery("West", "Plumbing"), CancellationToken.None);

        Assert.Equal(["Popular in segment West_Plumbing: bought by 1% of its customers (2 of 201)",
            "Popular in segment West_Plumbing: bought by under 1% of its customers (1 of 201)"], answer.Recommendations.Select(r => r.Reason));
    }

    [Fact]
    public async Task ForCustomer_NeverSeenWithoutSegment_IsUnknownCustomer()
    {
        var (_, _, reader) = Reader(30, TwoRuns.A);

        var answer = await reader.ForCustomerAsync("C005", null, CancellationToken.None);

        Assert.Equal((CustomerStanding.UnknownCustomer, TwoRuns.RunA, 0), (answer.Standing, answer.Run.RunId, answer.Recommendations.Count));
    }

    [Fact]
    public async Task ForCustomer_NeverSeenWithUnknownSegment_IsUnknownSegment()
    {
        var (_, _, reader) = Reader(30, TwoRuns.A);

        var answer = await reader.ForCustomerAsync("C999", new SegmentQuery("west", "Plumbing"), CancellationToken.None);

        Assert.Equal((CustomerStanding.UnknownSegment, "west_Plumbing"), (answer.Standing, answer.Segment));
    }

    [Fact]
    public async Task ForCustomer_PointerCached_IsOneBatchGetItemOfTheCustomerAndSegmentItems()
    {
        var (tables, _, reader) = Reader(30, TwoRuns.A);
        await reader.ForCustomerAsync("C001", null, CancellationToken.None);
        var before = tables.Requests.Count;

        await reader.ForCustomerAsync("C999", new SegmentQuery("West", "Plumbing"), CancellationToken.None);

        var request = Assert.Single(tables.Requests.Skip(before));
        Assert.Equal(("BatchGetItem", Serving), (request.Operation, request.Table));
        Assert.Equal([$"run#{TwoRuns.RunA}#customer#C999", $"run#{TwoRuns.RunA}#segment#West_Plumbing"], request.Keys);
    }

    [Fact]
    public async Task ForCustomer_PointerSwitched_IsSeenOnlyAfterTheCacheTime()
    {
        var (tables, clock, reader) = Reader(30, TwoRuns.A);
        Assert.Equal(TwoRuns.RunA, (await reader.ForCustomerAsync("C001", null, CancellationToken.None)).Run.RunId);
        TwoRuns.Publish(tables, Serving, TwoRuns.B);

        clock.Advance(TimeSpan.FromSeconds(29.9));
        var cached = await reader.ForCustomerAsync("C001", null, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        var refreshed = await reader.ForCustomerAsync("C001", null, CancellationToken.None);

        Assert.Equal((TwoRuns.RunA, "PA100"), (cached.Run.RunId, cached.Recommendations[0].ProductId));
        Assert.Equal((TwoRuns.RunB, "PB100"), (refreshed.Run.RunId, refreshed.Recommendations[0].ProductId));
        Assert.Equal(2, tables.Requests.Count(request => request.Operation == "GetItem"));
    }

    [Fact]
    public async Task ForCustomer_NoCache_ReadsThePointerForEveryAnswer()
    {
        var (tables, _, reader) = Reader(0, TwoRuns.A);

        await reader.ForCustomerAsync("C001", null, CancellationToken.None);
        TwoRuns.Publish(tables, Serving, TwoRuns.B);
        var second = await reader.ForCustomerAsync("C001", null, CancellationToken.None);

        Assert.Equal(TwoRuns.RunB, second.Run.RunId);
        Assert.Equal(["GetItem", "BatchGetItem", "GetItem", "BatchGetItem"], tables.Requests.Select(request => request.Operation));
    }

    [Fact]
    public async Task ForCustomer_NothingPublished_ThrowsAndIsNotRemembered()
    {
        var (tables, _, reader) = Reader(30);

        var error = await Assert.ThrowsAsync<NothingPublishedException>(() => reader.ForCustomerAsync("C001", null, CancellationToken.None));
        TwoRuns.Publish(tables, Serving, TwoRuns.A);
        var answer = await reader.ForCustomerAsync("C001", null, CancellationToken.None);

        Assert.Equal("no recommendations are published yet", error.Message);
        Assert.Equal(TwoRuns.RunA, answer.Run.RunId);
    }

    [Theory]
    [InlineData("not json", "the item run#r1#customer#C1 has a recommendations attribute that is not JSON: ")]
    [InlineData("{\"rank\":1}", "the item run#r1#customer#C1 has a recommendations attribute that is not a JSON list of objects")]
    [InlineData("[1]", "the item run#r1#customer#C1 has a recommendations attribute that is not a JSON list of objects")]
    [InlineData("[{\"rank\":1,\"score\":0.5}]", "the item run#r1#customer#C1 has an entry without recommended_product")]
    [InlineData("[{\"recommended_product\":\"P\",\"score\":0.5}]", "the item run#r1#customer#C1 has an entry without rank")]
    [InlineData("[{\"recommended_product\":\"P\",\"rank\":1.5,\"score\":0.5}]", "the item run#r1#customer#C1 has rank = 1.5, not a whole number")]
    [InlineData("[{\"recommended_product\":\"P\",\"rank\":1,\"score\":\"high\"}]", "the item run#r1#customer#C1 has score = \"high\", not a finite number")]
    [InlineData("[{\"recommended_product\":\"P\",\"rank\":1,\"score\":1e999}]", "the item run#r1#customer#C1 has score = 1e999, not a finite number")]
    [InlineData("[{\"recommended_product\":[\"P\"],\"rank\":1,\"score\":1}]", "the item run#r1#customer#C1 has recommended_product = [\"P\"], not a string")]
    public async Task ForCustomer_DamagedCustomerItem_ThrowsServingDataNamingTheItem(string recommendations, string message)
    {
        var (tables, _, reader) = Reader(30);
        tables.Put(Serving, new Dictionary<string, AttributeValue>
        {
            ["pk"] = new() { S = "pointer" },
            ["run_id"] = new() { S = "r1" },
            ["published_at"] = new() { S = "2026-11-25T00:00:00Z" },
        });
        tables.Put(Serving, new Dictionary<string, AttributeValue> { ["pk"] = new() { S = "run#r1#customer#C1" }, ["recommendations"] = new() { S = recommendations } });

        var error = await Assert.ThrowsAsync<ServingDataException>(() => reader.ForCustomerAsync("C1", null, CancellationToken.None));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForCustomer_PointerWithoutRunId_ThrowsServingData()
    {
        var (tables, _, reader) = Reader(30);
        tables.Put(Serving, new Dictionary<string, AttributeValue> { ["pk"] = new() { S = "pointer" }, ["published_at"] = new() { S = "x" } });

        var error = await Assert.ThrowsAsync<ServingDataException>(() => reader.ForCustomerAsync("C1", null, CancellationToken.None));

        Assert.Equal("the item pointer has no string attribute run_id", error.Message);
    }

    [Fact]
    public async Task ForCustomer_NumericIdsWrittenAsNumbers_AreReadAsText()
    {
        var (tables, _, reader) = Reader(30);
        tables.Put(Serving, new Dictionary<string, AttributeValue>
        {
            ["pk"] = new() { S = "pointer" },
            ["run_id"] = new() { S = "r1" },
            ["published_at"] = new() { S = "2026-11-25T00:00:00Z" },
        });
        tables.Put(Serving, new Dictionary<string, AttributeValue>
        {
            ["pk"] = new() { S = "run#r1#customer#7" },
            ["recommendations"] = new() { S = """[{"recommended_product":1001,"rank":1.0,"score":0.5,"trigger_product":1002,"recommended_qty":3.0}]""" },
        });

        var answer = await reader.ForCustomerAsync("7", null, CancellationToken.None);

        Assert.Equal(new Recommendation("1001", 1, 0.5, null, null, null, null, "1002", 3, null), Assert.Single(answer.Recommendations));
    }

    [Fact]
    public async Task Summary_CurrentRun_IsItsSummaryDocument()
    {
        var (_, _, reader) = Reader(30, TwoRuns.A, TwoRuns.B);

        var (run, summary) = await reader.SummaryAsync(CancellationToken.None);

        Assert.Equal(TwoRuns.RunB, run.RunId);
        Assert.Equal(3, summary.GetProperty("coverage").GetProperty("customers").GetInt32());
        Assert.Equal(0.5, summary.GetProperty("feedback_summary").GetProperty("overall").GetProperty("acceptance_rate").GetDouble());
    }

    [Fact]
    public async Task Summary_RunWithoutSummaryItem_ThrowsNothingPublishedNamingTheRun()
    {
        var (tables, _, reader) = Reader(30, TwoRuns.A);
        tables.Delete(Serving, $"run#{TwoRuns.RunA}#summary");

        var error = await Assert.ThrowsAsync<NothingPublishedException>(() => reader.SummaryAsync(CancellationToken.None));

        Assert.Equal($"run {TwoRuns.RunA} was published without a summary; the next published run has one", error.Message);
    }

    [Theory]
    [InlineData("C001", "PB100", TwoRuns.RunB)]
    [InlineData("C001", "PA101", TwoRuns.RunA)]
    [InlineData("C002", "PA200", TwoRuns.RunA)]
    [InlineData("C004", "PB102", TwoRuns.RunB)]
    public async Task Check_ProductRecommendedInTheCurrentOrPreviousRun_NamesThatRun(string customer, string product, string run)
    {
        var (tables, _, reader) = Reader(30, TwoRuns.A, TwoRuns.B);

        var check = await reader.CheckAsync(customer, product, CancellationToken.None);

        Assert.Equal((run, true), (check.RecommendedIn, check.CustomerKnown));
        Assert.Equal([$"run#{TwoRuns.RunB}#customer#{customer}", $"run#{TwoRuns.RunA}#customer#{customer}"], tables.Requests[^1].Keys);
    }

    [Theory]
    [InlineData("C001", "PA300", true)]
    [InlineData("C004", "PA100", true)]
    [InlineData("C999", "PB100", false)]
    public async Task Check_ProductNotRecommended_NamesNoRun(string customer, string product, bool known)
    {
        var (_, _, reader) = Reader(30, TwoRuns.A, TwoRuns.B);

        var check = await reader.CheckAsync(customer, product, CancellationToken.None);

        Assert.Equal((null, known, TwoRuns.RunB), (check.RecommendedIn, check.CustomerKnown, check.Current.RunId));
    }

    [Fact]
    public async Task Check_FirstRunWithoutPrevious_AsksForOneKey()
    {
        var (tables, _, reader) = Reader(30, TwoRuns.A);

        await reader.CheckAsync("C001", "PA100", CancellationToken.None);

        Assert.Equal([$"run#{TwoRuns.RunA}#customer#C001"], tables.Requests[^1].Keys);
        tables.AssertNoViolations();
    }
}
