using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.Lambdas.Tests.RecommendationsApi;
using CustomerSegmentation.Lambdas.Tests.SegmentProxy;
using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.Contract;

/// <summary>
/// No route is documented that the code does not answer: every operation of the document, sent to the function that
/// serves its path with the document's own examples (path parameters, request bodies), gets an answer the operation
/// documents, never the 404 or 405 an unknown route gets. (The other direction, an answer on a route the document does
/// not have, fails every test through the test support's <see cref="OpenApiContract.AssertConforms(APIGatewayProxyRequest, APIGatewayProxyResponse)"/>.)
/// </summary>
public sealed class OpenApiServedRoutesTests
{
    /// <summary>The paths each function serves behind the one REST API.</summary>
    private static readonly string[] SegmentProxyPaths = ["/", "/segment", "/segments"];

    [Fact]
    public void Document_Paths_AreExactlyThoseTheFunctionsServe()
    {
        var documented = OpenApiContract.Product.Document["paths"]!.AsObject().Select(path => path.Key).Order(StringComparer.Ordinal);

        Assert.Equal(SegmentProxyPaths.Concat(RecommendationsApiRoutes.Paths).Order(StringComparer.Ordinal), documented);
    }

    [Fact]
    public async Task SegmentProxy_EveryDocumentedOperationWithEveryExample_IsAnswered()
    {
        using var harness = new ProxyHarness(mode: ServingMode.Centroids);
        var served = 0;
        foreach (var (method, path, operation) in OpenApiContract.Product.Operations().Where(operation => SegmentProxyPaths.Contains(operation.Path)))
        {
            foreach (var body in RequestExamples(operation))
            {
                var response = await harness.SendAsync(new APIGatewayProxyRequest { HttpMethod = method, Path = path, Resource = path, Body = body });

                Assert.True(response.StatusCode is >= 200 and < 300, $"{method} {path} with {body ?? "no body"}: {response.StatusCode} {response.Body}");
                served++;
            }
        }

        Assert.Equal(5, served);
    }

    [Fact]
    public async Task RecommendationsApi_EveryDocumentedOperationWithItsExamples_IsAnswered()
    {
        // A run holding the document's example customer (C00052, segment West_Plumbing) and product (P00136).
        var run = new PublishedRunData("run-2026-11-23", "2026-11-23T06:12:40Z", null,
            [new CustomerData("C00052", "West", "Plumbing", [new RecommendationData("P00136", 0.511, "P00153", 0.667, 8.67, "Plumbing", "Valves", 4, "P00153 -> P00136")])],
            [new SegmentData("West", "Plumbing", 10, [new PopularProduct("P00020", "Plumbing", "Pipes", 4, 10)])], null);
        using var api = new InProcessApi().Publish(run);
        var served = 0;
        foreach (var (method, path, operation) in OpenApiContract.Product.Operations().Where(operation => RecommendationsApiRoutes.Paths.Contains(operation.Path)))
        {
            var (parameters, query, headers) = ParameterExamples(operation);
            headers["Content-Type"] = "application/json";
            var concrete = parameters.Aggregate(path, (text, parameter) => text.Replace("{" + parameter.Key + "}", parameter.Value, StringComparison.Ordinal));
            foreach (var body in RequestExamples(operation))
            {
                var response = await api.InvokeAsync(ApiEvents.Event(method, path, concrete, body, headers, query.Count == 0 ? null : query,
                    parameters.Count == 0 ? null : parameters));

                Assert.True(response.StatusCode is >= 200 and < 300, $"{method} {concrete} with {body ?? "no body"}: {response.StatusCode} {response.Body}");
                if (path == "/openapi.json")
                {
                    Assert.True(JsonNode.DeepEquals(OpenApiContract.Product.Document, JsonNode.Parse(response.Body!)), "GET /openapi.json does not serve lambdas/RecommendationsApi/openapi.json");
                }

                served++;
            }
        }

        Assert.Equal(6, served);
        api.Tables.AssertNoViolations();
    }

    /// <summary>The examples of the operation's path, query and header parameters, by name.</summary>
    private static (Dictionary<string, string> Path, Dictionary<string, string> Query, Dictionary<string, string> Headers) ParameterExamples(JsonObject operation)
    {
        var found = new Dictionary<string, Dictionary<string, string>> { ["path"] = [], ["query"] = [], ["header"] = [] };
        foreach (var parameter in operation["parameters"]?.AsArray() ?? [])
        {
            var resolved = OpenApiContract.Product.Resolve(parameter!);
            var example = resolved["example"] ?? throw new InvalidOperationException($"parameter {resolved["name"]} has no example");
            found[resolved["in"]!.GetValue<string>()][resolved["name"]!.GetValue<string>()] = example.GetValue<string>();
        }

        return (found["path"], found["query"], found["header"]);
    }

    /// <summary>Each example body of the operation's JSON request (null for an operation without one).</summary>
    internal static IEnumerable<string?> RequestExamples(JsonObject operation)
    {
        if (operation["requestBody"]?["content"]?["application/json"] is not JsonObject media)
        {
            return [null];
        }

        var examples = (media["examples"]?.AsObject() ?? []).Select(named => named.Value!["value"]!.ToJsonString()).ToList();
        if (media["example"] is { } example)
        {
            examples.Add(example.ToJsonString());
        }

        Assert.True(examples.Count > 0, "a documented request body has no example");
        return examples;
    }
}

/// <summary>The paths the RecommendationsApi function serves (contract section 3).</summary>
internal static class RecommendationsApiRoutes
{
    public static readonly string[] Paths =
        ["/recommendations/{customerId}", "/recommendations/summary", "/feedback", "/account-manager", "/sales-leader", "/openapi.json"];
}
