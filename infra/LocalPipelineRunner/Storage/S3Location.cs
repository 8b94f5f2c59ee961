namespace CustomerSegmentation.LocalPipelineRunner.Storage;

/// <summary>An <c>s3://bucket/key</c> URI split into its parts.</summary>
public sealed record S3Location(string Bucket, string Key)
{
    public static S3Location Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        const string scheme = "s3://";
        if (!uri.StartsWith(scheme, StringComparison.Ordinal) || uri.Length == scheme.Length)
        {
            throw new PipelineRunnerException($"'{uri}' is not an S3 URI; expected s3://<bucket>/<key>.");
        }

        var rest = uri[scheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? new S3Location(rest, string.Empty) : new S3Location(rest[..slash], rest[(slash + 1)..]);
    }

    /// <summary>
    /// Where SageMaker puts an object found under an S3Prefix data source, relative to the local path: the key below
    /// the prefix when the prefix names a "folder", the object's own file name when the prefix is the object's key or
    /// a partial file name.
    /// </summary>
    public static string RelativePath(string prefix, string key)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(key);
        if (prefix.Length == 0)
        {
            return key;
        }

        if (prefix.EndsWith('/'))
        {
            return key[prefix.Length..];
        }

        if (key.Length > prefix.Length && key[prefix.Length] == '/' && key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return key[(prefix.Length + 1)..];
        }

        return key[(key.LastIndexOf('/') + 1)..];
    }

    public S3Location Append(string relativeKey)
    {
        ArgumentNullException.ThrowIfNull(relativeKey);
        if (Key.Length == 0)
        {
            return this with { Key = relativeKey };
        }

        return this with { Key = Key.TrimEnd('/') + "/" + relativeKey };
    }

    public override string ToString() => $"s3://{Bucket}/{Key}";
}
