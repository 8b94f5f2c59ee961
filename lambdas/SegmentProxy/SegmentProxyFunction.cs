using System.Collections.ObjectModel;
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
    private const int DocumentCapacity = 4096;
    private static readonly Lazy<byte[]> ExplorerPage = new(LoadExplorerPage);

    private static readonly ReadOnlyDictionary<string, string> JsonHeaders = new(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Content-Type"] = JsonContentType,
        ["Cache-Control"] = "no-store",
    });

    /// <summary>
    /// The Lambda entry point: the proxy event in, the proxy response out. The event is read straight from its bytes and
    /// the response written into one pooled buffer, body first: a POST /segment answer goes there as it is written,
    /// already escaped, before its status and headers are known.
    /// </summary>
    public async Task<Stream> HandleAsync(Stream input, LambdaInvocationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        using var request = await ReadEventAsync(input, cancellationToken).ConfigureAwait(false);
        // A batch answer is a little larger than its request body: room for both saves copying the buffer as it grows.
        var document = new PooledBuffer(Math.Max(DocumentCapacity, 2 * request.BodyText.Length));
        try
        {
            document.Write("""{"body":"""u8);
            var bodyStart = document.Length;
            var reply = await ServeAsync(request, context.Logger, document, cancellationToken).ConfigureAwait(false);
            if (reply.Body is { } plain)
            {
                document.Truncate(bodyStart);
                document.Write("\""u8);
                JsonText.Embed(plain.Span, document);
                document.Write("\""u8);
            }

            document.Write(""","statusCode":"""u8);
            reply.StatusCode.TryFormat(document.GetSpan(11), out var written, default, CultureInfo.InvariantCulture);
            document.Advance(written);
            document.Write(""","headers":{"""u8);
            var first = true;
            foreach (var (name, value) in reply.Headers)
            {
                document.Write(first ? ""u8 : ","u8);
                JsonText.WriteString(name, document);
                document.Write(":"u8);
                JsonText.WriteString(value, document);
                first = false;
            }

            document.Write("""},"isBase64Encoded":false}"""u8);
            return document.DetachAsStream();
        }
        finally
        {
            document.Dispose();
        }
    }

    public async Task<APIGatewayProxyResponse> HandleAsync(APIGatewayProxyRequest request, LambdaLogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(logger);
        using var proxyEvent = ProxyEvent.From(request);
        var reply = await ServeAsync(proxyEvent, logger, null, cancellationToken).ConfigureAwait(false);
        return new APIGatewayProxyResponse { StatusCode = reply.StatusCode, Headers = reply.Headers, Body = Encoding.UTF8.GetString(reply.Body!.Value.Span) };
    }

    private async Task<ProxyEvent> ReadEventAsync(Stream input, CancellationToken cancellationToken)
    {
        var readOrigin = settings.CorsAllowedOrigins.Count > 0;
        if (input is MemoryStream memory && memory.TryGetBuffer(out var buffered))
        {
            return ProxyEvent.Read(buffered.AsSpan((int)memory.Position), readOrigin);
        }

        using var copy = new PooledBuffer(DocumentCapacity);
        int read;
        while ((read = await input.ReadAsync(copy.GetMemory(DocumentCapacity), cancellationToken).ConfigureAwait(false)) > 0)
        {
            copy.Advance(read);
        }

        return ProxyEvent.Read(copy.Written, readOrigin);
    }

    /// <summary>
    /// Routes one request. With <paramref name="embeddedBody"/>, a POST /segment answer is written there, escaped as the
    /// content of a JSON string, and the reply has no <see cref="Reply.Body"/>; every other body comes back plain.
    /// </summary>
    private async Task<Reply> ServeAsync(ProxyEvent request, LambdaLogger logger, PooledBuffer? embeddedBody, CancellationToken cancellationToken)
    {
        var log = new RequestLog(time);
        var method = request.HttpMethod?.ToUpperInvariant() ?? "";
        var route = Route(request);
        Reply reply;
        try
        {
            reply = (route, method) switch
            {
                ("/segment", "POST") => await SegmentAsync(request, log, embeddedBody, cancellationToken).ConfigureAwait(false),
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
            reply = Error(400, exception.Field, exception.Message);
        }
        catch (ServiceUnavailableException exception)
        {
            reply = Error(503, null, exception.Message, ("Retry-After", ((int)ProxySettings.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture)));
            log.Detail = exception.Message;
        }
        catch (BadEndpointAnswerException exception)
        {
            reply = Error(502, null, exception.Message);
            log.Detail = exception.Message;
        }

        reply = WithCors(request, reply);
        logger.Information("Request served.",
            ("method", method), ("route", route), ("statusCode", reply.StatusCode), ("outcome", Outcome(reply.StatusCode)),
            ("errorField", log.ErrorField), ("detail", log.Detail), ("rows", log.Rows), ("scoredBy", log.ScoredBy),
            ("modelVersion", log.ModelVersion), ("parseMs", log.Parse), ("modelMs", log.Model), ("scaleMs", log.Scale), ("endpointMs", log.Endpoint),
            ("totalMs", log.Total));
        return reply;
    }

    private async Task<Reply> SegmentAsync(ProxyEvent request, RequestLog log, PooledBuffer? embeddedBody, CancellationToken cancellationToken)
    {
        var body = SegmentRequest.BodyBytes(request.BodyText, request.IsBase64Encoded);
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
            return new Reply(200, JsonHeaders, null);
        }

        using var plain = new PooledBuffer(DocumentCapacity);
        SegmentAnswer.Write(plain, predictions, model, EndpointName(model), scoredBy, fallbackReason, embedded: false);
        return Json(200, plain.Written.ToArray());
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

    private async Task<Reply> SegmentsAsync(RequestLog log, CancellationToken cancellationToken)
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
    private Reply WithCors(ProxyEvent request, Reply reply)
    {
        if (settings.CorsAllowedOrigins.Count == 0)
        {
            return reply;
        }

        var headers = new Dictionary<string, string>(reply.Headers, StringComparer.OrdinalIgnoreCase)
        {
            ["Vary"] = "Origin",
        };
        // Compared exactly, as API Gateway's preflight does: browsers send an origin's scheme and host in lower case.
        if (request.Origin is { } origin && settings.CorsAllowedOrigins.Contains(origin, StringComparer.Ordinal))
        {
            headers["Access-Control-Allow-Origin"] = origin;
            headers["Access-Control-Expose-Headers"] = "Retry-After";
        }

        return reply with { Headers = headers };
    }

    private static string Route(ProxyEvent request)
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

    private static Reply MethodNotAllowed(string method, string allowed) =>
        Error(405, "method", $"{(method.Length == 0 ? "this method" : method)} is not allowed here; use {allowed}", ("Allow", allowed));

    private static Reply Error(int statusCode, string? field, string message, params (string Name, string Value)[] headers)
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

    private static Reply Json(int statusCode, byte[] body, params (string Name, string Value)[] headers)
    {
        if (headers.Length == 0)
        {
            return new Reply(statusCode, JsonHeaders, body);
        }

        var all = new Dictionary<string, string>(JsonHeaders, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            all[name] = value;
        }

        return new Reply(statusCode, all, body);
    }

    private static Reply Html(byte[] page) => new(200, new Dictionary<string, string>
    {
        ["Content-Type"] = "text/html; charset=utf-8",
        ["Cache-Control"] = "no-cache",
        // The page is self-contained: nothing but its own inline script and style and this API may load.
        ["Content-Security-Policy"] = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
    }, page);

    private static byte[] LoadExplorerPage()
    {
        using var stream = typeof(SegmentProxyFunction).Assembly.GetManifestResourceStream("ExplorerPage.html")
            ?? throw new InvalidOperationException("ExplorerPage.html is not embedded in the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Encoding.UTF8.GetBytes(reader.ReadToEnd());
    }

    /// <summary>
    /// An answer before it is framed as an API Gateway response. <see cref="Body"/> is the plain body; null when the body
    /// was written, escaped, into the Lambda response document already.
    /// </summary>
    private sealed record Reply(int StatusCode, IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte>? Body);

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
