using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;

namespace CustomerSegmentation.Lambdas.Tests;

public class APIGatewayProxyEventsTests
{
    // Trimmed from the REST API proxy integration example event in the API Gateway developer guide.
    private const string RestApiEvent = """
        {"resource":"/segment","path":"/segment","httpMethod":"POST",
         "headers":{"Content-Type":"application/json","Host":"abc123.execute-api.us-east-1.amazonaws.com"},
         "multiValueHeaders":{"Content-Type":["application/json"],"Host":["abc123.execute-api.us-east-1.amazonaws.com"]},
         "queryStringParameters":{"explain":"true"},"multiValueQueryStringParameters":{"explain":["true"]},
         "pathParameters":null,"stageVariables":null,
         "requestContext":{"resourceId":"2gxmpl","resourcePath":"/segment","httpMethod":"POST","extendedRequestId":"JJbxmHc8IAMFfVw=",
           "requestTime":"25/Nov/2026:11:05:00 +0000","path":"/prod/segment","accountId":"123456789012","protocol":"HTTP/1.1",
           "stage":"prod","domainPrefix":"abc123","requestTimeEpoch":1795086300000,"requestId":"77375676-xmpl-4b79-853a-f982474efe18",
           "identity":{"sourceIp":"198.51.100.7","userAgent":"curl/8.5.0","accountId":null},"domainName":"abc123.execute-api.us-east-1.amazonaws.com","apiId":"abc123"},
         "body":"{\"age\":34,\"income\":72000,\"purchases\":12}","isBase64Encoded":false}
        """;

    [Fact]
    public void Deserialize_RestApiProxyEvent_ReadsEveryModelledField()
    {
        var request = JsonSerializer.Deserialize(RestApiEvent, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest)!;

        Assert.Equal("POST", request.HttpMethod);
        Assert.Equal("/segment", request.Path);
        Assert.Equal("/segment", request.Resource);
        Assert.Equal("application/json", request.Headers!["Content-Type"]);
        Assert.Equal(["application/json"], request.MultiValueHeaders!["Content-Type"]);
        Assert.Equal("true", request.QueryStringParameters!["explain"]);
        Assert.Null(request.PathParameters);
        Assert.Equal("""{"age":34,"income":72000,"purchases":12}""", request.Body);
        Assert.False(request.IsBase64Encoded);
        Assert.Equal("77375676-xmpl-4b79-853a-f982474efe18", request.RequestContext!.RequestId);
        Assert.Equal("prod", request.RequestContext.Stage);
        Assert.Equal("198.51.100.7", request.RequestContext.Identity!.SourceIp);
    }

    [Fact]
    public void Serialize_ProxyResponse_UsesApiGatewayNamesAndOmitsNulls()
    {
        var response = new APIGatewayProxyResponse
        {
            StatusCode = 400,
            Headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" },
            Body = """{"error":"income must be a number","field":"customers[3].income"}""",
        };

        var json = JsonSerializer.Serialize(response, APIGatewayEventsJsonContext.Default.APIGatewayProxyResponse);

        Assert.Equal("""{"statusCode":400,"headers":{"Content-Type":"application/json"},"body":"{\u0022error\u0022:\u0022income must be a number\u0022,\u0022field\u0022:\u0022customers[3].income\u0022}","isBase64Encoded":false}""", json);
    }
}
