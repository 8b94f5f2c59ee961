using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CustomerSegmentation.Lambdas.Tests.Loopback;

/// <summary>
/// Checks a JSON value against a botocore shape the way the service's front end would: required members, unknown
/// members, JSON types per shape type (structure, list, map, string, integer, long, float, double, boolean, timestamp,
/// blob), min/max (string length, list and map size, blob bytes, numeric range), enums and patterns. Patterns are Java
/// regular expressions matched against the whole value (Java <c>matches()</c>); the Java-only syntax botocore uses
/// (POSIX classes such as <c>\p{Print}</c>, <c>\_</c>, supplementary-plane ranges) is translated, and a pattern .NET cannot
/// compile even then is reported by <see cref="UncheckablePatterns"/> instead of being silently skipped. Each problem is one message naming the path, the rule and the value.
/// </summary>
public sealed class BotocoreShapeValidator(BotocoreServiceModel model)
{
    private static readonly Dictionary<string, string> PosixClasses = new()
    {
        ["ASCII"] = @"\x00-\x7F",
        ["Print"] = @"\x20-\x7E",
        ["Graph"] = @"\x21-\x7E",
        ["Alpha"] = "a-zA-Z",
        ["Digit"] = "0-9",
        ["Alnum"] = "a-zA-Z0-9",
        ["Upper"] = "A-Z",
        ["Lower"] = "a-z",
        ["Space"] = @" \t\n\x0B\f\r",
        ["Punct"] = @"!-/:-@\[-`{-~",
        ["XDigit"] = "0-9a-fA-F",
    };

    private readonly ConcurrentDictionary<string, Regex?> _patterns = new();
    private readonly ConcurrentDictionary<string, byte> _uncheckable = new();

    /// <summary>Patterns met during validation that .NET could not compile (so they were not enforced).</summary>
    public IReadOnlyCollection<string> UncheckablePatterns => [.. _uncheckable.Keys];

    /// <summary>Validates <paramref name="input"/> as the input of <paramref name="operation"/>.</summary>
    public IReadOnlyList<string> ValidateInput(string operation, JsonElement input)
    {
        if (!model.HasOperation(operation))
        {
            return [$"{model.ServiceId} has no operation '{operation}'"];
        }

        var shape = model.InputShape(operation);
        if (shape is null)
        {
            return input.ValueKind == JsonValueKind.Object && !input.EnumerateObject().Any()
                ? []
                : [$"{operation} takes no input, but got {Describe(input)}"];
        }

        var errors = new List<string>();
        Validate(shape, input, operation, errors);
        return errors;
    }

    private void Validate(string shapeName, JsonElement value, string path, List<string> errors)
    {
        var shape = model.Shape(shapeName);
        var type = shape.GetProperty("type").GetString()!;
        if (value.ValueKind == JsonValueKind.Null)
        {
            errors.Add($"{path}: null is not a valid {type} ({shapeName}); omit the member instead");
            return;
        }

        switch (type)
        {
            case "structure": ValidateStructure(shapeName, shape, value, path, errors); break;
            case "list": ValidateList(shapeName, shape, value, path, errors); break;
            case "map": ValidateMap(shapeName, shape, value, path, errors); break;
            case "string": ValidateString(shapeName, shape, value, path, errors); break;
            case "integer": ValidateInteger(shapeName, shape, value, path, errors, int.MinValue, int.MaxValue); break;
            case "long": ValidateInteger(shapeName, shape, value, path, errors, long.MinValue, long.MaxValue); break;
            case "float" or "double": ValidateNumber(shapeName, shape, value, path, errors); break;
            case "boolean":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    errors.Add($"{path}: expected a boolean ({shapeName}), got {Describe(value)}");
                }

                break;
            case "timestamp": ValidateTimestamp(shapeName, shape, value, path, errors); break;
            case "blob": ValidateBlob(shapeName, shape, value, path, errors); break;
            default: errors.Add($"{path}: shape {shapeName} has type '{type}', which this validator does not know"); break;
        }
    }

    private void ValidateStructure(string shapeName, JsonElement shape, JsonElement value, string path, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}: expected an object ({shapeName}), got {Describe(value)}");
            return;
        }

        var members = shape.GetProperty("members");
        if (shape.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(item => item.GetString()!))
            {
                if (!value.TryGetProperty(name, out _))
                {
                    errors.Add($"{path}: missing required member '{name}' of {shapeName}");
                }
            }
        }

        foreach (var property in value.EnumerateObject())
        {
            if (members.TryGetProperty(property.Name, out var member))
            {
                Validate(member.GetProperty("shape").GetString()!, property.Value, $"{path}.{property.Name}", errors);
            }
            else
            {
                errors.Add($"{path}: unknown member '{property.Name}' for {shapeName} (valid: {string.Join(", ", members.EnumerateObject().Select(m => m.Name))})");
            }
        }
    }

    private void ValidateList(string shapeName, JsonElement shape, JsonElement value, string path, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}: expected a list ({shapeName}), got {Describe(value)}");
            return;
        }

        CheckRange(shapeName, shape, value.GetArrayLength(), "items", path, errors);
        var memberShape = shape.GetProperty("member").GetProperty("shape").GetString()!;
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            Validate(memberShape, item, $"{path}[{index++}]", errors);
        }
    }

    private void ValidateMap(string shapeName, JsonElement shape, JsonElement value, string path, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}: expected a map ({shapeName}), got {Describe(value)}");
            return;
        }

        var entries = value.EnumerateObject().ToList();
        CheckRange(shapeName, shape, entries.Count, "entries", path, errors);
        var keyShape = shape.GetProperty("key").GetProperty("shape").GetString()!;
        var valueShape = shape.GetProperty("value").GetProperty("shape").GetString()!;
        foreach (var entry in entries)
        {
            using var key = JsonDocument.Parse(JsonSerializer.Serialize(entry.Name));
            Validate(keyShape, key.RootElement, $"{path} key '{entry.Name}'", errors);
            Validate(valueShape, entry.Value, $"{path}['{entry.Name}']", errors);
        }
    }

    private void ValidateString(string shapeName, JsonElement shape, JsonElement value, string path, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add($"{path}: expected a string ({shapeName}), got {Describe(value)}");
            return;
        }

        var text = value.GetString()!;
        CheckRange(shapeName, shape, text.Length, "characters", path, errors);
        if (shape.TryGetProperty("enum", out var allowed))
        {
            var values = allowed.EnumerateArray().Select(item => item.GetString()!).ToList();
            if (!values.Contains(text, StringComparer.Ordinal))
            {
                errors.Add($"{path}: '{text}' is not one of the {shapeName} values ({string.Join(", ", values)})");
            }
        }

        if (shape.TryGetProperty("pattern", out var pattern))
        {
            var regex = _patterns.GetOrAdd(pattern.GetString()!, CompilePattern);
            if (regex is null)
            {
                _uncheckable.TryAdd(pattern.GetString()!, 0);
            }
            else if (!regex.IsMatch(text))
            {
                errors.Add($"{path}: '{text}' does not match the {shapeName} pattern {pattern.GetString()}");
            }
        }
    }

    private static void ValidateInteger(string shapeName, JsonElement shape, JsonElement value, string path, List<string> errors, long min, long max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < min || number > max)
        {
            errors.Add($"{path}: expected an integer in [{min}, {max}] ({shapeName}), got {Describe(value)}");
            return;
        }

        CheckRange(shapeName, shape, number, "as value", path, errors);
    }

    private static void ValidateNumber(string shapeName, JsonElement shape, JsonElement value, string path, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            errors.Add($"{path}: expected a number ({shapeName}), got {Describe(value)}");
            return;
        }

        CheckRange(shapeName, shape, value.GetDouble(), "as value", path, errors);
    }

    private static void ValidateTimestamp(string shapeName, JsonElement shape, JsonElement value, string path, List<string> errors)
    {
        // The JSON protocols send timestamps as epoch seconds unless the shape names another format.
        var format = shape.TryGetProperty("timestampFormat", out var declared) ? declared.GetString() : "unixTimestamp";
        var valid = format == "unixTimestamp"
            ? value.ValueKind == JsonValueKind.Number
            : value.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
        if (!valid)
        {
            errors.Add($"{path}: expected a timestamp in {format} format ({shapeName}), got {Describe(value)}");
        }
    }

    private static void ValidateBlob(string shapeName, JsonElement shape, JsonElement value, string path, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.String || !value.TryGetBytesFromBase64(out var bytes))
        {
            errors.Add($"{path}: expected base64 bytes ({shapeName}), got {Describe(value)}");
            return;
        }

        CheckRange(shapeName, shape, bytes.Length, "bytes", path, errors);
    }

    private static void CheckRange(string shapeName, JsonElement shape, double size, string unit, string path, List<string> errors)
    {
        if (shape.TryGetProperty("min", out var min) && size < min.GetDouble())
        {
            errors.Add($"{path}: {size.ToString(CultureInfo.InvariantCulture)} {unit} is below the {shapeName} minimum of {min}");
        }

        if (shape.TryGetProperty("max", out var max) && size > max.GetDouble())
        {
            errors.Add($"{path}: {size.ToString(CultureInfo.InvariantCulture)} {unit} is above the {shapeName} maximum of {max}");
        }
    }

    /// <summary>A botocore (Java) pattern as a whole-value .NET regex; null when .NET cannot express it.</summary>
    public static Regex? CompilePattern(string javaPattern)
    {
        try
        {
            return new Regex($"^(?:{TranslateJavaPattern(javaPattern)})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    // Java's \p{Print} etc. are POSIX classes .NET lacks: inside [...] they become the bare range, outside a [range].
    // Java reads "\uD800\uDC00-\uDBFF\uDFFF" as the code points U+10000-U+10FFFF; .NET matches UTF-16 units, so it becomes
    // the surrogate range. Java allows escaping any non-letter ("\_"); .NET refuses "\_".
    private static string TranslateJavaPattern(string javaPattern)
    {
        var pattern = javaPattern.Replace(@"\uD800\uDC00-\uDBFF\uDFFF", @"\uD800-\uDFFF", StringComparison.Ordinal);
        var result = new StringBuilder();
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var match = Regex.Match(pattern[i..], @"^\\p\{(\w+)\}");
                if (match.Success && PosixClasses.TryGetValue(match.Groups[1].Value, out var range))
                {
                    result.Append(inClass ? range : $"[{range}]");
                    i += match.Length - 1;
                    continue;
                }

                var escaped = pattern[++i];
                result.Append(escaped == '_' ? "_" : $"\\{escaped}");
                continue;
            }

            inClass = c switch { '[' => true, ']' => false, _ => inClass };
            result.Append(c);
        }

        return result.ToString();
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string '{value.GetString()}'",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        _ => $"{value.ValueKind.ToString().ToLowerInvariant()} {value.GetRawText()}",
    };
}
