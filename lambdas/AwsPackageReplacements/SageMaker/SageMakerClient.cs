using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.AwsPackageReplacements.SageMaker;

/// <summary>
/// The SageMaker control-plane operations the EndpointDeployer uses, over the JSON 1.1 protocol
/// (<c>X-Amz-Target: SageMaker.&lt;Operation&gt;</c>, signing name <c>sagemaker</c>, host <c>api.sagemaker.&lt;region&gt;.amazonaws.com</c>).
/// Replace with <c>AWSSDK.SageMaker</c>'s <c>AmazonSageMakerClient</c> when that package is available: method and member
/// names are the same.
/// </summary>
public sealed class SageMakerClient
{
    private static readonly SageMakerJsonContext Json = SageMakerJsonContext.Default;
    private readonly AwsJsonProtocolClient _protocol;

    /// <param name="options">Region, credentials, endpoint and retries. Default: everything from the environment.</param>
    public SageMakerClient(AwsClientOptions? options = null)
    {
        var sender = new AwsRequestSender(AwsServiceDescriptor.SageMaker, options ?? new AwsClientOptions());
        Endpoint = sender.Endpoint;
        _protocol = new AwsJsonProtocolClient(AwsServiceDescriptor.SageMaker, sender);
    }

    /// <summary>The base URL requests go to, after endpoint resolution.</summary>
    public Uri Endpoint { get; }

    public Task<DescribeModelPackageResponse> DescribeModelPackageAsync(DescribeModelPackageRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DescribeModelPackage", request, Json.DescribeModelPackageRequest, Json.DescribeModelPackageResponse, cancellationToken);

    public Task<CreateModelResponse> CreateModelAsync(CreateModelRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("CreateModel", request, Json.CreateModelRequest, Json.CreateModelResponse, cancellationToken);

    public Task<DescribeModelResponse> DescribeModelAsync(DescribeModelRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DescribeModel", request, Json.DescribeModelRequest, Json.DescribeModelResponse, cancellationToken);

    public Task DeleteModelAsync(DeleteModelRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DeleteModel", request, Json.DeleteModelRequest, cancellationToken);

    public Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("ListModels", request, Json.ListModelsRequest, Json.ListModelsResponse, cancellationToken);

    public Task<CreateEndpointConfigResponse> CreateEndpointConfigAsync(CreateEndpointConfigRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("CreateEndpointConfig", request, Json.CreateEndpointConfigRequest, Json.CreateEndpointConfigResponse, cancellationToken);

    public Task<DescribeEndpointConfigResponse> DescribeEndpointConfigAsync(DescribeEndpointConfigRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DescribeEndpointConfig", request, Json.DescribeEndpointConfigRequest, Json.DescribeEndpointConfigResponse, cancellationToken);

    public Task DeleteEndpointConfigAsync(DeleteEndpointConfigRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DeleteEndpointConfig", request, Json.DeleteEndpointConfigRequest, cancellationToken);

    public Task<ListEndpointConfigsResponse> ListEndpointConfigsAsync(ListEndpointConfigsRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("ListEndpointConfigs", request, Json.ListEndpointConfigsRequest, Json.ListEndpointConfigsResponse, cancellationToken);

    public Task<CreateEndpointResponse> CreateEndpointAsync(CreateEndpointRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("CreateEndpoint", request, Json.CreateEndpointRequest, Json.CreateEndpointResponse, cancellationToken);

    public Task<UpdateEndpointResponse> UpdateEndpointAsync(UpdateEndpointRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("UpdateEndpoint", request, Json.UpdateEndpointRequest, Json.UpdateEndpointResponse, cancellationToken);

    public Task DeleteEndpointAsync(DeleteEndpointRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DeleteEndpoint", request, Json.DeleteEndpointRequest, cancellationToken);

    public Task<DescribeEndpointResponse> DescribeEndpointAsync(DescribeEndpointRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DescribeEndpoint", request, Json.DescribeEndpointRequest, Json.DescribeEndpointResponse, cancellationToken);

    public Task<ListTagsResponse> ListTagsAsync(ListTagsRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("ListTags", request, Json.ListTagsRequest, Json.ListTagsResponse, cancellationToken);

    public Task<AddTagsResponse> AddTagsAsync(AddTagsRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("AddTags", request, Json.AddTagsRequest, Json.AddTagsResponse, cancellationToken);

    public Task<DeleteTagsResponse> DeleteTagsAsync(DeleteTagsRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DeleteTags", request, Json.DeleteTagsRequest, Json.DeleteTagsResponse, cancellationToken);
}
