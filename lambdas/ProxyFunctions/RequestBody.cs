using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// A caller's mistake: answered <see cref="StatusCode"/> (400 unless said otherwise) with
/// <c>{"error": Message, "field": Field}</c>.
/// </summary>
public sealed class RequestException(string field, string message, int statusCode = 400) : Exception(message)
{
    /// <summary>Where the mistake is, e.g. <c>customers[3].income</c>, <c>features[0][2]</c>, <c>Idempotency-Key</c> or <c>body</c>.</summary>
    public string Field { get; } = field;

    /// <summary>The 4xx status of the answer.</summary>
    public int StatusCode { get; } = statusCode;
}

/// <summary>The request body pieces every function reads the same way: its bytes, JSON syntax errors, field paths.</summary>
public static class RequestBody
{
    private static readonly string[] PositionMarkers = [" Path:", " LineNumber:"];

    /// <summary>The body bytes of an API Gateway event from the UTF-8 of its body text: base64-decoded when flagged, else the text itself.</summary>
    /// <exception cref="RequestException">Flagged as base64 but not valid base64 (field <c>body</c>).</exception>
    public static ReadOnlyMemory<byte> Bytes(ReadOnlyMemory<byte> text, bool isBase64Encoded)
    {
        if (!isBase64Encoded)
        {
            return text;
        }

        try
        {
            return Convert.FromBase64String(Encoding.UTF8.GetString(text.Span));
        }
        catch (FormatException)
        {
            throw new RequestException("body", "the body is marked base64-encoded but is not valid base64");
        }
    }

    /// <summary>"the body is not valid JSON at line L, byte B: reason" (field <c>body</c>), positions 1-based.</summary>
    public static RequestException NotValidJson(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var where = exception.LineNumber is { } line
            ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, byte {exception.BytePositionInLine + 1}")
            : "";
        return new RequestException("body", $"the body is not valid JSON{where}: {JsonErrorReason(exception.Message)}");
    }

    /// <summary>
    /// The reason of a System.Text.Json error without the "[Path: $ |] LineNumber: 0 | BytePositionInLine: 5." it appends
    /// (callers report the position 1-based themselves), at most 200 characters.
    /// </summary>
    public static string JsonErrorReason(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var cut = PositionMarkers.Select(marker => message.IndexOf(marker, StringComparison.Ordinal))
            .Where(index => index >= 0).DefaultIfEmpty(message.Length).Min();
        var text = message[..cut].Trim();
        return text.Length > 200 ? text[..200] : text;
    }

    /// <summary>
    /// <c>path.name</c> for names that read as identifiers (all the API's own), else <c>path["name"]</c> with the name
    /// JSON-escaped, so that an empty or odd key still yields a field a caller can find.
    /// </summary>
    public static string FieldPath(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(name);
        var identifier = name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
        if (!identifier)
        {
            return $"{path}[\"{JsonEncodedText.Encode(name)}\"]";
        }

        return path.Length == 0 ? name : $"{path}.{name}";
    }
}
