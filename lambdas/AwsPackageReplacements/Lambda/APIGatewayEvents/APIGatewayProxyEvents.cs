using System.Text.Json.Serialization;

namespace CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;

// The API Gateway REST API (v1) Lambda proxy integration event and response, with the JSON names API Gateway uses.
// Replace with Amazon.Lambda.APIGatewayEvents (APIGatewayProxyRequest/APIGatewayProxyResponse) when that package is
// available; the property names are the same.

/// <summary>The proxy integration's event: one HTTP request as API Gateway saw it.</summary>
public sealed record APIGatewayProxyRequest
{
    [JsonPropertyName("resource")] public string? Resource { get; init; }
    [JsonPropertyName("path")] public string? Path { get; init; }
    [JsonPropertyName("httpMethod")] public string? HttpMethod { get; init; }
    [JsonPropertyName("headers")] public IReadOnlyDictionary<string, string>? Headers { get; init; }
    [JsonPropertyName("multiValueHeaders")] public IReadOnlyDictionary<string, IReadOnlyList<string>>? MultiValueHeaders { get; init; }
    [JsonPropertyName("queryStringParameters")] public IReadOnlyDictionary<string, string>? QueryStringParameters { get; init; }
    [JsonPropertyName("multiValueQueryStringParameters")] public IReadOnlyDictionary<string, IReadOnlyList<string>>? MultiValueQueryStringParameters { get; init; }
    [JsonPropertyName("pathParameters")] public IReadOnlyDictionary<string, string>? PathParameters { get; init; }
    [JsonPropertyName("stageVariables")] public IReadOnlyDictionary<string, string>? StageVariables { get; init; }
    [JsonPropertyName("requestContext")] public ProxyRequestContext? RequestContext { get; init; }
    [JsonPropertyName("body")] public string? Body { get; init; }
    [JsonPropertyName("isBase64Encoded")] public bool IsBase64Encoded { get; init; }
}

/// <summary>The event's <c>requestContext</c>.</summary>
public sealed record ProxyRequestContext
{
    [JsonPropertyName("requestId")] public string? RequestId { get; init; }
    [JsonPropertyName("stage")] public string? Stage { get; init; }
    [JsonPropertyName("resourcePath")] public string? ResourcePath { get; init; }
    [JsonPropertyName("httpMethod")] public string? HttpMethod { get; init; }
    [JsonPropertyName("accountId")] public string? AccountId { get; init; }
    [JsonPropertyName("apiId")] public string? ApiId { get; init; }
    [JsonPropertyName("identity")] public RequestIdentity? Identity { get; init; }
}

/// <summary>The event's <c>requestContext.identity</c>.</summary>
public sealed record RequestIdentity
{
    [JsonPropertyName("sourceIp")] public string? SourceIp { get; init; }
    [JsonPropertyName("userAgent")] public string? UserAgent { get; init; }
}

/// <summary>What the function answers; API Gateway turns it into the HTTP response.</summary>
public sealed record APIGatewayProxyResponse
{
    [JsonPropertyName("statusCode")] public int StatusCode { get; init; }
    [JsonPropertyName("headers")] public IReadOnlyDictionary<string, string>? Headers { get; init; }
    [JsonPropertyName("multiValueHeaders")] public IReadOnlyDictionary<string, IReadOnlyList<string>>? MultiValueHeaders { get; init; }
    [JsonPropertyName("body")] public string? Body { get; init; }
    [JsonPropertyName("isBase64Encoded")] public bool IsBase64Encoded { get; init; }
}

/// <summary>Source-generated (AOT-safe) JSON metadata for the proxy event and response; nulls omitted when writing.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(APIGatewayProxyRequest))]
[JsonSerializable(typeof(APIGatewayProxyResponse))]
public sealed partial class APIGatewayEventsJsonContext : JsonSerializerContext;
