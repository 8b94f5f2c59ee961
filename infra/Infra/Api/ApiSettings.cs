using System.Text.RegularExpressions;
using CustomerSegmentation.Infra.Configuration;

namespace CustomerSegmentation.Infra.Api;

/// <summary>How the SegmentProxy scores customers (its <c>SERVING_MODE</c> variable).</summary>
public enum ApiServingMode
{
    /// <summary>Every request calls the SageMaker endpoint. The default.</summary>
    Endpoint,

    /// <summary>
    /// Nearest exported centroid inside the Lambda, the same distances as the endpoint: no endpoint call, so the proxy
    /// gets no <c>sagemaker:InvokeEndpoint</c> permission at all.
    /// </summary>
    Centroids,

    /// <summary>The endpoint, and the centroids when it is missing, updating or throttled (marked in the response).</summary>
    EndpointWithFallback,
}

/// <summary>How callers authenticate to the API.</summary>
public enum ApiAuthorization
{
    /// <summary>An API key (header <c>x-api-key</c>) of the stack's usage plan, which also sets a daily quota. The default.</summary>
    ApiKey,

    /// <summary>SigV4-signed requests of IAM principals granted <c>execute-api:Invoke</c>; no API key or usage plan.</summary>
    Iam,
}

/// <summary>
/// Settings of the API: the SegmentProxy function's limits and serving mode, the RecommendationsApi function's limits
/// and its routes' throttles, and the REST API's authorization, throttling, CORS, stage and firewall. The functions'
/// architecture and the log retention come from <c>deployment:lambdaArchitecture</c> and
/// <c>deployment:logRetentionDays</c>, shared by every platform function.
/// </summary>
public sealed partial record ApiSettings
{
    /// <summary>The context values of <see cref="ServingMode"/>, as the proxy's SERVING_MODE variable spells them.</summary>
    public static IReadOnlyDictionary<string, ApiServingMode> ServingModes { get; } = new Dictionary<string, ApiServingMode>(StringComparer.Ordinal)
    {
        ["endpoint"] = ApiServingMode.Endpoint,
        ["centroids"] = ApiServingMode.Centroids,
        ["endpoint-with-fallback"] = ApiServingMode.EndpointWithFallback,
    };

    /// <summary>The context values of <see cref="Authorization"/>.</summary>
    public static IReadOnlyDictionary<string, ApiAuthorization> Authorizations { get; } = new Dictionary<string, ApiAuthorization>(StringComparer.Ordinal)
    {
        ["apiKey"] = ApiAuthorization.ApiKey,
        ["iam"] = ApiAuthorization.Iam,
    };

    /// <summary>Context <c>api:servingMode</c>: <c>endpoint</c> (default), <c>centroids</c> or <c>endpoint-with-fallback</c>.</summary>
    public ApiServingMode ServingMode { get; init; } = ApiServingMode.Endpoint;

    /// <summary>Context <c>api:authorization</c>: <c>apiKey</c> (default) or <c>iam</c>.</summary>
    public ApiAuthorization Authorization { get; init; } = ApiAuthorization.ApiKey;

    /// <summary>
    /// Context <c>api:corsOrigins</c>: comma-separated https origins (scheme, host, optional port) that browsers may call
    /// the API from. Default: empty, no CORS at all, so no web page of another origin can call the API; <c>*</c> is never
    /// accepted. Stored normalized (lower case, without duplicates, comma-joined) so equal settings compare equal.
    /// </summary>
    public string CorsOrigins { get; init; } = string.Empty;

    /// <summary>Context <c>api:throttleRate</c>: steady-state requests per second for the whole stage, 1 to 10000; default 50.</summary>
    public int ThrottleRate { get; init; } = 50;

    /// <summary>Context <c>api:throttleBurst</c>: requests the stage accepts at once above the rate, 1 to 5000; default 100.</summary>
    public int ThrottleBurst { get; init; } = 100;

    /// <summary>
    /// Context <c>api:quotaPerDay</c>: requests per API key per day, 0 (no quota) to 1000000000; default 100000. Applies to
    /// <see cref="ApiAuthorization.ApiKey"/> only (a quota belongs to a usage plan, which needs API keys).
    /// </summary>
    public int QuotaPerDay { get; init; } = 100_000;

    /// <summary>Context <c>api:maxBatchSize</c>: customers or rows per request, 1 to 100000 (the proxy's range); default 1000.</summary>
    public int MaxBatchSize { get; init; } = 1000;

    /// <summary>Context <c>api:maxBodyBytes</c>: request body size, 2 to 10485760 (API Gateway's payload limit); default 262144.</summary>
    public int MaxBodyBytes { get; init; } = 256 * 1024;

    /// <summary>Context <c>api:modelRefreshSeconds</c>: how often the proxy checks which model is deployed, 0 to 3600; default 60.</summary>
    public int ModelRefreshSeconds { get; init; } = 60;

    /// <summary>Context <c>api:stageName</c>: the stage, the first path segment of the API URL; default <c>prod</c>.</summary>
    public string StageName { get; init; } = "prod";

    /// <summary>
    /// Context <c>api:cloudWatchRole</c>: true (default) makes the stack set the account's API Gateway CloudWatch Logs role
    /// (one per account and region, which access and execution logging need); false leaves the account setting alone,
    /// for accounts where it is already set and owned by someone else.
    /// </summary>
    public bool CloudWatchRole { get; init; } = true;

    /// <summary>Context <c>api:webAclArn</c>: a regional AWS WAFv2 web ACL to associate with the stage; default none.</summary>
    public string? WebAclArn { get; init; }

    /// <summary>
    /// Context <c>api:pointerCacheSeconds</c>: how long the RecommendationsApi function keeps the serving table's pointer
    /// to the latest published run before reading it again, 0 (every request) to 300; default 30. A run switch reaches
    /// every caller within this time.
    /// </summary>
    public int PointerCacheSeconds { get; init; } = 30;

    /// <summary>Context <c>api:feedbackMaxBodyBytes</c>: POST /feedback body size, 2 to 1048576; default 16384 (one rating is a few hundred bytes).</summary>
    public int FeedbackMaxBodyBytes { get; init; } = 16 * 1024;

    /// <summary>
    /// Context <c>api:recommendationsThrottleRate</c> and <c>api:recommendationsThrottleBurst</c>: requests per second and
    /// burst of each of GET /recommendations/{customerId} and GET /recommendations/summary, 1 to 10000 and 1 to 5000;
    /// default 50 and 100. API-key callers are also held to their usage plan's api:throttleRate.
    /// </summary>
    public ThrottleLimit RecommendationsThrottle { get; init; } = new(50, 100);

    /// <summary>
    /// Context <c>api:feedbackThrottleRate</c> and <c>api:feedbackThrottleBurst</c>: requests per second and burst of
    /// POST /feedback, 1 to 10000 and 1 to 5000; default 10 and 20 (ratings are clicks of people, each one a table write).
    /// </summary>
    public ThrottleLimit FeedbackThrottle { get; init; } = new(10, 20);

    /// <summary>
    /// Context <c>api:pagesThrottleRate</c> and <c>api:pagesThrottleBurst</c>: requests per second and burst of each of the
    /// open routes GET /account-manager, GET /sales-leader and GET /openapi.json, 1 to 10000 and 1 to 5000; default 5
    /// and 10 (anonymous callers; a person loads a page once per visit).
    /// </summary>
    public ThrottleLimit PagesThrottle { get; init; } = new(5, 10);

    /// <summary>The proxy's spelling of <see cref="ServingMode"/> (its SERVING_MODE variable).</summary>
    public string ServingModeName => ServingModes.Single(m => m.Value == ServingMode).Key;

    /// <summary><see cref="CorsOrigins"/> as a list; empty when CORS is off.</summary>
    public IReadOnlyList<string> CorsOriginList => CorsOrigins.Split(',', StringSplitOptions.RemoveEmptyEntries);

    internal static ApiSettings Read(ContextReader read) => new()
    {
        ServingMode = read.Choice("api:servingMode", ApiServingMode.Endpoint, ServingModes),
        Authorization = read.Choice("api:authorization", ApiAuthorization.ApiKey, Authorizations),
        CorsOrigins = ReadCorsOrigins(read),
        ThrottleRate = read.Int("api:throttleRate", 50, 1, 10_000),
        ThrottleBurst = read.Int("api:throttleBurst", 100, 1, 5_000),
        QuotaPerDay = read.Int("api:quotaPerDay", 100_000, 0, 1_000_000_000),
        MaxBatchSize = read.Int("api:maxBatchSize", 1000, 1, 100_000),
        MaxBodyBytes = read.Int("api:maxBodyBytes", 256 * 1024, 2, 10 * 1024 * 1024),
        ModelRefreshSeconds = read.Int("api:modelRefreshSeconds", 60, 0, 3600),
        StageName = read.String("api:stageName", "prod", StageNamePattern(),
            "expected 1 to 128 letters, digits, hyphens or underscores (an API Gateway stage name)"),
        CloudWatchRole = read.Bool("api:cloudWatchRole", true),
        WebAclArn = read.OptionalString("api:webAclArn", WebAclArnPattern(),
            "expected a regional WAFv2 web ACL ARN such as arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"),
        PointerCacheSeconds = read.Int("api:pointerCacheSeconds", 30, 0, 300),
        FeedbackMaxBodyBytes = read.Int("api:feedbackMaxBodyBytes", 16 * 1024, 2, 1024 * 1024),
        RecommendationsThrottle = ReadThrottle(read, "recommendations", new(50, 100)),
        FeedbackThrottle = ReadThrottle(read, "feedback", new(10, 20)),
        PagesThrottle = ReadThrottle(read, "pages", new(5, 10)),
    };

    // The same ranges as the stage's api:throttleRate and api:throttleBurst.
    private static ThrottleLimit ReadThrottle(ContextReader read, string routes, ThrottleLimit defaults) => new(
        read.Int($"api:{routes}ThrottleRate", defaults.Rate, 1, 10_000),
        read.Int($"api:{routes}ThrottleBurst", defaults.Burst, 1, 5_000));

    private static string ReadCorsOrigins(ContextReader read)
    {
        var text = read.Raw("api:corsOrigins");
        if (text is null)
        {
            return string.Empty;
        }

        var origins = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var bad = origins.Where(o => !OriginPattern().IsMatch(o)).ToList();
        if (origins.Length == 0 || bad.Count > 0)
        {
            read.Fail("api:corsOrigins", text,
                "expected https origins separated by commas, each scheme, host and optional port without path or wildcard, such as https://app.example.com"
                + (bad.Count > 0 ? $" ({string.Join(", ", bad.Select(b => $"'{b}'"))} {(bad.Count == 1 ? "is not one" : "are not")})" : string.Empty));
            return string.Empty;
        }

        // Browsers send the host in lower case, and API Gateway's preflight compares origins as exact strings.
        return string.Join(',', origins.Select(o => o.ToLowerInvariant()).Distinct(StringComparer.Ordinal));
    }

    // An origin as browsers send it in the Origin header: https, a DNS name, an optional port; nothing after it.
    [GeneratedRegex(@"^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$")]
    private static partial Regex OriginPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,128}$")]
    private static partial Regex StageNamePattern();

    [GeneratedRegex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/[A-Za-z0-9_-]{1,128}/[A-Za-z0-9-]{1,128}$")]
    private static partial Regex WebAclArnPattern();
}

/// <summary>A method's throttle in the stage's method settings: steady-state requests per second and the burst above it.</summary>
/// <param name="Rate">Requests per second.</param>
/// <param name="Burst">Requests accepted at once above the rate.</param>
public sealed record ThrottleLimit(int Rate, int Burst);
