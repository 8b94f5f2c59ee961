using System.Text.Json.Serialization;

namespace CustomerSegmentation.Infra.Pipelines.Definition;

/// <summary>How a <see cref="Comparison"/> compares its left value with its right value.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ComparisonType>))]
public enum ComparisonType
{
    Equals,
    NotEquals,
    GreaterThan,
    GreaterThanOrEqualTo,
    LessThan,
    LessThanOrEqualTo,
}

/// <summary>A condition of a Condition step: <c>{"Type": "GreaterThanOrEqualTo", "LeftValue": ..., "RightValue": ...}</c>.</summary>
public sealed record Comparison(ComparisonType Type, PipelineValue LeftValue, PipelineValue RightValue)
{
    public static Comparison GreaterThanOrEqualTo(PipelineValue left, PipelineValue right) => new(ComparisonType.GreaterThanOrEqualTo, left, right);

    public static Comparison GreaterThan(PipelineValue left, PipelineValue right) => new(ComparisonType.GreaterThan, left, right);

    public static Comparison LessThanOrEqualTo(PipelineValue left, PipelineValue right) => new(ComparisonType.LessThanOrEqualTo, left, right);

    public static Comparison LessThan(PipelineValue left, PipelineValue right) => new(ComparisonType.LessThan, left, right);

    public static Comparison EqualTo(PipelineValue left, PipelineValue right) => new(ComparisonType.Equals, left, right);

    public static Comparison NotEqualTo(PipelineValue left, PipelineValue right) => new(ComparisonType.NotEquals, left, right);
}
