using System.Globalization;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// The API Gateway (REST, proxy integration) handler: <c>POST /segment</c>, <c>GET /segments</c> and <c>GET /</c> (the
/// segment explorer page). Thin: parse, then <see cref="FeatureScaler"/> and the scorers, then format. Every caller
/// mistake is a 400 naming the field; nothing a caller sends produces a 5xx; one JSON log line per request carries the
/// outcome and the latency split (parse, scale, endpoint).
/// </summary>
public sealed class SegmentProxyFunction(ProxySettings settings, DeployedModelSource models, ISegmentEndpoint? endpoint, TimeProvider time)
{
    private const string JsonContentType = "application/json";
    private static readonly Lazy<string> ExplorerPage = new(LoadExplorerPage);

    /// <summary>The Lambda entry point: the proxy event in, the proxy response out.</summary>
    public async Task<Stream> HandleAsync(Stream input, LambdaInvocationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = await JsonSerializer.DeserializeAsync(input, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The event is 'null', not an API Gateway proxy event.");
        var response = await HandleAsync(request, context.Logger, cancellationToken).ConfigureAwait(false);
        return new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(response, APIGatewayEventsJsonContext.Default.APIGatewayProxyResponse));
    }

    public async Task<APIGatewayProxyResponse> HandleAsync(APIGatewayProxyRequest request, LambdaLogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(logger);
        var log = new RequestLog(time);
        var method = request.HttpMethod?.ToUpperInvariant() ?? "";
        var route = Route(request);
        APIGatewayProxyResponse response;
        try
        {
            response = (route, method) switch
            {
                ("/segment", "POST") => await SegmentAsync(request, log, cancellationToken).ConfigureAwait(false),
                ("/segments", "GET") => await SegmentsAsync(log, cancellationToken).ConfigureAwait(false),
                ("/", "GET") => Html(ExplorerPage.Value),
                ("/segment", _) => MethodNotAllowed(method, "POST"),
                ("/segments" or "/", _) => MethodNotAllowed(method, "GET"),
                _ => Error(404, "path", $"no resource {route}: use POST /segment, GET /segments or GET /"),
            };
        }
        catch (RequestException exception)
        {
            log.ErrorField = exception.Field;
            response = Error(400, exception.Field, exception.Message);
        }
        catch (ServiceUnavailableException exception)
        {
            response = Error(503, null, exception.Message, ("Retry-After", ((int)ProxySettings.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture)));
            log.Detail = exception.Message;
        }
        catch (BadEndpointAnswerException exception)
        {
            response = Error(502, null, exception.Message);
            log.Detail = exception.Message;
        }

        response = WithCors(request, response);
        logger.Information("Request served.",
            ("method", method), ("route", route), ("statusCode", response.StatusCode), ("outcome", Outcome(response.StatusCode)),
            ("errorField", log.ErrorField), ("detail", log.Detail), ("rows", log.Rows), ("scoredBy", log.ScoredBy),
            ("modelVersion", log.ModelVersion), ("parseMs", log.Parse), ("modelMs", log.Model), ("scaleMs", log.Scale), ("endpointMs", log.Endpoint),
            ("totalMs", log.Total));
        return response;
    }

    private async Task<APIGatewayProxyResponse> SegmentAsync(APIGatewayProxyRequest request, RequestLog log, CancellationToken cancellationToken)
    {
        var body = SegmentRequest.BodyBytes(request.Body, request.IsBase64Encoded);
        var parsed = SegmentRequest.Parse(body, settings.MaxBatchSize, settings.MaxBodyBytes);
        log.Rows = parsed.Count;
        log.Parse = log.Lap();
        var model = await models.GetAsync(cancellationToken).ConfigureAwait(false);
        log.ModelVersion = model.Marker.ModelVersion;
        log.Model = log.Lap();
        var scaled = FeatureScaler.Scale(parsed, model);
        log.Scale = log.Lap();
        var (predictions, scoredBy, fallbackReason) = await ScoreAsync(scaled, model, cancellationToken).ConfigureAwait(false);
        log.Endpoint = log.Lap();
        log.ScoredBy = scoredBy;
        log.Detail = fallbackReason;

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("predictions");
            foreach (var prediction in predictions)
            {
                writer.WriteStartObject();
                writer.WriteNumber("closest_cluster", prediction.ClosestCluster);
                writer.WriteNumber("distance_to_cluster", prediction.DistanceToCluster);
                writer.WriteString("segment_label", model.LabelOf(prediction.ClosestCluster));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("endpoint", EndpointName(model));
            writer.WriteString("model_version", model.Marker.ModelVersion);
            writer.WriteNumber("features_processed", predictions.Length);
            writer.WriteString("scored_by", scoredBy);
            if (fallbackReason is not null)
            {
                writer.WriteBoolean("fallback", true);
                writer.WriteString("fallback_reason", fallbackReason);
            }

            writer.WriteEndObject();
        }

        return Json(200, buffer.ToArray());
    }

    private async Task<(Prediction[] Predictions, string ScoredBy, string? FallbackReason)> ScoreAsync(double[][] scaled, SegmentModel model,
        CancellationToken cancellationToken)
    {
        if (settings.Mode == ServingMode.Centroids)
        {
            return (CentroidScorer.Score(scaled, model), "centroids", null);
        }

        try
        {
            var predictions = await EndpointScorer.ScoreAsync(endpoint!, EndpointName(model)!, scaled, cancellationToken).ConfigureAwait(false);
            return (predictions, "endpoint", null);
        }
        catch (ServiceUnavailableException exception) when (settings.Mode == ServingMode.EndpointWithFallback)
        {
            return (CentroidScorer.Score(scaled, model), "centroids", exception.Message);
        }
    }

    private string? EndpointName(SegmentModel model) => settings.Mode == ServingMode.Centroids ? null : settings.EndpointName ?? model.Marker.EndpointName;

    private async Task<APIGatewayProxyResponse> SegmentsAsync(RequestLog log, CancellationToken cancellationToken)
    {
        var model = await models.GetAsync(cancellationToken).ConfigureAwait(false);
        log.ModelVersion = model.Marker.ModelVersion;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model_version", model.Marker.ModelVersion);
            writer.WriteString("model_package_arn", model.Marker.ModelPackageArn);
            writer.WriteString("deployed_at", model.Marker.DeployedAt);
            writer.WriteStartArray("features");
            foreach (var feature in model.Features)
            {
                writer.WriteStringValue(feature);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("segments");
            foreach (var segment in model.Segments)
            {
                writer.WriteStartObject();
                writer.WriteNumber("id", segment.Id);
                writer.WriteString("label", segment.Label);
                writer.WriteNumber("size", segment.Size);
                writer.WriteNumber("share", segment.Share);
                writer.WriteStartObject("centroid");
                foreach (var feature in model.Features)
                {
                    writer.WriteNumber(feature, segment.Centroid[feature]);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WritePropertyName("metrics");
            WriteMetrics(writer, model.Metrics);
            writer.WriteEndObject();
        }

        return Json(200, buffer.ToArray());
    }

    private static readonly string[] PublishedMetrics = ["k", "rows", "silhouette", "calinski_harabasz", "davies_bouldin", "min_cluster_fraction", "max_cluster_fraction", "label_stability_ari"];

    private static void WriteMetrics(Utf8JsonWriter writer, JsonElement? metrics)
    {
        if (metrics is not { ValueKind: JsonValueKind.Object } document)
        {
            writer.WriteNullValue();
            return;
        }

        writer.WriteStartObject();
        foreach (var name in PublishedMetrics)
        {
            if (document.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.Number or JsonValueKind.Null)
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// A browser lets a page of another origin read an answer only when the answer names that origin, so every answer of an
    /// allowed origin carries it, errors included: the page then sees a 400's field and a 503's reason (and its
    /// Retry-After). <c>Vary: Origin</c> goes on every answer once CORS is on, because the same URL then answers differently
    /// per origin and a cache must not hand one origin's answer to another.
    /// </summary>
    private APIGatewayProxyResponse WithCors(APIGatewayProxyRequest request, APIGatewayProxyResponse response)
    {
        if (settings.CorsAllowedOrigins.Count == 0)
        {
            return response;
        }

        var headers = new Dictionary<string, string>(response.Headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
        {
            ["Vary"] = "Origin",
        };
        // Compared exactly, as API Gateway's preflight does: browsers send an origin's scheme and host in lower case.
        if (Header(request, "Origin") is { } origin && settings.CorsAllowedOrigins.Contains(origin, StringComparer.Ordinal))
        {
            headers["Access-Control-Allow-Origin"] = origin;
            headers["Access-Control-Expose-Headers"] = "Retry-After";
        }

        return response with { Headers = headers };
    }

    private static string? Header(APIGatewayProxyRequest request, string name) =>
        request.Headers?.FirstOrDefault(header => string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    private static string Route(APIGatewayProxyRequest request)
    {
        var path = request.Resource is { Length: > 0 } resource && !resource.Contains('{', StringComparison.Ordinal) ? resource : request.Path ?? "/";
        var trimmed = path.TrimEnd('/');
        return trimmed.Length == 0 ? "/" : trimmed;
    }

    private static string Outcome(int statusCode) => statusCode switch
    {
        < 400 => "ok",
        < 500 => "rejected",
        503 => "unavailable",
        _ => "failed",
    };

    private static APIGatewayProxyResponse MethodNotAllowed(string method, string allowed) =>
        Error(405, "method", $"{(method.Length == 0 ? "this method" : method)} is not allowed here; use {allowed}", ("Allow", allowed));

    private static APIGatewayProxyResponse Error(int statusCode, string? field, string message, params (string Name, string Value)[] headers)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("error", message);
            if (field is not null)
            {
                writer.WriteString("field", field);
            }

            writer.WriteEndObject();
        }

        return Json(statusCode, buffer.ToArray(), headers);
    }

    private static APIGatewayProxyResponse Json(int statusCode, byte[] body, params (string Name, string Value)[] headers)
    {
        var all = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = JsonContentType, ["Cache-Control"] = "no-store" };
        foreach (var (name, value) in headers)
        {
            all[name] = value;
        }

        return new APIGatewayProxyResponse { StatusCode = statusCode, Headers = all, Body = Encoding.UTF8.GetString(body) };
    }

    private static APIGatewayProxyResponse Html(string page) => new()
    {
        StatusCode = 200,
        Headers = new Dictionary<string, string>
        {
            ["Content-Type"] = "text/html; charset=utf-8",
            ["Cache-Control"] = "no-cache",
            // The page is self-contained: nothing but its own inline script and style and this API may load.
            ["Content-Security-Policy"] = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
        },
        Body = page,
    };

    private static string LoadExplorerPage()
    {
        using var stream = typeof(SegmentProxyFunction).Assembly.GetManifestResourceStream("ExplorerPage.html")
            ?? throw new InvalidOperationException("ExplorerPage.html is not embedded in the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Per-request figures for the one log line.</summary>
    private sealed class RequestLog(TimeProvider time)
    {
        private readonly long _start = time.GetTimestamp();
        private long _last = time.GetTimestamp();

        public int? Rows { get; set; }
        public string? ScoredBy { get; set; }
        public string? ModelVersion { get; set; }
        public string? ErrorField { get; set; }
        public string? Detail { get; set; }
        public TimeSpan? Parse { get; set; }
        public TimeSpan? Model { get; set; }
        public TimeSpan? Scale { get; set; }
        public TimeSpan? Endpoint { get; set; }
        public TimeSpan Total => time.GetElapsedTime(_start);

        public TimeSpan Lap()
        {
            var now = time.GetTimestamp();
            var elapsed = time.GetElapsedTime(_last, now);
            _last = now;
            return elapsed;
        }
    }
}
