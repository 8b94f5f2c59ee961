using System.Text.Json;
using System.Text.Json.Serialization;

namespace CustomerSegmentation.Infra.Pipelines.Definition;

/// <summary>A pipeline parameter: a named value with a default that each execution may override.</summary>
[JsonConverter(typeof(PipelineParameterConverter))]
public abstract record PipelineParameter(string Name)
{
    /// <summary><c>{"Get": "Parameters.&lt;Name&gt;"}</c>.</summary>
    public Reference Value => new("Parameters." + Name);

    /// <summary>
    /// The value as a string, <c>{"Std:Join": {"On": "", "Values": [{"Get": "Parameters.&lt;Name&gt;"}]}}</c>: hyperparameters
    /// and container arguments must be strings, and SageMaker converts a number only through Std:Join.
    /// </summary>
    public Join AsString() => Join.Concat(Value);

    /// <summary>What the parameter means, shown where an execution is started. Default: none.</summary>
    public string? Description { get; init; }

    /// <summary>The definition's <c>Type</c>: String, Integer, Float or Boolean.</summary>
    internal abstract string Type { get; }

    internal abstract void WriteDefault(Utf8JsonWriter writer);

    internal virtual void WriteExtras(Utf8JsonWriter writer)
    {
    }
}

/// <summary>A String parameter; <paramref name="EnumValues"/> restricts what an execution may pass.</summary>
public sealed record StringParameter(string Name, string DefaultValue, IReadOnlyList<string>? EnumValues = null) : PipelineParameter(Name)
{
    internal override string Type => "String";

    internal override void WriteDefault(Utf8JsonWriter writer) => writer.WriteString(nameof(DefaultValue), DefaultValue);

    internal override void WriteExtras(Utf8JsonWriter writer)
    {
        if (EnumValues is null)
        {
            return;
        }

        writer.WriteStartArray(nameof(EnumValues));
        foreach (var value in EnumValues)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}

/// <summary>An Integer parameter.</summary>
public sealed record IntegerParameter(string Name, int DefaultValue) : PipelineParameter(Name)
{
    internal override string Type => "Integer";

    internal override void WriteDefault(Utf8JsonWriter writer) => writer.WriteNumber(nameof(DefaultValue), DefaultValue);
}

/// <summary>A Float parameter.</summary>
public sealed record FloatParameter(string Name, double DefaultValue) : PipelineParameter(Name)
{
    internal override string Type => "Float";

    internal override void WriteDefault(Utf8JsonWriter writer) => writer.WriteNumber(nameof(DefaultValue), DefaultValue);
}

/// <summary>A Boolean parameter.</summary>
public sealed record BooleanParameter(string Name, bool DefaultValue) : PipelineParameter(Name)
{
    internal override string Type => "Boolean";

    internal override void WriteDefault(Utf8JsonWriter writer) => writer.WriteBoolean(nameof(DefaultValue), DefaultValue);
}

internal sealed class PipelineParameterConverter : JsonConverter<PipelineParameter>
{
    public override PipelineParameter Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("Pipeline definitions are only written, never read back.");

    public override void Write(Utf8JsonWriter writer, PipelineParameter value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("Name", value.Name);
        writer.WriteString("Type", value.Type);
        if (value.Description is { } description)
        {
            writer.WriteString(nameof(value.Description), description);
        }

        value.WriteDefault(writer);
        value.WriteExtras(writer);
        writer.WriteEndObject();
    }
}
