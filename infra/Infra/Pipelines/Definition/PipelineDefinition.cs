using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CustomerSegmentation.Infra.Pipelines.Definition;

/// <summary>
/// A SageMaker pipeline definition (schema version 2020-12-01): parameters and steps, rendered to the JSON that
/// <c>AWS::SageMaker::Pipeline</c> takes as <c>PipelineDefinitionBody</c>.
/// </summary>
public sealed record PipelineDefinition(IReadOnlyList<PipelineParameter> Parameters, IReadOnlyList<PipelineStep> Steps)
{
    private static readonly JsonSerializerOptions SerializerOptions = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Keeps regexes ("+") and messages ("<", ">") readable in the template; quotes, backslashes and control
        // characters are still escaped, which is all JSON requires.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The definition schema version; 2020-12-01 is the only one SageMaker has.</summary>
    [JsonPropertyOrder(-1)]
    public string Version { get; init; } = "2020-12-01";

    /// <summary>
    /// The definition as compact JSON. CDK tokens inside literal strings stay as their string placeholders, so CDK turns
    /// the whole text into an <c>Fn::Join</c>. Every token the platform puts there is an ARN, a name or a URI, none of
    /// which can contain a character JSON would need escaped.
    /// </summary>
    public string ToJson() => JsonSerializer.Serialize(this, SerializerOptions);
}
