using System.Collections.ObjectModel;
using System.Reflection;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// An answer before it is framed as an API Gateway proxy response. <see cref="Body"/> is the plain body; null when the
/// body was written, escaped, into the Lambda response document already (see <see cref="ProxyResponseDocument"/>).
/// </summary>
public sealed record ProxyReply(int StatusCode, IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte>? Body)
{
    public const string JsonContentType = "application/json";

    private static readonly ReadOnlyDictionary<string, string> JsonHeaders = new(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Content-Type"] = JsonContentType,
        ["Cache-Control"] = "no-store",
    });

    /// <summary>A JSON answer; <paramref name="headers"/> are added to (or replace) Content-Type and Cache-Control: no-store.</summary>
    public static ProxyReply Json(int statusCode, byte[] body, params ReadOnlySpan<(string Name, string Value)> headers) =>
        new(statusCode, WithHeaders(JsonHeaders, headers), body);

    /// <summary>A JSON answer whose body is already in the response document (<see cref="ProxyResponseDocument.Body"/>).</summary>
    public static ProxyReply JsonWrittenToDocument(int statusCode) => new(statusCode, JsonHeaders, null);

    /// <summary>
    /// <c>{"error":message,"field":field}</c>: what went wrong and, for a caller's mistake, where (a field path like
    /// <c>customers[3].income</c>, a parameter or header name); <paramref name="field"/> null leaves the member out.
    /// </summary>
    public static ProxyReply Error(int statusCode, string? field, string message, params ReadOnlySpan<(string Name, string Value)> headers)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("error", message);
            if (field is not null)
            {
                writer.WriteString("field", field);
            }

            writer.WriteEndObject();
        }

        return Json(statusCode, buffer.ToArray(), headers);
    }

    /// <summary>405 naming the method that is allowed, also in the Allow header.</summary>
    public static ProxyReply MethodNotAllowed(string method, string allowed)
    {
        ArgumentNullException.ThrowIfNull(method);
        return Error(405, "method", $"{(method.Length == 0 ? "this method" : method)} is not allowed here; use {allowed}", ("Allow", allowed));
    }

    /// <summary>A self-contained page: nothing but its own inline script and style and this API may load.</summary>
    public static ProxyReply Html(byte[] page) => new(200, new Dictionary<string, string>
    {
        ["Content-Type"] = "text/html; charset=utf-8",
        ["Cache-Control"] = "no-cache",
        ["Content-Security-Policy"] = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
    }, page);

    /// <summary>The bytes of the resource <paramref name="name"/> embedded in <paramref name="assembly"/>.</summary>
    /// <exception cref="InvalidOperationException">The assembly has no such resource (a build mistake, not a request's).</exception>
    public static byte[] EmbeddedFile(Assembly assembly, string name)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded in {assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// A browser lets a page of another origin read an answer only when the answer names that origin, so every answer to an
    /// allowed origin carries it, errors included: the page then sees a 400's field and a 503's reason (and its
    /// Retry-After). <c>Vary: Origin</c> goes on every answer once CORS is on (<paramref name="allowedOrigins"/> not empty),
    /// because the same URL then answers differently per origin and a cache must not hand one origin's answer to another.
    /// </summary>
    /// <param name="origin">The request's <c>Origin</c> header; null when none.</param>
    /// <param name="allowedOrigins">The origins allowed, lower case (see <see cref="EnvironmentSettings.CorsOrigins"/>).</param>
    public ProxyReply WithCors(string? origin, IReadOnlyList<string> allowedOrigins)
    {
        ArgumentNullException.ThrowIfNull(allowedOrigins);
        if (allowedOrigins.Count == 0)
        {
            return this;
        }

        var headers = new Dictionary<string, string>(Headers, StringComparer.OrdinalIgnoreCase)
        {
            ["Vary"] = "Origin",
        };
        // Compared exactly, as API Gateway's preflight does: browsers send an origin's scheme and host in lower case.
        if (origin is not null && allowedOrigins.Contains(origin, StringComparer.Ordinal))
        {
            headers["Access-Control-Allow-Origin"] = origin;
            headers["Access-Control-Expose-Headers"] = "Retry-After";
        }

        return this with { Headers = headers };
    }

    /// <summary>The response object of this reply (for handlers called with a request object rather than the event's bytes).</summary>
    /// <exception cref="InvalidOperationException">The body was written to a response document, so this reply has none.</exception>
    public APIGatewayProxyResponse ToResponse() => new()
    {
        StatusCode = StatusCode,
        Headers = Headers,
        Body = Body is { } body ? Encoding.UTF8.GetString(body.Span) : throw new InvalidOperationException("The body of this reply is in a response document."),
    };

    private static IReadOnlyDictionary<string, string> WithHeaders(ReadOnlyDictionary<string, string> common, ReadOnlySpan<(string Name, string Value)> headers)
    {
        if (headers.IsEmpty)
        {
            return common;
        }

        var all = new Dictionary<string, string>(common, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            all[name] = value;
        }

        return all;
    }
}
