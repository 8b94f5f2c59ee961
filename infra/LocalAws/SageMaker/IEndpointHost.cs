using CustomerSegmentation.AwsPackageReplacements.SageMaker;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>
/// Where the production variants of endpoints run. Locally that is a model server process per variant
/// (<see cref="ModelServerHost"/>); the control plane's rules do not depend on which host it is given.
/// </summary>
public interface IEndpointHost
{
    /// <summary>Starts serving one variant and completes once it is healthy (its /ping answers 200).</summary>
    /// <exception cref="EndpointStartException">The variant could not be started or did not become healthy; the message is the endpoint's FailureReason.</exception>
    Task<IServingVariant> StartAsync(VariantDeployment deployment, CancellationToken cancellationToken);

    /// <summary>
    /// Releases what the host keeps for an endpoint being deleted, once its variants have stopped; the endpoint is gone
    /// (DescribeEndpoint no longer finds it) when this completes.
    /// </summary>
    Task ReleaseEndpointAsync(string endpointName, CancellationToken cancellationToken);
}

/// <summary>A running variant. Disposing it stops it; the control plane disposes it only when no request is in flight.</summary>
public interface IServingVariant : IAsyncDisposable
{
    /// <summary>Sends one request to the model container (its /invocations) and returns the container's answer, whatever its status.</summary>
    Task<VariantAnswer> InvokeAsync(VariantInvocation invocation, CancellationToken cancellationToken);
}

/// <summary>What one variant of an endpoint config serves: the variant and its model's resolved container.</summary>
public sealed record VariantDeployment(string EndpointName, string EndpointConfigName, ProductionVariant Variant, ServingContainer Container);

/// <summary>
/// A model's container after CreateModel resolved it (from the request, or from the model package's inference
/// specification when the model names a package).
/// </summary>
public sealed record ServingContainer(string? Image, string? ModelDataUrl, IReadOnlyDictionary<string, string> Environment);

/// <summary>An InvokeEndpoint request as the container receives it.</summary>
public sealed record VariantInvocation(ReadOnlyMemory<byte> Body, string? ContentType, string? Accept);

/// <summary>The container's answer to /invocations.</summary>
public sealed record VariantAnswer(int StatusCode, byte[] Body, string? ContentType);

/// <summary>A variant did not start; <see cref="Exception.Message"/> is the FailureReason DescribeEndpoint reports.</summary>
public sealed class EndpointStartException : Exception
{
    public EndpointStartException(string failureReason)
        : base(failureReason)
    {
    }

    public EndpointStartException(string failureReason, Exception innerException)
        : base(failureReason, innerException)
    {
    }

    public EndpointStartException()
    {
    }
}
