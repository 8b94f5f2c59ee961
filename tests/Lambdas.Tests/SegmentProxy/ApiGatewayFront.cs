using System.Net;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.Lambdas.Tests.Contract;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// The smallest REST API front a browser can use: <c>http://127.0.0.1:port/{stage}/...</c> requests for the SegmentApi's
/// resources become API Gateway (REST, payload 1.0) proxy events for the function behind a
/// <see cref="LambdaRuntimeApiServer"/>, and the function's proxy response becomes the HTTP response. As API Gateway: an
/// unknown path answers 403 "Missing Authentication Token", a function error or malformed answer 502 "Internal server
/// error". Nothing else of API Gateway (keys, throttling, validation, CORS) is emulated here.
/// Replace with the template-driven front in infra/LocalAws/ApiGateway once it serves HTTP.
/// </summary>
internal sealed class ApiGatewayFront(LambdaRuntimeApiServer function, string stage = "prod") : LoopbackHttpServer
{
    /// <summary>The resources of the SegmentApi construct (methods are the function's business: it answers 405 itself).</summary>
    private static readonly string[] Resources = ["/", "/segment", "/segments"];

    private int _forwarded;

    /// <summary>The stage's URL, as the ApiUrl stack output gives it: <c>http://127.0.0.1:port/prod/</c>.</summary>
    public Uri StageUri => new(BaseUri, stage + "/");

    /// <summary>How many requests reached the function.</summary>
    public int Forwarded => _forwarded;

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var body = await ReadBodyAsync(request);
        var prefix = "/" + stage;
        var rawPath = request.Url!.AbsolutePath;
        var path = rawPath == prefix ? "/" : rawPath.StartsWith(prefix + "/", StringComparison.Ordinal) ? rawPath[prefix.Length..] : null;
        var resource = path is null ? null : Resources.FirstOrDefault(candidate => candidate == (path.Length > 1 ? path.TrimEnd('/') : path));
        if (resource is null)
        {
            await RespondAsync(context.Response, 403, """{"message":"Missing Authentication Token"}"""u8.ToArray());
            return;
        }

        var headers = request.Headers.AllKeys.Where(key => key is not null).ToDictionary(key => key!, key => request.Headers[key]!);
        var query = request.QueryString.AllKeys.Where(key => key is not null).ToDictionary(key => key!, key => request.QueryString[key]!);
        var proxyEvent = new APIGatewayProxyRequest
        {
            Resource = resource,
            Path = path,
            HttpMethod = request.HttpMethod,
            Headers = headers.Count == 0 ? null : headers,
            QueryStringParameters = query.Count == 0 ? null : query,
            Body = body.Length == 0 ? null : Encoding.UTF8.GetString(body),
            RequestContext = new ProxyRequestContext
            {
                RequestId = Guid.NewGuid().ToString(),
                Stage = stage,
                ResourcePath = resource,
                HttpMethod = request.HttpMethod,
                Identity = new RequestIdentity { SourceIp = request.RemoteEndPoint.Address.ToString(), UserAgent = request.UserAgent },
            },
        };
        Interlocked.Increment(ref _forwarded);
        var outcome = await function.WaitForOutcomeAsync(
            function.Enqueue(JsonSerializer.Serialize(proxyEvent, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest)), TimeSpan.FromSeconds(29));
        var answer = outcome.IsError ? null : JsonSerializer.Deserialize(outcome.Body, APIGatewayEventsJsonContext.Default.APIGatewayProxyResponse);
        if (answer is null || answer.StatusCode is < 100 or > 599)
        {
            await RespondAsync(context.Response, 502, """{"message":"Internal server error"}"""u8.ToArray());
            return;
        }

        // A non-conforming answer fails here: the browser gets a 500 and the problem is in ServerFaults.
        OpenApiContract.Product.AssertConforms(proxyEvent, answer);
        var responseHeaders = new Dictionary<string, string>(answer.Headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        var contentType = responseHeaders.Remove("Content-Type", out var given) ? given : "application/json";
        var responseBody = answer.Body is null ? [] : answer.IsBase64Encoded ? Convert.FromBase64String(answer.Body) : Encoding.UTF8.GetBytes(answer.Body);
        await RespondAsync(context.Response, answer.StatusCode, responseBody, contentType, responseHeaders);
    }
}
