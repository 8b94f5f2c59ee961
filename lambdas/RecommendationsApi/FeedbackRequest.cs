using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>
/// An account manager's rating of a recommendation, normalised: ids trimmed, rating capitalised (High, Medium, Low),
/// reason code and sentiment lower-cased and trimmed (null when absent), the date a calendar date.
/// </summary>
public sealed record Feedback(string CustomerId, string ProductId, string Rating, string? ReasonCode, string? Sentiment, DateOnly FeedbackDate)
{
    /// <summary>The date as YYYY-MM-DD.</summary>
    public string FeedbackDateText => FeedbackDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// The canonical form: compact JSON of the six schema fields in the order customer_id, product_id, rating,
    /// reason_code, sentiment, feedback_date, absent fields as null, text as it is (only <c>"</c> and <c>\</c> escaped:
    /// nothing else the rules let through needs it), in UTF-8. Python's
    /// <c>json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()</c> gives the same bytes.
    /// </summary>
    public byte[] CanonicalJson()
    {
        var json = new StringBuilder(160);
        json.Append("{\"customer_id\":");
        Quote(json, CustomerId);
        json.Append(",\"product_id\":");
        Quote(json, ProductId);
        json.Append(",\"rating\":");
        Quote(json, Rating);
        json.Append(",\"reason_code\":");
        Quote(json, ReasonCode);
        json.Append(",\"sentiment\":");
        Quote(json, Sentiment);
        json.Append(",\"feedback_date\":");
        Quote(json, FeedbackDateText);
        json.Append('}');
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    /// <summary>Lower-case hex SHA-256 of <see cref="CanonicalJson"/>: the same feedback content has the same one.</summary>
    public string Sha256() => Convert.ToHexStringLower(SHA256.HashData(CanonicalJson()));

    private static void Quote(StringBuilder json, string? text)
    {
        if (text is null)
        {
            json.Append("null");
            return;
        }

        json.Append('"');
        foreach (var ch in text)
        {
            if (ch is '"' or '\\')
            {
                json.Append('\\');
            }

            json.Append(ch);
        }

        json.Append('"');
    }
}

/// <summary>A valid POST /feedback: the feedback, its idempotency key and the SHA-256 of its canonical form.</summary>
public sealed record FeedbackSubmission(Feedback Feedback, string IdempotencyKey, string RequestSha256);

/// <summary>
/// Checks a POST /feedback request against the seed's feedback schema and the API's rules, and normalises it. Mistakes are
/// reported one at a time in a fixed order: Content-Type (415), body size (413), the Idempotency-Key header, JSON syntax
/// anywhere in the body, the body's shape, its member names (repeated or unknown, in document order), then the fields in
/// schema order (customer_id, product_id, rating, reason_code, sentiment, feedback_date).
/// </summary>
public static partial class FeedbackRequest
{
    public const string CustomerId = "customer_id";
    public const string ProductId = "product_id";
    public const string Rating = "rating";
    public const string ReasonCode = "reason_code";
    public const string Sentiment = "sentiment";
    public const string FeedbackDate = "feedback_date";
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string ContentTypeHeader = "Content-Type";

    /// <summary>The earliest feedback date accepted.</summary>
    public static readonly DateOnly EarliestDate = new(2000, 1, 1);

    private static readonly string[] Fields = [CustomerId, ProductId, Rating, ReasonCode, Sentiment, FeedbackDate];
    private static readonly string Example = """{"customer_id":"C00052","product_id":"P00136","rating":"Medium","reason_code":"price_too_high"}""";

    /// <summary>Checks and normalises a request.</summary>
    /// <param name="body">The body's bytes (base64-decoded when the event says so).</param>
    /// <param name="contentType">The Content-Type header; null when none was sent.</param>
    /// <param name="idempotencyKey">The Idempotency-Key header; null when none was sent.</param>
    /// <param name="maxBodyBytes">The largest body accepted.</param>
    /// <param name="today">Today (UTC): the default date; the day after is the latest one accepted.</param>
    /// <exception cref="RequestException">The caller's mistake, with its status (400, 413, 415) and field.</exception>
    public static FeedbackSubmission Parse(ReadOnlySpan<byte> body, string? contentType, string? idempotencyKey, int maxBodyBytes, DateOnly today)
    {
        CheckContentType(contentType);
        if (body.Length > maxBodyBytes)
        {
            throw new RequestException("body", $"the body has {body.Length} bytes; at most {maxBodyBytes} are accepted", 413);
        }

        if (idempotencyKey is not null && !IdempotencyKeyPattern().IsMatch(idempotencyKey))
        {
            throw new RequestException(IdempotencyKeyHeader,
                $"{IdempotencyKeyHeader} must be 1 to 128 of A-Z, a-z, 0-9, '.', '_', ':' and '-', not '{Show(idempotencyKey)}'");
        }

        if (body.IsEmpty)
        {
            throw new RequestException("body", $"the body is empty: send a JSON object such as {Example}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException exception)
        {
            throw RequestBody.NotValidJson(exception);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new RequestException("body", $"the body must be a JSON object such as {Example}, not {Describe(root.ValueKind)}");
            }

            var values = Members(root);
            var customerId = Identifier(values, CustomerId, "the id of the customer the recommendation was made to");
            var productId = Identifier(values, ProductId, "the recommended product being rated");
            var rating = RatingOf(values);
            var reasonCode = ReasonCodeOf(values, rating);
            var sentiment = SentimentOf(values);
            var date = DateOf(values, today);
            var feedback = new Feedback(customerId, productId, rating, reasonCode, sentiment, date);
            var sha = feedback.Sha256();
            return new FeedbackSubmission(feedback, idempotencyKey ?? "sha256:" + sha, sha);
        }
    }

    private static void CheckContentType(string? contentType)
    {
        if (contentType is null)
        {
            return;
        }

        var mediaType = contentType.Split(';', 2)[0].Trim();
        if (!mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            && !(mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            throw new RequestException(ContentTypeHeader, $"send the body as application/json, not {Show(contentType)}", 415);
        }
    }

    /// <summary>The members by name; a repeated, unknown or unreadable name is refused.</summary>
    private static Dictionary<string, JsonElement> Members(JsonElement root)
    {
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var member in root.EnumerateObject())
        {
            string name;
            try
            {
                name = member.Name;
            }
            catch (InvalidOperationException)
            {
                throw new RequestException("body", "the body has a member name that is not valid Unicode text (a lone surrogate escape)");
            }

            var field = RequestBody.FieldPath("", name);
            if (!Fields.Contains(name, StringComparer.Ordinal))
            {
                throw new RequestException(field, $"unknown field '{Show(name)}': feedback has {string.Join(", ", Fields)}");
            }

            if (!values.TryAdd(name, member.Value))
            {
                throw new RequestException(field, $"'{name}' appears more than once");
            }
        }

        return values;
    }

    /// <summary>The field's text; null when absent, or null and optional. Not valid Unicode (a lone surrogate escape) is refused.</summary>
    private static string? Text(Dictionary<string, JsonElement> values, string field, bool required)
    {
        if (!values.TryGetValue(field, out var value) || (value.ValueKind == JsonValueKind.Null && !required))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new RequestException(field, $"{field} must be a string, not {Describe(value.ValueKind)}");
        }

        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new RequestException(field, $"{field} must be valid Unicode text (it has a lone surrogate escape)");
        }
    }

    private static string Identifier(Dictionary<string, JsonElement> values, string field, string what) =>
        IdentifierRule.Check(field, Text(values, field, required: true) ?? throw new RequestException(field, $"{field} is required: {what}"));

    private static string RatingOf(Dictionary<string, JsonElement> values)
    {
        var text = Text(values, Rating, required: true) ?? throw new RequestException(Rating, $"{Rating} is required: High, Medium or Low");
        return text.ToUpperInvariant() switch
        {
            "HIGH" => "High",
            "MEDIUM" => "Medium",
            "LOW" => "Low",
            _ => throw new RequestException(Rating, $"{Rating} must be High, Medium or Low, not '{Show(text)}'"),
        };
    }

    private static string? ReasonCodeOf(Dictionary<string, JsonElement> values, string rating)
    {
        var code = Text(values, ReasonCode, required: false)?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(code))
        {
            return rating == "High"
                ? null
                : throw new RequestException(ReasonCode, $"{ReasonCode} is required when {Rating} is Medium or Low: say why, e.g. price_too_high or not_relevant");
        }

        return ReasonCodePattern().IsMatch(code)
            ? code
            : throw new RequestException(ReasonCode, $"{ReasonCode} must be 1 to 64 of a-z, 0-9 and _ after lower-casing and trimming, not '{Show(code)}'");
    }

    private static string? SentimentOf(Dictionary<string, JsonElement> values)
    {
        var sentiment = Text(values, Sentiment, required: false)?.Trim().ToLowerInvariant();
        return sentiment switch
        {
            null or "" => null,
            "positive" or "negative" => sentiment,
            _ => throw new RequestException(Sentiment, $"{Sentiment} must be positive or negative, not '{Show(sentiment)}'"),
        };
    }

    private static DateOnly DateOf(Dictionary<string, JsonElement> values, DateOnly today)
    {
        var text = Text(values, FeedbackDate, required: false);
        if (text is null)
        {
            return today;
        }

        if (!DatePattern().IsMatch(text) || !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            throw new RequestException(FeedbackDate, $"{FeedbackDate} must be a date as YYYY-MM-DD, not '{Show(text)}'");
        }

        // An account manager east of UTC (up to UTC+14) already has tomorrow's UTC date: refusing it would refuse
        // feedback given "today" by their calendar.
        var latest = today.AddDays(1);
        if (date > latest)
        {
            throw new RequestException(FeedbackDate, $"{FeedbackDate} {text} is in the future: the latest date accepted is {latest:yyyy-MM-dd} (today in UTC+14)");
        }

        return date >= EarliestDate
            ? date
            : throw new RequestException(FeedbackDate, $"{FeedbackDate} {text} is before {EarliestDate:yyyy-MM-dd}");
    }

    /// <summary>A value as quoted in an error: at most 40 characters, never half of a surrogate pair.</summary>
    private static string Show(string value)
    {
        if (value.Length <= 40)
        {
            return value;
        }

        var cut = char.IsHighSurrogate(value[39]) ? 39 : 40;
        return value[..cut] + "...";
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,128}\z")]
    private static partial Regex IdempotencyKeyPattern();

    [GeneratedRegex(@"^[a-z0-9_]{1,64}\z")]
    private static partial Regex ReasonCodePattern();

    // DateOnly.TryParseExact alone would let other digits (Arabic-Indic, ...) through.
    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}\z")]
    private static partial Regex DatePattern();
}
