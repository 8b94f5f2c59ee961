using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// <see cref="IModelObjectStore"/> over AWSSDK.S3, which honours <c>AWS_ENDPOINT_URL_S3</c>/<c>AWS_ENDPOINT_URL</c> itself.
/// Path-style addressing when an endpoint is overridden (a loopback S3 has no virtual-hosted bucket names).
/// </summary>
internal sealed class S3ModelObjectStore : IModelObjectStore, IDisposable
{
    private readonly AmazonS3Client _client;

    public S3ModelObjectStore(Func<string, string?> environment)
        : this(new AmazonS3Client(new AmazonS3Config
        {
            ForcePathStyle = !string.IsNullOrEmpty(environment("AWS_ENDPOINT_URL_S3")) || !string.IsNullOrEmpty(environment("AWS_ENDPOINT_URL")),
            ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
        }))
    {
    }

    /// <summary>Over a client configured by the caller; the store owns and disposes it.</summary>
    internal S3ModelObjectStore(AmazonS3Client client)
    {
        _client = client;
    }

    public async Task<ObjectRead> ReadAsync(S3Location location, string? ifNoneMatch, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = location.Bucket,
                Key = location.Key,
                EtagToNotMatch = ifNoneMatch,
            }, cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return ObjectRead.Found(buffer.ToArray(), response.ETag);
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == HttpStatusCode.NotModified)
        {
            return ObjectRead.NotModified;
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == HttpStatusCode.NotFound)
        {
            return ObjectRead.NotFound;
        }
        // Only the AccessDenied code: S3's other 403s (InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed)
        // are faults of this function's credentials or clock and must surface as errors, not as a missing object.
        catch (AmazonS3Exception exception) when (exception.StatusCode == HttpStatusCode.Forbidden && exception.ErrorCode == "AccessDenied")
        {
            return ObjectRead.AccessDenied;
        }
    }

    public void Dispose() => _client.Dispose();
}
