using System.Text.RegularExpressions;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>
/// The function's configuration from its environment. Every problem is collected and reported at once, naming the
/// variable, the bad value and what would be valid, so a misconfigured function fails its start-up with one clear error.
/// </summary>
public sealed partial record RecommendationsApiSettings
{
    /// <summary>The serving table the Publish step writes (env <c>RECOMMENDATIONS_TABLE_NAME</c>, required).</summary>
    public required string RecommendationsTable { get; init; }

    /// <summary>The table feedback is stored in, which the next FeedbackCalibration step reads (env <c>FEEDBACK_TABLE_NAME</c>, required).</summary>
    public required string FeedbackTable { get; init; }

    /// <summary>
    /// Env <c>POINTER_CACHE_SECONDS</c>, 0..300: how long the current-run pointer is reused before it is read again, so no
    /// answer comes from a run that was replaced longer ago than this. 0 reads it for every request. Default: 30.
    /// </summary>
    public TimeSpan PointerCacheDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Env <c>MAX_BODY_BYTES</c>: the largest POST /feedback body, 2..1048576. Default: 16384.</summary>
    public int MaxBodyBytes { get; init; } = 16 * 1024;

    /// <summary>
    /// Env <c>CORS_ALLOWED_ORIGINS</c>: comma-separated https origins (scheme, host, optional port) whose browser pages may
    /// read the answers; a request's <c>Origin</c> in this list is echoed in <c>Access-Control-Allow-Origin</c>. Stored in
    /// lower case without duplicates. Default: empty, no CORS headers at all.
    /// </summary>
    public IReadOnlyList<string> CorsAllowedOrigins { get; init; } = [];

    /// <summary>The Retry-After of a 503: how soon a publish or the table may be back. Not configurable: 30 s.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    public static RecommendationsApiSettings FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var settings = new EnvironmentSettings(environment);
        var recommendations = TableName(settings, "RECOMMENDATIONS_TABLE_NAME", "the serving table the Publish step writes");
        var feedback = TableName(settings, "FEEDBACK_TABLE_NAME", "the table feedback is stored in");
        var cacheSeconds = settings.WholeNumber("POINTER_CACHE_SECONDS", 30, 0, 300);
        var maxBodyBytes = settings.WholeNumber("MAX_BODY_BYTES", 16 * 1024, 2, 1024 * 1024);
        var origins = settings.CorsOrigins();
        settings.ThrowIfInvalid("RecommendationsApi");
        return new RecommendationsApiSettings
        {
            RecommendationsTable = recommendations!,
            FeedbackTable = feedback!,
            PointerCacheDuration = TimeSpan.FromSeconds(cacheSeconds),
            MaxBodyBytes = maxBodyBytes,
            CorsAllowedOrigins = origins,
        };
    }

    private static string? TableName(EnvironmentSettings settings, string name, string what)
    {
        var table = settings.Required(name, $"set it to the name of {what}");
        if (table is not null && !TableNamePattern().IsMatch(table))
        {
            settings.Problem($"{name} is '{table}'; valid: a DynamoDB table name, 3 to 255 letters, digits, '_', '-' or '.'");
        }

        return table;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{3,255}\z")]
    private static partial Regex TableNamePattern();
}
