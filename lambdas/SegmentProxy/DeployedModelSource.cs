using System.Globalization;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// <c>s3://&lt;MODEL_BUCKET&gt;/deployed/version.json</c>, written by the EndpointDeployer once a model version is live:
/// which package the endpoint serves and where that version's documents are.
/// </summary>
public sealed record DeployedMarker(string? ModelPackageArn, long? ModelPackageVersion, string? ModelName, string? EndpointName,
    string? EndpointConfigName, string PreprocessingSpecUri, string SegmentProfilesUri, string? MetricsUri, string? DeployedAt)
{
    public const string Key = "deployed/version.json";

    /// <summary>The version callers see: the model package version, else the model name.</summary>
    public string ModelVersion =>
        ModelPackageVersion?.ToString(CultureInfo.InvariantCulture) ?? ModelName ?? EndpointConfigName ?? "unknown";

    public static DeployedMarker Parse(ReadOnlyMemory<byte> content, string where)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelDocumentException($"{where} is not a JSON object.");
            }

            return new DeployedMarker(
                Text(root, "ModelPackageArn"),
                root.TryGetProperty(nameof(ModelPackageVersion), out var version) && version.ValueKind == JsonValueKind.Number ? version.GetInt64() : null,
                Text(root, "ModelName"),
                Text(root, "EndpointName"),
                Text(root, "EndpointConfigName"),
                Text(root, "PreprocessingSpecUri") ?? throw new ModelDocumentException($"{where} names no PreprocessingSpecUri."),
                Text(root, "SegmentProfilesUri") ?? throw new ModelDocumentException($"{where} names no SegmentProfilesUri."),
                Text(root, "MetricsUri"),
                Text(root, "DeployedAt"));
        }
        catch (JsonException exception)
        {
            throw new ModelDocumentException($"{where} is not valid JSON: {exception.Message}", exception);
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}

/// <summary>An S3 object location; parses <c>s3://bucket/key</c>.</summary>
public sealed record S3Location(string Bucket, string Key)
{
    public static S3Location Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        const string Scheme = "s3://";
        var slash = uri.StartsWith(Scheme, StringComparison.Ordinal) ? uri.IndexOf('/', Scheme.Length) : -1;
        return slash > Scheme.Length && slash < uri.Length - 1
            ? new S3Location(uri[Scheme.Length..slash], uri[(slash + 1)..])
            : throw new ModelDocumentException($"'{uri}' is not an s3://bucket/key URI.");
    }

    public override string ToString() => $"s3://{Bucket}/{Key}";
}

/// <summary>The outcome of reading an object: its content and ETag, or that it is unchanged, missing or not readable.</summary>
public sealed record ObjectRead(ObjectReadStatus Status, ReadOnlyMemory<byte> Content, string? ETag)
{
    public static readonly ObjectRead NotFound = new(ObjectReadStatus.NotFound, ReadOnlyMemory<byte>.Empty, null);

    public static readonly ObjectRead AccessDenied = new(ObjectReadStatus.AccessDenied, ReadOnlyMemory<byte>.Empty, null);

    public static readonly ObjectRead NotModified = new(ObjectReadStatus.NotModified, ReadOnlyMemory<byte>.Empty, null);

    public static ObjectRead Found(ReadOnlyMemory<byte> content, string? etag) => new(ObjectReadStatus.Found, content, etag);
}

public enum ObjectReadStatus
{
    Found,
    NotFound,
    NotModified,

    /// <summary>
    /// S3 refused the read (403 AccessDenied). Without s3:ListBucket on the bucket, that is also how S3 answers for an object
    /// that does not exist, so it means "missing, or not readable by this function".
    /// </summary>
    AccessDenied,
}

/// <summary>Reads whole S3 objects; <c>ifNoneMatch</c> makes the read conditional on the ETag having changed.</summary>
public interface IModelObjectStore
{
    Task<ObjectRead> ReadAsync(S3Location location, string? ifNoneMatch, CancellationToken cancellationToken);
}

/// <summary>The proxy cannot score right now for a reason that passes (no model deployed yet, endpoint unavailable).</summary>
public sealed class ServiceUnavailableException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// The model version the endpoint serves, kept in memory. The marker is checked at most once per refresh interval with a
/// conditional GET (If-None-Match on its ETag), so an unchanged marker costs one small request and a request between
/// checks costs none; a changed marker loads the spec, profiles and metrics it names. A failed refresh keeps serving the
/// version already loaded (and is retried at the next check); without one it is a <see cref="ServiceUnavailableException"/>.
/// </summary>
public sealed class DeployedModelSource(IModelObjectStore store, string bucket, TimeSpan refreshInterval, TimeProvider time, LambdaLogger logger)
    : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SegmentModel? _model;
    private string? _markerETag;
    private DateTimeOffset? _lastCheck;
    private string _unavailableReason = "no model has been loaded yet";

    public async Task<SegmentModel> GetAsync(CancellationToken cancellationToken)
    {
        if (IsFresh())
        {
            return _model ?? throw new ServiceUnavailableException(_unavailableReason);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsFresh())
            {
                await RefreshAsync(cancellationToken).ConfigureAwait(false);
            }

            return _model ?? throw new ServiceUnavailableException(_unavailableReason);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private bool IsFresh() => _lastCheck is { } last && time.GetUtcNow() - last < refreshInterval;

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var markerLocation = new S3Location(bucket, DeployedMarker.Key);
        _lastCheck = time.GetUtcNow();
        try
        {
            var marker = await store.ReadAsync(markerLocation, _model is null ? null : _markerETag, cancellationToken).ConfigureAwait(false);
            switch (marker.Status)
            {
                case ObjectReadStatus.NotModified:
                    return;
                case ObjectReadStatus.NotFound:
                    NoModelDeployed($"no model is deployed yet ({markerLocation} does not exist)", markerLocation, "NoSuchKey");
                    return;
                case ObjectReadStatus.AccessDenied:
                    // The function may read the marker but not list the bucket (deliberately), so S3 answers a marker
                    // that is not there yet with 403 rather than 404; a wrong grant or key policy looks the same.
                    NoModelDeployed($"no model is deployed yet (or this function may not read {markerLocation})", markerLocation, "AccessDenied");
                    return;
            }

            var parsed = DeployedMarker.Parse(marker.Content, markerLocation.ToString());
            var spec = await RequiredAsync(parsed.PreprocessingSpecUri, cancellationToken).ConfigureAwait(false);
            var profiles = await RequiredAsync(parsed.SegmentProfilesUri, cancellationToken).ConfigureAwait(false);
            ReadOnlyMemory<byte>? metrics = null;
            if (parsed.MetricsUri is { } metricsUri)
            {
                var read = await store.ReadAsync(S3Location.Parse(metricsUri), null, cancellationToken).ConfigureAwait(false);
                // Metrics are optional (missing or denied: published without them). Careful: a bare null here would
                // convert through byte[] to an empty memory.
                if (read.Status == ObjectReadStatus.Found)
                {
                    metrics = read.Content;
                }
            }

            _model = SegmentModel.Load(parsed, spec, profiles, metrics);
            _markerETag = marker.ETag;
            logger.Information("Deployed model loaded.", ("modelVersion", parsed.ModelVersion), ("modelPackageArn", parsed.ModelPackageArn),
                ("features", string.Join(",", _model.Features)), ("segments", _model.Segments.Count));
        }
        catch (Exception exception) when (exception is ModelDocumentException or HttpRequestException or IOException
            or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException)
        {
            _unavailableReason = $"the deployed model cannot be loaded: {exception.Message}";
            logger.Error(_model is null ? "Deployed model cannot be loaded." : "Model refresh failed; serving the version already loaded.",
                exception, ("marker", markerLocation.ToString()), ("servingVersion", _model?.Marker.ModelVersion));
        }
    }

    private void NoModelDeployed(string reason, S3Location markerLocation, string s3Answer)
    {
        _model = null;
        _markerETag = null;
        _unavailableReason = reason;
        logger.Warning("No deployed model marker.", ("marker", markerLocation.ToString()), ("s3Answer", s3Answer));
    }

    private async Task<ReadOnlyMemory<byte>> RequiredAsync(string uri, CancellationToken cancellationToken)
    {
        var location = S3Location.Parse(uri);
        var read = await store.ReadAsync(location, null, cancellationToken).ConfigureAwait(false);
        return read.Status switch
        {
            ObjectReadStatus.Found => read.Content,
            ObjectReadStatus.AccessDenied => throw new ModelDocumentException(
                $"{location} named by the deployed marker cannot be read: S3 denied access (it does not exist, or this function may not read it)."),
            _ => throw new ModelDocumentException($"{location} named by the deployed marker does not exist."),
        };
    }
}
