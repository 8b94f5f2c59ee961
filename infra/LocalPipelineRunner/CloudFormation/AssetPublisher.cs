using System.IO.Compression;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.CloudFormation;

/// <summary>
/// Does locally what <c>cdk deploy</c> does before creating the stack: uploads every file asset of the asset manifest
/// to its destination, and creates the template's buckets.
/// </summary>
public sealed class AssetPublisher(ObjectStore store, TextWriter log)
{
    public async Task PublishAsync(CloudAssembly assembly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        foreach (var logicalId in assembly.Resolver.BucketLogicalIds)
        {
            await store.EnsureBucketAsync(assembly.Resolver.BucketName(logicalId), cancellationToken).ConfigureAwait(false);
        }

        if (assembly.AssetManifestPath is null)
        {
            return;
        }

        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(assembly.AssetManifestPath, cancellationToken).ConfigureAwait(false));
        foreach (var (hash, asset) in manifest?["files"] as JsonObject ?? [])
        {
            var source = asset?["source"];
            var path = Path.Combine(assembly.Directory, (string?)source?["path"]
                ?? throw new PipelineRunnerException($"File asset {hash} has no source.path (executable sources are not supported)."));
            var upload = await PackageAsync(hash, path, (string?)source?["packaging"] ?? "file", cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var (_, destination) in asset?["destinations"] as JsonObject ?? [])
                {
                    var bucket = Substitute((string?)destination?["bucketName"] ?? string.Empty);
                    var key = Substitute((string?)destination?["objectKey"] ?? string.Empty);
                    await store.EnsureBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
                    await store.UploadFileAsync(new S3Location(bucket, key), upload, cancellationToken).ConfigureAwait(false);
                    await log.WriteLineAsync($"asset {hash[..Math.Min(12, hash.Length)]} -> s3://{bucket}/{key}").ConfigureAwait(false);
                }
            }
            finally
            {
                if (upload != path)
                {
                    File.Delete(upload);
                }
            }
        }

        if (manifest?["dockerImages"] is JsonObject { Count: > 0 } images)
        {
            await log.WriteLineAsync(
                $"note: {images.Count} Docker image asset(s) not published: steps run as local processes, not containers.").ConfigureAwait(false);
        }
    }

    /// <summary>Asset destinations use the deploy-time placeholders of the default synthesizer.</summary>
    public static string Substitute(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text
            .Replace("${AWS::AccountId}", LocalAccount.AccountId, StringComparison.Ordinal)
            .Replace("${AWS::Region}", LocalAccount.Region, StringComparison.Ordinal)
            .Replace("${AWS::Partition}", LocalAccount.Partition, StringComparison.Ordinal);
    }

    private static async Task<string> PackageAsync(string hash, string path, string packaging, CancellationToken cancellationToken)
    {
        switch (packaging)
        {
            case "file" when File.Exists(path):
                return path;
            case "zip" when Directory.Exists(path):
                var zip = Path.Combine(Path.GetTempPath(), $"asset-{hash}-{Guid.NewGuid():N}.zip");
                await ZipFile.CreateFromDirectoryAsync(path, zip, CompressionLevel.Optimal, includeBaseDirectory: false, cancellationToken).ConfigureAwait(false);
                return zip;
            case "file" or "zip":
                throw new PipelineRunnerException($"Asset {hash}: source '{path}' does not exist ({packaging}).");
            default:
                throw new PipelineRunnerException($"Asset {hash}: packaging '{packaging}' is not supported (file, zip).");
        }
    }
}
