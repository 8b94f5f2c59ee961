using System.Globalization;
using System.Text.RegularExpressions;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// The function's configuration from its environment. Every problem is collected and reported at once, naming the
/// variable, the bad value and what would be valid, so a misconfigured function fails its start-up with one clear error.
/// </summary>
public sealed partial record ProxySettings
{
    /// <summary>The model bucket holding <c>deployed/version.json</c> (env <c>MODEL_BUCKET</c>, required).</summary>
    public required string ModelBucket { get; init; }

    /// <summary>The SageMaker endpoint (env <c>ENDPOINT_NAME</c>; required unless <see cref="Mode"/> is centroids).</summary>
    public string? EndpointName { get; init; }

    /// <summary>Env <c>SERVING_MODE</c>: endpoint | centroids | endpoint-with-fallback. Default: endpoint.</summary>
    public ServingMode Mode { get; init; } = ServingMode.Endpoint;

    /// <summary>Env <c>MAX_BATCH_SIZE</c>: customers or rows per request, 1..100000. Default: 1000.</summary>
    public int MaxBatchSize { get; init; } = 1000;

    /// <summary>Env <c>MAX_BODY_BYTES</c>: request body size, 2..10485760 (API Gateway's limit). Default: 262144 (256 KB).</summary>
    public int MaxBodyBytes { get; init; } = 256 * 1024;

    /// <summary>Env <c>MODEL_REFRESH_SECONDS</c>: how often the deployed marker is checked, 0..3600. Default: 60.</summary>
    public TimeSpan ModelRefreshInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Env <c>CORS_ALLOWED_ORIGINS</c>: comma-separated https origins (scheme, host, optional port) whose browser pages may
    /// read the answers; a request's <c>Origin</c> in this list is echoed in <c>Access-Control-Allow-Origin</c>. Stored in
    /// lower case without duplicates. Default: empty, no CORS headers at all.
    /// </summary>
    public IReadOnlyList<string> CorsAllowedOrigins { get; init; } = [];

    /// <summary>The Retry-After of a 503: how soon a missing model or endpoint may be back. Not configurable: 30 s.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    public static ProxySettings FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var problems = new List<string>();
        var bucket = environment("MODEL_BUCKET")?.Trim();
        if (string.IsNullOrEmpty(bucket))
        {
            problems.Add("MODEL_BUCKET is not set: set it to the model bucket that holds deployed/version.json");
        }

        var modeText = environment("SERVING_MODE")?.Trim();
        ServingMode mode = ServingMode.Endpoint;
        switch (modeText)
        {
            case null or "" or "endpoint": break;
            case "centroids": mode = ServingMode.Centroids; break;
            case "endpoint-with-fallback": mode = ServingMode.EndpointWithFallback; break;
            default: problems.Add($"SERVING_MODE is '{modeText}'; valid: endpoint, centroids, endpoint-with-fallback"); break;
        }

        var endpoint = environment("ENDPOINT_NAME")?.Trim();
        if (string.IsNullOrEmpty(endpoint) && mode != ServingMode.Centroids)
        {
            problems.Add($"ENDPOINT_NAME is not set: SERVING_MODE {modeText ?? "endpoint"} calls the SageMaker endpoint (or set SERVING_MODE=centroids)");
        }

        var batch = Integer(environment, "MAX_BATCH_SIZE", 1000, 1, 100_000, problems);
        var body = Integer(environment, "MAX_BODY_BYTES", 256 * 1024, 2, 10 * 1024 * 1024, problems);
        var refresh = Integer(environment, "MODEL_REFRESH_SECONDS", 60, 0, 3600, problems);
        var origins = Origins(environment, problems);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("SegmentProxy configuration is invalid: " + string.Join("; ", problems) + ".");
        }

        return new ProxySettings
        {
            ModelBucket = bucket!,
            EndpointName = string.IsNullOrEmpty(endpoint) ? null : endpoint,
            Mode = mode,
            MaxBatchSize = batch,
            MaxBodyBytes = body,
            ModelRefreshInterval = TimeSpan.FromSeconds(refresh),
            CorsAllowedOrigins = origins,
        };
    }

    private static int Integer(Func<string, string?> environment, string name, int fallback, int min, int max, List<string> problems)
    {
        var text = environment(name)?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        problems.Add($"{name} is '{text}'; valid: a whole number from {min} to {max}");
        return fallback;
    }

    private static string[] Origins(Func<string, string?> environment, List<string> problems)
    {
        var text = environment("CORS_ALLOWED_ORIGINS")?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        var origins = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var bad = origins.Where(origin => !OriginPattern().IsMatch(origin)).ToList();
        if (origins.Length == 0 || bad.Count > 0)
        {
            problems.Add($"CORS_ALLOWED_ORIGINS is '{text}'; valid: https origins separated by commas, each scheme, host and optional port without path or wildcard, such as https://app.example.com"
                + (bad.Count > 0 ? $" ({string.Join(", ", bad.Select(origin => $"'{origin}'"))} {(bad.Count == 1 ? "is not one" : "are not")})" : ""));
            return [];
        }

        // Browsers send the scheme and host of an Origin in lower case.
        return [.. origins.Select(origin => origin.ToLowerInvariant()).Distinct(StringComparer.Ordinal)];
    }

    // The same rule as the CDK app's api:corsOrigins: an origin as browsers send it, https, a DNS name, an optional port.
    [GeneratedRegex(@"^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$")]
    private static partial Regex OriginPattern();
}
