using System.Text.Json;

namespace CustomerSegmentation.AwsPackageReplacements.Core;

/// <summary>
/// Reads an error answer the way botocore does for the JSON and REST-JSON protocols: the code from the body's
/// <c>__type</c> (or <c>code</c>), else the <c>x-amzn-ErrorType</c> header, namespace before '#' and detail after ':' removed;
/// the message from <c>message</c> or <c>Message</c>.
/// </summary>
internal static class AwsErrorParser
{
    public static AwsServiceException Parse(string serviceId, string operation, HttpResponseMessage response, byte[] body)
    {
        string? code = null;
        string? message = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                code = StringMember(document.RootElement, "__type") ?? StringMember(document.RootElement, "code");
                message = StringMember(document.RootElement, "message") ?? StringMember(document.RootElement, "Message");
            }
        }
        catch (JsonException)
        {
            message = body.Length == 0 ? null : System.Text.Encoding.UTF8.GetString(body);
        }

        if (code is null && response.Headers.TryGetValues("x-amzn-ErrorType", out var errorTypes))
        {
            code = errorTypes.First();
        }

        return new AwsServiceException(serviceId, operation, response.StatusCode, Normalize(code) ?? $"Http{(int)response.StatusCode}",
            message ?? response.ReasonPhrase ?? string.Empty,
            response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.First() : null);
    }

    private static string? StringMember(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Normalize(string? code)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            return null;
        }

        var start = code.LastIndexOf('#') + 1;
        var end = code.IndexOf(':', start);
        return (end < 0 ? code[start..] : code[start..end]).Trim();
    }
}
