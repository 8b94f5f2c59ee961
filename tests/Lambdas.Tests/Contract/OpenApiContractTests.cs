using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using Xunit.Sdk;

namespace CustomerSegmentation.Lambdas.Tests.Contract;

/// <summary>
/// The drift check itself, against the product's document: an answer the document allows passes, and each way an answer
/// can differ from it (status, content type, a missing, extra, mistyped or null field, a header) fails with a message
/// that names the route and the JSON path.
/// </summary>
public sealed class OpenApiContractTests
{
    private static readonly Dictionary<string, string> Json = new() { ["Content-Type"] = "application/json" };

    private static OpenApiContract Contract => OpenApiContract.Product;

    private static JsonObject StoredFeedback() => JsonNode.Parse("""
        {"stored":true,"idempotency_key":"crm-1","run_id":"run-2","feedback":{"customer_id":"C1","product_id":"P1","rating":"Medium",
         "reason_code":"price_too_high","sentiment":null,"feedback_date":"2026-11-24"}}
        """)!.AsObject();

    private static JsonObject Recommendations() => JsonNode.Parse("""
        {"customer_id":"C1","run_id":"run-2","published_at":"2026-11-23T06:12:40Z","segment":"West_Plumbing","cold_start":false,
         "recommendations":[{"product_id":"P1","rank":1,"score":0.5,"confidence":0.6,"lift":2.5,"l2_category":"Plumbing","l3_category":"Valves",
         "trigger_product":"P9","recommended_qty":2,"reason":"P9 -> P1"}]}
        """)!.AsObject();

    private static IReadOnlyList<string> Feedback(int status, JsonNode body) => Contract.Problems("POST", "/feedback", status, Json, body.ToJsonString());

    [Fact]
    public void Problems_DocumentedAnswers_None()
    {
        Assert.Empty(Feedback(201, StoredFeedback()));
        Assert.Empty(Feedback(200, StoredFeedback()));
        Assert.Empty(Contract.Problems("GET", "/recommendations/{customerId}", 200, Json, Recommendations().ToJsonString()));
        Assert.Empty(Contract.Problems("POST", "/feedback", 400, Json, """{"error":"rating must be High, Medium or Low","field":"rating"}"""));
        Assert.Empty(Contract.Problems("GET", "/account-manager", 200, new Dictionary<string, string> { ["Content-Type"] = "text/html; charset=utf-8" }, "<!doctype html>"));
    }

    [Fact]
    public void AssertConforms_ExtraField_FailsNamingTheRouteAndTheJsonPath()
    {
        var body = StoredFeedback();
        body["feedback"]!["comment"] = "nice";

        var failure = Assert.Throws<FailException>(() => Contract.AssertConforms("POST", "/feedback", 201, Json, body.ToJsonString()));

        Assert.StartsWith($"POST /feedback answered 201, which does not conform to {OpenApiContract.DocumentPath}:", failure.Message, StringComparison.Ordinal);
        Assert.Contains("$.feedback.comment: All values fail against the false schema (additionalProperties)", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_MissingRequiredField_NamesTheObjectAndTheField()
    {
        var body = StoredFeedback();
        body.Remove("run_id");

        var problem = Assert.Single(Feedback(201, body));

        Assert.Equal("$: Required properties [\"run_id\"] are not present (required)", problem);
    }

    [Fact]
    public void Problems_WrongTypeInAnArrayItem_NamesTheIndexedPath()
    {
        var body = Recommendations();
        body["recommendations"]![0]!["score"] = "0.5";

        var problem = Assert.Single(Contract.Problems("GET", "/recommendations/{customerId}", 200, Json, body.ToJsonString()));

        Assert.Equal("$.recommendations[0].score: Value is \"string\" but should be \"number\" (type)", problem);
    }

    [Fact]
    public void Problems_NullWhereNotNullable_Fails_NullWhereNullable_Passes()
    {
        var notNullable = Recommendations();
        notNullable["recommendations"]![0]!["product_id"] = null;
        var nullable = Recommendations();
        nullable["recommendations"]![0]!["trigger_product"] = null;

        Assert.Equal(["$.recommendations[0].product_id: Value is \"null\" but should be \"string\" (type)"],
            Contract.Problems("GET", "/recommendations/{customerId}", 200, Json, notNullable.ToJsonString()));
        Assert.Empty(Contract.Problems("GET", "/recommendations/{customerId}", 200, Json, nullable.ToJsonString()));
    }

    [Theory]
    [InlineData("sentiment", "\"neutral\"", "$.feedback.sentiment: Value should match one of the values specified by the enum (enum)")]
    [InlineData("rating", "\"high\"", "$.feedback.rating: Value should match one of the values specified by the enum (enum)")]
    [InlineData("reason_code", "\"Price too high\"", "$.feedback.reason_code: The string value is not a match for the indicated regular expression (pattern)")]
    [InlineData("feedback_date", "\"24.11.2026\"", "$.feedback.feedback_date: Value does not match format \"date\" (format)")]
    public void Problems_NestedValueOutsideItsSchema_NamesItsPath(string field, string value, string expected)
    {
        var body = StoredFeedback();
        body["feedback"]![field] = JsonNode.Parse(value);

        Assert.Equal([expected], Feedback(201, body));
    }

    [Fact]
    public void Problems_UndocumentedStatus_NamesTheRouteAndTheDocumentedOnes()
    {
        var problem = Assert.Single(Contract.Problems("POST", "/feedback", 502, Json, """{"error":"boom"}"""));

        Assert.Equal("status 502 is not documented for POST /feedback (it documents 200, 201, 400, 403, 409, 413, 415, 429, 500, 503)", problem);
    }

    [Fact]
    public void Problems_ContentTypeMissingOrUndocumented_Fails()
    {
        var body = StoredFeedback().ToJsonString();

        Assert.Equal(["header Content-Type is missing (the document has application/json)"], Contract.Problems("POST", "/feedback", 201, null, body));
        Assert.Equal(["Content-Type text/plain is not one the document lists (application/json)"],
            Contract.Problems("POST", "/feedback", 201, new Dictionary<string, string> { ["content-type"] = "text/plain" }, body));
    }

    [Fact]
    public void Problems_BodyNotJson_Fails()
    {
        var problem = Assert.Single(Contract.Problems("POST", "/feedback", 201, Json, "stored"));

        Assert.StartsWith("$: the body is not JSON (", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_RequiredHeaderMissingOrInvalid_Fails()
    {
        const string Unavailable = """{"error":"no recommendations are published yet"}""";
        Dictionary<string, string> Headers(string retryAfter) => new(Json) { ["Retry-After"] = retryAfter };

        Assert.Empty(Contract.Problems("GET", "/recommendations/summary", 503, Headers("30"), Unavailable));
        Assert.Equal(["header Retry-After is missing"], Contract.Problems("GET", "/recommendations/summary", 503, Json, Unavailable));
        Assert.Equal(["header Retry-After: 'soon' is not a number"], Contract.Problems("GET", "/recommendations/summary", 503, Headers("soon"), Unavailable));
        Assert.Equal(["header Retry-After: $: 0 should be at least 1 (minimum)"], Contract.Problems("GET", "/recommendations/summary", 503, Headers("0"), Unavailable));
    }

    [Fact]
    public void Problems_503WithAField_FailsAsAnExtraField()
    {
        Assert.Equal(["$.field: All values fail against the false schema (additionalProperties)"],
            Contract.Problems("GET", "/segments", 503, new Dictionary<string, string>(Json) { ["Retry-After"] = "30" }, """{"error":"x","field":"body"}"""));
    }

    [Fact]
    public void Problems_UndocumentedPath_OnlyA404RefusalConforms()
    {
        Assert.Empty(Contract.Problems("GET", "/nope", 404, Json, """{"error":"no resource /nope","field":"path"}"""));
        Assert.Equal(["the document has no path /nope: document every route the function serves, or refuse this one with 404"],
            Contract.Problems("GET", "/nope", 200, Json, "{}"));
        Assert.Equal(["$: Required properties [\"field\"] are not present (required)"], Contract.Problems("GET", "/nope", 404, Json, """{"error":"no resource"}"""));
    }

    [Fact]
    public void Problems_UndocumentedMethod_OnlyA405NamingTheDocumentedMethodsConforms()
    {
        static Dictionary<string, string> Allow(string methods) => new(Json) { ["Allow"] = methods };
        const string Refusal = """{"error":"GET is not allowed here; use POST","field":"method"}""";

        Assert.Empty(Contract.Problems("GET", "/segment", 405, Allow("POST"), Refusal));
        Assert.Equal(["header Allow is 'GET, POST', but the document has POST on /segment"], Contract.Problems("GET", "/segment", 405, Allow("GET, POST"), Refusal));
        Assert.Equal(["the document has no DELETE on /feedback (only POST): document it, or refuse it with 405"],
            Contract.Problems("DELETE", "/feedback", 200, Json, "{}"));
    }

    [Fact]
    public void Problems_SummaryWithoutFeedback_NullConforms_AnIncompleteSummaryDoesNot()
    {
        var summary = JsonNode.Parse("""
            {"run_id":"r","published_at":"2026-11-23T06:12:40Z","feedback_summary":null,
             "coverage":{"customers":2,"customers_covered":1,"coverage":0.5,"recommendations":3,"customers_via_association":1,"customers_via_fallback":0,"customers_with_fewer_than_top_k":1}}
            """)!.AsObject();
        Assert.Empty(Contract.Problems("GET", "/recommendations/summary", 200, Json, summary.ToJsonString()));

        summary["feedback_summary"] = JsonNode.Parse("""{"overall":null,"by_segment":{},"by_l2_category":{},"reason_code_distribution":{}}""");

        Assert.Equal(["$.feedback_summary: Required properties [\"threshold_suggestions\"] are not present (required)"],
            Contract.Problems("GET", "/recommendations/summary", 200, Json, summary.ToJsonString()));
    }

    [Theory]
    [InlineData("/recommendations/{customerId}", "/recommendations/C1", "/recommendations/{customerId}")]
    [InlineData("/segment", "/segment", "/segment")]
    [InlineData(null, "/segment/", "/segment")]
    [InlineData("/{proxy+}", "/segments/", "/segments")]
    [InlineData("/{proxy+}", "/recommendations/summary", "/recommendations/summary")]
    [InlineData("/{proxy+}", "/recommendations/C1/", "/recommendations/{customerId}")]
    [InlineData(null, "", "/")]
    [InlineData("/{proxy+}", "/recommendations/C1/extra", "/{proxy+}")]
    [InlineData(null, "/nope", "/nope")]
    public void RouteOf_ResourceElsePath_IsTheDocumentedPathTheFunctionsServe(string? resource, string path, string expected)
    {
        Assert.Equal(expected, Contract.RouteOf(resource, path));
    }

    [Fact]
    public void AssertConforms_ProxyEventJson_ReadsMethodResourceAndPath()
    {
        var response = new APIGatewayProxyResponse
        {
            StatusCode = 405,
            Headers = new Dictionary<string, string>(Json) { ["Allow"] = "POST" },
            Body = """{"error":"GET is not allowed here; use POST","field":"method"}"""
        };

        Contract.AssertConforms("""{"httpMethod":"GET","resource":null,"path":"/segment/","headers":[1]}"""u8, response);
        var failure = Assert.Throws<FailException>(() => Contract.AssertConforms("""{"httpMethod":"POST","path":"/segment"}"""u8, response));
        Assert.StartsWith("POST /segment answered 405", failure.Message, StringComparison.Ordinal);
    }
}

/// <summary>The conversion of OpenAPI 3.0 schema objects to the JSON Schema the drift check evaluates.</summary>
public sealed class OpenApiSchemasTests
{
    private static string Convert(string openApi) => OpenApiSchemas.ToJsonSchema(JsonNode.Parse(openApi)).ToJsonString();

    [Fact]
    public void ToJsonSchema_NullableType_AddsNullToTypeAndEnum()
    {
        Assert.Equal("""{"type":["string","null"],"enum":["a","b",null]}""", Convert("""{"type":"string","nullable":true,"enum":["a","b"]}"""));
        Assert.Equal("""{"type":"string"}""", Convert("""{"type":"string","nullable":false}"""));
    }

    [Fact]
    public void ToJsonSchema_NullableReference_WrapsInAnyOfNull()
    {
        Assert.Equal("""{"anyOf":[{"type":"null"},{"allOf":[{"$ref":"#/$defs/Rates"}]}]}""",
            Convert("""{"allOf":[{"$ref":"#/components/schemas/Rates"}],"nullable":true}"""));
    }

    [Fact]
    public void ToJsonSchema_BooleanExclusiveBounds_BecomeNumeric()
    {
        Assert.Equal("""{"type":"number","exclusiveMinimum":0,"maximum":1}""",
            Convert("""{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":1,"exclusiveMaximum":false}"""));
    }

    [Fact]
    public void ToJsonSchema_OpenApiOnlyKeywordsAndTypeFormats_AreDroppedButPropertiesOfThoseNamesKept()
    {
        Assert.Equal("""{"type":"object","properties":{"nullable":{"type":"integer"},"example":{"type":"string","format":"date"}},"additionalProperties":false}""",
            Convert("""
                {"type":"object","example":{},"x-internal":true,"readOnly":true,"properties":{"nullable":{"type":"integer","format":"int64"},
                 "example":{"type":"string","format":"date","example":"2026-01-01"}},"additionalProperties":false}
                """));
    }

    [Fact]
    public void ToJsonSchema_ReferenceOutsideComponentSchemas_Throws()
    {
        var failure = Assert.Throws<InvalidOperationException>(() => Convert("""{"$ref":"#/components/responses/Page"}"""));

        Assert.Equal("A schema may only reference #/components/schemas/..., not #/components/responses/Page.", failure.Message);
    }
}
