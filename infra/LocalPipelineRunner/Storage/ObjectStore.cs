using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalPipelineRunner.Storage;

/// <summary>The few S3 operations the runner needs, over a real S3-protocol endpoint (s3rver locally).</summary>
public sealed class ObjectStore : IDisposable
{
    /// <summary>The access key s3rver accepts; steps get the same pair so their own S3 clients are accepted too.</summary>
    public const string AccessKey = "S3RVER";

    public const string SecretKey = "S3RVER";

    private readonly AmazonS3Client _client;

    public ObjectStore(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
        var config = new AmazonS3Config
        {
            ServiceURL = endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = LocalAccount.Region,
            // s3rver predates flexible checksums: with the SDK's default it would store the aws-chunked framing as content.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        _client = new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), config);
    }

    public Uri Endpoint { get; }

    public async Task EnsureBucketAsync(string bucket, CancellationToken cancellationToken)
    {
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
            // Buckets persist across runs on a shared endpoint; existing is the desired state.
        }
    }

    public async Task UploadFileAsync(S3Location target, string path, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = target.Bucket,
            Key = target.Key,
            FilePath = path,
            UseChunkEncoding = false,
        };
        await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uploads every file under <paramref name="directory"/> below <paramref name="prefix"/>, keeping relative paths.</summary>
    public async Task<int> UploadDirectoryAsync(string directory, S3Location prefix, CancellationToken cancellationToken)
    {
        var count = 0;
        if (!Directory.Exists(directory))
        {
            return count;
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(directory, file).Replace(Path.DirectorySeparatorChar, '/');
            await UploadFileAsync(prefix.Append(relative), file, cancellationToken).ConfigureAwait(false);
            count++;
        }

        return count;
    }

    /// <summary>Every object key starting with the location's key; empty when the bucket does not exist either.</summary>
    public async Task<IReadOnlyList<string>> ListKeysAsync(S3Location prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = prefix.Bucket, Prefix = prefix.Key };
        try
        {
            ListObjectsV2Response response;
            do
            {
                response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
                keys.AddRange((response.S3Objects ?? []).Select(o => o.Key));
                request.ContinuationToken = response.NextContinuationToken;
            }
            while (response.IsTruncated == true);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
        {
            return [];
        }

        return keys;
    }

    /// <summary>
    /// Downloads what an S3Prefix data source selects into <paramref name="directory"/> the way SageMaker lays it out;
    /// returns the number of files (0 when nothing exists under the prefix).
    /// </summary>
    public async Task<int> DownloadPrefixAsync(S3Location prefix, string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var keys = await ListKeysAsync(prefix, cancellationToken).ConfigureAwait(false);
        foreach (var key in keys.Where(k => !k.EndsWith('/')))
        {
            var relative = S3Location.RelativePath(prefix.Key, key);
            var target = Path.GetFullPath(Path.Combine(directory, relative));
            await DownloadFileAsync(prefix with { Key = key }, target, cancellationToken).ConfigureAwait(false);
        }

        return keys.Count(k => !k.EndsWith('/'));
    }

    public async Task DownloadFileAsync(S3Location source, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var response = await _client.GetObjectAsync(source.Bucket, source.Key, cancellationToken).ConfigureAwait(false);
        var file = File.Create(path);
        await using (file.ConfigureAwait(false))
        {
            await response.ResponseStream.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The object's content as text, or null when the object (or its bucket) does not exist.</summary>
    public async Task<string?> ReadTextAsync(S3Location source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            using var response = await _client.GetObjectAsync(source.Bucket, source.Key, cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(response.ResponseStream);
            return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<bool> ExistsAsync(S3Location source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            await _client.GetObjectMetadataAsync(source.Bucket, source.Key, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();
}
