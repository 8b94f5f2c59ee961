using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalAws.CloudFormation;

/// <summary>
/// One synthesized stack as the local services read it: the template, its intrinsics resolved for
/// <see cref="LocalAccount"/>, and the cdk.out folder its file assets (Lambda code) live in.
/// </summary>
public sealed class StackTemplate
{
    /// <param name="template">The stack's CloudFormation template.</param>
    /// <param name="stackName">The stack name (<c>AWS::StackName</c>).</param>
    /// <param name="cloudAssemblyDirectory">The cdk.out folder asset paths are relative to; a relative path is taken from the current directory.</param>
    /// <param name="assetManifestPath">The stack's asset manifest (<c>&lt;stack&gt;.assets.json</c>). Default: none.</param>
    public StackTemplate(JsonObject template, string stackName, string cloudAssemblyDirectory, string? assetManifestPath = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        Template = template;
        StackName = stackName;
        CloudAssemblyDirectory = Path.GetFullPath(cloudAssemblyDirectory);
        AssetManifestPath = assetManifestPath;
        Resolver = new IntrinsicResolver(template, stackName);
    }

    public JsonObject Template { get; }

    public string StackName { get; }

    /// <summary>The cdk.out folder, as a full path.</summary>
    public string CloudAssemblyDirectory { get; }

    public string? AssetManifestPath { get; }

    public IntrinsicResolver Resolver { get; }

    /// <summary>
    /// The local folder or file a resource's asset property (for a Lambda function, <c>Code</c>) was staged from: the
    /// resource's <c>aws:asset:path</c> metadata when CDK wrote it, else the asset manifest entry whose destination object
    /// key is the property's <c>S3Key</c>.
    /// </summary>
    /// <exception cref="LocalAwsException">The resource names no asset this cdk.out knows.</exception>
    public string AssetPath(string logicalId, string property, string s3KeyMember)
    {
        var resource = Template["Resources"]?[logicalId] as JsonObject
            ?? throw new LocalAwsException($"Stack {StackName} has no resource '{logicalId}'.");
        if (resource["Metadata"] is JsonObject metadata && (string?)metadata["aws:asset:property"] == property
            && (string?)metadata["aws:asset:path"] is { Length: > 0 } stagedPath)
        {
            return Path.GetFullPath(stagedPath, CloudAssemblyDirectory);
        }

        var keyNode = resource["Properties"]?[property]?[s3KeyMember]
            ?? throw new LocalAwsException($"{logicalId}.{property} has no {s3KeyMember}: only code from a CDK asset runs locally.");
        var key = (string?)Resolver.Resolve(keyNode)
            ?? throw new LocalAwsException($"{logicalId}.{property}.{s3KeyMember} does not resolve to a string.");
        if (AssetManifestPath is null)
        {
            throw new LocalAwsException(
                $"{logicalId}.{property} is the asset object {key}, but stack {StackName} has no asset manifest to find it in.");
        }

        var manifest = JsonNode.Parse(File.ReadAllText(AssetManifestPath)) as JsonObject ?? [];
        foreach (var (_, asset) in manifest["files"] as JsonObject ?? [])
        {
            var destinations = asset?["destinations"] as JsonObject ?? [];
            if (destinations.Any(d => (string?)d.Value?["objectKey"] == key) && (string?)asset?["source"]?["path"] is { Length: > 0 } source)
            {
                return Path.GetFullPath(source, CloudAssemblyDirectory);
            }
        }

        throw new LocalAwsException($"{logicalId}.{property} is the asset object {key}, which {AssetManifestPath} does not list.");
    }
}
