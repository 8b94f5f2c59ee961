using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using Xunit.Abstractions;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>
/// The published RecommendationsApi bootstrap as a child process: API Gateway proxy events through the loopback Lambda
/// Runtime API, the tables in dynalite on loopback, runs published in the Publish step's item format.
/// </summary>
[Collection(RecommendationsApiEndToEndCollection.Name)]
public sealed class RecommendationsApiBootstrapTests(ITestOutputHelper output)
{
    private static JsonElement Json(APIGatewayProxyResponse response) => JsonDocument.Parse(response.Body!).RootElement.Clone();

    private static async Task<string> BootstrapAsync() => (await RecommendationsApiBootstrap.PublishedAsync()).BootstrapPath;

    [Fact]
    public async Task Publish_RecommendationsApi_IsANativeExecutableWithoutTrimOrAotWarnings()
    {
        var published = await RecommendationsApiBootstrap.PublishedAsync();
        var bytes = File.ReadAllBytes(published.BootstrapPath);

        output.WriteLine($"bootstrap: {bytes.Length} bytes ({bytes.Length / 1024.0 / 1024.0:F1} MiB), published in {published.PublishTime.TotalSeconds:F0} s");
        Assert.Equal<byte>([0x7F, (byte)'E', (byte)'L', (byte)'F'], bytes[..4]);
        Assert.DoesNotMatch(@"warning (IL|AOT)\d{4}", published.PublishOutput);
    }

    [Fact]
    public async Task Bootstrap_EveryRoute_IsServedFromDynalite()
    {
        await using var api = await RecommendationsApiHarness.StartAsync(await BootstrapAsync());
        var feedback = """{"customer_id":"C001","product_id":"PB100","rating":"Medium","reason_code":"price_too_high","sentiment":"negative","feedback_date":"2026-11-20"}""";

        var nothing = await api.InvokeAsync(ApiEvents.Recommendations("C001"));
        var nothingSummary = await api.InvokeAsync(ApiEvents.Event("GET", "/recommendations/summary"));
        var nothingFeedback = await api.InvokeAsync(ApiEvents.Feedback(feedback));
        await api.PublishAsync(TwoRuns.A);
        await api.PublishAsync(TwoRuns.B);
        var known = await api.InvokeAsync(ApiEvents.Recommendations("C001"));
        var cold = await api.InvokeAsync(ApiEvents.Recommendations("C999", "North", "Mining"));
        var unknown = await api.InvokeAsync(ApiEvents.Recommendations("C999"));
        var unknownSegment = await api.InvokeAsync(ApiEvents.Recommendations("C999", "South", "Mining"));
        var summary = await api.InvokeAsync(ApiEvents.Event("GET", "/recommendations/summary"));
        var stored = await api.InvokeAsync(ApiEvents.Feedback(feedback, "visit-1"));
        var retried = await api.InvokeAsync(ApiEvents.Feedback(feedback, "visit-1"));
        var conflict = await api.InvokeAsync(ApiEvents.Feedback(feedback.Replace("PB100", "PB101", StringComparison.Ordinal), "visit-1"));
        var notRecommended = await api.InvokeAsync(ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PB200","rating":"High"}"""));
        var previousRun = await api.InvokeAsync(ApiEvents.Feedback("""{"customer_id":"C002","product_id":"PA200","rating":"High"}"""));
        var openApi = await api.InvokeAsync(ApiEvents.Event("GET", "/openapi.json"));
        var accountManager = await api.InvokeAsync(ApiEvents.Event("GET", "/account-manager"));
        var salesLeader = await api.InvokeAsync(ApiEvents.Event("GET", "/sales-leader"));
        var wrongMethod = await api.InvokeAsync(ApiEvents.Event("DELETE", "/feedback"));

        Assert.Equal([503, 503, 503], new[] { nothing, nothingSummary, nothingFeedback }.Select(response => response.StatusCode));
        Assert.Equal("""{"error":"no recommendations are published yet"}""", nothing.Body);
        Assert.Equal("30", nothing.Headers!["Retry-After"]);
        Assert.Equal((200, TwoRuns.RunB, "PB100"), (known.StatusCode, Json(known).GetProperty("run_id").GetString(),
            Json(known).GetProperty("recommendations")[0].GetProperty("product_id").GetString()));
        Assert.Equal((200, true, "PB310"), (cold.StatusCode, Json(cold).GetProperty("cold_start").GetBoolean(),
            Json(cold).GetProperty("recommendations")[0].GetProperty("product_id").GetString()));
        Assert.Equal((404, "customerId"), (unknown.StatusCode, Json(unknown).GetProperty("field").GetString()));
        Assert.Equal((404, "region"), (unknownSegment.StatusCode, Json(unknownSegment).GetProperty("field").GetString()));
        Assert.Equal((200, TwoRuns.RunB, 3), (summary.StatusCode, Json(summary).GetProperty("run_id").GetString(),
            Json(summary).GetProperty("coverage").GetProperty("customers").GetInt32()));
        Assert.Equal((201, true), (stored.StatusCode, Json(stored).GetProperty("stored").GetBoolean()));
        Assert.Equal((200, false), (retried.StatusCode, Json(retried).GetProperty("stored").GetBoolean()));
        Assert.Equal((409, "Idempotency-Key"), (conflict.StatusCode, Json(conflict).GetProperty("field").GetString()));
        Assert.Equal((400, "product_id"), (notRecommended.StatusCode, Json(notRecommended).GetProperty("field").GetString()));
        Assert.Equal((201, TwoRuns.RunA), (previousRun.StatusCode, Json(previousRun).GetProperty("run_id").GetString()));
        Assert.Equal(File.ReadAllText(Path.Combine(Repository.Root, "lambdas", "RecommendationsApi", "openapi.json")), openApi.Body);
        Assert.Equal([200, 200], new[] { accountManager, salesLeader }.Select(response => response.StatusCode));
        Assert.All(new[] { accountManager, salesLeader }, page => Assert.StartsWith("text/html", page.Headers!["Content-Type"], StringComparison.Ordinal));
        Assert.Equal((405, "POST"), (wrongMethod.StatusCode, wrongMethod.Headers!["Allow"]));

        var items = (await api.ScanFeedbackAsync()).OrderBy(item => item["run_id"].S, StringComparer.Ordinal).ToList();
        Assert.Equal(2, items.Count);
        var item = items.Single(candidate => candidate["idempotency_key"].S == "visit-1");
        Assert.Equal((TwoRuns.RunB, "C001", "PB100", "Medium", "price_too_high", "negative", "2026-11-20"),
            (item["run_id"].S, item["customer_id"].S, item["product_id"].S, item["rating"].S, item["reason_code"].S, item["sentiment"].S, item["feedback_date"].S));
        Assert.Matches("^[0-9a-f]{64}$", item["request_sha256"].S);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", item["received_at"].S);
        api.AssertCleanRun();
        var served = api.Bootstrap.StopAndReadLog().Where(line => line.GetProperty("message").GetString() == "Request served.").ToList();
        Assert.Equal(17, served.Count);
    }

    [Fact]
    public async Task Bootstrap_PointerSwitchWhileRequestsRun_EveryAnswerIsWhollyOneRunAndNoneFails()
    {
        await using var api = await RecommendationsApiHarness.StartAsync(await BootstrapAsync());
        await api.PublishAsync(TwoRuns.A);
        var products = new Dictionary<string, IReadOnlySet<string>> { [TwoRuns.RunA] = TwoRuns.ProductsOf(TwoRuns.A), [TwoRuns.RunB] = TwoRuns.ProductsOf(TwoRuns.B) };
        APIGatewayProxyRequest[] mix =
        [
            ApiEvents.Recommendations("C001"), ApiEvents.Recommendations("C004"), ApiEvents.Recommendations("C777", "West", "Plumbing"),
            ApiEvents.Event("GET", "/recommendations/summary"),
        ];
        using var publishing = new CancellationTokenSource();
        var answers = new List<(int Index, APIGatewayProxyResponse Response)>();

        var requests = Task.Run(async () =>
        {
            for (var index = 0; index < 400; index++)
            {
                answers.Add((index, await api.InvokeAsync(mix[index % mix.Length])));
                if (index == 100)
                {
                    await publishing.CancelAsync();
                }
            }
        });
        var publish = Task.Run(async () =>
        {
            await Task.Delay(Timeout.Infinite, publishing.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            await api.PublishAsync(TwoRuns.B);
        });
        await Task.WhenAll(requests, publish);

        var runs = new List<string>();
        foreach (var (index, response) in answers)
        {
            Assert.True(response.StatusCode == 200, $"#{index}: {response.StatusCode} {response.Body}");
            var json = Json(response);
            var run = json.GetProperty("run_id").GetString()!;
            runs.Add(run);
            if (json.TryGetProperty("recommendations", out var recommendations))
            {
                Assert.All(recommendations.EnumerateArray(), recommendation =>
                    Assert.Contains(recommendation.GetProperty("product_id").GetString()!, products[run]));
            }
            else
            {
                Assert.Equal(run == TwoRuns.RunA ? 4 : 3, json.GetProperty("coverage").GetProperty("customers").GetInt32());
            }
        }

        var firstB = runs.IndexOf(TwoRuns.RunB);
        output.WriteLine($"{runs.Count(run => run == TwoRuns.RunA)} answers from run A, then {runs.Count(run => run == TwoRuns.RunB)} from run B (first at #{firstB})");
        Assert.InRange(firstB, 101, 399);
        Assert.All(runs.Skip(firstB), run => Assert.Equal(TwoRuns.RunB, run));
        api.AssertCleanRun();
    }

    [Fact]
    public async Task Bootstrap_PointerCached_SwitchIsSeenOnceTheCacheTimeIsOver()
    {
        await using var api = await RecommendationsApiHarness.StartAsync(await BootstrapAsync(), pointerCacheSeconds: 3);
        await api.PublishAsync(TwoRuns.A);
        Assert.Equal(TwoRuns.RunA, Json(await api.InvokeAsync(ApiEvents.Recommendations("C001"))).GetProperty("run_id").GetString());
        await api.PublishAsync(TwoRuns.B);
        var switched = Stopwatch.StartNew();

        var cached = Json(await api.InvokeAsync(ApiEvents.Recommendations("C001"))).GetProperty("run_id").GetString();
        string? run;
        do
        {
            run = Json(await api.InvokeAsync(ApiEvents.Recommendations("C001"))).GetProperty("run_id").GetString();
        }
        while (run != TwoRuns.RunB && switched.Elapsed < TimeSpan.FromSeconds(30));

        output.WriteLine($"run B answered {switched.ElapsedMilliseconds} ms after its pointer was written (POINTER_CACHE_SECONDS=3)");
        Assert.Equal(TwoRuns.RunA, cached);
        Assert.Equal(TwoRuns.RunB, run);
        var tableRequests = api.Bootstrap.StopAndReadLog().Where(line => line.GetProperty("message").GetString() == "Request served.")
            .Select(line => line.GetProperty("tableRequests").GetInt32()).ToList();
        Assert.Equal((2, 1, 2), (tableRequests[0], tableRequests[1], tableRequests[^1]));
    }

    [Fact]
    public async Task Bootstrap_RandomAndMalformedFeedbackSample_SameChecksAgainstDynalite()
    {
        await using var api = await RecommendationsApiHarness.StartAsync(await BootstrapAsync(), pointerCacheSeconds: 30, ("MAX_BODY_BYTES", "16384"));
        await api.PublishAsync(TwoRuns.A);
        await api.PublishAsync(TwoRuns.B);
        const int Bodies = 400;

        var run = await FeedbackFuzz.RunAsync(new FeedbackBodies(424242, 16384), Bodies, api.InvokeAsync,
            async () => (IReadOnlyList<Dictionary<string, AttributeValue>>)await api.ScanFeedbackAsync());

        output.WriteLine(run.Summary);
        run.AssertHeld(Bodies);
        api.AssertCleanRun();
    }

    [Fact]
    public async Task Bootstrap_ColdAndWarmRequests_MeasuredPerRequestTime()
    {
        await using var api = await RecommendationsApiHarness.StartAsync(await BootstrapAsync(), pointerCacheSeconds: 30);
        await api.PublishAsync(TwoRuns.A);
        var coldStarts = new List<double>();
        for (var start = 0; start < 5; start++)
        {
            var (elapsed, answer) = await api.ColdStartAsync(ApiEvents.Recommendations("C001"));
            Assert.Equal(200, answer.StatusCode);
            coldStarts.Add(elapsed.TotalMilliseconds);
        }

        Assert.Equal(200, (await api.InvokeAsync(ApiEvents.Recommendations("C001"))).StatusCode);
        var roundTrips = new List<double>();
        for (var i = 0; i < 300; i++)
        {
            var watch = Stopwatch.StartNew();
            var response = await api.InvokeAsync(ApiEvents.Recommendations(i % 2 == 0 ? "C001" : "C002"));
            roundTrips.Add(watch.Elapsed.TotalMilliseconds);
            Assert.Equal(200, response.StatusCode);
        }

        var served = api.Bootstrap.StopAndReadLog().Where(line => line.GetProperty("message").GetString() == "Request served.").Skip(1).ToList();
        var total = served.Select(line => line.GetProperty("totalMs").GetDouble()).Order().ToList();
        var table = served.Select(line => line.GetProperty("tableMs").GetDouble()).Order().ToList();
        var handler = served.Select(line => line.GetProperty("totalMs").GetDouble() - line.GetProperty("tableMs").GetDouble()).Order().ToList();
        roundTrips.Sort();
        coldStarts.Sort();
        output.WriteLine($"cold start, 5 fresh processes (process start to the first answer: runtime start-up, init, GetItem of the pointer and BatchGetItem "
            + $"against dynalite): median {coldStarts[2]:F1} ms, min {coldStarts[0]:F1} ms, max {coldStarts[4]:F1} ms");
        output.WriteLine($"warm round trip through the Runtime API (GET /recommendations/{{customerId}}, pointer cached): p50 {roundTrips[149]:F2} ms, p99 {roundTrips[296]:F2} ms");
        output.WriteLine($"in-handler total (log totalMs): p50 {total[149]:F3} ms, p99 {total[296]:F3} ms");
        output.WriteLine($"of which the BatchGetItem against dynalite (log tableMs): p50 {table[149]:F3} ms, p99 {table[296]:F3} ms");
        output.WriteLine($"handler without the table (totalMs - tableMs): p50 {handler[149]:F3} ms, p99 {handler[296]:F3} ms");
        Assert.Equal(300, served.Count);
        Assert.All(served, line => Assert.Equal(1, line.GetProperty("tableRequests").GetInt32()));
        api.AssertCleanRun();
    }

    [Fact]
    public async Task Bootstrap_HttpFront_ServesTheRoutesBehindTheKeyAndThePagesWithout()
    {
        await using var api = await RecommendationsApiHarness.StartAsync(await BootstrapAsync());
        await api.PublishAsync(TwoRuns.A);
        using var front = api.StartHttpFront(apiKey: "test-key");
        using var http = new HttpClient { BaseAddress = front.StageUri };

        using var withoutKey = await http.GetAsync(new Uri("recommendations/C001", UriKind.Relative));
        using var keyed = new HttpRequestMessage(HttpMethod.Get, new Uri("recommendations/C999?region=West&end_use=Plumbing", UriKind.Relative));
        keyed.Headers.Add("x-api-key", "test-key");
        using var withKey = await http.SendAsync(keyed);
        using var posted = new HttpRequestMessage(HttpMethod.Post, new Uri("feedback", UriKind.Relative))
        {
            Content = new StringContent("""{"customer_id":"C001","product_id":"PA100","rating":"High"}""", Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        posted.Headers.Add("x-api-key", "test-key");
        posted.Headers.Add("Idempotency-Key", "front-1");
        using var feedback = await http.SendAsync(posted);
        using var page = await http.GetAsync(new Uri("account-manager", UriKind.Relative));
        using var missing = await http.GetAsync(new Uri("nothing-here", UriKind.Relative));

        Assert.Equal(403, (int)withoutKey.StatusCode);
        Assert.Equal(200, (int)withKey.StatusCode);
        Assert.True(JsonDocument.Parse(await withKey.Content.ReadAsStringAsync()).RootElement.GetProperty("cold_start").GetBoolean());
        Assert.Equal(201, (int)feedback.StatusCode);
        Assert.Equal(("front-1", 1), (JsonDocument.Parse(await feedback.Content.ReadAsStringAsync()).RootElement.GetProperty("idempotency_key").GetString(),
            (await api.ScanFeedbackAsync()).Count));
        Assert.Equal((200, "text/html"), ((int)page.StatusCode, page.Content.Headers.ContentType!.MediaType));
        Assert.Equal(403, (int)missing.StatusCode);
        api.AssertCleanRun();
    }

    [Fact]
    public async Task Bootstrap_MissingConfiguration_ReportsEveryProblemAsAnInitError()
    {
        var bootstrap = await BootstrapAsync();
        using var runtime = new LambdaRuntimeApiServer();
        using var process = BootstrapProcess.Start(bootstrap, [("AWS_LAMBDA_RUNTIME_API", runtime.RuntimeApi), ("AWS_REGION", "us-east-1"),
            ("RECOMMENDATIONS_TABLE_NAME", "serving"), ("MAX_BODY_BYTES", "0")]);

        var report = await runtime.WaitForInitErrorAsync(TimeSpan.FromSeconds(30));
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("RecommendationsApi configuration is invalid: FEEDBACK_TABLE_NAME is not set: set it to the name of the table feedback is stored in; "
            + "MAX_BODY_BYTES is '0'; valid: a whole number from 2 to 1048576.", report.BodyJson.GetProperty("errorMessage").GetString());
        Assert.Equal(1, exitCode);
        runtime.ThrowIfProtocolViolated();
    }
}
