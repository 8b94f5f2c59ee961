using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// What the handler uses of an API Gateway proxy event (<see cref="APIGatewayProxyRequest"/>): the method, resource and
/// path, the body text as UTF-8 with its base64 flag, and the <c>Origin</c> header. <see cref="Read"/> takes them straight
/// from the event's bytes, so a large body is unescaped once, into a pooled buffer, and never becomes a string.
/// </summary>
internal sealed class ProxyEvent : IDisposable
{
    private byte[]? _rented;

    public string? HttpMethod { get; private set; }

    public string? Resource { get; private set; }

    public string? Path { get; private set; }

    /// <summary>The body as sent (base64 text when <see cref="IsBase64Encoded"/>), in UTF-8; empty when there is none.</summary>
    public ReadOnlyMemory<byte> BodyText { get; private set; }

    public bool IsBase64Encoded { get; private set; }

    /// <summary>The first <c>Origin</c> header (any case); read only when asked for.</summary>
    public string? Origin { get; private set; }

    public static ProxyEvent From(APIGatewayProxyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new ProxyEvent
        {
            HttpMethod = request.HttpMethod,
            Resource = request.Resource,
            Path = request.Path,
            BodyText = request.Body is null ? ReadOnlyMemory<byte>.Empty : Encoding.UTF8.GetBytes(request.Body),
            IsBase64Encoded = request.IsBase64Encoded,
            Origin = request.Headers?.FirstOrDefault(header => string.Equals(header.Key, "Origin", StringComparison.OrdinalIgnoreCase)).Value,
        };
    }

    /// <summary>
    /// Reads an event. The members used must have the types API Gateway gives them (strings or null, a boolean flag, an
    /// object of header strings); all other members are skipped unread. An event that is not valid JSON, or not an object,
    /// is a <see cref="JsonException"/>: not a request a caller made, so the invocation fails.
    /// </summary>
    public static ProxyEvent Read(ReadOnlySpan<byte> json, bool readOrigin)
    {
        var proxyEvent = new ProxyEvent();
        var reader = new Utf8JsonReader(json);
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException($"The event is {reader.TokenType}, not an API Gateway proxy event (a JSON object).");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("body"u8))
                {
                    proxyEvent.ReadBody(ref reader);
                }
                else if (reader.ValueTextEquals("httpMethod"u8))
                {
                    proxyEvent.HttpMethod = ReadString(ref reader, "httpMethod");
                }
                else if (reader.ValueTextEquals("resource"u8))
                {
                    proxyEvent.Resource = ReadString(ref reader, "resource");
                }
                else if (reader.ValueTextEquals("path"u8))
                {
                    proxyEvent.Path = ReadString(ref reader, "path");
                }
                else if (reader.ValueTextEquals("isBase64Encoded"u8))
                {
                    reader.Read();
                    proxyEvent.IsBase64Encoded = reader.TokenType switch
                    {
                        JsonTokenType.True => true,
                        JsonTokenType.False => false,
                        _ => throw new JsonException($"The event's isBase64Encoded is {reader.TokenType}, not true or false."),
                    };
                }
                else if (readOrigin && reader.ValueTextEquals("headers"u8))
                {
                    proxyEvent.Origin = ReadOrigin(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }

            while (reader.Read())
            {
            }

            return proxyEvent;
        }
        catch (InvalidOperationException exception)
        {
            proxyEvent.Dispose();
            throw new JsonException($"The event has text that is not valid UTF-8 or UTF-16: {exception.Message}", exception);
        }
        catch
        {
            proxyEvent.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, null) is { } rented)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        BodyText = ReadOnlyMemory<byte>.Empty;
    }

    private void ReadBody(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            BodyText = ReadOnlyMemory<byte>.Empty;
            return;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"The event's body is {reader.TokenType}, not a string or null.");
        }

        // Unescaping never lengthens UTF-8 text, so the escaped length is room enough.
        if (_rented is null || _rented.Length < reader.ValueSpan.Length)
        {
            Dispose();
            _rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        }

        var length = reader.CopyString(_rented);
        // A string the reader decodes is checked for UTF-8 then; copied bytes are not.
        if (!Utf8.IsValid(_rented.AsSpan(0, length)))
        {
            throw new JsonException("The event's body is not valid UTF-8.");
        }

        BodyText = _rented.AsMemory(0, length);
    }

    private static string? ReadString(ref Utf8JsonReader reader, string name)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Null => null,
            _ => throw new JsonException($"The event's {name} is {reader.TokenType}, not a string or null."),
        };
    }

    private static string? ReadOrigin(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"The event's headers are {reader.TokenType}, not an object or null.");
        }

        string? origin = null;
        var found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isOrigin = !found && string.Equals(reader.GetString(), "Origin", StringComparison.OrdinalIgnoreCase);
            var value = ReadString(ref reader, "header value");
            if (isOrigin)
            {
                (origin, found) = (value, true);
            }
        }

        return origin;
    }
}
