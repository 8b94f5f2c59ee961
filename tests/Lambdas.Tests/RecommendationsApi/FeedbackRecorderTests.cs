using System.Text;
using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.ProxyFunctions;
using CustomerSegmentation.RecommendationsApi;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

public sealed class FeedbackRecorderTests
{
    private const string Serving = InProcessApi.ServingTableName;
    private const string FeedbackTable = InProcessApi.FeedbackTableName;

    private static (InMemoryTables Tables, SteppedClock Clock, FeedbackRecorder Recorder) Recorder(params PublishedRunData[] runs)
    {
        var tables = new InMemoryTables((Serving, ServingTable.KeyName), (FeedbackTable, FeedbackRecorder.KeyName));
        foreach (var run in runs)
        {
            TwoRuns.Publish(tables, Serving, run);
        }

        var clock = new SteppedClock();
        var reader = new RecommendationReader(tables, Serving, new CustomerSegmentation.RecommendationsApi.PublishedRuns(tables, Serving, TimeSpan.FromSeconds(30), clock));
        return (tables, clock, new FeedbackRecorder(tables, FeedbackTable, reader, clock));
    }

    private static FeedbackSubmission Submission(string body, string? key = null) =>
        FeedbackRequest.Parse(Encoding.UTF8.GetBytes(body), "application/json", key, 16384, new DateOnly(2026, 11, 25));

    [Fact]
    public async Task Record_RecommendedProduct_StoresTheContractItemOnce()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A, TwoRuns.B);
        var submission = Submission("""{"customer_id":"C001","product_id":"PB100","rating":"medium","reason_code":"Price_Too_High","sentiment":"negative","feedback_date":"2026-11-24"}""",
            "crm-visit-1");

        var result = await recorder.RecordAsync(submission, CancellationToken.None);

        Assert.Equal(new FeedbackResult(true, "crm-visit-1", TwoRuns.RunB, submission.Feedback), result);
        var item = Assert.Single(tables.Scan(FeedbackTable));
        Assert.Equal(new Dictionary<string, string>
        {
            ["idempotency_key"] = "crm-visit-1",
            ["customer_id"] = "C001",
            ["product_id"] = "PB100",
            ["rating"] = "Medium",
            ["reason_code"] = "price_too_high",
            ["sentiment"] = "negative",
            ["feedback_date"] = "2026-11-24",
            ["received_at"] = "2026-11-25T12:00:00.000Z",
            ["run_id"] = TwoRuns.RunB,
            ["request_sha256"] = submission.RequestSha256,
        }, item.ToDictionary(pair => pair.Key, pair => pair.Value.S));
        tables.AssertNoViolations();
    }

    [Fact]
    public async Task Record_HighWithoutOptionalFields_LeavesThemOutOfTheItem()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A);

        await recorder.RecordAsync(Submission("""{"customer_id":"C002","product_id":"PA200","rating":"High"}"""), CancellationToken.None);

        Assert.Equal(["customer_id", "feedback_date", "idempotency_key", "product_id", "rating", "received_at", "request_sha256", "run_id"],
            Assert.Single(tables.Scan(FeedbackTable)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Record_ProductOfThePreviousRun_IsStoredForThatRun()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A, TwoRuns.B);

        var result = await recorder.RecordAsync(Submission("""{"customer_id":"C002","product_id":"PA200","rating":"High"}"""), CancellationToken.None);

        Assert.Equal((true, TwoRuns.RunA), (result.Stored, result.RunId));
        Assert.Equal(TwoRuns.RunA, Assert.Single(tables.Scan(FeedbackTable))["run_id"].S);
    }

    [Fact]
    public async Task Record_SameRequestAgain_IsAReplayStoredOnce()
    {
        var (tables, clock, recorder) = Recorder(TwoRuns.A);
        var body = """{"customer_id":"C001","product_id":"PA100","rating":"Low","reason_code":"not_relevant"}""";
        var first = await recorder.RecordAsync(Submission(body), CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(5));

        var second = await recorder.RecordAsync(Submission(body), CancellationToken.None);

        Assert.Equal(first with { Stored = false }, second);
        Assert.Equal("2026-11-25T12:00:00.000Z", Assert.Single(tables.Scan(FeedbackTable))["received_at"].S);
    }

    [Fact]
    public async Task Record_SameKeyOtherContent_Is409AndKeepsTheFirst()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A);
        await recorder.RecordAsync(Submission("""{"customer_id":"C001","product_id":"PA100","rating":"High"}""", "visit-7"), CancellationToken.None);

        var error = await Assert.ThrowsAsync<RequestException>(() =>
            recorder.RecordAsync(Submission("""{"customer_id":"C001","product_id":"PA101","rating":"High"}""", "visit-7"), CancellationToken.None));

        Assert.Equal((409, "Idempotency-Key", "Idempotency-Key visit-7 was used for different feedback"), (error.StatusCode, error.Field, error.Message));
        Assert.Equal("PA100", Assert.Single(tables.Scan(FeedbackTable))["product_id"].S);
    }

    [Fact]
    public async Task Record_ProductNotRecommendedToAKnownCustomer_Is400ForTheProductAndStoresNothing()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A, TwoRuns.B);

        var error = await Assert.ThrowsAsync<RequestException>(() =>
            recorder.RecordAsync(Submission("""{"customer_id":"C001","product_id":"PA200","rating":"High"}"""), CancellationToken.None));

        Assert.Equal((400, "product_id", $"product PA200 was not recommended to customer C001 in run {TwoRuns.RunB} or the previous run {TwoRuns.RunA}: "
            + "only a recommendation made can be rated"), (error.StatusCode, error.Field, error.Message));
        Assert.Empty(tables.Scan(FeedbackTable));
    }

    [Fact]
    public async Task Record_CustomerOfNeitherRun_Is400ForTheCustomerAndStoresNothing()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A);

        var error = await Assert.ThrowsAsync<RequestException>(() =>
            recorder.RecordAsync(Submission("""{"customer_id":"C005","product_id":"PB200","rating":"High"}"""), CancellationToken.None));

        Assert.Equal((400, "customer_id", $"customer C005 is not in run {TwoRuns.RunA}: only a recommendation made to a customer of a published run can be rated"),
            (error.StatusCode, error.Field, error.Message));
        Assert.Empty(tables.Scan(FeedbackTable));
    }

    [Fact]
    public async Task Record_ColdStartProduct_IsRefusedBecauseTheRunNeverRecommendedIt()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A);

        var error = await Assert.ThrowsAsync<RequestException>(() =>
            recorder.RecordAsync(Submission("""{"customer_id":"C999","product_id":"PA300","rating":"High"}"""), CancellationToken.None));

        Assert.Equal("customer_id", error.Field);
        Assert.Empty(tables.Scan(FeedbackTable));
    }

    [Fact]
    public async Task Record_RetryAfterTheRunsMovedOn_IsStillAReplay()
    {
        var (tables, clock, recorder) = Recorder(TwoRuns.A);
        var body = """{"customer_id":"C002","product_id":"PA200","rating":"High"}""";
        var first = await recorder.RecordAsync(Submission(body), CancellationToken.None);
        var runC = TwoRuns.B with { RunId = "pipelines-run-c", PreviousRunId = TwoRuns.RunB };
        TwoRuns.Publish(tables, Serving, TwoRuns.B);
        TwoRuns.Publish(tables, Serving, runC);
        clock.Advance(TimeSpan.FromMinutes(1));

        var retry = await recorder.RecordAsync(Submission(body), CancellationToken.None);

        Assert.Equal(first with { Stored = false }, retry);
        Assert.Single(tables.Scan(FeedbackTable));
    }

    [Fact]
    public async Task Record_ConcurrentWriteOfTheSameFeedback_IsAReplay()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A);
        var submission = Submission("""{"customer_id":"C001","product_id":"PA100","rating":"High"}""");
        tables.BeforePut = (table, _) =>
        {
            tables.BeforePut = null;
            tables.Put(table, FeedbackRecorder.Item(submission, TwoRuns.RunA, DateTimeOffset.UnixEpoch));
        };

        var result = await recorder.RecordAsync(submission, CancellationToken.None);

        Assert.Equal((false, TwoRuns.RunA), (result.Stored, result.RunId));
        Assert.Equal("1970-01-01T00:00:00.000Z", Assert.Single(tables.Scan(FeedbackTable))["received_at"].S);
    }

    [Fact]
    public async Task Record_NothingPublished_ThrowsBeforeWriting()
    {
        var (tables, _, recorder) = Recorder();

        await Assert.ThrowsAsync<NothingPublishedException>(() =>
            recorder.RecordAsync(Submission("""{"customer_id":"C001","product_id":"PA100","rating":"High"}"""), CancellationToken.None));

        Assert.DoesNotContain(tables.Requests, request => request.Operation == "PutItem");
    }

    [Fact]
    public async Task Record_FeedbackTableUnavailable_Throws()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A);
        tables.FailWith = (operation, table) => operation == "PutItem" ? new TableUnavailableException(table, operation, new IOException("reset")) : null;

        var error = await Assert.ThrowsAsync<TableUnavailableException>(() =>
            recorder.RecordAsync(Submission("""{"customer_id":"C001","product_id":"PA100","rating":"High"}"""), CancellationToken.None));

        Assert.Equal(FeedbackTable, error.Table);
        Assert.Empty(tables.Scan(FeedbackTable));
    }

    [Fact]
    public async Task Record_StoredItemWithABadDate_ThrowsServingDataOnReplay()
    {
        var (tables, _, recorder) = Recorder(TwoRuns.A);
        var submission = Submission("""{"customer_id":"C001","product_id":"PA100","rating":"High"}""");
        var item = FeedbackRecorder.Item(submission, TwoRuns.RunA, DateTimeOffset.UnixEpoch);
        item["feedback_date"] = new AttributeValue { S = "yesterday" };
        tables.Put(FeedbackTable, item);

        var error = await Assert.ThrowsAsync<ServingDataException>(() => recorder.RecordAsync(submission, CancellationToken.None));

        Assert.Equal($"the feedback item {submission.IdempotencyKey} has feedback_date yesterday, not YYYY-MM-DD", error.Message);
    }
}
