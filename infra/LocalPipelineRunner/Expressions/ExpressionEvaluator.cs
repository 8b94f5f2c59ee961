using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Execution;

namespace CustomerSegmentation.LocalPipelineRunner.Expressions;

/// <summary>
/// Evaluates SageMaker pipeline expressions (<c>Get</c>, <c>Std:Join</c>, <c>Std:JsonGet</c>) inside a step's
/// arguments against the state of the running execution.
/// </summary>
public sealed class ExpressionEvaluator(ExecutionState state)
{
    private const string StepsPrefix = "Steps.";

    /// <summary>A copy of <paramref name="node"/> with every expression replaced by its value.</summary>
    public JsonNode? Evaluate(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj when obj.Count == 1 && obj.First().Key is "Get" or "Std:Join" or "Std:JsonGet":
                var (function, argument) = obj.First();
                return function switch
                {
                    "Get" => Get(argument is JsonValue v && v.TryGetValue<string>(out var path)
                        ? path
                        : throw new PipelineRunnerException($"Get expects a string path, got {argument?.ToJsonString()}.")),
                    "Std:Join" => Join(argument),
                    _ => JsonGet(argument),
                };
            case JsonObject obj:
                var result = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    result[key] = Evaluate(value);
                }

                return result;
            case JsonArray array:
                return new JsonArray(array.Select(Evaluate).ToArray());
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>How Std:Join renders a value: strings as-is, numbers and booleans as JSON literals.</summary>
    public static string ToText(JsonNode? value, string context) => value switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        null => throw new PipelineRunnerException($"{context} is null."),
        _ => throw new PipelineRunnerException($"{context} must be a primitive value, got {value.ToJsonString()}."),
    };

    /// <summary>Names the steps an expression tree reads from, so ordering can honour data dependencies.</summary>
    public static IEnumerable<string> ReferencedSteps(JsonNode? node) => node switch
    {
        JsonObject obj when obj.Count == 1 && obj["Get"] is JsonValue v && v.TryGetValue<string>(out var path)
            && path.StartsWith(StepsPrefix, StringComparison.Ordinal) => [path[StepsPrefix.Length..].Split('.', 2)[0]],
        JsonObject obj => obj.SelectMany(p => ReferencedSteps(p.Value)),
        JsonArray array => array.SelectMany(ReferencedSteps),
        _ => [],
    };

    private JsonNode? Get(string path)
    {
        var parts = path.Split('.', 2);
        if (parts.Length < 2)
        {
            throw new PipelineRunnerException($"Get '{path}' is not Parameters.<name>, Execution.<variable> or Steps.<step>.<property>.");
        }

        switch (parts[0])
        {
            case "Parameters":
                return state.Parameters.TryGetValue(parts[1], out var value)
                    ? value?.DeepClone()
                    : throw new PipelineRunnerException($"Get {path}: the pipeline declares no parameter {parts[1]}.");
            case "Execution":
                return state.ExecutionVariable(parts[1]);
            case "Steps":
                var stepPath = parts[1].Split('.', 2);
                var properties = state.StepProperties(stepPath[0])
                    ?? throw new PipelineRunnerException($"Get {path}: step {stepPath[0]} has not run in this execution.");
                if (stepPath.Length < 2)
                {
                    throw new PipelineRunnerException($"Get {path} names a step but no property.");
                }

                if (stepPath[1].StartsWith("PropertyFiles.", StringComparison.Ordinal))
                {
                    throw new PipelineRunnerException($"Get {path}: a property file can only be read through Std:JsonGet.");
                }

                return PropertyPath.Select(properties, stepPath[1])?.DeepClone()
                    ?? throw new PipelineRunnerException($"Get {path}: step {stepPath[0]} has no property {stepPath[1]}.");
            default:
                throw new PipelineRunnerException($"Get '{path}' is not Parameters.<name>, Execution.<variable> or Steps.<step>.<property>.");
        }
    }

    private JsonNode Join(JsonNode? argument)
    {
        var on = argument?["On"] is JsonNode separator ? ToText(Evaluate(separator), "Std:Join On") : string.Empty;
        var values = argument?["Values"] as JsonArray
            ?? throw new PipelineRunnerException($"Std:Join expects {{\"On\": ..., \"Values\": [...]}}, got {argument?.ToJsonString()}.");
        return string.Join(on, values.Select(v => ToText(Evaluate(v), "a Std:Join value")));
    }

    private JsonNode? JsonGet(JsonNode? argument)
    {
        var (step, name) = PropertyFileReference(argument?["PropertyFile"]);
        var path = argument?["Path"] is JsonNode p ? ToText(Evaluate(p), "Std:JsonGet Path") : throw new PipelineRunnerException("Std:JsonGet has no Path.");
        if (!state.TryGetPropertyFile(step, name, out var document))
        {
            throw new PipelineRunnerException($"Std:JsonGet: property file {name} of step {step} has not been produced in this execution.");
        }

        var found = PropertyPath.Select(document, path);
        if (found is null && !PathExists(document, path))
        {
            throw new PipelineRunnerException($"Std:JsonGet: path '{path}' does not exist in property file {name} of step {step}.");
        }

        return found?.DeepClone();
    }

    /// <summary>Distinguishes a JSON null at the path (a value) from a missing path (an error).</summary>
    private static bool PathExists(JsonNode? document, string path)
    {
        var segments = PropertyPath.Parse(path);
        var parentPath = segments.Count == 1 ? null : path[..path.LastIndexOfAny(['.', '['])];
        var parent = parentPath is null ? document : PropertyPath.Select(document, parentPath);
        return (parent, segments[^1]) switch
        {
            (JsonObject obj, string key) => obj.ContainsKey(key),
            (JsonArray array, int index) => index < array.Count,
            _ => false,
        };
    }

    private (string Step, string Name) PropertyFileReference(JsonNode? reference)
    {
        switch (reference)
        {
            case JsonObject obj when obj["Get"] is JsonValue v && v.TryGetValue<string>(out var path)
                && path.Split('.') is ["Steps", var step, "PropertyFiles", var name]:
                return (step, name);
            case JsonValue v when v.TryGetValue<string>(out var name):
                return (state.PropertyFileOwner(name)
                    ?? throw new PipelineRunnerException($"Std:JsonGet: no step has produced property file {name}."), name);
            default:
                throw new PipelineRunnerException(
                    $"Std:JsonGet PropertyFile must be {{\"Get\": \"Steps.<step>.PropertyFiles.<name>\"}} or a name, got {reference?.ToJsonString()}.");
        }
    }
}
