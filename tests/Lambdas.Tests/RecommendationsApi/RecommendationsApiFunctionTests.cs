using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.ProxyFunctions;
using CustomerSegmentation.RecommendationsApi;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

public sealed class RecommendationsApiFunctionTests
{
    private static readonly string[] Origins = ["https://crm.example.com"];

    private static JsonElement Json(APIGatewayProxyResponse response) => JsonDocument.Parse(response.Body!).RootElement.Clone();

    [Fact]
    public async Task GetRecommendations_KnownCustomer_AnswersTheSeedFormatWithTheRun()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Recommendations("C001"));

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("application/json", response.Headers!["Content-Type"]);
        Assert.Equal("no-store", response.Headers["Cache-Control"]);
        Assert.Equal($$"""
            {"customer_id":"C001","run_id":"{{TwoRuns.RunA}}","published_at":"2026-11-16T06:12:40Z","segment":"West_Plumbing","cold_start":false,"recommendations":[
            {"product_id":"PA100","rank":1,"score":0.91,"confidence":0.667,"lift":8.67,"l2_category":"Plumbing","l3_category":"Valves","trigger_product":"PA900","recommended_qty":4,"reason":"PA900 \u2192 PA100 (support=0.077, confidence=0.667, lift=8.67)"},
            {"product_id":"PA101","rank":2,"score":0.52,"confidence":0.4,"lift":2.5,"l2_category":"Plumbing","l3_category":"Pipes","trigger_product":"PA901","recommended_qty":10,"reason":"PA901 \u2192 PA101 (support=0.05, confidence=0.400, lift=2.50)"},
            {"product_id":"PA102","rank":3,"score":0.2,"confidence":null,"lift":null,"l2_category":"Fasteners","l3_category":"Screws","trigger_product":"fallback","recommended_qty":1,"reason":"Popular in your segment: Fasteners"}]}
            """.Replace("\n", "", StringComparison.Ordinal), response.Body);
    }

    [Fact]
    public async Task GetRecommendations_ColdStart_AnswersPopularProductsMarkedAsSuch()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Recommendations("C999", " West ", "Plumbing"));

        var json = Json(response);
        Assert.Equal(200, response.StatusCode);
        Assert.True(json.GetProperty("cold_start").GetBoolean());
        Assert.Equal(("C999", "West_Plumbing"), (json.GetProperty("customer_id").GetString(), json.GetProperty("segment").GetString()));
        Assert.Equal(["PA300", "PA301", "PA302", "PA303", "PA304"], json.GetProperty("recommendations").EnumerateArray().Select(r => r.GetProperty("product_id").GetString()));
        Assert.Equal("""
            {"product_id":"PA300","rank":1,"score":0.5,"confidence":null,"lift":null,"l2_category":"Plumbing","l3_category":"Pipes","trigger_product":null,"recommended_qty":10,"reason":"Popular in segment West_Plumbing: bought by 50% of its customers (60 of 120)"}
            """, json.GetProperty("recommendations")[0].GetRawText());
    }

    [Fact]
    public async Task GetRecommendations_KnownCustomerWithSegmentGiven_IsTheCustomersOwnAnswer()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var json = Json(await api.InvokeAsync(ApiEvents.Recommendations("C002", "West", "Plumbing")));

        Assert.Equal((false, "East_HVAC", "PA200"),
            (json.GetProperty("cold_start").GetBoolean(), json.GetProperty("segment").GetString(), json.GetProperty("recommendations")[0].GetProperty("product_id").GetString()));
    }

    [Fact]
    public async Task GetRecommendations_NeverSeenWithoutSegment_Is404SayingHowToGetAColdStartAnswer()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Recommendations("C09999"));

        Assert.Equal(404, response.StatusCode);
        Assert.Equal($$"""{"error":"customer C09999 is not in run {{TwoRuns.RunA}}; add ?region=\u0026end_use= for a cold-start answer from the customer\u0027s segment","field":"customerId"}""",
            response.Body);
    }

    [Fact]
    public async Task GetRecommendations_UnknownSegment_Is404ForRegion()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Recommendations("C999", "Mars", "Plumbing"));

        Assert.Equal(404, response.StatusCode);
        Assert.Equal(("region", $"customer C999 is not in run {TwoRuns.RunA}, and the run has no segment Mars_Plumbing (region Mars, end_use Plumbing): "
            + "check region and end_use against the customers file"), (Json(response).GetProperty("field").GetString(), Json(response).GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("West", null, "end_use", "end_use is missing: region West gives a cold-start answer only with the customer's end_use too")]
    [InlineData(null, "Plumbing", "region", "region is missing: end_use Plumbing gives a cold-start answer only with the customer's region too")]
    [InlineData("West", "   ", "end_use", "end_use is missing: region West gives a cold-start answer only with the customer's end_use too")]
    [InlineData("We\u0007st", "Plumbing", "region", "region must not contain control characters (U+0007 at character 3)")]
    public async Task GetRecommendations_BadSegmentParameters_Is400NamingTheParameter(string? region, string? endUse, string field, string message)
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Recommendations("C999", region, endUse));

        Assert.Equal((400, field, message), (response.StatusCode, Json(response).GetProperty("field").GetString(), Json(response).GetProperty("error").GetString()));
    }

    [Fact]
    public async Task GetRecommendations_BlankRegionAndEndUse_AreAbsent()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Recommendations("C999", "", ""));

        Assert.Equal((404, "customerId"), (response.StatusCode, Json(response).GetProperty("field").GetString()));
    }

    [Theory]
    [InlineData("   ", "customerId must have 1 to 128 characters (not counting surrounding spaces), not 0")]
    [InlineData("C\n1", "customerId must not contain control characters (U+000A at character 2)")]
    public async Task GetRecommendations_BadCustomerId_Is400(string customerId, string message)
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Recommendations(customerId));

        Assert.Equal((400, "customerId", message), (response.StatusCode, Json(response).GetProperty("field").GetString(), Json(response).GetProperty("error").GetString()));
    }

    [Fact]
    public async Task GetSummary_AnswersTheRunsCoverageAndFeedbackSummary()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A).Publish(TwoRuns.B);

        var response = await api.InvokeAsync(ApiEvents.Event("GET", "/recommendations/summary"));

        Assert.Equal(200, response.StatusCode);
        var json = Json(response);
        Assert.Equal((TwoRuns.RunB, "2026-11-23T06:12:40Z"), (json.GetProperty("run_id").GetString(), json.GetProperty("published_at").GetString()));
        Assert.Equal("""{"customers":3,"customers_covered":3,"coverage":1,"recommendations":4,"customers_via_association":3,"customers_via_fallback":1,"customers_with_fewer_than_top_k":3}""",
            json.GetProperty("coverage").GetRawText());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(TwoRuns.FeedbackSummary), JsonNode.Parse(json.GetProperty("feedback_summary").GetRawText())));
        Assert.Equal(["run_id", "published_at", "coverage", "feedback_summary"], json.EnumerateObject().Select(member => member.Name));
    }

    [Fact]
    public async Task GetSummary_RunWithoutFeedbackSummary_AnswersNull()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var json = Json(await api.InvokeAsync(ApiEvents.Event("GET", "/recommendations/summary")));

        Assert.Equal(JsonValueKind.Null, json.GetProperty("feedback_summary").ValueKind);
    }

    [Fact]
    public async Task PostFeedback_RecommendedProduct_Is201ThenTheRetryIs200AndOneItemIsStored()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);
        var body = """{"customer_id":"C001","product_id":"PA101","rating":"Medium","reason_code":"good_fit","sentiment":"positive","feedback_date":"2026-11-20"}""";

        var first = await api.InvokeAsync(ApiEvents.Feedback(body, "crm-visit-8812-PA101"));
        var retry = await api.InvokeAsync(ApiEvents.Feedback(body, "crm-visit-8812-PA101"));

        Assert.Equal(201, first.StatusCode);
        Assert.Equal($$$"""
            {"stored":true,"idempotency_key":"crm-visit-8812-PA101","run_id":"{{{TwoRuns.RunA}}}","feedback":{"customer_id":"C001","product_id":"PA101","rating":"Medium","reason_code":"good_fit","sentiment":"positive","feedback_date":"2026-11-20"}}
            """, first.Body);
        Assert.Equal(200, retry.StatusCode);
        Assert.Equal(first.Body!.Replace("\"stored\":true", "\"stored\":false", StringComparison.Ordinal), retry.Body);
        Assert.Single(api.Feedback);
    }

    [Fact]
    public async Task PostFeedback_WithoutKey_IsKeyedByTheContentHash()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PA100","rating":"High"}"""));

        var json = Json(response);
        Assert.Equal(201, response.StatusCode);
        Assert.Equal("2026-11-25", json.GetProperty("feedback").GetProperty("feedback_date").GetString());
        Assert.Equal("sha256:" + api.Feedback[0]["request_sha256"].S, json.GetProperty("idempotency_key").GetString());
    }

    [Fact]
    public async Task PostFeedback_SameKeyDifferentContent_Is409()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);
        await api.InvokeAsync(ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PA100","rating":"High"}""", "k-1"));

        var response = await api.InvokeAsync(ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PA100","rating":"Low","reason_code":"not_relevant"}""", "k-1"));

        Assert.Equal(409, response.StatusCode);
        Assert.Equal("""{"error":"Idempotency-Key k-1 was used for different feedback","field":"Idempotency-Key"}""", response.Body);
    }

    [Fact]
    public async Task PostFeedback_Base64Body_IsDecoded()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);
        var request = ApiEvents.Feedback(Convert.ToBase64String("""{"customer_id":"C001","product_id":"PA100","rating":"High"}"""u8)) with { IsBase64Encoded = true };

        var response = await api.InvokeAsync(request);

        Assert.Equal(201, response.StatusCode);
    }

    [Fact]
    public async Task PostFeedback_HeadersInAnyCase_AreRead()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);
        var request = ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PA100","rating":"High"}""", contentType: null) with
        {
            Headers = new Dictionary<string, string> { ["idempotency-key"] = "lower-1", ["content-type"] = "text/plain" },
        };

        var response = await api.InvokeAsync(request);

        Assert.Equal((415, "Content-Type"), (response.StatusCode, Json(response).GetProperty("field").GetString()));
        Assert.Empty(api.Feedback);
    }

    [Fact]
    public async Task PostFeedback_NotRecommended_Is400AndNothingIsStored()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PA200","rating":"High"}"""));

        Assert.Equal((400, "product_id"), (response.StatusCode, Json(response).GetProperty("field").GetString()));
        Assert.Empty(api.Feedback);
    }

    [Fact]
    public async Task PostFeedback_BodyTooLarge_Is413()
    {
        using var api = new InProcessApi(maxBodyBytes: 64).Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PA100","rating":"High","reason_code":"good_fit"}"""));

        Assert.Equal(413, response.StatusCode);
        Assert.Equal("""{"error":"the body has 84 bytes; at most 64 are accepted","field":"body"}""", response.Body);
    }

    [Fact]
    public async Task PostFeedback_NotBase64ThoughFlagged_Is400ForTheBody()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Feedback("{not base64}") with { IsBase64Encoded = true });

        Assert.Equal("""{"error":"the body is marked base64-encoded but is not valid base64","field":"body"}""", response.Body);
    }

    [Theory]
    [InlineData("/recommendations/{customerId}")]
    [InlineData("/recommendations/summary")]
    [InlineData("/feedback")]
    public async Task AnyRoute_NothingPublished_Is503WithRetryAfter(string resource)
    {
        using var api = new InProcessApi();
        var request = resource == "/feedback"
            ? ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PA100","rating":"High"}""")
            : resource == "/recommendations/summary" ? ApiEvents.Event("GET", resource) : ApiEvents.Recommendations("C001");

        var response = await api.InvokeAsync(request);

        Assert.Equal((503, "30"), (response.StatusCode, response.Headers!["Retry-After"]));
        Assert.Equal("""{"error":"no recommendations are published yet"}""", response.Body);
        Assert.Empty(api.Feedback);
    }

    [Theory]
    [InlineData("BatchGetItem", InProcessApi.ServingTableName, "the recommendations cannot be read right now; retry later")]
    [InlineData("GetItem", InProcessApi.ServingTableName, "the recommendations cannot be read right now; retry later")]
    [InlineData("PutItem", InProcessApi.FeedbackTableName, "feedback cannot be stored right now; retry later")]
    public async Task AnyRoute_TableUnavailable_Is503WithRetryAfterAndTheCauseInTheLog(string operation, string table, string message)
    {
        using var api = new InProcessApi(pointerCacheSeconds: 0).Publish(TwoRuns.A);
        api.Tables.FailWith = (called, _) => called == operation ? new TableUnavailableException(table, called, new IOException("connection reset")) : null;
        var request = operation == "PutItem" ? ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PA100","rating":"High"}""") : ApiEvents.Recommendations("C001");

        var response = await api.InvokeAsync(request);

        Assert.Equal((503, "30", $$"""{"error":"{{message}}"}"""), (response.StatusCode, response.Headers!["Retry-After"], response.Body));
        var line = api.LogLines.Single(line => line.GetProperty("message").GetString() == "Request served.");
        Assert.Equal(("unavailable", $"{operation} on table {table} failed: IOException: connection reset"),
            (line.GetProperty("outcome").GetString(), line.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task GetRecommendations_DamagedItem_Is500WithoutAStackTrace()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);
        api.Tables.Put(InProcessApi.ServingTableName, new Dictionary<string, Amazon.DynamoDBv2.Model.AttributeValue>
        {
            ["pk"] = new() { S = $"run#{TwoRuns.RunA}#customer#C777" },
            ["recommendations"] = new() { S = "[{" },
        });

        var response = await api.InvokeAsync(ApiEvents.Recommendations("C777"));

        Assert.Equal(500, response.StatusCode);
        Assert.StartsWith($$"""{"error":"the published recommendations are damaged: the item run#{{TwoRuns.RunA}}#customer#C777 has a recommendations attribute that is not JSON:""",
            response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", response.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", response.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST", "/recommendations/{customerId}", "GET")]
    [InlineData("DELETE", "/recommendations/summary", "GET")]
    [InlineData("GET", "/feedback", "POST")]
    [InlineData("PUT", "/feedback", "POST")]
    [InlineData("POST", "/openapi.json", "GET")]
    [InlineData("POST", "/account-manager", "GET")]
    [InlineData("HEAD", "/sales-leader", "GET")]
    public async Task WrongMethod_Is405NamingTheAllowedOne(string method, string resource, string allowed)
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Event(method, resource, resource.Replace("{customerId}", "C001", StringComparison.Ordinal),
            pathParameters: new Dictionary<string, string> { ["customerId"] = "C001" }));

        Assert.Equal((405, allowed), (response.StatusCode, response.Headers!["Allow"]));
        Assert.Equal($$"""{"error":"{{method}} is not allowed here; use {{allowed}}","field":"method"}""", response.Body);
    }

    [Theory]
    [InlineData("/recommendations")]
    [InlineData("/recommendations/C001/history")]
    [InlineData("/recommendations/C001")]
    public async Task UnknownPath_Is404NamingTheRoutes(string path)
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(new APIGatewayProxyRequest { HttpMethod = "GET", Path = path });

        Assert.Equal(404, response.StatusCode);
        Assert.Equal(("path", $"no resource {path}: use GET /recommendations/{{customerId}}, GET /recommendations/summary, POST /feedback, GET /openapi.json, "
            + "GET /account-manager or GET /sales-leader"), (Json(response).GetProperty("field").GetString(), Json(response).GetProperty("error").GetString()));
    }

    [Fact]
    public async Task GetOpenApi_ServesTheDocumentOfTheRepository()
    {
        using var api = new InProcessApi();

        var response = await api.InvokeAsync(ApiEvents.Event("GET", "/openapi.json"));

        Assert.Equal((200, "application/json", "no-cache"), (response.StatusCode, response.Headers!["Content-Type"], response.Headers["Cache-Control"]));
        Assert.Equal(File.ReadAllText(Path.Combine(Repository.Root, "lambdas", "RecommendationsApi", "openapi.json")), response.Body);
    }

    [Theory]
    [InlineData("/account-manager", "AccountManager.html")]
    [InlineData("/sales-leader", "SalesLeader.html")]
    public async Task GetPage_ServesTheSelfContainedPage(string resource, string file)
    {
        using var api = new InProcessApi();

        var response = await api.InvokeAsync(ApiEvents.Event("GET", resource));

        Assert.Equal((200, "text/html; charset=utf-8"), (response.StatusCode, response.Headers!["Content-Type"]));
        Assert.StartsWith("default-src 'none'", response.Headers["Content-Security-Policy"], StringComparison.Ordinal);
        Assert.Equal(PageKit.Compose(file, File.ReadAllText(Path.Combine(Repository.Root, "lambdas", "RecommendationsApi", "Pages", file))), response.Body);
    }

    [Fact]
    public async Task Cors_AllowedOrigin_IsEchoedOnEveryAnswerIncludingErrors()
    {
        using var api = new InProcessApi(corsAllowedOrigins: Origins).Publish(TwoRuns.A);
        var headers = new Dictionary<string, string> { ["origin"] = "https://crm.example.com" };

        var ok = await api.InvokeAsync(ApiEvents.Recommendations("C001") with { Headers = headers });
        var refused = await api.InvokeAsync(ApiEvents.Feedback("{}") with { Headers = headers });
        var other = await api.InvokeAsync(ApiEvents.Recommendations("C001") with { Headers = new Dictionary<string, string> { ["Origin"] = "https://evil.example.com" } });

        foreach (var response in new[] { ok, refused })
        {
            Assert.Equal(("https://crm.example.com", "Origin", "Retry-After"),
                (response.Headers!["Access-Control-Allow-Origin"], response.Headers["Vary"], response.Headers["Access-Control-Expose-Headers"]));
        }

        Assert.Equal(400, refused.StatusCode);
        Assert.False(other.Headers!.ContainsKey("Access-Control-Allow-Origin"));
        Assert.Equal("Origin", other.Headers["Vary"]);
    }

    [Fact]
    public async Task Cors_NotConfigured_NoCorsHeaders()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        var response = await api.InvokeAsync(ApiEvents.Recommendations("C001") with { Headers = new Dictionary<string, string> { ["Origin"] = "https://crm.example.com" } });

        Assert.DoesNotContain(response.Headers!.Keys, name => name.StartsWith("Access-Control", StringComparison.Ordinal) || name == "Vary");
    }

    [Fact]
    public async Task Request_Served_WritesOneLogLineWithTheRunAndTheTableRequests()
    {
        using var api = new InProcessApi().Publish(TwoRuns.A);

        await api.InvokeAsync(ApiEvents.Recommendations("C001"));
        await api.InvokeAsync(ApiEvents.Recommendations("C999", "West", "Plumbing"));
        await api.InvokeAsync(ApiEvents.Feedback("""{"customer_id":"C001","product_id":"PA100","rating":"High"}"""));
        await api.InvokeAsync(ApiEvents.Feedback("""{"rating":5}"""));

        var lines = api.LogLines.Where(line => line.GetProperty("message").GetString() == "Request served.").ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal(["/recommendations/{customerId}", "/recommendations/{customerId}", "/feedback", "/feedback"], lines.Select(line => line.GetProperty("route").GetString()));
        Assert.Equal([200, 200, 201, 400], lines.Select(line => line.GetProperty("statusCode").GetInt32()));
        Assert.Equal([2, 1, 2, 0], lines.Select(line => line.GetProperty("tableRequests").GetInt32()));
        Assert.Equal([TwoRuns.RunA, TwoRuns.RunA, TwoRuns.RunA, null], lines.Select(line => line.GetProperty("runId").GetString()));
        Assert.True(lines[1].GetProperty("coldStart").GetBoolean());
        Assert.True(lines[2].GetProperty("stored").GetBoolean());
        Assert.Equal(("rejected", "customer_id"), (lines[3].GetProperty("outcome").GetString(), lines[3].GetProperty("errorField").GetString()));
        Assert.All(lines, line => Assert.Equal(JsonValueKind.Number, line.GetProperty("tableMs").ValueKind));
        Assert.All(lines, line => Assert.Equal(JsonValueKind.Number, line.GetProperty("totalMs").ValueKind));
    }

    [Theory]
    [InlineData("GET", "/recommendations/{customerId}", null)]
    [InlineData("GET", "/recommendations/summary", null)]
    [InlineData("POST", "/feedback", """{"customer_id":"C001","product_id":"PA100","rating":"High"}""")]
    [InlineData("POST", "/feedback", "{\"customer_id\":\"\\u0000\"}")]
    [InlineData("GET", "/openapi.json", null)]
    [InlineData("DELETE", "/feedback", null)]
    [InlineData("GET", "/nothing", null)]
    public async Task HandleAsync_RequestObject_AnswersExactlyAsTheLambdaEntryPoint(string method, string resource, string? body)
    {
        using var viaEvent = new InProcessApi().Publish(TwoRuns.A);
        using var viaObject = new InProcessApi().Publish(TwoRuns.A);
        var request = ApiEvents.Event(method, resource, resource.Replace("{customerId}", "C001", StringComparison.Ordinal), body,
            new Dictionary<string, string> { ["Content-Type"] = "application/json" }, pathParameters: new Dictionary<string, string> { ["customerId"] = "C001" });

        var expected = await viaEvent.InvokeAsync(request);
        var actual = await viaObject.Function.HandleAsync(request, viaObject.Logger, CancellationToken.None);

        Assert.Equal((expected.StatusCode, expected.Body), (actual.StatusCode, actual.Body));
        Assert.Equal(expected.Headers!.OrderBy(pair => pair.Key), actual.Headers!.OrderBy(pair => pair.Key));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""{"httpMethod":"GET","path":"/feedback","queryStringParameters":["x"]}""")]
    [InlineData("""{"httpMethod":"GET","path":"/feedback","pathParameters":{"customerId":7}}""")]
    [InlineData("""{"httpMethod":"POST","path":"/feedback","headers":{"Idempotency-Key":["a"]}}""")]
    public async Task HandleAsync_EventThatIsNotAProxyEvent_FailsTheInvocation(string eventJson)
    {
        using var api = new InProcessApi();
        var bytes = Encoding.UTF8.GetBytes(eventJson);
        var context = new LambdaInvocationContext("r-1", DateTimeOffset.UtcNow.AddMinutes(1), null, null, api.Logger, TimeProvider.System);

        await Assert.ThrowsAnyAsync<JsonException>(() => api.Function.HandleAsync(new MemoryStream(bytes, 0, bytes.Length, false, true), context, CancellationToken.None));
    }
}
