using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>The check CreateModel and CreateModelPackage make on every container's ModelDataUrl.</summary>
internal static class ModelData
{
    public static async Task EnsureExistsAsync(StepContext context, IEnumerable<JsonNode?> containers, CancellationToken cancellationToken)
    {
        foreach (var container in containers)
        {
            if (ArgumentReader.OptionalString(container?["ModelDataUrl"], "ModelDataUrl") is { } url
                && !await context.Store.ExistsAsync(S3Location.Parse(url), cancellationToken).ConfigureAwait(false))
            {
                throw new StepFailedException($"ValidationException: Could not find model data at {url}.");
            }
        }
    }

    public static async Task WriteJsonAsync(string path, JsonObject content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, content.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }), cancellationToken)
            .ConfigureAwait(false);
    }
}
