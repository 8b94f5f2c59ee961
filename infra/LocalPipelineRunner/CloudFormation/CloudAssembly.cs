using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalPipelineRunner.CloudFormation;

/// <summary>One stack of a synthesized cdk.out folder: its template and, when it has assets, its asset manifest.</summary>
public sealed class CloudAssembly
{
    private const string PipelineType = "AWS::SageMaker::Pipeline";

    private CloudAssembly(string directory, string stackName, JsonObject template, string? assetManifestPath)
    {
        Directory = directory;
        StackName = stackName;
        Template = template;
        AssetManifestPath = assetManifestPath;
        Stack = new StackTemplate(template, stackName, directory, assetManifestPath);
    }

    public string Directory { get; }

    public string StackName { get; }

    public JsonObject Template { get; }

    public string? AssetManifestPath { get; }

    /// <summary>The stack as the local AWS services read it (Lambda functions, rules, APIs).</summary>
    public StackTemplate Stack { get; }

    public IntrinsicResolver Resolver => Stack.Resolver;

    /// <summary>
    /// Reads the stack from cdk.out's manifest.json; <paramref name="stackName"/> may be omitted when the assembly has
    /// exactly one stack.
    /// </summary>
    public static CloudAssembly Load(string directory, string? stackName)
    {
        var manifestPath = Path.Combine(directory, "manifest.json");
        if (!File.Exists(manifestPath))
        {
            throw new PipelineRunnerException($"'{directory}' is not a cdk.out folder: it has no manifest.json. Synthesize the app first.");
        }

        var artifacts = ReadJson(manifestPath)["artifacts"] as JsonObject ?? [];
        var stacks = artifacts
            .Where(a => (string?)a.Value?["type"] == "aws:cloudformation:stack")
            .Select(a => (Id: a.Key, Name: (string?)a.Value?["properties"]?["stackName"] ?? a.Key, Artifact: a.Value!))
            .ToList();
        var names = string.Join(", ", stacks.Select(s => s.Name));
        var stack = stackName is null
            ? stacks.Count == 1 ? stacks[0] : throw new PipelineRunnerException($"cdk.out has {stacks.Count} stacks ({names}); pass --stack.")
            : stacks.FirstOrDefault(s => s.Name == stackName || s.Id == stackName);
        if (stack.Artifact is null)
        {
            throw new PipelineRunnerException($"cdk.out has no stack '{stackName}'; stacks: {names}.");
        }

        var templateFile = (string?)stack.Artifact["properties"]?["templateFile"] ?? $"{stack.Id}.template.json";
        var assetManifest = artifacts
            .Where(a => (string?)a.Value?["type"] == "cdk:asset-manifest" && stack.Artifact["dependencies"] is JsonArray deps
                && deps.Any(d => (string?)d == a.Key))
            .Select(a => (string?)a.Value?["properties"]?["file"])
            .FirstOrDefault();
        var assetPath = assetManifest is null ? null : Path.Combine(directory, assetManifest);
        return new CloudAssembly(directory, stack.Name, ReadJson(Path.Combine(directory, templateFile)), assetPath);
    }

    /// <summary>
    /// The logical id of the pipeline to run: the only <c>AWS::SageMaker::Pipeline</c>, or the one whose logical id or
    /// PipelineName is <paramref name="selector"/>.
    /// </summary>
    public string SelectPipeline(string? selector)
    {
        var pipelines = (Template["Resources"] as JsonObject ?? [])
            .Where(r => (string?)r.Value?["Type"] == PipelineType)
            .Select(r => (Id: r.Key, Name: PipelineName(r.Key)))
            .ToList();
        var listing = string.Join(", ", pipelines.Select(p => $"{p.Id} ({p.Name})"));
        if (pipelines.Count == 0)
        {
            throw new PipelineRunnerException($"Stack {StackName} has no {PipelineType} resource.");
        }

        if (selector is null)
        {
            return pipelines.Count == 1
                ? pipelines[0].Id
                : throw new PipelineRunnerException($"Stack {StackName} has {pipelines.Count} pipelines ({listing}); pass --pipeline <logical id or name>.");
        }

        return pipelines.FirstOrDefault(p => p.Id == selector || p.Name == selector).Id
            ?? throw new PipelineRunnerException($"Stack {StackName} has no pipeline '{selector}'; pipelines: {listing}.");
    }

    public string PipelineName(string logicalId) =>
        (string?)Resolver.Resolve(Template["Resources"]?[logicalId]?["Properties"]?["PipelineName"]) ?? logicalId;

    /// <summary>
    /// The pipeline's definition with its intrinsics resolved: the PipelineDefinitionBody, or the object its
    /// PipelineDefinitionS3Location points to (read through <paramref name="readS3"/>, after assets are published).
    /// </summary>
    public async Task<JsonObject> PipelineDefinitionAsync(string logicalId, Func<string, string, Task<string?>> readS3)
    {
        ArgumentNullException.ThrowIfNull(readS3);
        var definition = Resolver.Resolve(Template["Resources"]?[logicalId]?["Properties"]?["PipelineDefinition"]) as JsonObject
            ?? throw new PipelineRunnerException($"Pipeline {logicalId} has no PipelineDefinition.");
        string body;
        if (definition["PipelineDefinitionBody"] is JsonNode inline)
        {
            body = inline is JsonValue v && v.TryGetValue<string>(out var text) ? text : inline.ToJsonString();
        }
        else if (definition["PipelineDefinitionS3Location"] is JsonObject location)
        {
            var bucket = (string?)location["Bucket"] ?? string.Empty;
            var key = (string?)location["Key"] ?? string.Empty;
            body = await readS3(bucket, key).ConfigureAwait(false)
                ?? throw new PipelineRunnerException($"Pipeline {logicalId}: definition s3://{bucket}/{key} does not exist.");
        }
        else
        {
            throw new PipelineRunnerException($"Pipeline {logicalId} has neither PipelineDefinitionBody nor PipelineDefinitionS3Location.");
        }

        try
        {
            return JsonNode.Parse(body) as JsonObject
                ?? throw new PipelineRunnerException($"Pipeline {logicalId}: the definition is not a JSON object.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new PipelineRunnerException($"Pipeline {logicalId}: the definition is not valid JSON: {e.Message}", e);
        }
    }

    private static JsonObject ReadJson(string path)
    {
        if (!File.Exists(path))
        {
            throw new PipelineRunnerException($"'{path}' does not exist.");
        }

        return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
            ?? throw new PipelineRunnerException($"'{path}' is not a JSON object.");
    }
}
