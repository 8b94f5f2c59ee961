using System.Globalization;
using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalPipelineRunner.Definition;

/// <summary>A declared pipeline parameter: SageMaker's String, Integer, Float or Boolean.</summary>
public sealed record PipelineParameter(string Name, string Type, JsonNode? DefaultValue, IReadOnlyList<string> EnumValues)
{
    private static readonly string[] KnownTypes = ["String", "Integer", "Float", "Boolean"];

    public static PipelineParameter FromJson(JsonNode? node)
    {
        var name = (string?)node?[nameof(Name)] ?? throw new PipelineRunnerException($"A pipeline parameter has no Name: {node?.ToJsonString()}.");
        var type = (string?)node?[nameof(Type)] ?? "String";
        if (!KnownTypes.Contains(type))
        {
            throw new PipelineRunnerException($"Pipeline parameter {name} has Type '{type}'; expected one of {string.Join(", ", KnownTypes)}.");
        }

        var enumValues = (node?[nameof(EnumValues)] as JsonArray)?.Select(v => (string)v!).ToList() ?? [];
        return new PipelineParameter(name, type, node?[nameof(DefaultValue)]?.DeepClone(), enumValues);
    }

    /// <summary>Converts a command-line value to this parameter's type; null with <paramref name="error"/> set when it does not fit.</summary>
    public JsonNode? Parse(string text, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        error = null;
        JsonNode? value = Type switch
        {
            "Integer" when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) => JsonValue.Create(i),
            "Float" when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => JsonValue.Create(d),
            "Boolean" when bool.TryParse(text, out var b) => JsonValue.Create(b),
            "String" => JsonValue.Create(text),
            _ => null,
        };
        if (value is null)
        {
            var expected = Type switch
            {
                "Integer" => "an integer such as 42",
                "Float" => "a number such as 0.25",
                _ => "true or false",
            };
            error = $"Parameter {Name} is {Type}: '{text}' is not {expected}.";
        }
        else if (EnumValues.Count > 0 && !EnumValues.Contains(text))
        {
            error = $"Parameter {Name}: '{text}' is not one of {string.Join(", ", EnumValues)}.";
            value = null;
        }

        return value;
    }
}
