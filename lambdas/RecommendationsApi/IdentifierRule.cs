using System.Globalization;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>
/// The rule for customer and product ids, segment names and other caller text that becomes part of a table key: trimmed
/// (the pipeline reads its CSVs as stripped text), then 1 to 128 characters without control characters.
/// </summary>
public static class IdentifierRule
{
    public const int MaxLength = 128;

    /// <summary>The trimmed text.</summary>
    /// <exception cref="RequestException">It breaks the rule (400 naming <paramref name="field"/>).</exception>
    public static string Check(string field, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.Length is 0 or > MaxLength)
        {
            throw new RequestException(field, $"{field} must have 1 to {MaxLength} characters (not counting surrounding spaces), not {trimmed.Length}");
        }

        var control = trimmed.AsSpan().IndexOfAnyInRange('\0', '\u001f');
        if (control < 0)
        {
            control = trimmed.AsSpan().IndexOfAnyInRange('\u007f', '\u009f');
        }

        return control < 0
            ? trimmed
            : throw new RequestException(field, string.Create(CultureInfo.InvariantCulture,
                $"{field} must not contain control characters (U+{(int)trimmed[control]:X4} at character {control + 1})"));
    }
}
