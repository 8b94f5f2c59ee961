using System.Globalization;
using System.Text.RegularExpressions;
using Constructs;

namespace CustomerSegmentation.Infra.Configuration;

/// <summary>
/// Reads typed values from CDK context and collects every problem, so one synth reports all bad settings at once
/// instead of making the user fix them one failed synth at a time.
/// </summary>
internal sealed class ContextReader(Node node)
{
    private readonly List<string> errors = [];

    /// <summary>The problems found so far, one sentence each naming the key, the value and what is valid.</summary>
    public IReadOnlyList<string> Errors => errors;

    /// <summary>The raw context value as text, or null when the key is absent or empty.</summary>
    public string? Raw(string key)
    {
        var value = node.TryGetContext(key);
        var text = value switch
        {
            null => null,
            string s => s,
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }

    public string String(string key, string defaultValue, Regex? pattern = null, string? rule = null)
    {
        var text = Raw(key) ?? defaultValue;
        if (pattern is not null && !pattern.IsMatch(text))
        {
            Fail(key, text, rule ?? $"expected text matching {pattern}");
            return defaultValue;
        }

        return text;
    }

    public string? OptionalString(string key, Regex? pattern = null, string? rule = null)
    {
        var text = Raw(key);
        if (text is not null && pattern is not null && !pattern.IsMatch(text))
        {
            Fail(key, text, rule ?? $"expected text matching {pattern}");
            return null;
        }

        return text;
    }

    public int Int(string key, int defaultValue, int min, int max)
    {
        var text = Raw(key);
        if (text is null)
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Fail(key, text, $"expected a whole number from {min} to {max}");
            return defaultValue;
        }

        return value;
    }

    public double Double(string key, double defaultValue, double min, double max)
    {
        var text = Raw(key);
        if (text is null)
        {
            return defaultValue;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value) || value < min || value > max)
        {
            Fail(key, text, $"expected a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
            return defaultValue;
        }

        return value;
    }

    public bool Bool(string key, bool defaultValue)
    {
        var text = Raw(key);
        switch (text?.ToLowerInvariant())
        {
            case null:
                return defaultValue;
            case "true":
                return true;
            case "false":
                return false;
            default:
                Fail(key, text, "expected true or false");
                return defaultValue;
        }
    }

    public T Choice<T>(string key, T defaultValue, IReadOnlyDictionary<string, T> choices)
    {
        var text = Raw(key);
        if (text is null)
        {
            return defaultValue;
        }

        if (choices.TryGetValue(text, out var value))
        {
            return value;
        }

        Fail(key, text, $"expected one of {string.Join(", ", choices.Keys)}");
        return defaultValue;
    }

    /// <summary>Records a problem that involves more than one key or a rule the typed readers cannot express.</summary>
    public void Fail(string key, string value, string rule) =>
        errors.Add($"Context key '{key}' is '{value}': {rule}.");
}
