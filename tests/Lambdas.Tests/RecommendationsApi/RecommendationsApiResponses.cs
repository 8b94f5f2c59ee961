using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.Lambdas.Tests.Contract;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>
/// The one place every RecommendationsApi test receives an answer of the real handler, in process
/// (<see cref="InProcessApi"/>) or from the published bootstrap (<see cref="RecommendationsApiHarness"/>): the request
/// goes out as the API Gateway proxy event's JSON, the Lambda response document comes back and is read as the proxy
/// response. A check of every answer (the OpenAPI contract's) belongs in <see cref="ReceiveAsync"/>.
/// </summary>
internal static class RecommendationsApiResponses
{
    /// <summary>Sends <paramref name="request"/> through <paramref name="invoke"/> (event JSON in, response document out) and reads the answer.</summary>
    public static async Task<APIGatewayProxyResponse> ReceiveAsync(APIGatewayProxyRequest request, Func<byte[], Task<byte[]>> invoke)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(invoke);
        var document = await invoke(JsonSerializer.SerializeToUtf8Bytes(request, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest));
        var response = JsonSerializer.Deserialize(document, APIGatewayEventsJsonContext.Default.APIGatewayProxyResponse)
            ?? throw new InvalidOperationException("the function answered null instead of a proxy response");
        OpenApiContract.Product.AssertConforms(request, response);
        return response;
    }
}

/// <summary>Proxy events as the REST API sends them for the RecommendationsApi's resources.</summary>
public static class ApiEvents
{
    /// <summary>GET /recommendations/{customerId}, with region and end_use when given.</summary>
    public static APIGatewayProxyRequest Recommendations(string customerId, string? region = null, string? endUse = null)
    {
        var query = new Dictionary<string, string>();
        if (region is not null)
        {
            query["region"] = region;
        }

        if (endUse is not null)
        {
            query["end_use"] = endUse;
        }

        return Event("GET", "/recommendations/{customerId}", "/recommendations/" + customerId, query: query.Count == 0 ? null : query,
            pathParameters: new Dictionary<string, string> { ["customerId"] = customerId });
    }

    /// <summary>POST /feedback with <paramref name="body"/>, the Idempotency-Key header when given, and Content-Type application/json.</summary>
    public static APIGatewayProxyRequest Feedback(string? body, string? idempotencyKey = null, string? contentType = "application/json")
    {
        var headers = new Dictionary<string, string>();
        if (idempotencyKey is not null)
        {
            headers["Idempotency-Key"] = idempotencyKey;
        }

        if (contentType is not null)
        {
            headers["Content-Type"] = contentType;
        }

        return Event("POST", "/feedback", "/feedback", body, headers);
    }

    /// <summary>Any method on a resource (its path is the resource's unless given).</summary>
    public static APIGatewayProxyRequest Event(string method, string resource, string? path = null, string? body = null,
        IReadOnlyDictionary<string, string>? headers = null, IReadOnlyDictionary<string, string>? query = null,
        IReadOnlyDictionary<string, string>? pathParameters = null) => new()
        {
            HttpMethod = method,
            Resource = resource,
            Path = path ?? resource,
            Body = body,
            Headers = headers is { Count: > 0 } ? headers : null,
            QueryStringParameters = query,
            PathParameters = pathParameters,
            RequestContext = new ProxyRequestContext { RequestId = Guid.NewGuid().ToString(), Stage = "prod", HttpMethod = method, ResourcePath = resource },
        };
}
