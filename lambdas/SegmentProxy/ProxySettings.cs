using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// The function's configuration from its environment. Every problem is collected and reported at once, naming the
/// variable, the bad value and what would be valid, so a misconfigured function fails its start-up with one clear error.
/// </summary>
public sealed record ProxySettings
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
        var settings = new EnvironmentSettings(environment);
        var bucket = settings.Required("MODEL_BUCKET", "set it to the model bucket that holds deployed/version.json");
        var modeText = settings.Text("SERVING_MODE");
        ServingMode mode = ServingMode.Endpoint;
        switch (modeText)
        {
            case null or "endpoint": break;
            case "centroids": mode = ServingMode.Centroids; break;
            case "endpoint-with-fallback": mode = ServingMode.EndpointWithFallback; break;
            default: settings.Problem($"SERVING_MODE is '{modeText}'; valid: endpoint, centroids, endpoint-with-fallback"); break;
        }

        var endpoint = settings.Text("ENDPOINT_NAME");
        if (endpoint is null && mode != ServingMode.Centroids)
        {
            settings.Problem($"ENDPOINT_NAME is not set: SERVING_MODE {modeText ?? "endpoint"} calls the SageMaker endpoint (or set SERVING_MODE=centroids)");
        }

        var batch = settings.WholeNumber("MAX_BATCH_SIZE", 1000, 1, 100_000);
        var body = settings.WholeNumber("MAX_BODY_BYTES", 256 * 1024, 2, 10 * 1024 * 1024);
        var refresh = settings.WholeNumber("MODEL_REFRESH_SECONDS", 60, 0, 3600);
        var origins = settings.CorsOrigins();
        settings.ThrowIfInvalid("SegmentProxy");
        return new ProxySettings
        {
            ModelBucket = bucket!,
            EndpointName = endpoint,
            Mode = mode,
            MaxBatchSize = batch,
            MaxBodyBytes = body,
            ModelRefreshInterval = TimeSpan.FromSeconds(refresh),
            CorsAllowedOrigins = origins,
        };
    }
}
