using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.LocalAws.DynamoDb;
using CustomerSegmentation.RecommendationsApi;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>
/// The published RecommendationsApi <c>bootstrap</c> (native AOT, linux-x64, as CDK bundles it) serving API Gateway proxy
/// events through the loopback Lambda Runtime API, against dynalite on loopback with the serving and feedback tables created
/// as the stack creates them. Reusable by any test of the function or its pages:
/// <code>
/// var bootstrap = await RecommendationsApiBootstrap.PublishedAsync();           // one publish per test run
/// await using var api = await RecommendationsApiHarness.StartAsync(bootstrap.BootstrapPath);
/// await api.PublishAsync(TwoRuns.A);                                            // items first, then the pointer
/// var answer = await api.InvokeAsync(ApiEvents.Recommendations("C001"));         // every answer comes through here
/// var (coldStart, first) = await api.ColdStartAsync(ApiEvents.Recommendations("C001")); // a fresh process, timed
/// using var front = api.StartHttpFront(apiKey: "test-key");                     // for a browser: front.StageUri
/// var stored = await api.ScanFeedbackAsync();                                   // what POST /feedback stored
/// </code>
/// Every answer, from <see cref="InvokeAsync"/> or from the HTTP front, goes through <see cref="RecommendationsApiResponses"/>.
/// Put a test class that uses it in <see cref="RecommendationsApiEndToEndCollection"/>: those classes run one at a time, after
/// the parallel ones, so their timings are not those of a busy host.
/// </summary>
public sealed class RecommendationsApiHarness : IAsyncDisposable
{
    public const string Region = "us-east-1";
    public const string ServingTableName = "recommendations-serving";
    public const string FeedbackTableName = "recommendations-feedback";

    private readonly DynaliteServer _dynalite;
    private readonly string _bootstrapPath;
    private readonly (string Name, string Value)[] _environment;

    private RecommendationsApiHarness(DynaliteServer dynalite, AmazonDynamoDBClient client, LambdaRuntimeApiServer runtimeApi, BootstrapProcess bootstrap,
        string bootstrapPath, (string Name, string Value)[] environment)
    {
        _dynalite = dynalite;
        _bootstrapPath = bootstrapPath;
        _environment = environment;
        Client = client;
        RuntimeApi = runtimeApi;
        Bootstrap = bootstrap;
    }

    /// <summary>dynalite's endpoint (what <c>AWS_ENDPOINT_URL_DYNAMODB</c> is for the function).</summary>
    public Uri DynamoDbEndpoint => _dynalite.Endpoint;

    /// <summary>A client of the same dynalite, to seed and inspect the tables.</summary>
    public AmazonDynamoDBClient Client { get; }

    public LambdaRuntimeApiServer RuntimeApi { get; }

    public BootstrapProcess Bootstrap { get; }

    /// <summary>
    /// Starts dynalite, creates the tables as the stack does (serving: <c>pk</c> S; feedback: <c>idempotency_key</c> S; both
    /// on demand; the serving table's TTL on <c>expires_at</c> is not set, as dynalite has no UpdateTimeToLive and expires
    /// nothing), then the bootstrap with the function's environment.
    /// </summary>
    /// <param name="bootstrapPath">The published bootstrap (<see cref="RecommendationsApiBootstrap.PublishedAsync"/>).</param>
    /// <param name="pointerCacheSeconds">POINTER_CACHE_SECONDS. Default: 0, every request reads the pointer.</param>
    /// <param name="environment">More variables for the function (e.g. CORS_ALLOWED_ORIGINS, MAX_BODY_BYTES).</param>
    public static async Task<RecommendationsApiHarness> StartAsync(string bootstrapPath, int pointerCacheSeconds = 0,
        params (string Name, string Value)[] environment)
    {
        var dynalite = await DynaliteServer.StartAsync(DynaliteServer.FindEntryPoint(Repository.Root), CancellationToken.None);
        var client = LocalTables.Client(dynalite.Endpoint);
        LambdaRuntimeApiServer? runtimeApi = null;
        try
        {
            await CreateTablesAsync(client);
            runtimeApi = new LambdaRuntimeApiServer();
            (string Name, string Value)[] functionEnvironment =
            [
                ("AWS_REGION", Region), ("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local"),
                ("AWS_ENDPOINT_URL_DYNAMODB", dynalite.Endpoint.ToString()), ("RECOMMENDATIONS_TABLE_NAME", ServingTableName),
                ("FEEDBACK_TABLE_NAME", FeedbackTableName), ("POINTER_CACHE_SECONDS", pointerCacheSeconds.ToString(CultureInfo.InvariantCulture)),
                .. environment,
            ];
            var bootstrap = BootstrapProcess.Start(bootstrapPath, [("AWS_LAMBDA_RUNTIME_API", runtimeApi.RuntimeApi), .. functionEnvironment]);
            return new RecommendationsApiHarness(dynalite, client, runtimeApi, bootstrap, bootstrapPath, functionEnvironment);
        }
        catch
        {
            runtimeApi?.Dispose();
            client.Dispose();
            dynalite.Dispose();
            throw;
        }
    }

    /// <summary>Publishes <paramref name="run"/> as the Publish step does: every item of the run, then the pointer.</summary>
    public async Task PublishAsync(PublishedRunData run)
    {
        ArgumentNullException.ThrowIfNull(run);
        foreach (var item in run.Items())
        {
            await Client.PutItemAsync(new PutItemRequest { TableName = ServingTableName, Item = item });
        }

        await Client.PutItemAsync(new PutItemRequest { TableName = ServingTableName, Item = run.PointerItem() });
    }

    /// <summary>One request through the Runtime API; a function error (not a response) fails the test.</summary>
    public Task<APIGatewayProxyResponse> InvokeAsync(APIGatewayProxyRequest request) =>
        RecommendationsApiResponses.ReceiveAsync(request, async eventJson =>
        {
            var outcome = await RuntimeApi.WaitForOutcomeAsync(RuntimeApi.Enqueue(Encoding.UTF8.GetString(eventJson)), TimeSpan.FromSeconds(60));
            Assert.False(outcome.IsError, $"the function reported an error instead of a response: {outcome.BodyText}");
            return outcome.Body;
        });

    /// <summary>
    /// A cold start: a fresh bootstrap process with the same environment, on a Runtime API of its own, answers
    /// <paramref name="request"/>; returns the time from starting the process to the answer (process start, runtime
    /// start-up, the function's init and the first invocation with its table reads).
    /// </summary>
    public async Task<(TimeSpan Elapsed, APIGatewayProxyResponse Response)> ColdStartAsync(APIGatewayProxyRequest request)
    {
        var elapsed = TimeSpan.Zero;
        var response = await RecommendationsApiResponses.ReceiveAsync(request, async eventJson =>
        {
            using var runtimeApi = new LambdaRuntimeApiServer();
            var id = runtimeApi.Enqueue(Encoding.UTF8.GetString(eventJson));
            var watch = Stopwatch.StartNew();
            using var bootstrap = BootstrapProcess.Start(_bootstrapPath, [("AWS_LAMBDA_RUNTIME_API", runtimeApi.RuntimeApi), .. _environment]);
            var outcome = await runtimeApi.WaitForOutcomeAsync(id, TimeSpan.FromSeconds(60));
            elapsed = watch.Elapsed;
            Assert.False(outcome.IsError, $"the function reported an error instead of a response: {outcome.BodyText}");
            runtimeApi.ThrowIfProtocolViolated();
            return outcome.Body;
        });
        return (elapsed, response);
    }

    /// <summary>Every item of the feedback table (consistent scan, all pages).</summary>
    public async Task<List<Dictionary<string, AttributeValue>>> ScanFeedbackAsync()
    {
        var items = new List<Dictionary<string, AttributeValue>>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await Client.ScanAsync(new ScanRequest { TableName = FeedbackTableName, ConsistentRead = true, ExclusiveStartKey = start });
            items.AddRange(page.Items ?? []);
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        return items;
    }

    /// <summary>The function's log lines so far ("Request served." and the rest), each parsed.</summary>
    public IReadOnlyList<JsonElement> LogLines() => Bootstrap.LogLines();

    /// <summary>Fails on any Runtime API protocol violation.</summary>
    public void AssertCleanRun() => RuntimeApi.ThrowIfProtocolViolated();

    /// <summary>
    /// An HTTP front on loopback for a browser: <c>{StageUri}recommendations/C001?region=..</c>,
    /// <c>{StageUri}feedback</c>, the pages and the document, answered through <see cref="InvokeAsync"/>.
    /// </summary>
    /// <param name="apiKey">When given, the keyed routes answer 403 <c>{"message":"Forbidden"}</c> without this x-api-key, as API Gateway does.</param>
    public RecommendationsApiFront StartHttpFront(string? apiKey = null) => new(this, apiKey);

    public async ValueTask DisposeAsync()
    {
        Bootstrap.Dispose();
        RuntimeApi.Dispose();
        Client.Dispose();
        _dynalite.Dispose();
        await Task.CompletedTask;
    }

    private static async Task CreateTablesAsync(AmazonDynamoDBClient client)
    {
        foreach (var (table, key) in new[] { (ServingTableName, ServingTable.KeyName), (FeedbackTableName, FeedbackRecorder.KeyName) })
        {
            await client.CreateTableAsync(new CreateTableRequest
            {
                TableName = table,
                KeySchema = [new KeySchemaElement(key, KeyType.HASH)],
                AttributeDefinitions = [new AttributeDefinition(key, ScalarAttributeType.S)],
                BillingMode = BillingMode.PAY_PER_REQUEST,
            });
        }
    }
}

/// <summary>
/// The REST API's RecommendationsApi resources on loopback (<c>http://127.0.0.1:port/prod/...</c>): each request becomes
/// the proxy event API Gateway would send (resource template, path parameters, query, headers, body) and is answered by the
/// harness's bootstrap. An unknown path answers 403 "Missing Authentication Token"; without the configured API key, the
/// keyed routes answer 403 "Forbidden" (the pages and the OpenAPI document need none). Nothing else of API Gateway is
/// emulated here (the template-driven front is infra/LocalAws's LocalApiGateway).
/// </summary>
public sealed class RecommendationsApiFront : LoopbackHttpServer
{
    private const string Stage = "prod";
    private static readonly string[] Unkeyed = [RecommendationsApiFunction.OpenApiRoute, RecommendationsApiFunction.AccountManagerRoute,
        RecommendationsApiFunction.SalesLeaderRoute];

    private static readonly string[] Exact = [RecommendationsApiFunction.SummaryRoute, RecommendationsApiFunction.FeedbackRoute, .. Unkeyed];

    private readonly RecommendationsApiHarness _harness;
    private readonly string? _apiKey;

    internal RecommendationsApiFront(RecommendationsApiHarness harness, string? apiKey)
    {
        _harness = harness;
        _apiKey = apiKey;
    }

    /// <summary>The stage's URL, as the stack's ApiUrl output gives it: <c>http://127.0.0.1:port/prod/</c>.</summary>
    public Uri StageUri => new(BaseUri, Stage + "/");

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var raw = request.Url!.AbsolutePath;
        var path = raw.StartsWith($"/{Stage}/", StringComparison.Ordinal) ? Uri.UnescapeDataString(raw[(Stage.Length + 1)..]) : null;
        var (resource, pathParameters) = path is null ? (null, null) : Resource(path);
        if (resource is null)
        {
            await RespondAsync(context.Response, 403, """{"message":"Missing Authentication Token"}"""u8.ToArray());
            return;
        }

        var headers = request.Headers.AllKeys.OfType<string>().ToDictionary(key => key, key => request.Headers[key]!);
        if (_apiKey is not null && !Unkeyed.Contains(resource) && request.Headers["x-api-key"] != _apiKey)
        {
            await RespondAsync(context.Response, 403, """{"message":"Forbidden"}"""u8.ToArray());
            return;
        }

        var query = request.QueryString.AllKeys.OfType<string>().ToDictionary(key => key, key => request.QueryString[key]!);
        var body = await ReadBodyAsync(request);
        var answer = await _harness.InvokeAsync(ApiEvents.Event(request.HttpMethod, resource, path, body.Length == 0 ? null : Encoding.UTF8.GetString(body),
            headers, query.Count == 0 ? null : query, pathParameters));
        var responseHeaders = new Dictionary<string, string>(answer.Headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        var contentType = responseHeaders.Remove("Content-Type", out var given) ? given : "application/json";
        await RespondAsync(context.Response, answer.StatusCode, Encoding.UTF8.GetBytes(answer.Body ?? ""), contentType, responseHeaders);
    }

    private static (string? Resource, Dictionary<string, string>? PathParameters) Resource(string path)
    {
        var trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
        if (Exact.Contains(trimmed))
        {
            return (trimmed, null);
        }

        const string Prefix = "/recommendations/";
        return trimmed.StartsWith(Prefix, StringComparison.Ordinal) && trimmed.Length > Prefix.Length && trimmed.IndexOf('/', Prefix.Length) < 0
            ? (RecommendationsApiFunction.CustomerRoute, new Dictionary<string, string> { ["customerId"] = trimmed[Prefix.Length..] })
            : (null, null);
    }
}

/// <summary>The RecommendationsApi bootstrap, published once per test run however many classes need it.</summary>
public static class RecommendationsApiBootstrap
{
    private static readonly Lazy<Task<NativeBootstrap>> Published = new(() => NativePublish.PublishAsync("lambdas/RecommendationsApi/RecommendationsApi.csproj"));

    /// <summary>The publish (started by the first caller); a failed publish, including any trim/AOT warning, fails every caller.</summary>
    public static Task<NativeBootstrap> PublishedAsync() => Published.Value;
}

/// <summary>The end-to-end tests of the published RecommendationsApi bootstrap: one class at a time, after the parallel collections.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RecommendationsApiEndToEndCollection
{
    public const string Name = "RecommendationsApi end to end";
}
