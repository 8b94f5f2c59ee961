using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Execution;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>
/// Reads members of a step's evaluated arguments; a missing or mistyped member fails the step with a
/// ValidationException naming it, as SageMaker's API would.
/// </summary>
internal static class ArgumentReader
{
    public static string RequiredString(JsonNode? node, string path) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        null => throw new StepFailedException($"ValidationException: {path} is required."),
        _ => throw new StepFailedException($"ValidationException: {path} must be a string, got {node.ToJsonString()}."),
    };

    public static string? OptionalString(JsonNode? node, string path) => node is null ? null : RequiredString(node, path);

    public static JsonArray Array(JsonNode? node, string path) => node switch
    {
        JsonArray array => array,
        null => [],
        _ => throw new StepFailedException($"ValidationException: {path} must be a list, got {node.ToJsonString()}."),
    };

    /// <summary>A string-to-string map such as Environment or HyperParameters; SageMaker rejects non-string values.</summary>
    public static IReadOnlyDictionary<string, string> StringMap(JsonNode? node, string path)
    {
        if (node is null)
        {
            return new Dictionary<string, string>();
        }

        if (node is not JsonObject obj)
        {
            throw new StepFailedException($"ValidationException: {path} must be a map of strings, got {node.ToJsonString()}.");
        }

        return obj.ToDictionary(p => p.Key, p => RequiredString(p.Value, $"{path}.{p.Key}"), StringComparer.Ordinal);
    }
}
