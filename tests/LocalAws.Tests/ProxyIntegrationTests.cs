using System.Text;
using CustomerSegmentation.LocalAws.ApiGateway;

namespace CustomerSegmentation.LocalAws.Tests;

public class ProxyIntegrationTests
{
    private static (ApiResponse? Response, string? Malformed) Response(string payload) => ProxyIntegration.Response(Encoding.UTF8.GetBytes(payload));

    [Fact]
    public void Response_FullProxyResponse_BecomesStatusHeadersAndBody()
    {
        var (response, malformed) = Response("""
            {"statusCode": 400, "headers": {"Content-Type": "application/json", "X-Version": "7", "Retry-After": 30},
             "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Version": ["8", "9"]}, "body": "{\"error\":\"x\"}", "isBase64Encoded": false}
            """);

        Assert.Null(malformed);
        Assert.Equal(400, response!.StatusCode);
        Assert.Equal(
            ["Set-Cookie: a=1", "Set-Cookie: b=2", "X-Version: 8", "X-Version: 9", "Content-Type: application/json", "Retry-After: 30"],
            response.Headers.Select(h => $"{h.Key}: {h.Value}"));
        Assert.Equal("{\"error\":\"x\"}", Encoding.UTF8.GetString(response.Body));
    }

    [Fact]
    public void Response_OnlyStatus_HasEmptyBodyAndJsonContentType()
    {
        var (response, _) = Response("""{"statusCode": 204}""");

        Assert.Equal(204, response!.StatusCode);
        Assert.Empty(response.Body);
        Assert.Equal(["Content-Type: application/json"], response.Headers.Select(h => $"{h.Key}: {h.Value}"));
    }

    [Fact]
    public void Response_Base64Body_IsDecoded()
    {
        var (response, _) = Response("""{"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": "iVBORw0K", "isBase64Encoded": true}""");

        Assert.Equal(Convert.FromBase64String("iVBORw0K"), response!.Body);
    }

    [Theory]
    [InlineData("""[1, 2]""", "the answer is not a JSON object")]
    [InlineData("""{"statusCode": 200""", "the answer is not a JSON object")]
    [InlineData("""{"body": "x"}""", "statusCode must be an HTTP status number, got nothing")]
    [InlineData("""{"statusCode": "200"}""", "statusCode must be an HTTP status number, got \"200\"")]
    [InlineData("""{"statusCode": 200.5}""", "statusCode must be an HTTP status number, got 200.5")]
    [InlineData("""{"statusCode": 99}""", "statusCode must be an HTTP status number, got 99")]
    [InlineData("""{"statusCode": 200, "body": {"a": 1}}""", "body must be a string, got {\"a\":1}")]
    [InlineData("""{"statusCode": 200, "headers": ["a"]}""", "headers must be an object")]
    [InlineData("""{"statusCode": 200, "headers": {"a": {"b": 1}}}""", "headers.a must be a single value")]
    [InlineData("""{"statusCode": 200, "multiValueHeaders": {"a": "b"}}""", "multiValueHeaders.a must be a list of values")]
    [InlineData("""{"statusCode": 200, "multiValueHeaders": []}""", "multiValueHeaders must be an object")]
    [InlineData("""{"statusCode": 200, "isBase64Encoded": "yes"}""", "isBase64Encoded must be true or false")]
    [InlineData("""{"statusCode": 200, "isBase64Encoded": true, "body": "not base64!"}""", "isBase64Encoded is true but body is not base64")]
    [InlineData("""{"statusCode": 200, "cookies": ["a=1"]}""", "unknown member 'cookies' (a proxy response has only statusCode, headers, multiValueHeaders, body, isBase64Encoded)")]
    public void Response_Malformed_SaysWhatIsWrong(string payload, string expected)
    {
        var (response, malformed) = Response(payload);

        Assert.Null(response);
        Assert.StartsWith(expected, malformed, StringComparison.Ordinal);
    }
}
