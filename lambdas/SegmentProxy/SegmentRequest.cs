using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>A caller mistake: answered 400 with <c>{"error": Message, "field": Field}</c>.</summary>
public sealed class RequestException(string field, string message) : Exception(message)
{
    /// <summary>Where the mistake is, e.g. <c>customers[3].income</c>, <c>features[0][2]</c>, or <c>body</c>.</summary>
    public string Field { get; } = field;
}

/// <summary>One customer's raw attributes as sent; <see cref="Path"/> prefixes its field names in errors.</summary>
public sealed record CustomerInput(string Path, double? Age, double? Income, double? Purchases)
{
    public string FieldPath(string name) => Path.Length == 0 ? name : $"{Path}.{name}";
}

/// <summary>A structurally valid POST /segment body: raw customers, or pre-scaled (legacy) feature rows.</summary>
public sealed record SegmentRequest(IReadOnlyList<CustomerInput>? Customers, IReadOnlyList<double[]>? Features)
{
    public int Count => Customers?.Count ?? Features!.Count;

    /// <summary>The attribute names a customer object may have (contract 6), lower case as sent.</summary>
    public static readonly IReadOnlyList<string> CustomerFields = ["age", "income", "purchases"];

    /// <summary>
    /// Parses a body: <c>{"customers":[{...}, ...]}</c>, one customer object, or <c>{"features":[[...], ...]}</c>. Checks
    /// JSON syntax (with position), shapes, types, finiteness, unknown and repeated fields, and the batch and body limits;
    /// value ranges depend on the model and are checked by <see cref="FeatureScaler"/>.
    /// </summary>
    public static SegmentRequest Parse(ReadOnlyMemory<byte> body, int maxBatchSize, int maxBodyBytes)
    {
        if (body.Length > maxBodyBytes)
        {
            throw new RequestException("body", $"the body has {body.Length} bytes; at most {maxBodyBytes} are accepted: send fewer customers per request");
        }

        if (body.IsEmpty)
        {
            throw new RequestException("body", """the body is empty: send {"customers":[{"age":34,"income":72000,"purchases":12}]}""");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException exception)
        {
            var where = exception.LineNumber is { } line
                ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, byte {exception.BytePositionInLine + 1}")
                : "";
            throw new RequestException("body", $"the body is not valid JSON{where}: {FirstSentence(exception.Message)}");
        }

        using (document)
        {
            try
            {
                return FromDocument(document.RootElement, maxBatchSize);
            }
            catch (InvalidOperationException exception)
            {
                // The reader checks UTF-8 lazily, when a string or property name is decoded.
                throw new RequestException("body", $"the body is not valid UTF-8 JSON text: {FirstSentence(exception.Message)}");
            }
        }
    }

    private static SegmentRequest FromDocument(JsonElement root, int maxBatchSize)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new RequestException("body", $"the body must be a JSON object, not {Describe(root)}");
        }

        var names = UniqueNames(root, "");
        var hasCustomers = names.Contains("customers");
        var hasFeatures = names.Contains("features");
        if (hasCustomers || hasFeatures)
        {
            var list = hasCustomers ? "customers" : "features";
            var other = names.FirstOrDefault(name => name != list);
            if (other is not null)
            {
                throw new RequestException(FieldPath("", other), other is "customers" or "features"
                    ? "send either customers or features, not both"
                    : $"unknown field '{other}' next to {list}");
            }

            var items = root.GetProperty(list);
            if (items.ValueKind != JsonValueKind.Array)
            {
                throw new RequestException(list, $"{list} must be a list, not {Describe(items)}");
            }

            var count = items.GetArrayLength();
            if (count == 0)
            {
                throw new RequestException(list, $"{list} is empty: send at least one");
            }

            if (count > maxBatchSize)
            {
                throw new RequestException(list, $"{list} has {count} entries; at most {maxBatchSize} are accepted per request");
            }

            return hasCustomers
                ? new SegmentRequest([.. items.EnumerateArray().Select((item, index) => Customer(item, $"customers[{index}]"))], null)
                : new SegmentRequest(null, [.. items.EnumerateArray().Select((item, index) => FeatureRow(item, $"features[{index}]"))]);
        }

        return new SegmentRequest([Customer(root, "")], null);
    }

    private static CustomerInput Customer(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new RequestException(path.Length == 0 ? "body" : path, $"a customer must be an object like {{\"age\":34,\"income\":72000,\"purchases\":12}}, not {Describe(element)}");
        }

        var names = UniqueNames(element, path);
        var unknown = names.FirstOrDefault(name => !CustomerFields.Contains(name));
        if (unknown is not null)
        {
            throw new RequestException(FieldPath(path, unknown), $"unknown field '{unknown}': a customer has {string.Join(", ", CustomerFields)}"
                + (path.Length == 0 ? " (or send customers or features)" : ""));
        }

        double? Value(string name) => element.TryGetProperty(name, out var value) ? Number(value, FieldPath(path, name)) : null;
        return new CustomerInput(path, Value("age"), Value("income"), Value("purchases"));
    }

    private static double[] FeatureRow(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new RequestException(path, $"a feature row must be a list of scaled numbers, not {Describe(element)}");
        }

        return [.. element.EnumerateArray().Select((value, index) => Number(value, $"{path}[{index}]"))];
    }

    private static double Number(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new RequestException(field, $"must be a number, not {Describe(value)}");
        }

        return value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : throw new RequestException(field, $"{value.GetRawText()} is not a finite number in double range");
    }

    private static HashSet<string> UniqueNames(JsonElement element, string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!names.Add(property.Name))
            {
                throw new RequestException(FieldPath(path, property.Name), $"'{property.Name}' appears more than once");
            }
        }

        return names;
    }

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => element.ValueKind.ToString(),
    };

    /// <summary>
    /// <c>path.name</c> for names that read as identifiers (all the API's own), else <c>path["name"]</c> with the name
    /// JSON-escaped, so that an empty or odd key still yields a field a caller can find.
    /// </summary>
    public static string FieldPath(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(name);
        var identifier = name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
        if (!identifier)
        {
            return $"{path}[\"{JsonEncodedText.Encode(name)}\"]";
        }

        return path.Length == 0 ? name : $"{path}.{name}";
    }

    private static readonly string[] PositionMarkers = [" Path:", " LineNumber:"];

    // System.Text.Json appends "[Path: $ |] LineNumber: 0 | BytePositionInLine: 5." after the reason; the position is
    // reported 1-based by the caller instead.
    private static string FirstSentence(string message)
    {
        var cut = PositionMarkers.Select(marker => message.IndexOf(marker, StringComparison.Ordinal))
            .Where(index => index >= 0).DefaultIfEmpty(message.Length).Min();
        var text = message[..cut].Trim();
        return text.Length > 200 ? text[..200] : text;
    }

    /// <summary>The body bytes of an API Gateway event: base64-decoded when flagged, else the UTF-8 of the text.</summary>
    public static byte[] BodyBytes(string? body, bool isBase64Encoded)
    {
        if (body is null)
        {
            return [];
        }

        if (!isBase64Encoded)
        {
            return Encoding.UTF8.GetBytes(body);
        }

        try
        {
            return Convert.FromBase64String(body);
        }
        catch (FormatException)
        {
            throw new RequestException("body", "the body is marked base64-encoded but is not valid base64");
        }
    }
}
