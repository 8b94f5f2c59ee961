using System.Text;
using Amazon;
using Amazon.Runtime.Signing;
using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests;

/// <summary>The stand-ins themselves must reject what AWS would reject, or the client tests would prove nothing.</summary>
public sealed class AwsServiceStandInTests : IDisposable
{
    private const string DescribeEndpoint = """{"EndpointName":"segments"}""";
    private readonly AwsJsonServiceStandIn _sageMaker = new(BotocoreServiceModel.SageMaker);
    private readonly SageMakerRuntimeStandIn _runtime = new();
    private readonly HttpClient _http = new();

    public AwsServiceStandInTests()
    {
        _sageMaker.Handle("DescribeEndpoint", _ => StandInResponse.Json(null));
        _runtime.Handle("InvokeEndpoint", _ => StandInResponse.Json(null));
    }

    public void Dispose()
    {
        _sageMaker.Dispose();
        _runtime.Dispose();
        _http.Dispose();
    }

    [Fact]
    public async Task JsonStandIn_CorrectlySignedRequest_IsAccepted()
    {
        using var response = await SendAsync(_sageMaker.BaseUri, "/", DescribeEndpoint, JsonHeaders("SageMaker.DescribeEndpoint"), "sagemaker");

        Assert.Equal(200, (int)response.StatusCode);
        _sageMaker.AssertNoInvalidRequests();
    }

    [Fact]
    public async Task JsonStandIn_UnsignedRequest_IsRecordedAsInvalid()
    {
        using var response = await SendAsync(_sageMaker.BaseUri, "/", DescribeEndpoint, JsonHeaders("SageMaker.DescribeEndpoint"), signingName: null);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal(["DescribeEndpoint: no Authorization header: the request is not SigV4-signed"], _sageMaker.InvalidRequests);
    }

    [Fact]
    public async Task JsonStandIn_WrongSigningService_IsRecordedAsInvalid()
    {
        using var response = await SendAsync(_sageMaker.BaseUri, "/", DescribeEndpoint, JsonHeaders("SageMaker.DescribeEndpoint"), "execute-api");

        Assert.Equal(["DescribeEndpoint: credential scope signing service is 'execute-api', expected 'sagemaker'"], _sageMaker.InvalidRequests);
    }

    [Fact]
    public async Task JsonStandIn_BodyChangedAfterSigning_FailsSignatureCheck()
    {
        using var response = await SendAsync(_sageMaker.BaseUri, "/", DescribeEndpoint, JsonHeaders("SageMaker.DescribeEndpoint"), "sagemaker",
            sentBody: """{"EndpointName":"other"}""");

        Assert.StartsWith("DescribeEndpoint: signature does not match the request as received", Assert.Single(_sageMaker.InvalidRequests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonStandIn_TargetNotSigned_IsRecordedAsInvalid()
    {
        var headers = new Dictionary<string, string> { ["Content-Type"] = "application/x-amz-json-1.1" };

        using var response = await SendAsync(_sageMaker.BaseUri, "/", DescribeEndpoint, headers, "sagemaker",
            unsignedHeaders: new Dictionary<string, string> { ["X-Amz-Target"] = "SageMaker.DescribeEndpoint" });

        Assert.StartsWith("DescribeEndpoint: header 'x-amz-target' is not signed (SignedHeaders=", Assert.Single(_sageMaker.InvalidRequests), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json", "SageMaker.DescribeEndpoint", "DescribeEndpoint: Content-Type is 'application/json', expected 'application/x-amz-json-1.1'")]
    [InlineData("application/x-amz-json-1.1", "AmazonSageMaker.DescribeEndpoint", "AmazonSageMaker.DescribeEndpoint: X-Amz-Target is 'AmazonSageMaker.DescribeEndpoint', expected 'SageMaker.<Operation>'")]
    [InlineData("application/x-amz-json-1.1", "SageMaker.DescribeEndpoints", "DescribeEndpoints: SageMaker has no operation 'DescribeEndpoints'")]
    public async Task JsonStandIn_ProtocolMistake_IsRecordedAsInvalid(string contentType, string target, string expected)
    {
        var headers = new Dictionary<string, string> { ["Content-Type"] = contentType, ["X-Amz-Target"] = target };

        using var response = await SendAsync(_sageMaker.BaseUri, "/", DescribeEndpoint, headers, "sagemaker");

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal([expected], _sageMaker.InvalidRequests);
    }

    [Fact]
    public async Task RuntimeStandIn_WrongPath_IsRecordedAsInvalid()
    {
        using var response = await SendAsync(_runtime.BaseUri, "/endpoints/segments/invoke", "{}", new Dictionary<string, string> { ["Content-Type"] = "application/json" }, "sagemaker");

        Assert.Equal(["InvokeEndpoint: POST /endpoints/segments/invoke is not POST /endpoints/{EndpointName}/invocations"], _runtime.InvalidRequests);
    }

    [Fact]
    public async Task RuntimeStandIn_UnmodelledSageMakerHeader_IsRecordedAsInvalid()
    {
        var headers = new Dictionary<string, string> { ["Content-Type"] = "application/json", ["X-Amzn-SageMaker-Priority"] = "high" };

        using var response = await SendAsync(_runtime.BaseUri, "/endpoints/segments/invocations", "{}", headers, "sagemaker");

        Assert.Equal(["InvokeEndpoint: header 'X-Amzn-SageMaker-Priority' is not an InvokeEndpoint input member"], _runtime.InvalidRequests);
    }

    [Fact]
    public async Task RuntimeStandIn_BodyOverSixMegabytes_IsRecordedAsInvalid()
    {
        var body = "[" + new string('1', 6 * 1024 * 1024) + "]";

        using var response = await SendAsync(_runtime.BaseUri, "/endpoints/segments/invocations", body, new Dictionary<string, string> { ["Content-Type"] = "application/json" }, "sagemaker");

        Assert.Equal(["InvokeEndpoint: InvokeEndpoint.Body: 6291458 bytes is above the BodyBlob maximum of 6291456"], _runtime.InvalidRequests);
    }

    private static Dictionary<string, string> JsonHeaders(string target) =>
        new() { ["Content-Type"] = "application/x-amz-json-1.1", ["X-Amz-Target"] = target };

    private async Task<HttpResponseMessage> SendAsync(Uri baseUri, string path, string body, Dictionary<string, string> headers, string? signingName,
        string? sentBody = null, Dictionary<string, string>? unsignedHeaders = null)
    {
        var uri = new Uri(baseUri, path);
        var content = Encoding.UTF8.GetBytes(body);
        using var message = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(sentBody ?? body)) };
        var all = headers.AsEnumerable();
        if (signingName is not null)
        {
            var signing = new AWSSigningRequest { HttpMethod = HttpMethod.Post, RequestUri = uri, Content = content };
            foreach (var (name, value) in headers)
            {
                signing.Headers[name] = value;
            }

            var result = AWSSigV4Signer.Sign(signing, new AWSSigV4Parameters
            {
                Credentials = AwsServiceStandIn.TestCredentials,
                Region = RegionEndpoint.USEast1,
                Service = signingName,
            });
            all = all.Concat(result.Headers);
        }

        foreach (var (name, value) in all.Concat(unsignedHeaders ?? []))
        {
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                message.Content.Headers.Remove(name);
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return await _http.SendAsync(message);
    }
}
