using System.Text.Json;
using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalPipelineRunner.Expressions;

/// <summary>
/// Evaluates Condition step conditions. Type rules: numbers compare numerically whatever their JSON form (an Integer
/// parameter equals a float 2.0), strings compare ordinally, booleans only for equality; comparing values of different
/// kinds, or null, is an error rather than a silent false, so a mistyped gate cannot pass or fail quietly.
/// </summary>
public sealed class ConditionEvaluator(ExpressionEvaluator expressions)
{
    /// <summary>All conditions hold (a Condition step's Conditions list is a conjunction).</summary>
    public bool All(JsonArray conditions)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        return conditions.All(Evaluate);
    }

    /// <summary>
    /// One condition in the definition's flat form: <c>{"Type": "GreaterThan", "LeftValue": .., "RightValue": ..}</c>,
    /// <c>{"Type": "In", "QueryValue": .., "Values": [..]}</c> (what the SageMaker SDK writes; the JSON schema's
    /// <c>Value</c>/<c>In</c> spelling is accepted too), <c>{"Type": "Not", "Expression": ..}</c>,
    /// <c>{"Type": "Or", "Conditions": [..]}</c>.
    /// </summary>
    public bool Evaluate(JsonNode? condition)
    {
        if (condition is not JsonObject arguments || (string?)arguments["Type"] is not { } type)
        {
            throw new PipelineRunnerException($"A condition has no Type: {condition?.ToJsonString()}.");
        }

        return type switch
        {
            "Equals" => Compare(type, arguments) == 0,
            "NotEquals" => Compare(type, arguments) != 0,
            "GreaterThan" => Compare(type, arguments) > 0,
            "GreaterThanOrEqualTo" => Compare(type, arguments) >= 0,
            "LessThan" => Compare(type, arguments) < 0,
            "LessThanOrEqualTo" => Compare(type, arguments) <= 0,
            "In" => In(arguments),
            "NotIn" => !In(arguments),
            "Not" => !Evaluate(arguments["Expression"] ?? throw new PipelineRunnerException("Condition Not has no Expression.")),
            "Or" => (arguments["Conditions"] as JsonArray ?? throw new PipelineRunnerException("Condition Or has no Conditions."))
                .Any(Evaluate),
            _ => throw new PipelineRunnerException(
                $"Condition type {type} is not supported (Equals, NotEquals, GreaterThan, GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo, In, NotIn, Not, Or)."),
        };
    }

    private int Compare(string type, JsonObject arguments)
    {
        if (!arguments.ContainsKey("LeftValue") || !arguments.ContainsKey("RightValue"))
        {
            throw new PipelineRunnerException($"Condition {type} needs LeftValue and RightValue: {arguments.ToJsonString()}.");
        }

        var left = expressions.Evaluate(arguments["LeftValue"]);
        var right = expressions.Evaluate(arguments["RightValue"]);
        return CompareValues(type, left, right);
    }

    private bool In(JsonObject arguments)
    {
        var query = expressions.Evaluate(arguments["QueryValue"] ?? arguments["Value"]);
        var values = expressions.Evaluate(arguments["Values"] ?? arguments["In"]) as JsonArray
            ?? throw new PipelineRunnerException($"Condition {(string?)arguments["Type"]} needs a Values list.");
        return values.Any(v => CompareValues("In", query, v) == 0);
    }

    /// <summary>Orders two primitive values under the type rules above; equality-only kinds return 0 or 1.</summary>
    public static int CompareValues(string type, JsonNode? left, JsonNode? right)
    {
        var l = Kind(left);
        var r = Kind(right);
        if (l != r || l == JsonValueKind.Null)
        {
            throw new PipelineRunnerException(
                $"Condition {type} cannot compare {Describe(left)} with {Describe(right)}: both sides must be numbers, strings or booleans of the same kind.");
        }

        return l switch
        {
            JsonValueKind.Number => Number(left!).CompareTo(Number(right!)),
            JsonValueKind.String => string.CompareOrdinal(left!.GetValue<string>(), right!.GetValue<string>()),
            _ when type is "Equals" or "In" => left!.ToJsonString() == right!.ToJsonString() ? 0 : 1,
            _ => throw new PipelineRunnerException($"Condition {type} cannot order booleans ({Describe(left)}, {Describe(right)})."),
        };
    }

    /// <summary>Parsed from the JSON text because a value built from a long does not convert with GetValue&lt;double&gt;.</summary>
    private static double Number(JsonNode node) =>
        double.Parse(node.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);

    private static JsonValueKind Kind(JsonNode? node) => node switch
    {
        null => JsonValueKind.Null,
        JsonValue v => v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? JsonValueKind.True : v.GetValueKind(),
        _ => node.GetValueKind(),
    };

    private static string Describe(JsonNode? node) => node is null ? "null" : $"{Kind(node).ToString().Replace("True", "Boolean", StringComparison.Ordinal)} {node.ToJsonString()}";
}
