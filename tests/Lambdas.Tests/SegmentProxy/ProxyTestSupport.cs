using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.Lambdas.Tests.Contract;
using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>A small hand-checked model: three raw features, mean (40, 60000, 20), scale (10, 20000, 5), three segments.</summary>
internal static class ProxyModels
{
    public const string Bucket = "model-bucket";
    public const string SpecUri = "s3://model-bucket/runs/exec-1/artifacts/preprocessing_spec.json";
    public const string ProfilesUri = "s3://model-bucket/runs/exec-1/artifacts/segment_profiles.json";
    public const string MetricsUri = "s3://model-bucket/runs/exec-1/artifacts/metrics.json";

    public static string Spec(string features = "\"Age\",\"Income\",\"Purchases\"", string mean = "[40, 60000, 20]", string scale = "[10, 20000, 5]",
        string pca = "null", string rules = """{"age_range":[0,120],"income_min":0,"purchases_min":0,"purchases_must_be_positive":false}""") => $$"""
        {"spec_version":1,"features":[{{features}}],"column_order":[{{features}}],
         "scaler":{"type":"StandardScaler","mean":{{mean}},"scale":{{scale}}},"pca":{{pca}},"input_rules":{{rules}}}
        """;

    public static string Profiles(string features = "Age,Income,Purchases") =>
        features == "Age,Income,Purchases"
            ? """
              {"model_version":null,"features":["Age","Income","Purchases"],"segments":[
               {"id":0,"label":"Young budget-conscious occasional buyers","centroid":{"Age":30,"Income":40000,"Purchases":10},"size":50,"share":0.5},
               {"id":1,"label":"Middle-aged mid-income regular buyers","centroid":{"Age":40,"Income":60000,"Purchases":20},"size":30,"share":0.3},
               {"id":4,"label":"Senior premium frequent buyers","centroid":{"Age":60,"Income":100000,"Purchases":30},"size":20,"share":0.2}]}
              """
            : throw new ArgumentException("only the default features have profiles here", nameof(features));

    public const string Metrics = """{"k":3,"rows":100,"silhouette":0.61,"calinski_harabasz":250.5,"davies_bouldin":0.5,"inertia":12.0,"features":["Age"]}""";

    public static string Marker(long version = 7, string specUri = SpecUri) => $$"""
        {"ModelPackageArn":"arn:aws:sagemaker:us-east-1:123456789012:model-package/segments/{{version}}","ModelPackageVersion":{{version}},
         "ModelName":"segments-model-{{version}}","EndpointName":"segments","EndpointConfigName":"segments-config-{{version}}",
         "PreprocessingSpecUri":"{{specUri}}","SegmentProfilesUri":"{{ProfilesUri}}","MetricsUri":"{{MetricsUri}}",
         "PipelineExecutionArn":null,"DeployedAt":"2026-11-25T10:00:00Z"}
        """;

    public static SegmentModel Load(string? spec = null, string? profiles = null) =>
        SegmentModel.Load(DeployedMarker.Parse(Encoding.UTF8.GetBytes(Marker()), "marker"), Encoding.UTF8.GetBytes(spec ?? Spec()),
            Encoding.UTF8.GetBytes(profiles ?? Profiles()), Encoding.UTF8.GetBytes(Metrics));

    /// <summary>A store holding the default model under the marker, spec, profiles and metrics keys.</summary>
    public static InMemoryObjectStore Store()
    {
        var store = new InMemoryObjectStore();
        store.Put(new S3Location(Bucket, DeployedMarker.Key), Marker());
        store.Put(S3Location.Parse(SpecUri), Spec());
        store.Put(S3Location.Parse(ProfilesUri), Profiles());
        store.Put(S3Location.Parse(MetricsUri), Metrics);
        return store;
    }
}

/// <summary>S3 semantics the proxy relies on, in memory: ETags change with content, If-None-Match answers NotModified.</summary>
internal sealed class InMemoryObjectStore : IModelObjectStore
{
    private readonly ConcurrentDictionary<S3Location, (byte[] Content, string ETag)> _objects = new();
    private readonly ConcurrentQueue<(S3Location Location, string? IfNoneMatch)> _reads = new();
    private readonly ConcurrentDictionary<S3Location, bool> _denied = new();
    private int _version;

    public IReadOnlyList<(S3Location Location, string? IfNoneMatch)> Reads => [.. _reads];

    public Func<S3Location, Exception?> FailWith { get; set; } = _ => null;


    public void Put(S3Location location, string content) =>
        _objects[location] = (Encoding.UTF8.GetBytes(content), $"\"etag-{Interlocked.Increment(ref _version)}\"");

    public void Delete(S3Location location) => _objects.TryRemove(location, out _);

    /// <summary>From now on <paramref name="location"/> answers <see cref="ObjectRead.AccessDenied"/>, as S3 does for a key this reader may not read (or, without s3:ListBucket, one that does not exist).</summary>
    public void Deny(S3Location location) => _denied[location] = true;

    public Task<ObjectRead> ReadAsync(S3Location location, string? ifNoneMatch, CancellationToken cancellationToken)
    {
        _reads.Enqueue((location, ifNoneMatch));
        if (FailWith(location) is { } failure)
        {
            return Task.FromException<ObjectRead>(failure);
        }

        if (_denied.ContainsKey(location))
        {
            return Task.FromResult(ObjectRead.AccessDenied);
        }

        if (!_objects.TryGetValue(location, out var stored))
        {
            return Task.FromResult(ObjectRead.NotFound);
        }

        return Task.FromResult(ifNoneMatch == stored.ETag ? ObjectRead.NotModified : ObjectRead.Found(stored.Content, stored.ETag));
    }
}

/// <summary>An endpoint double: records each body and answers with the configured function (or throws its exception).</summary>
internal sealed class RecordingEndpoint(Func<byte[], string> answer) : ISegmentEndpoint
{
    private readonly ConcurrentQueue<(string EndpointName, byte[] Body)> _calls = new();

    public IReadOnlyList<(string EndpointName, byte[] Body)> Calls => [.. _calls];

    public Task<ReadOnlyMemory<byte>> InvokeAsync(string endpointName, byte[] body, CancellationToken cancellationToken)
    {
        _calls.Enqueue((endpointName, body));
        return Task.FromResult<ReadOnlyMemory<byte>>(Encoding.UTF8.GetBytes(answer(body)));
    }

    public static RecordingEndpoint Throwing(Exception exception) => new(_ => throw exception);
}

/// <summary>A manually advanced clock for refresh intervals.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Builds the handler over in-memory model storage and an endpoint double, with its log lines captured.</summary>
internal sealed class ProxyHarness : IDisposable
{
    private readonly StringWriter _log = new();

    public ProxyHarness(ISegmentEndpoint? endpoint = null, ServingMode mode = ServingMode.Endpoint, InMemoryObjectStore? store = null,
        int maxBatchSize = 1000, int maxBodyBytes = 256 * 1024, IReadOnlyList<string>? corsAllowedOrigins = null)
    {
        Store = store ?? ProxyModels.Store();
        Logger = new LambdaLogger(_log, Clock);
        Models = new DeployedModelSource(Store, ProxyModels.Bucket, TimeSpan.FromSeconds(60), Clock, Logger);
        Settings = new ProxySettings
        {
            ModelBucket = ProxyModels.Bucket,
            EndpointName = mode == ServingMode.Centroids ? null : "segments",
            Mode = mode,
            MaxBatchSize = maxBatchSize,
            MaxBodyBytes = maxBodyBytes,
            CorsAllowedOrigins = corsAllowedOrigins ?? [],
        };
        Function = new SegmentProxyFunction(Settings, Models, endpoint, Clock);
    }

    public ManualClock Clock { get; } = new();

    public InMemoryObjectStore Store { get; }

    public LambdaLogger Logger { get; }

    public DeployedModelSource Models { get; }

    public ProxySettings Settings { get; }

    public SegmentProxyFunction Function { get; }

    public IReadOnlyList<JsonElement> LogLines =>
        [.. _log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    public Task<APIGatewayProxyResponse> PostAsync(string body, string path = "/segment") =>
        SendAsync(new APIGatewayProxyRequest { HttpMethod = "POST", Path = path, Resource = path, Body = body });

    public Task<APIGatewayProxyResponse> GetAsync(string path, IReadOnlyDictionary<string, string>? headers = null) =>
        SendAsync(new APIGatewayProxyRequest { HttpMethod = "GET", Path = path, Resource = path, Headers = headers });

    /// <summary>One request through the handler; its answer must conform to the OpenAPI document.</summary>
    public async Task<APIGatewayProxyResponse> SendAsync(APIGatewayProxyRequest request)
    {
        var response = await Function.HandleAsync(request, Logger, CancellationToken.None);
        OpenApiContract.Product.AssertConforms(request, response);
        return response;
    }

    public void Dispose()
    {
        Models.Dispose();
        _log.Dispose();
    }
}

internal static class ResponseExtensions
{
    public static JsonElement Json(this APIGatewayProxyResponse response) => JsonDocument.Parse(response.Body!).RootElement.Clone();
}

/// <summary>
/// Answers every request exactly as S3 answers a GetObject of a key that does not exist when the caller may read the key but
/// may not list the bucket (or may not read the key at all): 403 with the <c>AccessDenied</c> XML error. s3rver cannot be
/// made to answer this (it answers 404), so this is the real S3 wire format for AWSSDK.S3 to parse.
/// </summary>
internal sealed class S3AccessDeniedStandIn : LoopbackHttpServer
{
    private readonly ConcurrentQueue<string> _requests = new();

    /// <summary>"METHOD /path" of every request received.</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    protected override async Task HandleAsync(System.Net.HttpListenerContext context)
    {
        _requests.Enqueue($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath}");
        const string RequestId = "4442587FB7D0A2F9";
        await RespondAsync(context.Response, 403, Encoding.UTF8.GetBytes(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
            + $"<RequestId>{RequestId}</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>"),
            "application/xml", new Dictionary<string, string> { ["x-amz-request-id"] = RequestId, ["x-amz-id-2"] = "Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==" });
    }
}
