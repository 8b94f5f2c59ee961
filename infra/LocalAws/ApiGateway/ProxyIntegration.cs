using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.ApiGateway;

/// <summary>One HTTP request as the front received it, before it becomes a proxy event.</summary>
/// <param name="HttpMethod">GET, POST, ...</param>
/// <param name="Path">The path after the stage, percent-encoded as sent (e.g. <c>/segment</c>).</param>
/// <param name="Query">The raw query string without <c>?</c>; empty when none.</param>
/// <param name="Headers">Every header with every value, names as sent.</param>
/// <param name="Body">The body bytes; empty when none.</param>
/// <param name="SourceIp">The caller's address.</param>
public sealed record ApiRequest(
    string HttpMethod, string Path, string Query, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, string SourceIp);

/// <summary>The HTTP response a proxy integration produced.</summary>
public sealed record ApiResponse(int StatusCode, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body);

/// <summary>
/// The Lambda proxy integration's two conversions, as API Gateway (REST API, payload version 1.0) does them: the request
/// into the proxy event, and the function's answer into the HTTP response. An answer that is not a well-formed proxy
/// response is reported as malformed (API Gateway then answers 502).
/// </summary>
public static class ProxyIntegration
{
    private static readonly HashSet<string> ResponseMembers = new(StringComparer.Ordinal) { "statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded" };

    /// <summary>The proxy event for <paramref name="request"/> routed to <paramref name="resource"/>.</summary>
    public static JsonObject Event(ApiRequest request, RestApiModel api, ApiResource resource, IReadOnlyDictionary<string, string> pathParameters,
        string requestId, string domainName, DateTimeOffset time, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(pathParameters);
        var path = string.Join('/', request.Path.Split('/').Select(Uri.UnescapeDataString));
        var query = ParseQuery(request.Query);
        var contentType = Header(request.Headers, "Content-Type");
        var binary = contentType is not null && api.BinaryMediaTypes.Any(t => MediaTypeMatches(t, contentType));
        return new JsonObject
        {
            ["resource"] = resource.Path,
            ["path"] = path,
            ["httpMethod"] = request.HttpMethod,
            // API Gateway keeps the last value of a repeated header or query parameter in the single-value maps.
            ["headers"] = request.Headers.Count == 0 ? null : SingleValues(request.Headers),
            ["multiValueHeaders"] = request.Headers.Count == 0 ? null : MultiValues(request.Headers),
            ["queryStringParameters"] = query.Count == 0 ? null : SingleValues(query),
            ["multiValueQueryStringParameters"] = query.Count == 0 ? null : MultiValues(query),
            ["pathParameters"] = pathParameters.Count == 0 ? null : new JsonObject(pathParameters.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            ["stageVariables"] = null,
            ["requestContext"] = new JsonObject
            {
                ["resourceId"] = resource.Id,
                ["resourcePath"] = resource.Path,
                ["httpMethod"] = request.HttpMethod,
                ["extendedRequestId"] = requestId,
                ["requestTime"] = time.UtcDateTime.ToString("dd/MMM/yyyy:HH:mm:ss +0000", CultureInfo.InvariantCulture),
                ["path"] = $"/{api.StageName}{(path == "/" ? "/" : path)}",
                ["accountId"] = LocalAccount.AccountId,
                ["protocol"] = "HTTP/1.1",
                ["stage"] = api.StageName,
                ["domainPrefix"] = api.ApiId,
                ["requestTimeEpoch"] = time.ToUnixTimeMilliseconds(),
                ["requestId"] = requestId,
                ["identity"] = new JsonObject
                {
                    ["sourceIp"] = request.SourceIp,
                    ["userAgent"] = Header(request.Headers, "User-Agent"),
                    ["apiKey"] = apiKey,
                    ["apiKeyId"] = apiKey is null ? null : "local",
                },
                ["domainName"] = domainName,
                ["apiId"] = api.ApiId,
            },
            ["body"] = request.Body.Length == 0 ? null : binary ? Convert.ToBase64String(request.Body) : Encoding.UTF8.GetString(request.Body),
            ["isBase64Encoded"] = binary && request.Body.Length > 0,
        };
    }

    /// <summary>The HTTP response for a function's answer, or the reason it is a malformed proxy response.</summary>
    public static (ApiResponse? Response, string? Malformed) Response(byte[] payload)
    {
        JsonObject answer;
        try
        {
            answer = JsonNode.Parse(payload) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException exception)
        {
            return (null, $"the answer is not a JSON object ({exception.Message})");
        }

        if (answer.Select(m => m.Key).FirstOrDefault(k => !ResponseMembers.Contains(k)) is { } unknown)
        {
            return (null, $"unknown member '{unknown}' (a proxy response has only {string.Join(", ", ResponseMembers)})");
        }

        if (answer["statusCode"] is not JsonValue status || status.GetValueKind() != JsonValueKind.Number || !status.TryGetValue<int>(out var statusCode)
            || statusCode is < 100 or > 599)
        {
            return (null, $"statusCode must be an HTTP status number, got {(answer.ContainsKey("statusCode") ? JsonText.Show(answer["statusCode"]) : "nothing")}");
        }

        var headers = new List<KeyValuePair<string, string>>();
        var multi = answer["multiValueHeaders"] as JsonObject;
        if (answer["multiValueHeaders"] is not (null or JsonObject))
        {
            return (null, "multiValueHeaders must be an object");
        }

        foreach (var (name, values) in multi ?? [])
        {
            if (values is not JsonArray list || list.Any(v => v is not JsonValue))
            {
                return (null, $"multiValueHeaders.{name} must be a list of values");
            }

            headers.AddRange(list.Select(v => KeyValuePair.Create(name, ScalarText(v!))));
        }

        switch (answer["headers"])
        {
            case null:
                break;
            case JsonObject single:
                foreach (var (name, value) in single)
                {
                    if (value is not JsonValue scalar)
                    {
                        return (null, $"headers.{name} must be a single value");
                    }

                    // A header given in both maps keeps only its multiValueHeaders values.
                    if (multi?.ContainsKey(name) != true)
                    {
                        headers.Add(KeyValuePair.Create(name, ScalarText(scalar)));
                    }
                }

                break;
            default:
                return (null, "headers must be an object");
        }

        var flag = answer["isBase64Encoded"];
        if (flag is not null && (flag is not JsonValue flagValue || flagValue.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)))
        {
            return (null, "isBase64Encoded must be true or false");
        }

        var base64 = flag is JsonValue set && set.GetValueKind() == JsonValueKind.True;
        byte[] body;

        switch (answer["body"])
        {
            case null:
                body = [];
                break;
            case JsonValue text when text.GetValueKind() == JsonValueKind.String:
                if (base64)
                {
                    try
                    {
                        body = Convert.FromBase64String((string)text!);
                    }
                    catch (FormatException)
                    {
                        return (null, "isBase64Encoded is true but body is not base64");
                    }
                }
                else
                {
                    body = Encoding.UTF8.GetBytes((string)text!);
                }

                break;
            default:
                return (null, $"body must be a string, got {JsonText.Show(answer["body"])}");
        }

        if (!headers.Any(h => string.Equals(h.Key, "Content-Type", StringComparison.OrdinalIgnoreCase)))
        {
            headers.Add(KeyValuePair.Create("Content-Type", "application/json"));
        }

        return (new ApiResponse(statusCode, headers, body), null);
    }

    /// <summary>The last value of header <paramref name="name"/> (case-insensitive); null when absent.</summary>
    public static string? Header(IReadOnlyList<KeyValuePair<string, string>> headers, string name)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return headers.LastOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
    }

    private static string ScalarText(JsonNode value) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string)v! : value.ToJsonString();

    private static List<KeyValuePair<string, string>> ParseQuery(string query) =>
        query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .Select(parts => KeyValuePair.Create(Uri.UnescapeDataString(parts[0]), parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : string.Empty))
            .ToList();

    private static JsonObject SingleValues(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var result = new JsonObject();
        foreach (var (name, value) in pairs)
        {
            result[name] = value;
        }

        return result;
    }

    private static JsonObject MultiValues(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var result = new JsonObject();
        foreach (var group in pairs.GroupBy(p => p.Key, StringComparer.Ordinal))
        {
            result[group.Key] = new JsonArray([.. group.Select(p => (JsonNode)p.Value)]);
        }

        return result;
    }

    private static bool MediaTypeMatches(string pattern, string contentType)
    {
        var type = contentType.Split(';')[0].Trim();
        return pattern == "*/*"
            || string.Equals(pattern, type, StringComparison.OrdinalIgnoreCase)
            || (pattern.EndsWith("/*", StringComparison.Ordinal) && type.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase));
    }
}
