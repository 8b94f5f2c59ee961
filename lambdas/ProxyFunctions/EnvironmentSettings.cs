using System.Globalization;
using System.Text.RegularExpressions;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// Reads a function's configuration from its environment and collects every problem, each naming the variable, the bad
/// value and what would be valid, so a misconfigured function fails its start-up once, with all of them
/// (<see cref="ThrowIfInvalid"/>).
/// </summary>
public sealed partial class EnvironmentSettings(Func<string, string?> environment)
{
    private readonly List<string> _problems = [];

    /// <summary>The variable's value without surrounding white space; null when unset or blank.</summary>
    public string? Text(string name)
    {
        var text = environment(name)?.Trim();
        return string.IsNullOrEmpty(text) ? null : text;
    }

    /// <summary>The variable's value (<see cref="Text"/>); when missing, the problem "NAME is not set: <paramref name="howToSet"/>".</summary>
    public string? Required(string name, string howToSet)
    {
        var text = Text(name);
        if (text is null)
        {
            Problem($"{name} is not set: {howToSet}");
        }

        return text;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; <paramref name="fallback"/> when unset.</summary>
    public int WholeNumber(string name, int fallback, int min, int max)
    {
        var text = Text(name);
        if (text is null)
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        Problem($"{name} is '{text}'; valid: a whole number from {min} to {max}");
        return fallback;
    }

    /// <summary>
    /// Comma-separated https origins (scheme, host, optional port) whose browser pages may read the answers, stored in
    /// lower case without duplicates; empty (no CORS at all) when unset. The rule is the CDK app's <c>api:corsOrigins</c>.
    /// </summary>
    public IReadOnlyList<string> CorsOrigins(string name = "CORS_ALLOWED_ORIGINS")
    {
        var text = Text(name);
        if (text is null)
        {
            return [];
        }

        var origins = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var bad = origins.Where(origin => !OriginPattern().IsMatch(origin)).ToList();
        if (origins.Length == 0 || bad.Count > 0)
        {
            Problem($"{name} is '{text}'; valid: https origins separated by commas, each scheme, host and optional port without path or wildcard, such as https://app.example.com"
                + (bad.Count > 0 ? $" ({string.Join(", ", bad.Select(origin => $"'{origin}'"))} {(bad.Count == 1 ? "is not one" : "are not")})" : ""));
            return [];
        }

        // Browsers send the scheme and host of an Origin in lower case.
        return [.. origins.Select(origin => origin.ToLowerInvariant()).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Records a problem found by the caller's own rule.</summary>
    public void Problem(string problem) => _problems.Add(problem);

    /// <summary>Throws "<paramref name="function"/> configuration is invalid: problem; problem." when there is any problem.</summary>
    /// <exception cref="InvalidOperationException">At least one problem was found.</exception>
    public void ThrowIfInvalid(string function)
    {
        if (_problems.Count > 0)
        {
            throw new InvalidOperationException($"{function} configuration is invalid: " + string.Join("; ", _problems) + ".");
        }
    }

    // An origin as browsers send it: https, a DNS name, an optional port.
    [GeneratedRegex(@"^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$")]
    private static partial Regex OriginPattern();
}
