using System.Globalization;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>
/// The API Gateway (REST, proxy integration) handler: <c>GET /recommendations/{customerId}</c>,
/// <c>GET /recommendations/summary</c>, <c>POST /feedback</c>, <c>GET /openapi.json</c> and the pages
/// <c>GET /account-manager</c> and <c>GET /sales-leader</c>. Thin: parse, then <see cref="RecommendationReader"/> or
/// <see cref="FeedbackRecorder"/>, then format (<see cref="Answers"/>). A caller's mistake is a 4xx naming the field;
/// nothing a caller sends produces a 5xx; one JSON log line per request carries the outcome, the run answered from, and
/// the table requests and their time.
/// </summary>
public sealed class RecommendationsApiFunction(RecommendationsApiSettings settings, RecommendationReader reader, FeedbackRecorder recorder,
    TimeProvider time)
{
    public const string CustomerRoute = "/recommendations/{customerId}";
    public const string SummaryRoute = "/recommendations/summary";
    public const string FeedbackRoute = "/feedback";
    public const string OpenApiRoute = "/openapi.json";
    public const string AccountManagerRoute = "/account-manager";
    public const string SalesLeaderRoute = "/sales-leader";

    private static readonly string[] RequestHeaders = ["Origin", FeedbackRequest.ContentTypeHeader, FeedbackRequest.IdempotencyKeyHeader];
    private static readonly Lazy<byte[]> OpenApiDocument = new(() => Embedded("openapi.json"));
    private static readonly ComposedPage AccountManagerPage = new(typeof(RecommendationsApiFunction).Assembly, "AccountManager.html");
    private static readonly ComposedPage SalesLeaderPage = new(typeof(RecommendationsApiFunction).Assembly, "SalesLeader.html");

    /// <summary>The Lambda entry point: the proxy event's bytes in, the proxy response document out.</summary>
    public async Task<Stream> HandleAsync(Stream input, LambdaInvocationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        using var request = await ProxyEvent.ReadAsync(input, RequestHeaders, cancellationToken).ConfigureAwait(false);
        var reply = await ServeAsync(request, context.Logger, cancellationToken).ConfigureAwait(false);
        return ProxyResponseDocument.Of(reply);
    }

    public async Task<APIGatewayProxyResponse> HandleAsync(APIGatewayProxyRequest request, LambdaLogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(logger);
        using var proxyEvent = ProxyEvent.From(request, RequestHeaders);
        var reply = await ServeAsync(proxyEvent, logger, cancellationToken).ConfigureAwait(false);
        return reply.ToResponse();
    }

    private async Task<ProxyReply> ServeAsync(ProxyEvent request, LambdaLogger logger, CancellationToken cancellationToken)
    {
        var log = new ApiRequestLog(time);
        var usage = TableUsage.Begin();
        var method = request.HttpMethod?.ToUpperInvariant() ?? "";
        var (route, customerId) = Route(request);
        ProxyReply reply;
        try
        {
            reply = (route, method) switch
            {
                (CustomerRoute, "GET") => await CustomerAsync(request, customerId, log, cancellationToken).ConfigureAwait(false),
                (SummaryRoute, "GET") => await SummaryAsync(log, cancellationToken).ConfigureAwait(false),
                (FeedbackRoute, "POST") => await FeedbackAsync(request, log, cancellationToken).ConfigureAwait(false),
                (OpenApiRoute, "GET") => ProxyReply.Json(200, OpenApiDocument.Value, ("Cache-Control", "no-cache")),
                (AccountManagerRoute, "GET") => ProxyReply.Html(AccountManagerPage.Bytes),
                (SalesLeaderRoute, "GET") => ProxyReply.Html(SalesLeaderPage.Bytes),
                (FeedbackRoute, _) => ProxyReply.MethodNotAllowed(method, "POST"),
                (CustomerRoute or SummaryRoute or OpenApiRoute or AccountManagerRoute or SalesLeaderRoute, _) => ProxyReply.MethodNotAllowed(method, "GET"),
                _ => ProxyReply.Error(404, "path", $"no resource {route}: use GET {CustomerRoute}, GET {SummaryRoute}, POST {FeedbackRoute}, "
                    + $"GET {OpenApiRoute}, GET {AccountManagerRoute} or GET {SalesLeaderRoute}"),
            };
        }
        catch (RequestException exception)
        {
            log.ErrorField = exception.Field;
            reply = ProxyReply.Error(exception.StatusCode, exception.Field, exception.Message);
        }
        catch (NothingPublishedException exception)
        {
            log.Detail = exception.Message;
            reply = Unavailable(exception.Message);
        }
        catch (TableUnavailableException exception)
        {
            log.Detail = exception.Message;
            reply = Unavailable(exception.Table == settings.FeedbackTable
                ? "feedback cannot be stored right now; retry later"
                : "the recommendations cannot be read right now; retry later");
        }
        catch (ServingDataException exception)
        {
            log.Detail = exception.Message;
            reply = ProxyReply.Error(500, null, $"the published recommendations are damaged: {exception.Message}");
        }

        reply = reply.WithCors(request.Header("Origin"), settings.CorsAllowedOrigins);
        log.Served(logger, method, route, reply.StatusCode, ("runId", log.RunId), ("coldStart", log.ColdStart), ("stored", log.Stored),
            ("tableRequests", usage.Requests), ("tableMs", usage.Elapsed));
        return reply;
    }

    private async Task<ProxyReply> CustomerAsync(ProxyEvent request, string? customerIdText, ApiRequestLog log, CancellationToken cancellationToken)
    {
        var customerId = IdentifierRule.Check("customerId", customerIdText ?? "");
        var segment = SegmentOf(request);
        var answer = await reader.ForCustomerAsync(customerId, segment, cancellationToken).ConfigureAwait(false);
        log.RunId = answer.Run.RunId;
        log.ColdStart = answer.Standing == CustomerStanding.ColdStart;
        return answer.Standing switch
        {
            CustomerStanding.UnknownCustomer => throw new RequestException("customerId",
                $"customer {customerId} is not in run {answer.Run.RunId}; add ?region=&end_use= for a cold-start answer from the customer's segment", 404),
            CustomerStanding.UnknownSegment => throw new RequestException("region",
                $"customer {customerId} is not in run {answer.Run.RunId}, and the run has no segment {segment!.Name} (region {segment.Region}, "
                + $"end_use {segment.EndUse}): check region and end_use against the customers file", 404),
            _ => ProxyReply.Json(200, Answers.Customer(answer)),
        };
    }

    /// <summary>The segment of a cold-start request: region and end_use together, or neither (blank counts as absent).</summary>
    private static SegmentQuery? SegmentOf(ProxyEvent request)
    {
        var region = Parameter(request, "region");
        var endUse = Parameter(request, "end_use");
        return (region, endUse) switch
        {
            (null, null) => null,
            ({ } given, null) => throw new RequestException("end_use",
                $"end_use is missing: region {given} gives a cold-start answer only with the customer's end_use too"),
            (null, { } given) => throw new RequestException("region",
                $"region is missing: end_use {given} gives a cold-start answer only with the customer's region too"),
            _ => new SegmentQuery(region!, endUse!),
        };
    }

    private static string? Parameter(ProxyEvent request, string name) =>
        request.QueryStringParameters.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? IdentifierRule.Check(name, value) : null;

    private async Task<ProxyReply> SummaryAsync(ApiRequestLog log, CancellationToken cancellationToken)
    {
        var (run, summary) = await reader.SummaryAsync(cancellationToken).ConfigureAwait(false);
        log.RunId = run.RunId;
        return ProxyReply.Json(200, Answers.Summary(run, summary));
    }

    private async Task<ProxyReply> FeedbackAsync(ProxyEvent request, ApiRequestLog log, CancellationToken cancellationToken)
    {
        var body = RequestBody.Bytes(request.BodyText, request.IsBase64Encoded);
        var submission = FeedbackRequest.Parse(body.Span, request.Header(FeedbackRequest.ContentTypeHeader), request.Header(FeedbackRequest.IdempotencyKeyHeader),
            settings.MaxBodyBytes, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
        var result = await recorder.RecordAsync(submission, cancellationToken).ConfigureAwait(false);
        log.RunId = result.RunId;
        log.Stored = result.Stored;
        return ProxyReply.Json(result.Stored ? 201 : 200, Answers.Feedback(result));
    }

    private static ProxyReply Unavailable(string message) =>
        ProxyReply.Error(503, null, message, ("Retry-After", ((int)RecommendationsApiSettings.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// The route, the resource template (the path when the event has none) so that no customer id reaches the log's route,
    /// and the customer id of <c>GET /recommendations/{customerId}</c>.
    /// </summary>
    private static (string Route, string? CustomerId) Route(ProxyEvent request)
    {
        var route = Trimmed(request.Resource is { Length: > 0 } resource ? resource : request.Path ?? "/");
        return (route, route == CustomerRoute && request.PathParameters.TryGetValue("customerId", out var id) ? id : null);
    }

    private static string Trimmed(string path)
    {
        var trimmed = path.TrimEnd('/');
        return trimmed.Length == 0 ? "/" : trimmed;
    }

    private static byte[] Embedded(string name) => ProxyReply.EmbeddedFile(typeof(RecommendationsApiFunction).Assembly, name);

    /// <summary>The figures of a request for its log line.</summary>
    private sealed class ApiRequestLog(TimeProvider time) : RequestLog(time)
    {
        public string? RunId { get; set; }
        public bool? ColdStart { get; set; }
        public bool? Stored { get; set; }
    }
}
