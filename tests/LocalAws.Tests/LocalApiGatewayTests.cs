using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.ApiGateway;
using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalAws.Tests.Support;

namespace CustomerSegmentation.LocalAws.Tests;

/// <summary>The API front in front of the Python test function, which echoes the proxy event it receives.</summary>
public sealed class LocalApiGatewayTests : IAsyncDisposable
{
    private readonly StringWriter _log = new();
    private readonly List<IAsyncDisposable> _started = [];
    private readonly HttpClient _http = new();

    public async ValueTask DisposeAsync()
    {
        foreach (var started in _started)
        {
            await started.DisposeAsync();
        }

        _http.Dispose();
        await _log.DisposeAsync();
    }

    private LocalApiGateway Start(bool gatewayResponses = false, int port = 0)
    {
        var stack = ApiTemplate.Add(new TestStack().Function("Proxy", TestPaths.PythonFunction, "proxy", timeoutSeconds: 10), "Proxy", gatewayResponses).Build();
        var lambda = new LocalLambdaService(stack, _log);
        _started.Add(lambda);
        var gateway = LocalApiGateway.Start(stack, lambda, _log, port);
        _started.Add(new Disposer(gateway));
        return gateway;
    }

    private async Task<(HttpResponseMessage Response, string Body)> SendAsync(HttpRequestMessage request)
    {
        var response = await _http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    private Task<(HttpResponseMessage Response, string Body)> GetAsync(Uri uri) => SendAsync(new HttpRequestMessage(HttpMethod.Get, uri));

    private static JsonElement Json(string body) => JsonDocument.Parse(body).RootElement;

    [Fact]
    public async Task Get_Root_SendsTheProxyEventAndReturnsTheFunctionsResponse()
    {
        var gateway = Start();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.StageUri, "?q=1&q=2&name=a%20b"));
        request.Headers.Add("X-Custom", "hello");

        var (response, body) = await SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(["single"], response.Headers.GetValues("X-Echo"));
        // HttpListener folds repeated headers into one line, "a, b", which HTTP defines as the same header.
        Assert.Equal("a, b", string.Join(", ", response.Headers.GetValues("X-Multi")));
        var proxyEvent = Json(body);
        Assert.Equal(("/", "/", "GET"), (proxyEvent.GetProperty("resource").GetString(), proxyEvent.GetProperty("path").GetString(), proxyEvent.GetProperty("httpMethod").GetString()));
        Assert.Equal("hello", proxyEvent.GetProperty("headers").GetProperty("X-Custom").GetString());
        Assert.Equal("hello", proxyEvent.GetProperty("multiValueHeaders").GetProperty("X-Custom")[0].GetString());
        Assert.Equal("2", proxyEvent.GetProperty("queryStringParameters").GetProperty("q").GetString());
        Assert.Equal("a b", proxyEvent.GetProperty("queryStringParameters").GetProperty("name").GetString());
        Assert.Equal(["1", "2"], proxyEvent.GetProperty("multiValueQueryStringParameters").GetProperty("q").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(JsonValueKind.Null, proxyEvent.GetProperty("pathParameters").ValueKind);
        Assert.Equal(JsonValueKind.Null, proxyEvent.GetProperty("stageVariables").ValueKind);
        Assert.Equal(JsonValueKind.Null, proxyEvent.GetProperty("body").ValueKind);
        Assert.False(proxyEvent.GetProperty("isBase64Encoded").GetBoolean());
        var context = proxyEvent.GetProperty("requestContext");
        Assert.Equal(("prod", "/prod/", "/", "GET"),
            (context.GetProperty("stage").GetString(), context.GetProperty("path").GetString(), context.GetProperty("resourcePath").GetString(), context.GetProperty("httpMethod").GetString()));
        Assert.Equal(("000000000000", "TestStack-RestApi-local", "127.0.0.1"),
            (context.GetProperty("accountId").GetString(), context.GetProperty("apiId").GetString(), context.GetProperty("identity").GetProperty("sourceIp").GetString()));
        Assert.Equal([context.GetProperty("requestId").GetString()!], response.Headers.GetValues("x-amzn-RequestId"));
        Assert.Equal(gateway.StageUri.Authority, context.GetProperty("domainName").GetString());
    }

    [Theory]
    [InlineData("items/42", "GET", "/items/{id}", """{"id":"42"}""")]
    [InlineData("items/latest", "GET", "/items/latest", "null")]
    [InlineData("files/reports/q4%20final.csv", "DELETE", "/files/{proxy+}", """{"proxy":"reports/q4 final.csv"}""")]
    public async Task Request_ParameterizedResource_CarriesResourceAndPathParameters(string path, string method, string resource, string parameters)
    {
        var gateway = Start();

        var (response, body) = await SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(gateway.StageUri, path)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(resource, Json(body).GetProperty("resource").GetString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(parameters), JsonNode.Parse(Json(body).GetProperty("pathParameters").GetRawText())), body);
    }

    [Fact]
    public async Task Post_TextAndBinaryBodies_ArriveAsTextAndAsBase64()
    {
        var gateway = Start();
        var key = gateway.Api.ApiKeys[ApiTemplate.ApiKeyName];
        HttpRequestMessage Post(HttpContent content) => new(HttpMethod.Post, new Uri(gateway.StageUri, "segment"))
        {
            Content = content,
            Headers = { { "x-api-key", key } },
        };
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0xFF];

        var (_, text) = await SendAsync(Post(new StringContent("""{"customers":[{"age":34}]}""", Encoding.UTF8, "application/json")));
        var (_, binary) = await SendAsync(Post(new ByteArrayContent(png) { Headers = { ContentType = new("image/png") } }));

        Assert.Equal("""{"customers":[{"age":34}]}""", Json(text).GetProperty("body").GetString());
        Assert.False(Json(text).GetProperty("isBase64Encoded").GetBoolean());
        Assert.Equal(Convert.ToBase64String(png), Json(binary).GetProperty("body").GetString());
        Assert.True(Json(binary).GetProperty("isBase64Encoded").GetBoolean());
        Assert.Equal(key, Json(text).GetProperty("requestContext").GetProperty("identity").GetProperty("apiKey").GetString());
    }

    [Theory]
    [InlineData("GET", "nothing/here")]
    [InlineData("DELETE", "segments")]
    [InlineData("OPTIONS", "segment")]
    public async Task Request_RouteOrMethodTheApiDoesNotHave_Answers403MissingAuthenticationToken(string method, string path)
    {
        var gateway = Start();

        var (response, body) = await SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(gateway.StageUri, path)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("""{"message":"Missing Authentication Token"}""", body);
        Assert.Equal(["MissingAuthenticationTokenException"], response.Headers.GetValues("x-amzn-ErrorType"));
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Null(gateway.Api.Route("/" + path, method));
    }

    [Fact]
    public async Task Request_OutsideTheStage_Answers403Forbidden()
    {
        var gateway = Start();

        var (response, body) = await GetAsync(new Uri(gateway.BaseUri, "dev/segments"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("""{"message":"Forbidden"}""", body);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("old-key-value-0123456789")]
    public async Task Post_KeyProtectedMethodWithoutAValidKey_Answers403Forbidden(string? key)
    {
        var gateway = Start();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.StageUri, "segment")) { Content = new StringContent("{}") };
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }

        var (response, body) = await SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("""{"message":"Forbidden"}""", body);
        Assert.Equal(["ForbiddenException"], response.Headers.GetValues("x-amzn-ErrorType"));
    }

    [Fact]
    public async Task Get_FunctionReportsAnError_Answers502InternalServerError()
    {
        var gateway = Start();

        var (response, body) = await GetAsync(new Uri(gateway.StageUri, "segments?behaviour=error"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("""{"message":"Internal server error"}""", body);
        Assert.Contains("[api] GET /segments: Lambda execution failed: {\"errorMessage\": \"proxy failed\"", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_FunctionAnswersAMalformedProxyResponse_Answers502AndLogsWhy()
    {
        var gateway = Start();

        var (response, body) = await GetAsync(new Uri(gateway.StageUri, "segments?behaviour=malformed"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("""{"message":"Internal server error"}""", body);
        Assert.Contains(
            "[api] GET /segments: Execution failed due to configuration error: Malformed Lambda proxy response: body must be a string, got {\"not\":\"a string\"}",
            _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_Base64ProxyResponse_IsDecodedWithItsStatusAndType()
    {
        var gateway = Start();

        var response = await _http.GetAsync(new Uri(gateway.StageUri, "segments?behaviour=base64"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_FunctionSlowerThanTheIntegrationTimeout_Answers504()
    {
        var gateway = Start();

        var (response, body) = await GetAsync(new Uri(gateway.StageUri, "slow?behaviour=sleep"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("""{"message":"Endpoint request timed out"}""", body);
    }

    [Fact]
    public async Task Errors_WithTheTemplatesGatewayResponses_UseTheirBodiesStatusesAndHeaders()
    {
        var gateway = Start(gatewayResponses: true);

        var (missing, missingBody) = await GetAsync(new Uri(gateway.StageUri, "nothing"));
        var (failed, failedBody) = await GetAsync(new Uri(gateway.StageUri, "segments?behaviour=error"));
        var (unauthorized, unauthorizedBody) = await SendAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.StageUri, "segment")));

        Assert.Equal((HttpStatusCode.Forbidden, """{"error":"Missing Authentication Token"}"""), (missing.StatusCode, missingBody));
        Assert.Equal((HttpStatusCode.BadGateway, """{"error":"Internal server error"}"""), (failed.StatusCode, failedBody));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal($$"""{"error":"INVALID_API_KEY","request":"{{unauthorized.Headers.GetValues("x-amzn-RequestId").Single()}}"}""", unauthorizedBody);
        Assert.Equal(["x-api-key"], unauthorized.Headers.GetValues("WWW-Authenticate"));
    }

    [Fact]
    public async Task Start_GivenPort_ServesThereAndASecondFrontCannotTakeIt()
    {
        var port = FreePort();

        var gateway = Start(port: port);
        var (response, _) = await GetAsync(new Uri($"http://127.0.0.1:{port}/prod/items/1"));
        var error = Assert.Throws<LocalAwsException>(() => Start(port: port));

        Assert.Equal(new Uri($"http://127.0.0.1:{port}/prod/"), gateway.StageUri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith($"Port {port} on 127.0.0.1 cannot be used (", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("); choose another port or 0 for a free one.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_FunctionNotBundled_FailsBeforeServing()
    {
        var unbundled = Directory.CreateTempSubdirectory("unbundled-proxy-").FullName;
        var stack = ApiTemplate.Add(new TestStack().Resource("Proxy", $$"""
            {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "provided.al2023", "FunctionName": "proxy", "Code": {"S3Key": "p.zip"} },
             "Metadata": {"aws:asset:path": "{{unbundled}}", "aws:asset:property": "Code"} }
            """), "Proxy").Build();
        var lambda = new LocalLambdaService(stack, _log);
        _started.Add(lambda);

        var error = Assert.Throws<LocalAwsException>(() => LocalApiGateway.Start(stack, lambda, _log));

        Assert.StartsWith($"Function proxy (Proxy): its code asset {unbundled} has no bootstrap.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_NotEmulatedFeatures_AreLoggedAsNotes()
    {
        Start();

        Assert.Contains("[api] note: OPTIONS /segment: its MOCK integration is not served (only Lambda proxy integrations are).", _log.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(70000)]
    public void Start_PortOutOfRange_Fails(int port)
    {
        Assert.Equal($"Port {port} is not a TCP port (1-65535, or 0 for a free one).", Assert.Throws<LocalAwsException>(() => Start(port: port)).Message);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed class Disposer(IDisposable disposable) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            disposable.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
