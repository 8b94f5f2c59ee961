using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.AwsPackageReplacements.SageMakerRuntime;

/// <summary>InvokeEndpoint's input (botocore <c>InvokeEndpointInput</c>): the body is sent raw, the rest as URI and headers.</summary>
public sealed record InvokeEndpointRequest
{
    /// <summary>The endpoint name; URL-encoded into <c>/endpoints/{EndpointName}/invocations</c>.</summary>
    public required string EndpointName { get; init; }

    /// <summary>The payload, passed to the model unchanged.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The <c>Content-Type</c> header. Default: <c>application/json</c>.</summary>
    public string ContentType { get; init; } = "application/json";

    /// <summary>The <c>Accept</c> header. Default: none (the container chooses).</summary>
    public string? Accept { get; init; }

    /// <summary>The <c>X-Amzn-SageMaker-Target-Variant</c> header. Default: none (traffic weights decide).</summary>
    public string? TargetVariant { get; init; }
}

/// <summary>InvokeEndpoint's output (botocore <c>InvokeEndpointOutput</c>).</summary>
public sealed record InvokeEndpointResponse
{
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The <c>Content-Type</c> response header, when sent.</summary>
    public string? ContentType { get; init; }

    /// <summary>The <c>x-Amzn-Invoked-Production-Variant</c> response header: which variant answered.</summary>
    public string? InvokedProductionVariant { get; init; }
}

/// <summary>
/// SageMaker runtime InvokeEndpoint over REST-JSON (<c>POST /endpoints/{EndpointName}/invocations</c>, signing name
/// <c>sagemaker</c>, host <c>runtime.sagemaker.&lt;region&gt;.amazonaws.com</c>). Replace with <c>AWSSDK.SageMakerRuntime</c>'s
/// <c>AmazonSageMakerRuntimeClient</c> when that package is available.
/// </summary>
public sealed class SageMakerRuntimeClient
{
    private readonly AwsRequestSender _sender;

    /// <param name="options">Region, credentials, endpoint and retries. Default: everything from the environment.</param>
    public SageMakerRuntimeClient(AwsClientOptions? options = null)
    {
        _sender = new AwsRequestSender(AwsServiceDescriptor.SageMakerRuntime, options ?? new AwsClientOptions());
    }

    /// <summary>The base URL requests go to, after endpoint resolution.</summary>
    public Uri Endpoint => _sender.Endpoint;

    public async Task<InvokeEndpointResponse> InvokeEndpointAsync(InvokeEndpointRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var headers = new Dictionary<string, string> { ["Content-Type"] = request.ContentType };
        if (request.Accept is not null)
        {
            headers["Accept"] = request.Accept;
        }

        if (request.TargetVariant is not null)
        {
            headers["X-Amzn-SageMaker-Target-Variant"] = request.TargetVariant;
        }

        var path = $"/endpoints/{Uri.EscapeDataString(request.EndpointName)}/invocations";
        var response = await _sender.SendAsync(
            new AwsHttpRequest("InvokeEndpoint", HttpMethod.Post, path, headers, request.Body.ToArray()), cancellationToken).ConfigureAwait(false);
        using (response.Message)
        {
            return new InvokeEndpointResponse
            {
                Body = response.Body,
                ContentType = response.Header("Content-Type"),
                InvokedProductionVariant = response.Header("x-Amzn-Invoked-Production-Variant"),
            };
        }
    }
}
