using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.RecommendationsApi;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>A clock the test moves: both the wall clock and the timestamps the pointer cache measures with.</summary>
internal sealed class SteppedClock : TimeProvider
{
    private long _ticks = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>
/// The real handler and services in process over the strict <see cref="InMemoryTables"/>, with a stepped clock and
/// captured log lines. Answers come through <see cref="RecommendationsApiResponses"/>, from the Lambda entry point.
/// </summary>
internal sealed class InProcessApi : IDisposable
{
    public const string ServingTableName = "recommendations-serving";
    public const string FeedbackTableName = "recommendations-feedback";

    private readonly StringWriter _log = new();

    public InProcessApi(int pointerCacheSeconds = 30, int maxBodyBytes = 16 * 1024, IReadOnlyList<string>? corsAllowedOrigins = null)
    {
        Tables = new InMemoryTables((ServingTableName, ServingTable.KeyName), (FeedbackTableName, FeedbackRecorder.KeyName));
        Logger = new LambdaLogger(_log, Clock);
        Settings = new RecommendationsApiSettings
        {
            RecommendationsTable = ServingTableName,
            FeedbackTable = FeedbackTableName,
            PointerCacheDuration = TimeSpan.FromSeconds(pointerCacheSeconds),
            MaxBodyBytes = maxBodyBytes,
            CorsAllowedOrigins = corsAllowedOrigins ?? [],
        };
        Function = RecommendationsApiStartup.Create(Settings, new MeasuredTableClient(Tables, Clock), Clock);
    }

    public SteppedClock Clock { get; } = new();

    public InMemoryTables Tables { get; }

    public LambdaLogger Logger { get; }

    public RecommendationsApiSettings Settings { get; }

    public RecommendationsApiFunction Function { get; }

    public IReadOnlyList<JsonElement> LogLines =>
        [.. _log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    /// <summary>Publishes <paramref name="run"/> into the serving table: its items, then the pointer.</summary>
    public InProcessApi Publish(PublishedRunData run)
    {
        TwoRuns.Publish(Tables, ServingTableName, run);
        return this;
    }

    /// <summary>One request through the Lambda entry point (event bytes in, response document out).</summary>
    public Task<APIGatewayProxyResponse> InvokeAsync(APIGatewayProxyRequest request) =>
        RecommendationsApiResponses.ReceiveAsync(request, async eventJson =>
        {
            var context = new LambdaInvocationContext(Guid.NewGuid().ToString(), Clock.GetUtcNow().AddMinutes(1), null, null, Logger, Clock);
            using var input = new MemoryStream(eventJson, 0, eventJson.Length, writable: false, publiclyVisible: true);
            await using var output = await Function.HandleAsync(input, context, CancellationToken.None);
            using var copy = new MemoryStream();
            await output.CopyToAsync(copy);
            return copy.ToArray();
        });

    /// <summary>The stored feedback items.</summary>
    public IReadOnlyList<Dictionary<string, Amazon.DynamoDBv2.Model.AttributeValue>> Feedback => Tables.Scan(FeedbackTableName);

    public void Dispose() => _log.Dispose();
}
