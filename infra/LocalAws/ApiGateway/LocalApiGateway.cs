using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalAws.Http;
using CustomerSegmentation.LocalAws.Lambda;

namespace CustomerSegmentation.LocalAws.ApiGateway;

/// <summary>
/// A REST API of the template served on loopback the way API Gateway serves its stage: requests under
/// <c>/&lt;stage&gt;/</c> are routed by the API's resources and methods to the Lambda proxy integration's function,
/// which gets the REST API (1.0) proxy event; its proxy response becomes the HTTP response. API Gateway's own answers
/// are reproduced, customized by the template's gateway responses: 403 Missing Authentication Token for a route or
/// method the API does not have, 403 Forbidden without a valid <c>x-api-key</c> on a key-protected method, 502 Internal
/// server error when the function fails or answers a malformed proxy response, 504 when it outlives the integration
/// timeout.
/// </summary>
public sealed class LocalApiGateway : LoopbackHttpServer
{
    private static readonly HashSet<string> UnsettableHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Content-Type",
    };

    // Set at the end of the constructor: the base class starts accepting before the derived constructor body runs.
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RestApiModel _api;
    private readonly LocalLambdaService _lambda;
    private readonly TextWriter _log;

    private LocalApiGateway(RestApiModel api, LocalLambdaService lambda, TextWriter log, int port)
        : base(port)
    {
        _api = api;
        _lambda = lambda;
        _log = log;
        _ready.SetResult();
    }

    /// <summary>The API being served.</summary>
    public RestApiModel Api => _api;

    /// <summary>The stage's URL, e.g. <c>http://127.0.0.1:8080/prod/</c> (API Gateway's invoke URL).</summary>
    public Uri StageUri => new(BaseUri, $"{_api.StageName}/");

    /// <summary>
    /// Reads the REST API from <paramref name="stack"/> and serves it. Every function the API's methods invoke is checked
    /// to be runnable first, so a missing bundle is reported now rather than on the first request.
    /// </summary>
    /// <param name="stack">The stack.</param>
    /// <param name="lambda">The functions behind the methods.</param>
    /// <param name="log">Request lines, failures and the features not emulated.</param>
    /// <param name="port">The loopback port; 0 picks a free one.</param>
    /// <param name="restApiLogicalId">The API to serve. Default: the stack's only REST API.</param>
    /// <exception cref="LocalAwsException">The API or one of its functions cannot be served locally, or the port is taken.</exception>
    public static LocalApiGateway Start(StackTemplate stack, LocalLambdaService lambda, TextWriter log, int port = 0, string? restApiLogicalId = null)
    {
        ArgumentNullException.ThrowIfNull(lambda);
        var api = RestApiModel.FromTemplate(stack, restApiLogicalId);
        foreach (var functionArn in api.AllMethods.Select(m => m.Method.FunctionArn).Distinct(StringComparer.Ordinal))
        {
            _ = lambda.Function(functionArn);
        }

        var synchronizedLog = TextWriter.Synchronized(log);
        foreach (var note in api.NotEmulated)
        {
            synchronizedLog.WriteLine($"[api] note: {note}.");
        }

        return new LocalApiGateway(api, lambda, synchronizedLog, port);
    }

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        await _ready.Task.ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var request = context.Request;
        var requestId = Guid.NewGuid().ToString();
        var response = await AnswerAsync(request, requestId).ConfigureAwait(false);
        await WriteAsync(context.Response, response, requestId).ConfigureAwait(false);
        await _log.WriteLineAsync($"[api] {request.HttpMethod} {request.Url!.PathAndQuery} -> {response.StatusCode} ({clock.ElapsedMilliseconds} ms)").ConfigureAwait(false);
    }

    private async Task<ApiResponse> AnswerAsync(HttpListenerRequest request, string requestId)
    {
        var rawPath = request.Url!.AbsolutePath;
        var stagePrefix = "/" + _api.StageName;
        if (rawPath != stagePrefix && !rawPath.StartsWith(stagePrefix + "/", StringComparison.Ordinal))
        {
            return GatewayError(null, HttpStatusCode.Forbidden, "Forbidden", "ForbiddenException", requestId);
        }

        var path = rawPath.Length == stagePrefix.Length ? "/" : rawPath[stagePrefix.Length..];
        if (_api.Route(path, request.HttpMethod) is not { } route)
        {
            return GatewayError("MISSING_AUTHENTICATION_TOKEN", HttpStatusCode.Forbidden, "Missing Authentication Token", "MissingAuthenticationTokenException", requestId);
        }

        var headers = Headers(request);
        var apiKey = ProxyIntegration.Header(headers, "x-api-key");
        if (route.Method.ApiKeyRequired && (apiKey is null || !_api.ApiKeys.Values.Contains(apiKey)))
        {
            return GatewayError("INVALID_API_KEY", HttpStatusCode.Forbidden, "Forbidden", "ForbiddenException", requestId);
        }

        var apiRequest = new ApiRequest(request.HttpMethod, path, request.Url.Query.TrimStart('?'), headers, await ReadBodyAsync(request).ConfigureAwait(false),
            request.RemoteEndPoint.Address.ToString());
        var proxyEvent = ProxyIntegration.Event(apiRequest, _api, route.Resource, route.PathParameters, requestId, request.Url.Authority, DateTimeOffset.UtcNow,
            route.Method.ApiKeyRequired ? apiKey : null);
        var where = $"{request.HttpMethod} {route.Resource.Path}";
        try
        {
            var invocation = _lambda.Function(route.Method.FunctionArn).InvokeAsync(proxyEvent.ToJsonString(), Stopping);
            if (await Task.WhenAny(invocation, Task.Delay(route.Method.IntegrationTimeout, Stopping)).ConfigureAwait(false) != invocation)
            {
                await _log.WriteLineAsync($"[api] {where}: the function did not answer within the integration timeout {route.Method.IntegrationTimeout}.").ConfigureAwait(false);
                return GatewayError("INTEGRATION_TIMEOUT", HttpStatusCode.GatewayTimeout, "Endpoint request timed out", "InternalServerErrorException", requestId);
            }

            var result = await invocation.ConfigureAwait(false);
            if (result.IsError)
            {
                await _log.WriteLineAsync($"[api] {where}: Lambda execution failed: {result.PayloadText}").ConfigureAwait(false);
                return GatewayError(null, HttpStatusCode.BadGateway, "Internal server error", "InternalServerErrorException", requestId);
            }

            var (answer, malformed) = ProxyIntegration.Response(result.Payload);
            if (answer is null)
            {
                await _log.WriteLineAsync($"[api] {where}: Execution failed due to configuration error: Malformed Lambda proxy response: {malformed}").ConfigureAwait(false);
                return GatewayError(null, HttpStatusCode.BadGateway, "Internal server error", "InternalServerErrorException", requestId);
            }

            return answer;
        }
        catch (LocalAwsException exception)
        {
            await _log.WriteLineAsync($"[api] {where}: the function cannot run: {exception.Message}").ConfigureAwait(false);
            return GatewayError(null, HttpStatusCode.InternalServerError, "Internal server error", "InternalServerErrorException", requestId);
        }
    }

    private ApiResponse GatewayError(string? responseType, HttpStatusCode status, string message, string errorType, string requestId)
    {
        var fallback = (int)status < 500 ? "DEFAULT_4XX" : "DEFAULT_5XX";
        var custom = (responseType is null ? null : _api.GatewayResponses.GetValueOrDefault(responseType)) ?? _api.GatewayResponses.GetValueOrDefault(fallback);
        var body = custom?.JsonTemplate is { } template
            ? template
                .Replace("$context.error.messageString", JsonSerializer.Serialize(message), StringComparison.Ordinal)
                .Replace("$context.error.message", message, StringComparison.Ordinal)
                .Replace("$context.error.responseType", responseType ?? fallback, StringComparison.Ordinal)
                .Replace("$context.error.validationErrorString", string.Empty, StringComparison.Ordinal)
                .Replace("$context.requestId", requestId, StringComparison.Ordinal)
            : JsonSerializer.Serialize(new Dictionary<string, string> { ["message"] = message });
        var headers = new List<KeyValuePair<string, string>>(custom?.Headers ?? new Dictionary<string, string>())
        {
            KeyValuePair.Create("Content-Type", "application/json"),
            KeyValuePair.Create("x-amzn-ErrorType", errorType),
        };
        return new ApiResponse(custom?.StatusCode ?? (int)status, headers, Encoding.UTF8.GetBytes(body));
    }

    private static List<KeyValuePair<string, string>> Headers(HttpListenerRequest request)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var name in request.Headers.AllKeys.OfType<string>())
        {
            foreach (var value in request.Headers.GetValues(name) ?? [])
            {
                headers.Add(KeyValuePair.Create(name, value));
            }
        }

        return headers;
    }

    private static async Task WriteAsync(HttpListenerResponse response, ApiResponse answer, string requestId)
    {
        response.StatusCode = answer.StatusCode;
        foreach (var (name, value) in answer.Headers)
        {
            if (string.Equals(name, "Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                response.ContentType = value;
            }
            else if (!UnsettableHeaders.Contains(name))
            {
                response.AppendHeader(name, value);
            }
        }

        response.AppendHeader("x-amzn-RequestId", requestId);
        response.AppendHeader("x-amz-apigw-id", requestId[..8]);
        response.ContentLength64 = answer.Body.Length;
        await response.OutputStream.WriteAsync(answer.Body).ConfigureAwait(false);
        response.Close();
    }
}
