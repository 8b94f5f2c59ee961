using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.Lambdas.Tests.EndpointDeployer;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.SegmentProxy;
using Xunit.Abstractions;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// Publishes lambdas/SegmentProxy native-AOT for linux-x64 once per test run, as the CDK bundling does
/// (<c>dotnet publish -r linux-x64 -p:PublishAot=true</c>), under its own artifacts path so it can run next to the other
/// publishes. A failed publish (any trim/AOT warning is an error) fails every test using the binary.
/// </summary>
public sealed class ProxyBootstrapFixture : IAsyncLifetime
{
    public string BootstrapPath { get; private set; } = "";

    public string PublishOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var published = await NativePublish.PublishAsync("lambdas/SegmentProxy/SegmentProxy.csproj");
        (BootstrapPath, PublishOutput) = (published.BootstrapPath, published.PublishOutput);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// The real SegmentProxy bootstrap as a child process: API Gateway proxy events through the loopback Lambda Runtime
/// API, the deployed model read from a real s3rver, and the endpoint behind the strict SageMaker runtime stand-in.
/// </summary>
public sealed class ProxyBootstrapTests(ProxyBootstrapFixture fixture, ITestOutputHelper output) : IClassFixture<ProxyBootstrapFixture>
{
    private const string TwoCustomers = """{"customers":[{"age":50,"income":30000,"purchases":25},{"age":30,"income":40000,"purchases":10}]}""";

    private static string Event(string method, string path, string? body = null) =>
        JsonSerializer.Serialize(new APIGatewayProxyRequest
        {
            HttpMethod = method,
            Path = path,
            Resource = path,
            Body = body,
            RequestContext = new ProxyRequestContext { RequestId = Guid.NewGuid().ToString(), Stage = "prod" },
        }, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest);

    private static APIGatewayProxyResponse Response(InvocationOutcome outcome)
    {
        Assert.False(outcome.IsError, outcome.BodyText);
        return JsonSerializer.Deserialize(outcome.Body, APIGatewayEventsJsonContext.Default.APIGatewayProxyResponse)!;
    }

    [Fact]
    public void Publish_SegmentProxy_IsANativeExecutableWithoutTrimWarnings()
    {
        var bytes = File.ReadAllBytes(fixture.BootstrapPath);

        output.WriteLine($"bootstrap: {bytes.Length} bytes");
        Assert.Equal<byte>([0x7F, (byte)'E', (byte)'L', (byte)'F'], bytes[..4]);
        Assert.DoesNotMatch(@"warning IL\d{4}", fixture.PublishOutput);
    }

    [Fact]
    public async Task Bootstrap_EveryRoute_IsServedAgainstS3rverAndTheStrictEndpointStandIn()
    {
        using var s3 = await S3rverProcess.StartAsync(ProxyModels.Bucket);
        await s3.PutTextAsync(DeployedMarker.Key, ProxyModels.Marker());
        await s3.PutTextAsync(S3Location.Parse(ProxyModels.SpecUri).Key, ProxyModels.Spec());
        await s3.PutTextAsync(S3Location.Parse(ProxyModels.ProfilesUri).Key, ProxyModels.Profiles());
        await s3.PutTextAsync(S3Location.Parse(ProxyModels.MetricsUri).Key, ProxyModels.Metrics);
        using var runtime = new SageMakerRuntimeStandIn("us-east-1", SimulatedAwsServices.Credentials);
        runtime.Handle("InvokeEndpoint", request =>
        {
            var rows = JsonDocument.Parse(request.Body).RootElement.GetProperty("instances").GetArrayLength();
            return new StandInResponse
            {
                Body = Encoding.UTF8.GetBytes("{\"predictions\":[" + string.Join(",", Enumerable.Repeat("""{"closest_cluster":4,"distance_to_cluster":1.25}""", rows)) + "]}"),
            };
        });
        using var api = new LambdaRuntimeApiServer();
        var ids = new List<string>
        {
            api.Enqueue(Event("POST", "/segment", TwoCustomers)),
            api.Enqueue(Event("GET", "/segments")),
            api.Enqueue(Event("GET", "/")),
            api.Enqueue(Event("POST", "/segment", """{"customers":[{"age":34,"income":"lots"}]}""")),
        };
        using var bootstrap = BootstrapProcess.Start(fixture.BootstrapPath,
        [
            ("AWS_LAMBDA_RUNTIME_API", api.RuntimeApi), ("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "S3RVER"), ("AWS_SECRET_ACCESS_KEY", "S3RVER"),
            ("AWS_ENDPOINT_URL_S3", s3.Endpoint.ToString()), ("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", runtime.BaseUri.ToString()),
            ("MODEL_BUCKET", ProxyModels.Bucket), ("ENDPOINT_NAME", "segments"),
        ]);

        var responses = new List<APIGatewayProxyResponse>();
        foreach (var id in ids)
        {
            responses.Add(Response(await api.WaitForOutcomeAsync(id, TimeSpan.FromSeconds(60))));
        }

        Assert.Equal([200, 200, 200, 400], responses.Select(response => response.StatusCode));
        var scored = JsonDocument.Parse(responses[0].Body!).RootElement;
        Assert.Equal("Senior premium frequent buyers", scored.GetProperty("predictions")[1].GetProperty("segment_label").GetString());
        Assert.Equal("7", scored.GetProperty("model_version").GetString());
        Assert.Equal(3, JsonDocument.Parse(responses[1].Body!).RootElement.GetProperty("segments").GetArrayLength());
        Assert.StartsWith("<!doctype html>", responses[2].Body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("""{"error":"must be a number, not a string","field":"customers[0].income"}""", responses[3].Body);
        runtime.AssertNoInvalidRequests();
        api.ThrowIfProtocolViolated();
        var invocation = Assert.Single(runtime.Requests);
        Assert.Equal("""{"instances":[[1,-1.5,1],[-1,-1,-2]]}""", Encoding.UTF8.GetString(invocation.Body));
        var lines = bootstrap.StopAndReadLog();
        Assert.Single(lines, line => line.GetProperty("message").GetString() == "Deployed model loaded.");
        Assert.Equal(4, lines.Count(line => line.GetProperty("message").GetString() == "Request served."));
    }

    [Fact]
    public async Task Bootstrap_MarkerMissingAtS3rverOrDeniedByS3_Is503NoModelDeployedYet()
    {
        using var s3rver = await S3rverProcess.StartAsync(ProxyModels.Bucket);
        using var denying = new S3AccessDeniedStandIn();

        var missing = await ServeOneAsync(s3rver.Endpoint, Event("GET", "/segments"));
        var denied = await ServeOneAsync(denying.BaseUri, Event("POST", "/segment", TwoCustomers));

        Assert.Equal((503, "30"), (missing.StatusCode, missing.Headers!["Retry-After"]));
        Assert.Equal("""{"error":"no model is deployed yet (s3://model-bucket/deployed/version.json does not exist)"}""", missing.Body);
        Assert.Equal((503, "30"), (denied.StatusCode, denied.Headers!["Retry-After"]));
        Assert.Equal("""{"error":"no model is deployed yet (or this function may not read s3://model-bucket/deployed/version.json)"}""", denied.Body);
        Assert.Equal(["GET /model-bucket/deployed/version.json"], denying.Requests);
    }

    /// <summary>One event through a fresh bootstrap in centroids mode whose S3 is <paramref name="s3"/>.</summary>
    private async Task<APIGatewayProxyResponse> ServeOneAsync(Uri s3, string proxyEvent)
    {
        using var api = new LambdaRuntimeApiServer();
        using var bootstrap = BootstrapProcess.Start(fixture.BootstrapPath,
        [
            ("AWS_LAMBDA_RUNTIME_API", api.RuntimeApi), ("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "S3RVER"), ("AWS_SECRET_ACCESS_KEY", "S3RVER"),
            ("AWS_ENDPOINT_URL_S3", s3.ToString()), ("MODEL_BUCKET", ProxyModels.Bucket), ("SERVING_MODE", "centroids"),
        ]);
        var response = Response(await api.WaitForOutcomeAsync(api.Enqueue(proxyEvent), TimeSpan.FromSeconds(60)));
        api.ThrowIfProtocolViolated();
        return response;
    }

    [Fact]
    public async Task Bootstrap_WarmRequests_MeasuredPerRequestOverhead()
    {
        using var s3 = await S3rverProcess.StartAsync(ProxyModels.Bucket);
        await s3.PutTextAsync(DeployedMarker.Key, ProxyModels.Marker());
        await s3.PutTextAsync(S3Location.Parse(ProxyModels.SpecUri).Key, ProxyModels.Spec());
        await s3.PutTextAsync(S3Location.Parse(ProxyModels.ProfilesUri).Key, ProxyModels.Profiles());
        using var api = new LambdaRuntimeApiServer();
        using var bootstrap = BootstrapProcess.Start(fixture.BootstrapPath,
        [
            ("AWS_LAMBDA_RUNTIME_API", api.RuntimeApi), ("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "S3RVER"), ("AWS_SECRET_ACCESS_KEY", "S3RVER"),
            ("AWS_ENDPOINT_URL_S3", s3.Endpoint.ToString()), ("MODEL_BUCKET", ProxyModels.Bucket), ("SERVING_MODE", "centroids"),
        ]);
        var first = Stopwatch.StartNew();
        var firstResponse = Response(await api.WaitForOutcomeAsync(api.Enqueue(Event("POST", "/segment", TwoCustomers)), TimeSpan.FromSeconds(60)));
        Assert.True(firstResponse.StatusCode == 200, firstResponse.Body);
        var firstRequest = first.Elapsed;

        var roundTrips = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            var watch = Stopwatch.StartNew();
            var response = Response(await api.WaitForOutcomeAsync(api.Enqueue(Event("POST", "/segment", TwoCustomers))));
            roundTrips.Add(watch.Elapsed.TotalMilliseconds);
            Assert.Equal(200, response.StatusCode);
        }

        var handlerTimes = bootstrap.StopAndReadLog().Where(line => line.GetProperty("message").GetString() == "Request served.")
            .Skip(1).Select(line => line.GetProperty("totalMs").GetDouble()).Order().ToList();
        roundTrips.Sort();
        output.WriteLine($"first request (start-up + model load from s3rver): {firstRequest.TotalMilliseconds:F1} ms");
        output.WriteLine($"warm round trip through the Runtime API, centroids mode, 2 customers: p50 {roundTrips[99]:F2} ms, p99 {roundTrips[197]:F2} ms");
        output.WriteLine($"in-handler total (log totalMs): p50 {handlerTimes[handlerTimes.Count / 2]:F3} ms, p99 {handlerTimes[handlerTimes.Count * 99 / 100]:F3} ms");
        Assert.Equal(200, handlerTimes.Count);
        api.ThrowIfProtocolViolated();
    }
}
