using Amazon.S3;
using CustomerSegmentation.Lambdas.Tests.EndpointDeployer;
using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// The S3 reads of the proxy against a real S3-protocol server (npm s3rver): ETags, 304, 404 and an unknown access key; and
/// S3's 403 AccessDenied (how S3 answers a missing key to a reader without s3:ListBucket) in S3's wire format.
/// </summary>
public sealed class S3ModelObjectStoreTests
{
    private static S3ModelObjectStore StoreFor(S3rverProcess s3) => StoreFor(s3.Endpoint, SimulatedAwsServices.Credentials);

    private static S3ModelObjectStore StoreFor(Uri endpoint, Amazon.Runtime.AWSCredentials credentials) => new(new AmazonS3Client(credentials, new AmazonS3Config
    {
        ServiceURL = endpoint.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
    }));

    [Fact]
    public async Task ReadAsync_ConditionalOnTheCurrentETag_IsNotModifiedUntilTheObjectChanges()
    {
        using var s3 = await S3rverProcess.StartAsync(ProxyModels.Bucket);
        using var store = StoreFor(s3);
        var marker = new S3Location(ProxyModels.Bucket, DeployedMarker.Key);
        await s3.PutTextAsync(DeployedMarker.Key, ProxyModels.Marker(version: 1));

        var first = await store.ReadAsync(marker, null, CancellationToken.None);
        var unchanged = await store.ReadAsync(marker, first.ETag, CancellationToken.None);
        await s3.PutTextAsync(DeployedMarker.Key, ProxyModels.Marker(version: 2));
        var changed = await store.ReadAsync(marker, first.ETag, CancellationToken.None);

        Assert.Equal(ObjectReadStatus.Found, first.Status);
        Assert.Equal(1, DeployedMarker.Parse(first.Content, "marker").ModelPackageVersion);
        Assert.False(string.IsNullOrEmpty(first.ETag));
        Assert.Equal(ObjectReadStatus.NotModified, unchanged.Status);
        Assert.Equal(ObjectReadStatus.Found, changed.Status);
        Assert.Equal(2, DeployedMarker.Parse(changed.Content, "marker").ModelPackageVersion);
        Assert.NotEqual(first.ETag, changed.ETag);
    }

    [Fact]
    public async Task ReadAsync_MissingObject_IsNotFound()
    {
        using var s3 = await S3rverProcess.StartAsync(ProxyModels.Bucket);
        using var store = StoreFor(s3);

        var read = await store.ReadAsync(new S3Location(ProxyModels.Bucket, "runs/none/metrics.json"), null, CancellationToken.None);

        Assert.Equal(ObjectReadStatus.NotFound, read.Status);
    }

    [Fact]
    public async Task ReadAsync_S3AnswersAccessDenied_IsAccessDeniedNotAnError()
    {
        using var s3 = new S3AccessDeniedStandIn();
        using var store = StoreFor(s3.BaseUri, SimulatedAwsServices.Credentials);

        var read = await store.ReadAsync(new S3Location(ProxyModels.Bucket, DeployedMarker.Key), null, CancellationToken.None);

        Assert.Equal(ObjectReadStatus.AccessDenied, read.Status);
        Assert.Equal(["GET /model-bucket/deployed/version.json"], s3.Requests);
        Assert.Empty(s3.ServerFaults);
    }

    [Fact]
    public async Task ReadAsync_S3rverRejectsTheAccessKey_Is403ErrorNotMistakenForAMissingObject()
    {
        using var s3 = await S3rverProcess.StartAsync(ProxyModels.Bucket);
        await s3.PutTextAsync(DeployedMarker.Key, ProxyModels.Marker());
        using var store = StoreFor(s3.Endpoint, new Amazon.Runtime.BasicAWSCredentials("AKIDUNKNOWN", "S3RVER"));

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => store.ReadAsync(new S3Location(ProxyModels.Bucket, DeployedMarker.Key), null, CancellationToken.None));

        Assert.Equal((System.Net.HttpStatusCode.Forbidden, "InvalidAccessKeyId"), (error.StatusCode, error.ErrorCode));
    }
}
