using System.Globalization;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// The API Gateway (REST, proxy integration) handler: <c>POST /segment</c>, <c>GET /segments</c> and <c>GET /</c> (the
/// segment explorer page). Thin: parse, then <see cref="FeatureScaler"/> and the scorers, then format. Every caller
/// mistake is a 400 naming the field; nothing a caller sends produces a 5xx; one JSON log line per request carries the
/// outcome and the latency split (parse, scale, endpoint).
/// </summary>
public sealed class SegmentProxyFunction(ProxySettings settings, DeployedModelSource models, ISegmentEndpoint? endpoint, TimeProvider time)
{
    private const int DocumentCapacity = 4096;
    private static readonly ComposedPage ExplorerPage = new(typeof(SegmentProxyFunction).Assembly, "ExplorerPage.html");
    private static readonly string[] OriginHeader = ["Origin"];

    /// <summary>
    /// The Lambda entry point: the proxy event in, the proxy response out. The event is read straight from its bytes and
    /// the response written into one pooled buffer, body first: a POST /segment answer goes there as it is written,
    /// already escaped, before its status and headers are known.
    /// </summary>
    public async Task<Stream> HandleAsync(Stream input, LambdaInvocationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        using var request = await ProxyEvent.ReadAsync(input, RequestHeaders, cancellationToken).ConfigureAwait(false);
        // A batch answer is a little larger than its request body: room for both saves copying the buffer as it grows.
        using var document = new ProxyResponseDocument(Math.Max(DocumentCapacity, 2 * request.BodyText.Length));
        var reply = await ServeAsync(request, context.Logger, document.Body, cancellationToken).ConfigureAwait(false);
        return document.Complete(reply);
    }

    public async Task<APIGatewayProxyResponse> HandleAsync(APIGatewayProxyRequest request, LambdaLogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(logger);
        using var proxyEvent = ProxyEvent.From(request, RequestHeaders);
        var reply = await ServeAsync(proxyEvent, logger, null, cancellationToken).ConfigureAwait(false);
        return reply.ToResponse();
    }

    /// <summary>The headers read from an event: the Origin only when CORS is on.</summary>
    private string[] RequestHeaders => settings.CorsAllowedOrigins.Count > 0 ? OriginHeader : [];

    /// <summary>
    /// Routes one request. With <paramref name="embeddedBody"/>, a POST /segment answer is written there, escaped as the
    /// content of a JSON string, and the reply has no <see cref="ProxyReply.Body"/>; every other body comes back plain.
    /// </summary>
    private async Task<ProxyReply> ServeAsync(ProxyEvent request, LambdaLogger logger, PooledBuffer? embeddedBody, CancellationToken cancellationToken)
    {
        var log = new SegmentRequestLog(time);
        var method = request.HttpMethod?.ToUpperInvariant() ?? "";
        var route = Route(request);
        ProxyReply reply;
        try
        {
            reply = (route, method) switch
            {
                ("/segment", "POST") => await SegmentAsync(request, log, embeddedBody, cancellationToken).ConfigureAwait(false),
                ("/segments", "GET") => await SegmentsAsync(log, cancellationToken).ConfigureAwait(false),
                ("/", "GET") => ProxyReply.Html(ExplorerPage.Bytes),
                ("/segment", _) => ProxyReply.MethodNotAllowed(method, "POST"),
                ("/segments" or "/", _) => ProxyReply.MethodNotAllowed(method, "GET"),
                _ => ProxyReply.Error(404, "path", $"no resource {route}: use POST /segment, GET /segments or GET /"),
            };
        }
        catch (RequestException exception)
        {
            log.ErrorField = exception.Field;
            reply = ProxyReply.Error(exception.StatusCode, exception.Field, exception.Message);
        }
        catch (ServiceUnavailableException exception)
        {
            reply = ProxyReply.Error(503, null, exception.Message, ("Retry-After", ((int)ProxySettings.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture)));
            log.Detail = exception.Message;
        }
        catch (BadEndpointAnswerException exception)
        {
            reply = ProxyReply.Error(502, null, exception.Message);
            log.Detail = exception.Message;
        }

        reply = reply.WithCors(request.Header("Origin"), settings.CorsAllowedOrigins);
        log.Served(logger, method, route, reply.StatusCode, ("rows", log.Rows), ("scoredBy", log.ScoredBy), ("modelVersion", log.ModelVersion),
            ("parseMs", log.Parse), ("modelMs", log.Model), ("scaleMs", log.Scale), ("endpointMs", log.Endpoint));
        return reply;
    }

    private async Task<ProxyReply> SegmentAsync(ProxyEvent request, SegmentRequestLog log, PooledBuffer? embeddedBody, CancellationToken cancellationToken)
    {
        var body = RequestBody.Bytes(request.BodyText, request.IsBase64Encoded);
        var parsed = SegmentRequest.Parse(body.Span, settings.MaxBatchSize, settings.MaxBodyBytes);
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

        if (embeddedBody is not null)
        {
            embeddedBody.Write("\""u8);
            SegmentAnswer.Write(embeddedBody, predictions, model, EndpointName(model), scoredBy, fallbackReason, embedded: true);
            embeddedBody.Write("\""u8);
            return ProxyReply.JsonWrittenToDocument(200);
        }

        using var plain = new PooledBuffer(DocumentCapacity);
        SegmentAnswer.Write(plain, predictions, model, EndpointName(model), scoredBy, fallbackReason, embedded: false);
        return ProxyReply.Json(200, plain.Written.ToArray());
    }

    private async Task<(Prediction[] Predictions, string ScoredBy, string? FallbackReason)> ScoreAsync(FeatureMatrix scaled, SegmentModel model,
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

    private async Task<ProxyReply> SegmentsAsync(SegmentRequestLog log, CancellationToken cancellationToken)
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

        return ProxyReply.Json(200, buffer.ToArray());
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

    private static string Route(ProxyEvent request)
    {
        var path = request.Resource is { Length: > 0 } resource && !resource.Contains('{', StringComparison.Ordinal) ? resource : request.Path ?? "/";
        var trimmed = path.TrimEnd('/');
        return trimmed.Length == 0 ? "/" : trimmed;
    }

    /// <summary>The figures of a request for its log line.</summary>
    private sealed class SegmentRequestLog(TimeProvider time) : RequestLog(time)
    {
        public int? Rows { get; set; }
        public string? ScoredBy { get; set; }
        public string? ModelVersion { get; set; }
        public TimeSpan? Parse { get; set; }
        public TimeSpan? Model { get; set; }
        public TimeSpan? Scale { get; set; }
        public TimeSpan? Endpoint { get; set; }
    }
}
