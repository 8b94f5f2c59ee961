using Amazon.S3;
using Amazon.S3.Model;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;

namespace CustomerSegmentation.EndpointDeployer;

/// <summary>The SageMaker operations the deployment service calls (the <see cref="SageMakerClient"/> methods of the same names).</summary>
public interface ISageMakerOperations
{
    Task<DescribeModelPackageResponse> DescribeModelPackageAsync(DescribeModelPackageRequest request, CancellationToken cancellationToken);
    Task<CreateModelResponse> CreateModelAsync(CreateModelRequest request, CancellationToken cancellationToken);
    Task DeleteModelAsync(DeleteModelRequest request, CancellationToken cancellationToken);
    Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, CancellationToken cancellationToken);
    Task<CreateEndpointConfigResponse> CreateEndpointConfigAsync(CreateEndpointConfigRequest request, CancellationToken cancellationToken);
    Task<DescribeEndpointConfigResponse> DescribeEndpointConfigAsync(DescribeEndpointConfigRequest request, CancellationToken cancellationToken);
    Task DeleteEndpointConfigAsync(DeleteEndpointConfigRequest request, CancellationToken cancellationToken);
    Task<ListEndpointConfigsResponse> ListEndpointConfigsAsync(ListEndpointConfigsRequest request, CancellationToken cancellationToken);
    Task<CreateEndpointResponse> CreateEndpointAsync(CreateEndpointRequest request, CancellationToken cancellationToken);
    Task<UpdateEndpointResponse> UpdateEndpointAsync(UpdateEndpointRequest request, CancellationToken cancellationToken);
    Task<DescribeEndpointResponse> DescribeEndpointAsync(DescribeEndpointRequest request, CancellationToken cancellationToken);
    Task DeleteEndpointAsync(DeleteEndpointRequest request, CancellationToken cancellationToken);
    Task<ListTagsResponse> ListTagsAsync(ListTagsRequest request, CancellationToken cancellationToken);
    Task<AddTagsResponse> AddTagsAsync(AddTagsRequest request, CancellationToken cancellationToken);
    Task<DeleteTagsResponse> DeleteTagsAsync(DeleteTagsRequest request, CancellationToken cancellationToken);
}

/// <summary>The Application Auto Scaling operations the deployment service calls.</summary>
public interface IScalingOperations
{
    Task<DescribeScalableTargetsResponse> DescribeScalableTargetsAsync(DescribeScalableTargetsRequest request, CancellationToken cancellationToken);
    Task<RegisterScalableTargetResponse> RegisterScalableTargetAsync(RegisterScalableTargetRequest request, CancellationToken cancellationToken);
    Task<DeregisterScalableTargetResponse> DeregisterScalableTargetAsync(DeregisterScalableTargetRequest request, CancellationToken cancellationToken);
    Task<PutScalingPolicyResponse> PutScalingPolicyAsync(PutScalingPolicyRequest request, CancellationToken cancellationToken);
}

/// <summary>Reads and writes whole S3 objects.</summary>
public interface IObjectStore
{
    /// <summary>The object's bytes, or null when it does not exist.</summary>
    Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken);

    Task PutAsync(string bucket, string key, byte[] content, string contentType, CancellationToken cancellationToken);
}

internal sealed class SageMakerOperations(SageMakerClient client) : ISageMakerOperations
{
    public Task<DescribeModelPackageResponse> DescribeModelPackageAsync(DescribeModelPackageRequest request, CancellationToken cancellationToken) => client.DescribeModelPackageAsync(request, cancellationToken);
    public Task<CreateModelResponse> CreateModelAsync(CreateModelRequest request, CancellationToken cancellationToken) => client.CreateModelAsync(request, cancellationToken);
    public Task DeleteModelAsync(DeleteModelRequest request, CancellationToken cancellationToken) => client.DeleteModelAsync(request, cancellationToken);
    public Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, CancellationToken cancellationToken) => client.ListModelsAsync(request, cancellationToken);
    public Task<CreateEndpointConfigResponse> CreateEndpointConfigAsync(CreateEndpointConfigRequest request, CancellationToken cancellationToken) => client.CreateEndpointConfigAsync(request, cancellationToken);
    public Task<DescribeEndpointConfigResponse> DescribeEndpointConfigAsync(DescribeEndpointConfigRequest request, CancellationToken cancellationToken) => client.DescribeEndpointConfigAsync(request, cancellationToken);
    public Task DeleteEndpointConfigAsync(DeleteEndpointConfigRequest request, CancellationToken cancellationToken) => client.DeleteEndpointConfigAsync(request, cancellationToken);
    public Task<ListEndpointConfigsResponse> ListEndpointConfigsAsync(ListEndpointConfigsRequest request, CancellationToken cancellationToken) => client.ListEndpointConfigsAsync(request, cancellationToken);
    public Task<CreateEndpointResponse> CreateEndpointAsync(CreateEndpointRequest request, CancellationToken cancellationToken) => client.CreateEndpointAsync(request, cancellationToken);
    public Task<UpdateEndpointResponse> UpdateEndpointAsync(UpdateEndpointRequest request, CancellationToken cancellationToken) => client.UpdateEndpointAsync(request, cancellationToken);
    public Task<DescribeEndpointResponse> DescribeEndpointAsync(DescribeEndpointRequest request, CancellationToken cancellationToken) => client.DescribeEndpointAsync(request, cancellationToken);
    public Task DeleteEndpointAsync(DeleteEndpointRequest request, CancellationToken cancellationToken) => client.DeleteEndpointAsync(request, cancellationToken);
    public Task<ListTagsResponse> ListTagsAsync(ListTagsRequest request, CancellationToken cancellationToken) => client.ListTagsAsync(request, cancellationToken);
    public Task<AddTagsResponse> AddTagsAsync(AddTagsRequest request, CancellationToken cancellationToken) => client.AddTagsAsync(request, cancellationToken);
    public Task<DeleteTagsResponse> DeleteTagsAsync(DeleteTagsRequest request, CancellationToken cancellationToken) => client.DeleteTagsAsync(request, cancellationToken);
}

internal sealed class ScalingOperations(ApplicationAutoScalingClient client) : IScalingOperations
{
    public Task<DescribeScalableTargetsResponse> DescribeScalableTargetsAsync(DescribeScalableTargetsRequest request, CancellationToken cancellationToken) => client.DescribeScalableTargetsAsync(request, cancellationToken);
    public Task<RegisterScalableTargetResponse> RegisterScalableTargetAsync(RegisterScalableTargetRequest request, CancellationToken cancellationToken) => client.RegisterScalableTargetAsync(request, cancellationToken);
    public Task<DeregisterScalableTargetResponse> DeregisterScalableTargetAsync(DeregisterScalableTargetRequest request, CancellationToken cancellationToken) => client.DeregisterScalableTargetAsync(request, cancellationToken);
    public Task<PutScalingPolicyResponse> PutScalingPolicyAsync(PutScalingPolicyRequest request, CancellationToken cancellationToken) => client.PutScalingPolicyAsync(request, cancellationToken);
}

/// <summary>
/// S3 through AWSSDK.S3, which honours <c>AWS_ENDPOINT_URL_S3</c>/<c>AWS_ENDPOINT_URL</c> itself. Checksums only where S3
/// requires them and no aws-chunked uploads: s3rver (the local S3) would store the chunk framing as the object.
/// </summary>
internal sealed class S3ObjectStore : IObjectStore, IDisposable
{
    private readonly AmazonS3Client _client;

    public S3ObjectStore(Func<string, string?> environment)
    {
        var overridden = !string.IsNullOrEmpty(environment("AWS_ENDPOINT_URL_S3")) || !string.IsNullOrEmpty(environment("AWS_ENDPOINT_URL"));
        _client = new AmazonS3Client(new AmazonS3Config
        {
            // A loopback endpoint (an IP address) cannot take virtual-hosted bucket names.
            ForcePathStyle = overridden,
            RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
        });
    }

    public async Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task PutAsync(string bucket, string key, byte[] content, string contentType, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(content);
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            InputStream = body,
            ContentType = contentType,
            UseChunkEncoding = false,
        }, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _client.Dispose();
}
