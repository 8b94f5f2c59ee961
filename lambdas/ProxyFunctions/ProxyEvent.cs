using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// What a handler uses of an API Gateway proxy event (<see cref="APIGatewayProxyRequest"/>): the method, resource and
/// path, the path and query string parameters, the headers it asks for, and the body text as UTF-8 with its base64 flag.
/// <see cref="Read"/> takes them straight from the event's bytes, so a large body is unescaped once, into a pooled buffer,
/// and never becomes a string.
/// </summary>
public sealed class ProxyEvent : IDisposable
{
    private static readonly Dictionary<string, string> None = [];
    private byte[]? _rented;

    public string? HttpMethod { get; private set; }

    public string? Resource { get; private set; }

    public string? Path { get; private set; }

    /// <summary>The body as sent (base64 text when <see cref="IsBase64Encoded"/>), in UTF-8; empty when there is none.</summary>
    public ReadOnlyMemory<byte> BodyText { get; private set; }

    public bool IsBase64Encoded { get; private set; }

    /// <summary>
    /// The headers asked for when the event was read, each under the name asked for (compared in any case, as HTTP header
    /// names are); the first of several spellings of one name wins. A header sent with a null value is absent.
    /// </summary>
    public IReadOnlyDictionary<string, string> Headers { get; private set; } = None;

    /// <summary><c>queryStringParameters</c> (the last value of a repeated parameter, as API Gateway gives it); empty when none.</summary>
    public IReadOnlyDictionary<string, string> QueryStringParameters { get; private set; } = None;

    /// <summary><c>pathParameters</c>: the values of the resource's <c>{name}</c> parts; empty when none.</summary>
    public IReadOnlyDictionary<string, string> PathParameters { get; private set; } = None;

    /// <summary>The header <paramref name="name"/>, if it was asked for and sent.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>The event of a request object, keeping the headers named in <paramref name="headerNames"/>.</summary>
    public static ProxyEvent From(APIGatewayProxyRequest request, IReadOnlyCollection<string> headerNames)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(headerNames);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in request.Headers ?? None)
        {
            if (Wanted(name, headerNames) is { } wanted && value is not null)
            {
                headers.TryAdd(wanted, value);
            }
        }

        return new ProxyEvent
        {
            HttpMethod = request.HttpMethod,
            Resource = request.Resource,
            Path = request.Path,
            BodyText = request.Body is null ? ReadOnlyMemory<byte>.Empty : Encoding.UTF8.GetBytes(request.Body),
            IsBase64Encoded = request.IsBase64Encoded,
            Headers = headers,
            QueryStringParameters = WithoutNulls(request.QueryStringParameters),
            PathParameters = WithoutNulls(request.PathParameters),
        };
    }

    /// <summary>
    /// Reads an event from the Lambda input: the runtime's memory stream is read in place, any other stream copied first.
    /// </summary>
    /// <inheritdoc cref="Read" path="/exception"/>
    public static async Task<ProxyEvent> ReadAsync(Stream input, IReadOnlyCollection<string> headerNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input is MemoryStream memory && memory.TryGetBuffer(out var buffered))
        {
            return Read(buffered.AsSpan((int)memory.Position), headerNames);
        }

        const int Chunk = 4096;
        using var copy = new PooledBuffer(Chunk);
        int read;
        while ((read = await input.ReadAsync(copy.GetMemory(Chunk), cancellationToken).ConfigureAwait(false)) > 0)
        {
            copy.Advance(read);
        }

        return Read(copy.Written, headerNames);
    }

    /// <summary>
    /// Reads an event. The members used must have the types API Gateway gives them (strings or null, a boolean flag, objects
    /// of strings); all other members are skipped unread, and so are the headers when none are asked for.
    /// </summary>
    /// <exception cref="JsonException">
    /// The event is not valid JSON, not an object, or a member used has another type: not a request a caller made (API
    /// Gateway never sends such an event), so the invocation fails.
    /// </exception>
    public static ProxyEvent Read(ReadOnlySpan<byte> json, IReadOnlyCollection<string> headerNames)
    {
        ArgumentNullException.ThrowIfNull(headerNames);
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
                else if (headerNames.Count > 0 && reader.ValueTextEquals("headers"u8))
                {
                    proxyEvent.Headers = ReadStrings(ref reader, "headers", name => Wanted(name, headerNames), StringComparer.OrdinalIgnoreCase);
                }
                else if (reader.ValueTextEquals("queryStringParameters"u8))
                {
                    proxyEvent.QueryStringParameters = ReadStrings(ref reader, "queryStringParameters", name => name, StringComparer.Ordinal);
                }
                else if (reader.ValueTextEquals("pathParameters"u8))
                {
                    proxyEvent.PathParameters = ReadStrings(ref reader, "pathParameters", name => name, StringComparer.Ordinal);
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

    /// <summary>
    /// An object of strings (or null): the members <paramref name="keep"/> names (it returns the name to keep them under, or
    /// null), the first of equal names (by <paramref name="comparer"/>) winning. Every value must be a string or null, kept
    /// or not.
    /// </summary>
    private static Dictionary<string, string> ReadStrings(ref Utf8JsonReader reader, string name, Func<string, string?> keep, StringComparer comparer)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return None;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"The event's {name} are {reader.TokenType}, not an object or null.");
        }

        var values = new Dictionary<string, string>(comparer);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var kept = keep(reader.GetString()!);
            var value = ReadString(ref reader, name + " value");
            if (kept is not null && value is not null)
            {
                values.TryAdd(kept, value);
            }
        }

        return values;
    }

    private static string? Wanted(string name, IReadOnlyCollection<string> headerNames)
    {
        foreach (var wanted in headerNames)
        {
            if (string.Equals(name, wanted, StringComparison.OrdinalIgnoreCase))
            {
                return wanted;
            }
        }

        return null;
    }

    private static Dictionary<string, string> WithoutNulls(IReadOnlyDictionary<string, string>? values) =>
        values is null ? None : values.Where(pair => pair.Value is not null).ToDictionary(StringComparer.Ordinal);
}
