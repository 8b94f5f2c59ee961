using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.AwsPackageReplacements.SageMakerRuntime;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>Builds the handler once per execution environment from the process environment.</summary>
public static class SegmentProxyStartup
{
    public static Task<LambdaHandler> InitializeAsync(LambdaLogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var settings = ProxySettings.FromEnvironment(Environment.GetEnvironmentVariable);
        var store = new S3ModelObjectStore(Environment.GetEnvironmentVariable);
        var models = new DeployedModelSource(store, settings.ModelBucket, settings.ModelRefreshInterval, TimeProvider.System, logger);
        ISegmentEndpoint? endpoint = settings.Mode == ServingMode.Centroids ? null : new SageMakerRuntimeEndpoint(new SageMakerRuntimeClient());
        var function = new SegmentProxyFunction(settings, models, endpoint, TimeProvider.System);
        logger.Information("SegmentProxy initialized.", ("servingMode", settings.Mode.ToString()), ("endpointName", settings.EndpointName),
            ("modelBucket", settings.ModelBucket), ("maxBatchSize", settings.MaxBatchSize), ("maxBodyBytes", settings.MaxBodyBytes),
            ("modelRefreshSeconds", (int)settings.ModelRefreshInterval.TotalSeconds), ("corsAllowedOrigins", string.Join(",", settings.CorsAllowedOrigins)));
        return Task.FromResult<LambdaHandler>(function.HandleAsync);
    }
}

/// <summary><see cref="ISegmentEndpoint"/> over the shared SageMaker runtime client (signed InvokeEndpoint).</summary>
internal sealed class SageMakerRuntimeEndpoint(SageMakerRuntimeClient client) : ISegmentEndpoint
{
    public async Task<ReadOnlyMemory<byte>> InvokeAsync(string endpointName, byte[] body, CancellationToken cancellationToken)
    {
        var response = await client.InvokeEndpointAsync(new InvokeEndpointRequest
        {
            EndpointName = endpointName,
            Body = body,
            ContentType = "application/json",
            Accept = "application/json",
        }, cancellationToken).ConfigureAwait(false);
        return response.Body;
    }
}
