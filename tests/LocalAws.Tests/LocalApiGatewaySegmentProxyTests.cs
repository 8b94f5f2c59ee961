using System.Net;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.LocalAws.ApiGateway;
using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalAws.Tests.Support;

namespace CustomerSegmentation.LocalAws.Tests;

/// <summary>The API front in front of the real SegmentProxy bootstrap, on the routes that need no model.</summary>
[Collection(SegmentProxyCollection.Name)]
public sealed class LocalApiGatewaySegmentProxyTests : IAsyncDisposable
{
    private readonly StringWriter _log = new();
    private readonly LocalLambdaService _lambda;
    private readonly LocalApiGateway _gateway;
    private readonly HttpClient _http = new();

    public LocalApiGatewaySegmentProxyTests(SegmentProxyBootstrap segmentProxy)
    {
        ArgumentNullException.ThrowIfNull(segmentProxy);
        var environment = new Dictionary<string, string> { ["MODEL_BUCKET"] = "models", ["ENDPOINT_NAME"] = "customer-segmentation-endpoint" };
        var stack = ApiTemplate.Add(new TestStack().Function("Proxy", segmentProxy.Path, "proxy", environment: environment), "Proxy").Build();
        _lambda = new LocalLambdaService(stack, _log);
        _gateway = LocalApiGateway.Start(stack, _lambda, _log);
    }

    public async ValueTask DisposeAsync()
    {
        _gateway.Dispose();
        await _lambda.DisposeAsync();
        _http.Dispose();
        await _log.DisposeAsync();
    }

    [Fact]
    public async Task Get_Root_ServesTheExplorerPage()
    {
        var response = await _http.GetAsync(_gateway.StageUri);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("<!doctype html>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_lambda.Function("proxy").ProtocolViolations);
    }

    [Fact]
    public async Task Post_SegmentWithABadField_Answers400NamingTheField()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_gateway.StageUri, "segment"))
        {
            Content = new StringContent("""{"customers":[{"age":34,"income":72000,"purchases":12},{"age":"old","income":1,"purchases":1}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", _gateway.Api.ApiKeys[ApiTemplate.ApiKeyName]);

        var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("customers[1].age", error.GetProperty("field").GetString());
        Assert.Contains("must be a number", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("\"route\":\"/segment\"", _log.ToString(), StringComparison.Ordinal);
    }
}
