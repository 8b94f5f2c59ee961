extern alias JsonEverything;

using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using JsonEverything::Json.Schema;

namespace CustomerSegmentation.Lambdas.Tests.Contract;

/// <summary>
/// The product's OpenAPI document (<c>lambdas/RecommendationsApi/openapi.json</c>) as the oracle of every answer a handler
/// gives in the test suite: the test support that receives the handlers' answers passes each one to
/// <see cref="AssertConforms(APIGatewayProxyRequest, APIGatewayProxyResponse)"/>, so the document cannot drift from the
/// code. An answer conforms when the document lists its route and status, its Content-Type is one the status documents,
/// its body is valid against that content's schema (OpenAPI 3.0 schema objects, converted by
/// <see cref="OpenApiSchemas.ToJsonSchema"/>), and every required response header is there and valid. A route the
/// document does not describe may only be refused: 404 for an unknown path, 405 for a method the path does not document
/// (its <c>Allow</c> header naming exactly the documented methods), both in the documented caller-mistake shape.
/// </summary>
internal sealed class OpenApiContract
{
    private const string JsonSchemaDialect = "https://json-schema.org/draft/2020-12/schema";

    /// <summary>Where the product's document is in the checkout.</summary>
    public static readonly string DocumentPath = Path.Combine(Repository.Root, "lambdas", "RecommendationsApi", "openapi.json");

    private static readonly string[] HttpMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    private static readonly Lazy<OpenApiContract> Shared = new(() => Parse(File.ReadAllText(DocumentPath)));
    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.Hierarchical, RequireFormatValidation = true };

    private readonly JsonObject _definitions;
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);

    private OpenApiContract(JsonObject document)
    {
        Document = document;
        _definitions = new JsonObject();
        if (document["components"]?["schemas"] is JsonObject schemas)
        {
            foreach (var (name, schema) in schemas)
            {
                _definitions[name] = OpenApiSchemas.ToJsonSchema(schema);
            }
        }
    }

    /// <summary>The product's document, read once per test run.</summary>
    public static OpenApiContract Product => Shared.Value;

    /// <summary>The document as parsed.</summary>
    public JsonObject Document { get; }

    public static OpenApiContract Parse(string json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new ArgumentException("An OpenAPI document is a JSON object.", nameof(json)));

    /// <summary>Every operation of the document: its method (upper case), path and operation object.</summary>
    public IEnumerable<(string Method, string Path, JsonObject Operation)> Operations()
    {
        foreach (var (path, item) in Document["paths"]?.AsObject() ?? [])
        {
            foreach (var method in HttpMethods)
            {
                if (item?[method] is JsonObject operation)
                {
                    yield return (method.ToUpperInvariant(), path, operation);
                }
            }
        }
    }

    /// <summary>Fails the test when <paramref name="response"/>, the answer to <paramref name="request"/>, does not conform.</summary>
    public void AssertConforms(APIGatewayProxyRequest request, APIGatewayProxyResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        AssertConforms(request.HttpMethod ?? "", RouteOf(request.Resource, request.Path), response);
    }

    /// <summary>Fails the test when <paramref name="response"/>, the answer to the proxy event <paramref name="eventJson"/>, does not conform.</summary>
    public void AssertConforms(ReadOnlySpan<byte> eventJson, APIGatewayProxyResponse response)
    {
        using var document = JsonDocument.Parse(eventJson.ToArray());
        string? Member(string name) =>
            document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        AssertConforms(Member("httpMethod") ?? "", RouteOf(Member("resource"), Member("path")), response);
    }

    /// <summary>Fails the test when <paramref name="response"/> is not what the document says <paramref name="method"/> <paramref name="resource"/> answers.</summary>
    public void AssertConforms(string method, string resource, APIGatewayProxyResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = response.Body is { } text && response.IsBase64Encoded ? Encoding.UTF8.GetString(Convert.FromBase64String(text)) : response.Body;
        AssertConforms(method, resource, response.StatusCode, response.Headers, body);
    }

    /// <summary>Fails the test, naming the route and each JSON path, when the answer does not conform.</summary>
    public void AssertConforms(string method, string resource, int statusCode, IReadOnlyDictionary<string, string>? headers, string? body)
    {
        var problems = Problems(method, resource, statusCode, headers, body);
        if (problems.Count > 0)
        {
            Assert.Fail($"{method} {resource} answered {statusCode}, which does not conform to {DocumentPath}:\n  {string.Join("\n  ", problems)}\nbody: {body}");
        }
    }

    /// <summary>Why an answer does not conform; empty when it does.</summary>
    public IReadOnlyList<string> Problems(string method, string resource, int statusCode, IReadOnlyDictionary<string, string>? headers, string? body)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(resource);
        var answerHeaders = new Dictionary<string, string>(headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        if (Document["paths"]?[resource] is not JsonObject pathItem)
        {
            return statusCode == 404
                ? CheckResponse("refusals of undocumented routes", Resolve(CallerMistakeReference()), answerHeaders, body)
                : [$"the document has no path {resource}: document every route the function serves, or refuse this one with 404"];
        }

        if (pathItem[method.ToLowerInvariant()] is not JsonObject operation)
        {
            var documented = HttpMethods.Where(candidate => pathItem[candidate] is JsonObject).Select(candidate => candidate.ToUpperInvariant()).ToList();
            if (statusCode != 405)
            {
                return [$"the document has no {method} on {resource} (only {string.Join(", ", documented)}): document it, or refuse it with 405"];
            }

            var problems = CheckResponse("refusals of undocumented methods", Resolve(CallerMistakeReference()), answerHeaders, body).ToList();
            var allowed = answerHeaders.TryGetValue("Allow", out var allow)
                ? allow.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList()
                : [];
            if (!allowed.SequenceEqual(documented.Order(StringComparer.Ordinal)))
            {
                problems.Add($"header Allow is '{allow}', but the document has {string.Join(", ", documented)} on {resource}");
            }

            return problems;
        }

        var responses = operation["responses"] as JsonObject ?? [];
        var code = statusCode.ToString(CultureInfo.InvariantCulture);
        var response = responses[code] ?? responses[$"{code[0]}XX"] ?? responses["default"];
        return response is null
            ? [$"status {statusCode} is not documented for {method.ToUpperInvariant()} {resource} (it documents {string.Join(", ", responses.Select(entry => entry.Key))})"]
            : CheckResponse($"{method.ToUpperInvariant()} {resource} {code}", Resolve(response), answerHeaders, body);
    }

    /// <summary>
    /// The documented path a proxy event addresses, as the functions route it: its resource when the document has it;
    /// otherwise (a greedy <c>{proxy+}</c> resource, or none) its path without a trailing slash, matched against the
    /// document's paths and their templates; otherwise the resource (or path) as given, which the document does not have.
    /// </summary>
    public string RouteOf(string? resource, string? path)
    {
        var paths = Document["paths"]?.AsObject() ?? [];
        if (resource is { Length: > 0 } && paths.ContainsKey(resource))
        {
            return resource;
        }

        var trimmed = (path ?? "").TrimEnd('/');
        var target = trimmed.Length == 0 ? "/" : trimmed;
        var match = paths.Select(entry => entry.Key).Where(candidate => Matches(candidate, target))
            // A literal segment wins over a template, as in API Gateway (/recommendations/summary over /recommendations/{customerId}).
            .OrderBy(candidate => candidate.Count(c => c == '{'))
            .FirstOrDefault();
        return match ?? (resource is { Length: > 0 } ? resource : path ?? "");
    }

    private static bool Matches(string template, string path)
    {
        var expected = template.Split('/');
        var actual = path.Split('/');
        return expected.Length == actual.Length
            && expected.Zip(actual).All(pair => pair.First.StartsWith('{') && pair.First.EndsWith('}') ? pair.Second.Length > 0 : pair.First == pair.Second);
    }

    /// <summary>Follows <c>$ref</c>s (local JSON pointers) until a node that is not one.</summary>
    public JsonNode Resolve(JsonNode node)
    {
        for (var hops = 0; node is JsonObject reference && reference["$ref"] is JsonValue target; hops++)
        {
            if (hops > 16)
            {
                throw new InvalidOperationException($"$ref chain too long at {target}");
            }

            node = ResolvePointer(target.GetValue<string>());
        }

        return node;
    }

    /// <summary>The node a local <c>$ref</c> (<c>#/...</c>) names; throws when it names nothing.</summary>
    public JsonNode ResolvePointer(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"$ref {reference} is not a local reference (#/...)");
        }

        JsonNode? node = Document;
        foreach (var segment in reference[2..].Split('/'))
        {
            node = node is JsonObject parent ? parent[segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)] : null;
        }

        return node ?? throw new InvalidOperationException($"$ref {reference} names nothing in the document");
    }

    /// <summary>
    /// Whether <paramref name="instance"/> is valid against an OpenAPI schema object of this document (its
    /// <c>#/components/schemas</c> references resolved); the problems name the JSON path of each mistake.
    /// </summary>
    public IReadOnlyList<string> Validate(JsonNode openApiSchema, JsonElement instance, string cacheKey)
    {
        ArgumentNullException.ThrowIfNull(openApiSchema);
        var schema = _schemas.GetOrAdd(cacheKey, _ => Build(openApiSchema));
        var results = schema.Evaluate(instance, Evaluation);
        if (results.IsValid)
        {
            return [];
        }

        var problems = new List<string>();
        Collect(results, instance, problems);
        return problems.Count > 0 ? problems.Distinct(StringComparer.Ordinal).ToList() : [$"$: not valid against {openApiSchema.ToJsonString()}"];
    }

    /// <summary>
    /// The errors of the failing nodes, walked from the root: a subschema that passed (one branch of a nullable anyOf)
    /// hides the errors of its own failing parts, which say nothing about the answer.
    /// </summary>
    private static void Collect(EvaluationResults node, JsonElement instance, List<string> problems)
    {
        if (node.IsValid)
        {
            return;
        }

        foreach (var (keyword, message) in node.Errors ?? new Dictionary<string, string>())
        {
            // A false schema (additionalProperties: false) reports no keyword of its own: the one that applied it is named.
            var rule = keyword.Length > 0 ? keyword : node.EvaluationPath.ToString().Split('/')[^1];
            problems.Add($"{JsonPath(instance, node.InstanceLocation.ToString())}: {message} ({rule})");
        }

        foreach (var child in node.Details ?? [])
        {
            Collect(child, instance, problems);
        }
    }

    private JsonObject CallerMistakeReference() =>
        Document["components"]?["responses"]?["CallerMistake"] is not null
            ? new JsonObject { ["$ref"] = "#/components/responses/CallerMistake" }
            : throw new InvalidOperationException("The document has no components.responses.CallerMistake, the shape every refusal takes.");

    private List<string> CheckResponse(string key, JsonNode response, Dictionary<string, string> headers, string? body)
    {
        var problems = new List<string>();
        foreach (var (name, declared) in response["headers"]?.AsObject() ?? [])
        {
            var header = Resolve(declared!);
            if (!headers.TryGetValue(name, out var value))
            {
                if (header["required"]?.GetValue<bool>() == true)
                {
                    problems.Add($"header {name} is missing");
                }

                continue;
            }

            if (header["schema"] is { } schema)
            {
                problems.AddRange(ValidateText(Resolve(schema), value, $"{key} header {name}").Select(problem => $"header {name}: {problem}"));
            }
        }

        if (response["content"] is not JsonObject content)
        {
            if (!string.IsNullOrEmpty(body))
            {
                problems.Add("the document describes no body, yet the answer has one");
            }

            return problems;
        }

        if (!headers.TryGetValue("Content-Type", out var contentType))
        {
            problems.Add($"header Content-Type is missing (the document has {string.Join(", ", content.Select(entry => entry.Key))})");
            return problems;
        }

        var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
        if (content[mediaType] is not JsonObject media)
        {
            problems.Add($"Content-Type {contentType} is not one the document lists ({string.Join(", ", content.Select(entry => entry.Key))})");
            return problems;
        }

        if (media["schema"] is not { } bodySchema)
        {
            return problems;
        }

        if (mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal))
        {
            JsonDocument parsed;
            try
            {
                parsed = JsonDocument.Parse(body ?? "");
            }
            catch (JsonException exception)
            {
                problems.Add($"$: the body is not JSON ({exception.Message})");
                return problems;
            }

            using (parsed)
            {
                problems.AddRange(Validate(bodySchema, parsed.RootElement, $"{key} {mediaType}"));
            }
        }
        else
        {
            problems.AddRange(ValidateText(bodySchema, body ?? "", $"{key} {mediaType}"));
        }

        return problems;
    }

    /// <summary>A header value or a non-JSON body: numbers and booleans are read as JSON, everything else as a string.</summary>
    private List<string> ValidateText(JsonNode schema, string text, string cacheKey)
    {
        var type = Resolve(schema)["type"]?.GetValue<string>();
        JsonNode? instance;
        if (type is "integer" or "number" or "boolean")
        {
            try
            {
                instance = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                return [$"'{text}' is not {(type == "boolean" ? "a boolean" : "a number")}"];
            }
        }
        else
        {
            instance = JsonValue.Create(text);
        }

        using var document = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        return [.. Validate(schema, document.RootElement, cacheKey)];
    }

    private JsonSchema Build(JsonNode openApiSchema)
    {
        var root = OpenApiSchemas.ToJsonSchema(openApiSchema) is JsonObject converted ? converted : new JsonObject { ["allOf"] = new JsonArray(OpenApiSchemas.ToJsonSchema(openApiSchema)) };
        root["$schema"] = JsonSchemaDialect;
        root["$defs"] = _definitions.DeepClone();
        // A base URI of its own per schema: the library's registry is process-wide and every schema here has the same $defs.
        return JsonSchema.FromText(root.ToJsonString(), baseUri: new Uri($"https://openapi-contract.test/{Guid.NewGuid():N}"));
    }

    /// <summary><c>$.a.b[2]</c> for the JSON pointer <c>/a/b/2</c>, array indexes told apart from names by walking <paramref name="instance"/>.</summary>
    private static string JsonPath(JsonElement instance, string pointer)
    {
        var path = new StringBuilder("$");
        JsonElement? current = instance;
        foreach (var raw in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current is { ValueKind: JsonValueKind.Array } array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                path.Append(CultureInfo.InvariantCulture, $"[{index}]");
                current = index < array.GetArrayLength() ? array[index] : null;
                continue;
            }

            path.Append(segment.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && segment.Length > 0 && !char.IsAsciiDigit(segment[0])
                ? $".{segment}"
                : $"['{segment.Replace("'", "\\'", StringComparison.Ordinal)}']");
            current = current is { ValueKind: JsonValueKind.Object } parent && parent.TryGetProperty(segment, out var child) ? child : null;
        }

        return path.ToString();
    }
}

/// <summary>OpenAPI 3.0 schema objects as JSON Schema (draft 2020-12), which JsonSchema.Net evaluates.</summary>
internal static class OpenApiSchemas
{
    /// <summary>The formats JSON Schema defines that OpenAPI 3.0 documents here use; OpenAPI's own (int32, double, ...) only refine the type.</summary>
    private static readonly HashSet<string> CheckedFormats = new(StringComparer.Ordinal) { "date", "date-time" };

    /// <summary>Keywords of OpenAPI's schema object that JSON Schema does not have, or that only annotate.</summary>
    private static readonly HashSet<string> OpenApiOnly = new(StringComparer.Ordinal)
    {
        "nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "example", "deprecated",
    };

    /// <summary>
    /// Converts one schema object: <c>nullable: true</c> adds <c>"null"</c> to the type (and to an enum), or wraps a
    /// schema without a type (<c>allOf</c> of a reference) in <c>anyOf [null, schema]</c>; boolean
    /// <c>exclusiveMinimum/Maximum</c> become the numeric form; <c>#/components/schemas/X</c> becomes <c>#/$defs/X</c>;
    /// OpenAPI-only keywords, extensions and formats JSON Schema does not define are dropped.
    /// </summary>
    public static JsonNode ToJsonSchema(JsonNode? schema)
    {
        if (schema is not JsonObject source)
        {
            // additionalProperties: true / false.
            return schema?.DeepClone() ?? JsonValue.Create(true);
        }

        var result = new JsonObject();
        foreach (var (key, value) in source)
        {
            if (OpenApiOnly.Contains(key) || key.StartsWith("x-", StringComparison.Ordinal))
            {
                continue;
            }

            switch (key)
            {
                case "$ref":
                    var reference = value!.GetValue<string>();
                    result["$ref"] = reference.StartsWith("#/components/schemas/", StringComparison.Ordinal)
                        ? "#/$defs/" + reference["#/components/schemas/".Length..]
                        : throw new InvalidOperationException($"A schema may only reference #/components/schemas/..., not {reference}.");
                    break;
                case "properties":
                    var properties = new JsonObject();
                    foreach (var (name, property) in value!.AsObject())
                    {
                        properties[name] = ToJsonSchema(property);
                    }

                    result[key] = properties;
                    break;
                case "items" or "additionalProperties" or "not":
                    result[key] = ToJsonSchema(value);
                    break;
                case "allOf" or "anyOf" or "oneOf":
                    result[key] = new JsonArray([.. value!.AsArray().Select(ToJsonSchema)]);
                    break;
                case "exclusiveMinimum" or "exclusiveMaximum":
                    var bound = key == "exclusiveMinimum" ? "minimum" : "maximum";
                    if (value!.GetValue<bool>() && source[bound] is { } limit)
                    {
                        result[key] = limit.DeepClone();
                    }

                    break;
                case "minimum" or "maximum" when source[key == "minimum" ? "exclusiveMinimum" : "exclusiveMaximum"]?.GetValue<bool>() == true:
                    break;
                case "format":
                    if (CheckedFormats.Contains(value!.GetValue<string>()))
                    {
                        result[key] = value.DeepClone();
                    }

                    break;
                default:
                    result[key] = value?.DeepClone();
                    break;
            }
        }

        if (source["nullable"]?.GetValue<bool>() != true)
        {
            return result;
        }

        if (result["type"] is JsonValue type)
        {
            result["type"] = new JsonArray(type.GetValue<string>(), "null");
            if (result["enum"] is JsonArray values && !values.Any(item => item is null))
            {
                values.Add(null);
            }

            return result;
        }

        return new JsonObject { ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "null" }, result) };
    }
}
