using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CustomerSegmentation.Infra.Pipelines.Definition;

/// <summary>
/// A value in a step argument: a literal string, or an expression SageMaker evaluates at run time
/// (<see cref="Reference"/>, <see cref="Join"/>, <see cref="JsonGet"/>). Literal strings may carry CDK tokens
/// (bucket names, ARNs, asset URIs); they stay string placeholders until CDK resolves the whole body.
/// </summary>
[JsonConverter(typeof(PipelineValueConverter))]
public abstract record PipelineValue
{
    /// <summary>A literal string, so arguments read like the SDK: <c>RoleArn = role.RoleArn</c>.</summary>
    public static implicit operator PipelineValue(string literal) => new Literal(literal);

    /// <summary>Same as the implicit conversion, for languages without implicit operators.</summary>
    public static PipelineValue FromString(string literal) => new Literal(literal);

    internal abstract void Write(Utf8JsonWriter writer, JsonSerializerOptions options);
}

/// <summary>A plain string value.</summary>
public sealed record Literal(string Value) : PipelineValue
{
    internal override void Write(Utf8JsonWriter writer, JsonSerializerOptions options) => writer.WriteStringValue(Value);
}

/// <summary>
/// <c>{"Get": "Parameters.X"}</c>, <c>{"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}</c>,
/// <c>{"Get": "Execution.PipelineExecutionId"}</c>: a reference SageMaker resolves when the step runs.
/// </summary>
public sealed record Reference(string Path) : PipelineValue
{
    internal override void Write(Utf8JsonWriter writer, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("Get", Path);
        writer.WriteEndObject();
    }
}

/// <summary><c>{"Std:Join": {"On": ..., "Values": [...]}}</c>: concatenates values; the way numbers become strings.</summary>
public sealed record Join(string On, IReadOnlyList<PipelineValue> Values) : PipelineValue
{
    /// <summary>Concatenates <paramref name="values"/> with nothing in between.</summary>
    public static Join Concat(params PipelineValue[] values) => new(string.Empty, values);

    internal override void Write(Utf8JsonWriter writer, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("Std:Join");
        writer.WriteString(nameof(On), On);
        writer.WriteStartArray(nameof(Values));
        foreach (var value in Values)
        {
            value.Write(writer, options);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}

/// <summary>
/// <c>{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}, "Path": "metrics.silhouette"}}</c>:
/// reads one value from a JSON file a processing step wrote.
/// </summary>
public sealed record JsonGet(PropertyFileReference PropertyFile, string Path) : PipelineValue
{
    internal override void Write(Utf8JsonWriter writer, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("Std:JsonGet");
        writer.WritePropertyName(nameof(PropertyFile));
        new Reference(PropertyFile.Path).Write(writer, options);
        writer.WriteString(nameof(Path), Path);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}

/// <summary>A property file of a step, as JsonGet addresses it: <c>Steps.&lt;step&gt;.PropertyFiles.&lt;name&gt;</c>.</summary>
public sealed record PropertyFileReference(string StepName, string PropertyFileName)
{
    /// <summary>The <c>Get</c> path of the file.</summary>
    public string Path => string.Create(CultureInfo.InvariantCulture, $"Steps.{StepName}.PropertyFiles.{PropertyFileName}");
}

/// <summary>Values SageMaker knows about the running execution.</summary>
public static class ExecutionVariables
{
    /// <summary>The execution's id (the last part of its ARN): one never-reused prefix per run.</summary>
    public static Reference PipelineExecutionId { get; } = new("Execution.PipelineExecutionId");

    /// <summary>The execution's ARN.</summary>
    public static Reference PipelineExecutionArn { get; } = new("Execution.PipelineExecutionArn");
}

internal sealed class PipelineValueConverter : JsonConverter<PipelineValue>
{
    public override PipelineValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("Pipeline definitions are only written, never read back.");

    public override void Write(Utf8JsonWriter writer, PipelineValue value, JsonSerializerOptions options) =>
        value.Write(writer, options);
}
