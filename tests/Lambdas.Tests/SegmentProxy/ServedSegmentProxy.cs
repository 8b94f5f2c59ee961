using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.Lambdas.Tests.Contract;
using CustomerSegmentation.Lambdas.Tests.EndpointDeployer;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// The real SegmentProxy bootstrap serving a <see cref="TrainedModel"/>: its artifacts and the deployed marker in a real
/// s3rver, API Gateway proxy events through the loopback Lambda Runtime API, and (unless in centroids mode) InvokeEndpoint
/// through the strict SageMaker runtime stand-in, which hands each validated call to the model server.
/// </summary>
internal sealed class ServedSegmentProxy : IDisposable
{
    public const string EndpointName = "segments";
    public const string Region = "us-east-1";

    private readonly S3rverProcess _s3;

    private ServedSegmentProxy(S3rverProcess s3, SageMakerRuntimeStandIn? runtime, LambdaRuntimeApiServer api, BootstrapProcess bootstrap)
    {
        _s3 = s3;
        Runtime = runtime;
        RuntimeApi = api;
        Bootstrap = bootstrap;
    }

    /// <summary>The endpoint stand-in; null in centroids mode, where nothing may call an endpoint.</summary>
    public SageMakerRuntimeStandIn? Runtime { get; }

    public LambdaRuntimeApiServer RuntimeApi { get; }

    public BootstrapProcess Bootstrap { get; }

    /// <param name="bootstrapPath">The published bootstrap.</param>
    /// <param name="model">Whose artifacts the model bucket holds.</param>
    /// <param name="mode">The function's SERVING_MODE.</param>
    /// <param name="modelServer">Serves the endpoint; required unless <paramref name="mode"/> is centroids.</param>
    /// <param name="deployed">Whether the bucket holds the deployed marker (deployed/version.json). Default: true.</param>
    public static async Task<ServedSegmentProxy> StartAsync(string bootstrapPath, TrainedModel model, ServingMode mode, ModelServerProcess? modelServer,
        bool deployed = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        var s3 = await S3rverProcess.StartAsync(ProxyModels.Bucket);
        await s3.PutTextAsync(S3Location.Parse(ProxyModels.SpecUri).Key, model.Spec);
        await s3.PutTextAsync(S3Location.Parse(ProxyModels.ProfilesUri).Key, model.Profiles);
        await s3.PutTextAsync(S3Location.Parse(ProxyModels.MetricsUri).Key, model.Metrics);
        if (deployed)
        {
            await s3.PutTextAsync(DeployedMarker.Key, ProxyModels.Marker());
        }

        List<(string Name, string Value)> environment =
        [
            ("AWS_REGION", Region), ("AWS_ACCESS_KEY_ID", "S3RVER"), ("AWS_SECRET_ACCESS_KEY", "S3RVER"),
            ("AWS_ENDPOINT_URL_S3", s3.Endpoint.ToString()), ("MODEL_BUCKET", ProxyModels.Bucket),
        ];
        SageMakerRuntimeStandIn? runtime = null;
        if (mode == ServingMode.Centroids)
        {
            environment.Add(("SERVING_MODE", "centroids"));
        }
        else
        {
            var server = modelServer ?? throw new ArgumentNullException(nameof(modelServer), $"serving mode {mode} calls the endpoint: pass its model server");
            runtime = new SageMakerRuntimeStandIn(Region, SimulatedAwsServices.Credentials);
            runtime.Handle(SageMakerRuntimeStandIn.Operation, server.Forward);
            environment.Add(("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", runtime.BaseUri.ToString()));
            environment.Add(("ENDPOINT_NAME", EndpointName));
            environment.Add(("SERVING_MODE", mode == ServingMode.Endpoint ? "endpoint" : "endpoint-with-fallback"));
        }

        var api = new LambdaRuntimeApiServer();
        environment.Add(("AWS_LAMBDA_RUNTIME_API", api.RuntimeApi));
        return new ServedSegmentProxy(s3, runtime, api, BootstrapProcess.Start(bootstrapPath, environment));
    }

    public static APIGatewayProxyRequest Event(string method, string path, string? body = null) => new()
    {
        HttpMethod = method,
        Path = path,
        Resource = path,
        Body = body,
        Headers = body is null ? null : new Dictionary<string, string> { ["Content-Type"] = "application/json" },
        RequestContext = new ProxyRequestContext { RequestId = Guid.NewGuid().ToString(), Stage = "prod", HttpMethod = method, ResourcePath = path },
    };

    /// <summary>One invocation through the Runtime API; a function error (not a response), or a response the OpenAPI document does not allow, fails the test.</summary>
    public async Task<APIGatewayProxyResponse> InvokeAsync(APIGatewayProxyRequest request)
    {
        var payload = JsonSerializer.Serialize(request, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest);
        var outcome = await RuntimeApi.WaitForOutcomeAsync(RuntimeApi.Enqueue(payload), TimeSpan.FromSeconds(60));
        Assert.False(outcome.IsError, $"the function reported an error instead of a response: {outcome.BodyText}");
        var response = JsonSerializer.Deserialize(outcome.Body, APIGatewayEventsJsonContext.Default.APIGatewayProxyResponse)!;
        OpenApiContract.Product.AssertConforms(request, response);
        return response;
    }

    /// <summary>Fails on any Runtime API protocol violation or any request the endpoint stand-in found invalid.</summary>
    public void AssertCleanRun()
    {
        RuntimeApi.ThrowIfProtocolViolated();
        Runtime?.AssertNoInvalidRequests();
    }

    public void Dispose()
    {
        Bootstrap.Dispose();
        RuntimeApi.Dispose();
        Runtime?.Dispose();
        _s3.Dispose();
    }
}
