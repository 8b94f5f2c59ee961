using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CustomerSegmentation.LocalAws.Events;

/// <summary>
/// An EventBridge event pattern. Fields are matched by path: a list of values matches when the event's value (or any
/// element of an event array) equals one of them; a nested object matches nested fields; <c>$or</c> takes a list of
/// alternative patterns. Values may be literals (string, number, boolean, null) or the content filters <c>prefix</c>,
/// <c>suffix</c>, <c>equals-ignore-case</c>, <c>wildcard</c>, <c>anything-but</c> (a value, a list, or a
/// prefix/suffix/equals-ignore-case filter), <c>numeric</c> and <c>exists</c>. A missing field matches only
/// <c>{"exists": false}</c>. Anything else (for example <c>cidr</c>) is refused when the pattern is read.
/// </summary>
public sealed class EventPattern
{
    private static readonly string[] NumericOperators = ["=", "<", "<=", ">", ">="];
    private readonly JsonObject _pattern;

    private EventPattern(JsonObject pattern)
    {
        _pattern = pattern;
    }

    /// <summary>Reads and checks a pattern (a rule's resolved <c>EventPattern</c>; a JSON string is parsed first).</summary>
    /// <exception cref="LocalAwsException">The pattern is not valid, or uses a filter the local bus does not evaluate.</exception>
    public static EventPattern Parse(JsonNode? pattern)
    {
        if (pattern is JsonValue text && text.TryGetValue<string>(out var json))
        {
            try
            {
                pattern = JsonNode.Parse(json);
            }
            catch (JsonException exception)
            {
                throw new LocalAwsException($"Event pattern is not valid JSON: {exception.Message}", exception);
            }
        }

        if (pattern is not JsonObject { Count: > 0 } root)
        {
            throw new LocalAwsException($"Event pattern must be a non-empty JSON object, got {JsonText.Show(pattern)}.");
        }

        CheckObject(root, string.Empty);
        return new EventPattern((JsonObject)root.DeepClone());
    }

    /// <summary>True when <paramref name="event"/> (the whole envelope: source, detail-type, detail, ...) matches.</summary>
    public bool Matches(JsonObject @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        return MatchesObject(_pattern, @event);
    }

    public override string ToString() => JsonText.Show(_pattern);

    private static void CheckObject(JsonObject pattern, string path)
    {
        foreach (var (key, value) in pattern)
        {
            var at = path.Length == 0 ? key : $"{path}.{key}";
            switch (key, value)
            {
                case ("$or", JsonArray { Count: >= 2 } alternatives) when alternatives.All(a => a is JsonObject { Count: > 0 }):
                    foreach (var alternative in alternatives)
                    {
                        CheckObject((JsonObject)alternative!, path);
                    }

                    break;
                case ("$or", _):
                    throw Invalid(at, "$or needs a list of at least two non-empty patterns");
                case (_, JsonObject { Count: > 0 } nested):
                    CheckObject(nested, at);
                    break;
                case (_, JsonArray { Count: > 0 } values):
                    foreach (var item in values)
                    {
                        CheckMatcher(item, at);
                    }

                    break;
                default:
                    throw Invalid(at, $"a field's value must be a non-empty list or object, got {JsonText.Show(value)}");
            }
        }
    }

    private static void CheckMatcher(JsonNode? matcher, string at)
    {
        if (matcher is not JsonObject filter)
        {
            if (matcher is JsonArray)
            {
                throw Invalid(at, "a match value cannot be a list");
            }

            return;
        }

        if (filter.Count != 1)
        {
            throw Invalid(at, $"a content filter has exactly one member, got {JsonText.Show(filter)}");
        }

        var (name, argument) = filter.First();
        switch (name)
        {
            case "prefix" or "suffix" when IsString(argument) || argument is JsonObject { Count: 1 } inner && IsString(inner["equals-ignore-case"]):
            case "equals-ignore-case" or "wildcard" when IsString(argument):
            case "exists" when argument is JsonValue flag && flag.GetValueKind() is JsonValueKind.True or JsonValueKind.False:
                return;
            case "anything-but":
                CheckAnythingBut(argument, at);
                return;
            case "numeric":
                CheckNumeric(argument, at);
                return;
            case "prefix" or "suffix" or "equals-ignore-case" or "wildcard" or "exists":
                throw Invalid(at, $"'{name}' has the wrong argument {JsonText.Show(argument)}");
            default:
                throw Invalid(at, $"the content filter '{name}' is not evaluated locally (supported: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists)");
        }
    }

    private static void CheckAnythingBut(JsonNode? argument, string at)
    {
        switch (argument)
        {
            case JsonArray { Count: > 0 } list when list.All(v => v is JsonValue):
            case JsonValue:
                return;
            case JsonObject { Count: 1 } inner when inner.First().Key is "prefix" or "suffix" or "equals-ignore-case" && IsString(inner.First().Value):
                return;
            default:
                throw Invalid(at, $"'anything-but' takes a value, a list of values, or a prefix/suffix/equals-ignore-case filter, got {JsonText.Show(argument)}");
        }
    }

    private static void CheckNumeric(JsonNode? argument, string at)
    {
        if (argument is not JsonArray { Count: 2 or 4 } terms)
        {
            throw Invalid(at, $"'numeric' takes [operator, number] or [operator, number, operator, number], got {JsonText.Show(argument)}");
        }

        for (var i = 0; i < terms.Count; i += 2)
        {
            if (!IsString(terms[i]) || !NumericOperators.Contains((string)terms[i]!) || terms[i + 1] is not JsonValue number
                || number.GetValueKind() != JsonValueKind.Number)
            {
                throw Invalid(at, $"'numeric' term {JsonText.Show(terms[i])} {JsonText.Show(terms[i + 1])} is not an operator ({string.Join(' ', NumericOperators)}) and a number");
            }
        }
    }

    private static LocalAwsException Invalid(string path, string reason) => new($"Event pattern is not valid at '{path}': {reason}.");

    private static bool IsString(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String;

    private static bool MatchesObject(JsonObject pattern, JsonObject? @event)
    {
        foreach (var (key, value) in pattern)
        {
            if (key == "$or")
            {
                if (!value!.AsArray().Any(alternative => MatchesObject((JsonObject)alternative!, @event)))
                {
                    return false;
                }

                continue;
            }

            var present = @event is not null && @event.ContainsKey(key);
            var field = present ? @event![key] : null;
            var matched = value switch
            {
                JsonObject nested => field switch
                {
                    JsonObject child => MatchesObject(nested, child),
                    JsonArray elements => elements.Any(e => e is JsonObject child && MatchesObject(nested, child)),
                    _ => MatchesObject(nested, null),
                },
                _ => MatchesField(value!.AsArray(), present, field),
            };
            if (!matched)
            {
                return false;
            }
        }

        return true;
    }

    private static bool MatchesField(JsonArray matchers, bool present, JsonNode? field)
    {
        // An event array matches when any of its elements does.
        IReadOnlyList<JsonNode?> values = !present ? [] : field is JsonArray elements ? [.. elements] : [field];
        foreach (var matcher in matchers)
        {
            if (matcher is JsonObject filter && filter.First() is { Key: "exists" } exists)
            {
                if ((bool)exists.Value! == (present && field is not JsonObject))
                {
                    return true;
                }
            }
            else if (values.Any(v => MatchesValue(matcher, v)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool MatchesValue(JsonNode? matcher, JsonNode? value)
    {
        if (matcher is not JsonObject filter)
        {
            return LiteralEquals(matcher, value);
        }

        var (name, argument) = filter.First();
        var text = value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string)v! : null;
        return name switch
        {
            "prefix" => text is not null && Affix(argument, text, prefix: true),
            "suffix" => text is not null && Affix(argument, text, prefix: false),
            "equals-ignore-case" => text is not null && string.Equals(text, (string)argument!, StringComparison.OrdinalIgnoreCase),
            "wildcard" => text is not null && Wildcard((string)argument!).IsMatch(text),
            "numeric" => value is JsonValue n && n.GetValueKind() == JsonValueKind.Number && Numeric(argument!.AsArray(), n.GetValue<double>()),
            "anything-but" => argument switch
            {
                JsonArray excluded => !excluded.Any(e => LiteralEquals(e, value)),
                JsonObject inner => text is not null && !MatchesValue(inner, value),
                _ => !LiteralEquals(argument, value),
            },
            _ => false,
        };
    }

    private static bool Affix(JsonNode? argument, string text, bool prefix)
    {
        var (affix, comparison) = argument is JsonObject ignoringCase
            ? ((string)ignoringCase["equals-ignore-case"]!, StringComparison.OrdinalIgnoreCase)
            : ((string)argument!, StringComparison.Ordinal);
        return prefix ? text.StartsWith(affix, comparison) : text.EndsWith(affix, comparison);
    }

    private static Regex Wildcard(string pattern) =>
        new("^" + string.Join(".*", pattern.Split('*').Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromSeconds(1));

    private static bool Numeric(JsonArray terms, double number)
    {
        for (var i = 0; i < terms.Count; i += 2)
        {
            var bound = terms[i + 1]!.GetValue<double>();
            var holds = (string)terms[i]! switch
            {
                "=" => number == bound,
                "<" => number < bound,
                "<=" => number <= bound,
                ">" => number > bound,
                _ => number >= bound,
            };
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    private static bool LiteralEquals(JsonNode? literal, JsonNode? value)
    {
        if (literal is null || value is null)
        {
            return literal is null && value is null;
        }

        if (literal is not JsonValue expected || value is not JsonValue actual)
        {
            return false;
        }

        var kind = expected.GetValueKind();
        if (kind != actual.GetValueKind())
        {
            return false;
        }

        return kind switch
        {
            JsonValueKind.String => (string)expected! == (string)actual!,
            JsonValueKind.Number => expected.GetValue<double>() == actual.GetValue<double>(),
            _ => true,
        };
    }
}
