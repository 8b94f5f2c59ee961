using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.AwsPackageReplacements.SageMakerRuntime;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.ProxyFunctions;
using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

public sealed class SegmentProxyFunctionTests
{
    private const string TwoCustomers = """{"customers":[{"age":50,"income":30000,"purchases":25},{"age":30,"income":40000,"purchases":10}]}""";
    private const string TwoAnswers = """{"predictions":[{"closest_cluster":1,"distance_to_cluster":2.5},{"closest_cluster":0,"distance_to_cluster":0.0}]}""";
    private static readonly string[] Origins = ["https://app.example.com", "https://admin.example.com:8443"];

    private static AwsServiceException EndpointError(HttpStatusCode status, string code, string message) =>
        new("SageMaker Runtime", "InvokeEndpoint", status, code, message, "request-1");

    private static double[][] Instances(byte[] body) =>
        [.. JsonDocument.Parse(body).RootElement.GetProperty("instances").EnumerateArray()
            .Select(row => row.EnumerateArray().Select(value => value.GetDouble()).ToArray())];

    [Fact]
    public async Task PostSegment_Customers_SendsScaledRowsAndAddsLabelsAndVersion()
    {
        var endpoint = new RecordingEndpoint(_ => TwoAnswers);
        using var harness = new ProxyHarness(endpoint);

        var response = await harness.PostAsync(TwoCustomers);

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("application/json", response.Headers!["Content-Type"]);
        var call = Assert.Single(endpoint.Calls);
        Assert.Equal("segments", call.EndpointName);
        Assert.Equal([[1.0, -1.5, 1.0], [-1.0, -1.0, -2.0]], Instances(call.Body));
        Assert.Equal("""
            {"predictions":[{"closest_cluster":1,"distance_to_cluster":2.5,"segment_label":"Middle-aged mid-income regular buyers"},{"closest_cluster":0,"distance_to_cluster":0,"segment_label":"Young budget-conscious occasional buyers"}],"endpoint":"segments","model_version":"7","features_processed":2,"scored_by":"endpoint"}
            """, response.Body);
    }

    [Fact]
    public async Task PostSegment_SingleCustomerObject_IsScoredAsOne()
    {
        var endpoint = new RecordingEndpoint(_ => """{"predictions":[{"closest_cluster":4.0,"distance_to_cluster":0.92}]}""");
        using var harness = new ProxyHarness(endpoint);

        var response = await harness.PostAsync("""{"age":60,"income":100000,"purchases":30}""");

        var json = response.Json();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal([[2.0, 2.0, 2.0]], Instances(Assert.Single(endpoint.Calls).Body));
        Assert.Equal("Senior premium frequent buyers", json.GetProperty("predictions")[0].GetProperty("segment_label").GetString());
        Assert.Equal(4, json.GetProperty("predictions")[0].GetProperty("closest_cluster").GetInt32());
        Assert.Equal(1, json.GetProperty("features_processed").GetInt32());
    }

    [Fact]
    public async Task PostSegment_LegacyFeatures_AreSentUnchanged()
    {
        var endpoint = new RecordingEndpoint(_ => """{"predictions":[{"closest_cluster":0,"distance_to_cluster":0.5}]}""");
        using var harness = new ProxyHarness(endpoint);

        var response = await harness.PostAsync("""{"features":[[-1.14,-1.13,0.68]]}""");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal([[-1.14, -1.13, 0.68]], Instances(Assert.Single(endpoint.Calls).Body));
    }

    [Fact]
    public async Task PostSegment_CentroidsMode_ScoresWithoutTheEndpoint()
    {
        using var harness = new ProxyHarness(endpoint: null, mode: ServingMode.Centroids);

        var response = await harness.PostAsync("""{"customers":[{"age":30,"income":40000,"purchases":10},{"age":60,"income":100000,"purchases":32}]}""");

        var json = response.Json();
        var predictions = json.GetProperty("predictions");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal([0, 4], predictions.EnumerateArray().Select(prediction => prediction.GetProperty("closest_cluster").GetInt32()));
        Assert.Equal(["Young budget-conscious occasional buyers", "Senior premium frequent buyers"],
            predictions.EnumerateArray().Select(prediction => prediction.GetProperty("segment_label").GetString()));
        // (60, 100000, 32) is 2/5 of a standard deviation from the senior centroid along purchases; scikit-learn's
        // distance formula (reproduced) cancels to within a few ulps of 0.4.
        Assert.Equal(0.0, predictions[0].GetProperty("distance_to_cluster").GetDouble());
        Assert.Equal(0.4, predictions[1].GetProperty("distance_to_cluster").GetDouble(), 1e-14);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("endpoint").ValueKind);
        Assert.Equal("centroids", json.GetProperty("scored_by").GetString());
        Assert.Equal("7", json.GetProperty("model_version").GetString());
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "ValidationError", "Endpoint segments of account 123456789012 not found.")]
    [InlineData(HttpStatusCode.BadRequest, "ValidationException", "Could not find endpoint \"segments\".")]
    [InlineData(HttpStatusCode.BadRequest, "ThrottlingException", "Rate exceeded")]
    [InlineData(HttpStatusCode.TooManyRequests, "ModelNotReadyException", "Model is not ready")]
    [InlineData(HttpStatusCode.ServiceUnavailable, "ServiceUnavailable", "Service is temporarily unavailable.")]
    public async Task PostSegment_EndpointUnavailable_Is503WithRetryAfter(HttpStatusCode status, string code, string message)
    {
        using var harness = new ProxyHarness(RecordingEndpoint.Throwing(EndpointError(status, code, message)));

        var response = await harness.PostAsync(TwoCustomers);

        Assert.Equal(503, response.StatusCode);
        Assert.Equal("30", response.Headers!["Retry-After"]);
        Assert.Equal($"the endpoint segments is unavailable ({code}: {message})", response.Json().GetProperty("error").GetString());
        Assert.False(response.Json().TryGetProperty("field", out _));
    }

    [Fact]
    public async Task PostSegment_EndpointUnreachable_Is503()
    {
        using var harness = new ProxyHarness(RecordingEndpoint.Throwing(new HttpRequestException("Connection refused")));

        var response = await harness.PostAsync(TwoCustomers);

        Assert.Equal(503, response.StatusCode);
        Assert.Equal("the endpoint segments could not be reached (Connection refused)", response.Json().GetProperty("error").GetString());
    }

    [Fact]
    public async Task PostSegment_FallbackModeWithEndpointMissing_ScoresWithCentroidsAndSaysSo()
    {
        using var harness = new ProxyHarness(RecordingEndpoint.Throwing(EndpointError(HttpStatusCode.BadRequest, "ValidationError", "Could not find endpoint segments.")),
            ServingMode.EndpointWithFallback);

        var response = await harness.PostAsync("""{"age":30,"income":40000,"purchases":10}""");

        var json = response.Json();
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("centroids", json.GetProperty("scored_by").GetString());
        Assert.True(json.GetProperty("fallback").GetBoolean());
        Assert.Equal("the endpoint segments is unavailable (ValidationError: Could not find endpoint segments.)", json.GetProperty("fallback_reason").GetString());
        Assert.Equal(0, json.GetProperty("predictions")[0].GetProperty("closest_cluster").GetInt32());
        Assert.Equal("segments", json.GetProperty("endpoint").GetString());
    }

    [Fact]
    public async Task PostSegment_FallbackModeWithModelError_StillFailsWith502()
    {
        using var harness = new ProxyHarness(RecordingEndpoint.Throwing(EndpointError(HttpStatusCode.FailedDependency, "ModelError", "Received server error (500)")),
            ServingMode.EndpointWithFallback);

        var response = await harness.PostAsync(TwoCustomers);

        Assert.Equal(502, response.StatusCode);
        Assert.Equal("the endpoint segments failed (ModelError: Received server error (500))", response.Json().GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("not json", "the endpoint segments answered invalid JSON")]
    [InlineData("""{"result":[]}""", "the endpoint segments answered without a predictions list")]
    [InlineData("""{"predictions":[{"closest_cluster":1,"distance_to_cluster":2.5}]}""", "the endpoint segments answered 1 predictions for 2 rows")]
    [InlineData("""{"predictions":[{"closest_cluster":1.5,"distance_to_cluster":2.5},{"closest_cluster":1,"distance_to_cluster":1}]}""",
        "the endpoint segments answered prediction 0 without a whole closest_cluster and a finite distance_to_cluster")]
    [InlineData("""{"predictions":[{"closest_cluster":1,"distance_to_cluster":1},{"closest_cluster":1,"distance_to_cluster":"x"}]}""",
        "the endpoint segments answered prediction 1 without a whole closest_cluster and a finite distance_to_cluster")]
    public async Task PostSegment_MalformedEndpointAnswer_Is502(string answer, string error)
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => answer));

        var response = await harness.PostAsync(TwoCustomers);

        Assert.Equal(502, response.StatusCode);
        Assert.StartsWith(error, response.Json().GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"customers":[{"age":34,"income":72000,"purchases":12},{"age":34,"income":72000,"purchases":12},{"age":34,"income":72000,"purchases":12},{"age":34,"income":-1,"purchases":12}]}""",
        "customers[3].income", "-1 must be >= 0")]
    [InlineData("""{"customers":[{"age":34,"income":72000}]}""", "customers[0].purchases", "is missing: this model needs age, income, purchases")]
    [InlineData("""{"customers":[{"age":34,"income":72000,"purchases":12""", "body", "the body is not valid JSON at line 1, byte 54: ")]
    [InlineData("""{"features":[[1,2]]}""", "features[0]", "has 2 values; this model takes 3 scaled features (Age, Income, Purchases)")]
    public async Task PostSegment_CallerMistake_Is400NamingTheFieldWithoutCallingTheEndpoint(string body, string field, string error)
    {
        var endpoint = new RecordingEndpoint(_ => TwoAnswers);
        using var harness = new ProxyHarness(endpoint);

        var response = await harness.PostAsync(body);

        var json = response.Json();
        Assert.Equal(400, response.StatusCode);
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.StartsWith(error, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(endpoint.Calls);
    }

    [Fact]
    public async Task PostSegment_BatchAboveTheConfiguredLimit_Is400()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers), maxBatchSize: 1);

        var response = await harness.PostAsync(TwoCustomers);

        Assert.Equal(400, response.StatusCode);
        Assert.Equal("""{"error":"customers has 2 entries; at most 1 are accepted per request","field":"customers"}""", response.Body);
    }

    [Fact]
    public async Task PostSegment_NoModelDeployed_Is503WithRetryAfter()
    {
        var store = ProxyModels.Store();
        store.Delete(new S3Location(ProxyModels.Bucket, DeployedMarker.Key));
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers), store: store);

        var response = await harness.PostAsync(TwoCustomers);

        Assert.Equal(503, response.StatusCode);
        Assert.Equal("30", response.Headers!["Retry-After"]);
        Assert.Equal("""{"error":"no model is deployed yet (s3://model-bucket/deployed/version.json does not exist)"}""", response.Body);
    }

    [Fact]
    public async Task PostSegment_MarkerAccessDenied_Is503NoModelDeployedYetWithRetryAfter()
    {
        var store = ProxyModels.Store();
        store.Deny(new S3Location(ProxyModels.Bucket, DeployedMarker.Key));
        var endpoint = new RecordingEndpoint(_ => TwoAnswers);
        using var harness = new ProxyHarness(endpoint, store: store);

        var response = await harness.PostAsync(TwoCustomers);

        Assert.Equal(503, response.StatusCode);
        Assert.Equal("30", response.Headers!["Retry-After"]);
        Assert.Equal("""{"error":"no model is deployed yet (or this function may not read s3://model-bucket/deployed/version.json)"}""", response.Body);
        Assert.Empty(endpoint.Calls);
    }

    [Fact]
    public async Task Cors_AllowedOrigin_IsEchoedOnEveryAnswerIncludingErrors()
    {
        var store = ProxyModels.Store();
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers), store: store, corsAllowedOrigins: Origins);
        var origin = new Dictionary<string, string> { ["Origin"] = "https://app.example.com" };

        var responses = new List<APIGatewayProxyResponse>
        {
            await harness.SendAsync(new APIGatewayProxyRequest { HttpMethod = "POST", Path = "/segment", Resource = "/segment", Body = TwoCustomers, Headers = origin }),
            await harness.GetAsync("/segments", origin),
            await harness.GetAsync("/", origin),
            await harness.SendAsync(new APIGatewayProxyRequest { HttpMethod = "POST", Path = "/segment", Resource = "/segment", Body = "{\"age\":\"x\"}", Headers = origin }),
            await harness.GetAsync("/segment", origin),
            await harness.GetAsync("/admin", origin),
        };
        store.Delete(new S3Location(ProxyModels.Bucket, DeployedMarker.Key));
        harness.Clock.Advance(TimeSpan.FromSeconds(60));
        responses.Add(await harness.GetAsync("/segments", origin));

        Assert.Equal([200, 200, 200, 400, 405, 404, 503], responses.Select(response => response.StatusCode));
        Assert.All(responses, response =>
        {
            Assert.Equal("https://app.example.com", response.Headers!["Access-Control-Allow-Origin"]);
            Assert.Equal("Origin", response.Headers["Vary"]);
            Assert.Equal("Retry-After", response.Headers["Access-Control-Expose-Headers"]);
        });
        Assert.Equal("text/html; charset=utf-8", responses[2].Headers!["Content-Type"]);
        Assert.Equal("30", responses[6].Headers!["Retry-After"]);
    }

    [Theory]
    [InlineData("https://app.example.com")]
    [InlineData("https://admin.example.com:8443")]
    public async Task Cors_SeveralOrigins_EachAllowedOriginGetsItselfBack(string origin)
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers), corsAllowedOrigins: Origins);

        // HTTP/2 clients send header names in lower case, and API Gateway passes them on as sent.
        var response = await harness.GetAsync("/segments", new Dictionary<string, string> { ["origin"] = origin });

        Assert.Equal(origin, response.Headers!["Access-Control-Allow-Origin"]);
        Assert.Equal("Origin", response.Headers["Vary"]);
    }

    [Theory]
    [InlineData("https://evil.example.com")]
    [InlineData("http://app.example.com")]
    [InlineData("https://app.example.com:8443")]
    [InlineData("https://app.example.com.evil.example")]
    [InlineData("https://APP.example.com")]
    [InlineData("null")]
    [InlineData("")]
    public async Task Cors_OriginNotAllowed_GetsNoAllowOriginButVary(string origin)
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers), corsAllowedOrigins: Origins);

        var response = await harness.GetAsync("/segments", new Dictionary<string, string> { ["Origin"] = origin });

        Assert.Equal(200, response.StatusCode);
        Assert.False(response.Headers!.ContainsKey("Access-Control-Allow-Origin"));
        Assert.False(response.Headers.ContainsKey("Access-Control-Expose-Headers"));
        Assert.Equal("Origin", response.Headers["Vary"]);
    }

    [Fact]
    public async Task Cors_NoOriginHeader_GetsNoAllowOriginButVary()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers), corsAllowedOrigins: Origins);

        var responses = new[] { await harness.PostAsync(TwoCustomers), await harness.GetAsync("/", new Dictionary<string, string> { ["Accept"] = "text/html" }) };

        Assert.All(responses, response =>
        {
            Assert.False(response.Headers!.ContainsKey("Access-Control-Allow-Origin"));
            Assert.Equal("Origin", response.Headers["Vary"]);
        });
    }

    [Fact]
    public async Task Cors_NotConfigured_NoCorsHeadersEvenForAnOrigin()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers));

        var responses = new[]
        {
            await harness.GetAsync("/segments", new Dictionary<string, string> { ["Origin"] = "https://app.example.com" }),
            await harness.GetAsync("/admin", new Dictionary<string, string> { ["Origin"] = "https://app.example.com" }),
        };

        Assert.All(responses, response => Assert.DoesNotContain(response.Headers!.Keys,
            name => name.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase) || name.Equals("Vary", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task PostSegment_Base64Body_IsDecoded()
    {
        var endpoint = new RecordingEndpoint(_ => TwoAnswers);
        using var harness = new ProxyHarness(endpoint);

        var response = await harness.SendAsync(new APIGatewayProxyRequest
        {
            HttpMethod = "POST",
            Resource = "/segment",
            Path = "/segment",
            IsBase64Encoded = true,
            Body = Convert.ToBase64String(Encoding.UTF8.GetBytes(TwoCustomers)),
        });

        Assert.Equal(200, response.StatusCode);
        Assert.Single(endpoint.Calls);
    }

    [Fact]
    public async Task Request_Served_WritesOneLogLineWithTheLatencySplit()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers));

        await harness.PostAsync(TwoCustomers);
        await harness.PostAsync("""{"age":"x"}""");

        var lines = harness.LogLines.Where(line => line.GetProperty("message").GetString() == "Request served.").ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(200, lines[0].GetProperty("statusCode").GetInt32());
        Assert.Equal("ok", lines[0].GetProperty("outcome").GetString());
        Assert.Equal("endpoint", lines[0].GetProperty("scoredBy").GetString());
        Assert.Equal("7", lines[0].GetProperty("modelVersion").GetString());
        Assert.Equal(2, lines[0].GetProperty("rows").GetInt32());
        foreach (var figure in new[] { "parseMs", "modelMs", "scaleMs", "endpointMs", "totalMs" })
        {
            Assert.Equal(JsonValueKind.Number, lines[0].GetProperty(figure).ValueKind);
        }

        Assert.Equal("rejected", lines[1].GetProperty("outcome").GetString());
        Assert.Equal("age", lines[1].GetProperty("errorField").GetString());
        Assert.Equal(JsonValueKind.Null, lines[1].GetProperty("endpointMs").ValueKind);
    }

    [Fact]
    public async Task GetSegments_ListsProfilesVersionAndMetrics()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers));

        var response = await harness.GetAsync("/segments");

        Assert.Equal(200, response.StatusCode);
        var json = response.Json();
        Assert.Equal("7", json.GetProperty("model_version").GetString());
        Assert.Equal(["Age", "Income", "Purchases"], json.GetProperty("features").EnumerateArray().Select(feature => feature.GetString()));
        var senior = json.GetProperty("segments")[2];
        Assert.Equal("""{"id":4,"label":"Senior premium frequent buyers","size":20,"share":0.2,"centroid":{"Age":60,"Income":100000,"Purchases":30}}""", senior.GetRawText());
        Assert.Equal("""{"k":3,"rows":100,"silhouette":0.61,"calinski_harabasz":250.5,"davies_bouldin":0.5}""", json.GetProperty("metrics").GetRawText());
    }

    [Fact]
    public async Task GetRoot_ServesTheSelfContainedExplorerPage()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers));

        var response = await harness.GetAsync("/");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Headers!["Content-Type"]);
        Assert.StartsWith("<!doctype html>", response.Body, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("name=\"viewport\"", response.Body, StringComparison.Ordinal);
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", response.Body);
        Assert.Contains("default-src 'none'", response.Headers["Content-Security-Policy"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRoot_ExplorerScripts_ParseAsJavaScript()
    {
        var scripts = Scripts(await ExplorerPageAsync());

        var (exitCode, _, errors) = await NodeAsync(string.Join("\n", scripts.Values), "--check");

        Assert.Equal(["page-api", ""], scripts.Keys);
        Assert.True(exitCode == 0, "the explorer page's scripts do not parse:\n" + errors);
    }

    [Fact]
    public async Task GetRoot_ExplorerPage_KeepsTheKeyInTheTabAndOutOfEveryUrl()
    {
        var page = await ExplorerPageAsync();

        var input = Regex.Match(page, "<input id=\"api-key\"[^>]*>").Value;

        Assert.DoesNotContain("localStorage", page, StringComparison.Ordinal);
        Assert.DoesNotContain("document.cookie", page, StringComparison.Ordinal);
        Assert.Contains("window.sessionStorage", Scripts(page)[""], StringComparison.Ordinal);
        // Without a name the field is never part of a form submission, so not even a page whose script failed can put the key in a URL.
        Assert.Equal("""<input id="api-key" type="password" autocomplete="off" spellcheck="false">""", input);
        Assert.Matches("<form id=\"api-key-form\" hidden>\\s*<label for=\"api-key\">API key</label>", page);
        Assert.Contains("<code>aws apigateway get-api-key --api-key &lt;id&gt; --include-value</code>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExplorerApi_NoKeyInTheTab_SendsRequestsWithoutAKeyHeader()
    {
        var result = await ExplorerApiAsync("""
            const store = storage({});
            const api = PageApi.create("/prod/", server([{ status: 200, body: { segments: [] } }, { status: 200, body: { predictions: [] } }]), store);
            const segments = await api.request("segments");
            await api.request("segment", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{\"age\":34}" });
            return { calls, segments, stored: [...store.map] };
            """);

        Assert.Equal("""[{"url":"/prod/segments","method":"GET","headers":{},"body":null},{"url":"/prod/segment","method":"POST","headers":{"Content-Type":"application/json"},"body":"{\"age\":34}"}]""",
            result.GetProperty("calls").GetRawText());
        Assert.Equal("""{"ok":true,"status":200,"body":{"segments":[]},"keyNeeded":false,"keyRefused":false}""", result.GetProperty("segments").GetRawText());
        Assert.Equal("[]", result.GetProperty("stored").GetRawText());
    }

    [Fact]
    public async Task ExplorerApi_KeyInSessionStorage_IsSentAsXApiKeyOnEveryRequestAndNeverInTheUrl()
    {
        var result = await ExplorerApiAsync("""
            const api = PageApi.create("/prod/", server([{ status: 200, body: {} }, { status: 200, body: {} }]), storage({ "segment-explorer.api-key": "k3y-Value" }));
            await api.request("segments");
            await api.request("segment", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
            return { calls };
            """);

        var calls = result.GetProperty("calls").EnumerateArray().ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, call =>
        {
            Assert.Equal("k3y-Value", call.GetProperty("headers").GetProperty("x-api-key").GetString());
            Assert.DoesNotContain("k3y", call.GetProperty("url").GetString(), StringComparison.OrdinalIgnoreCase);
        });
        Assert.Equal("application/json", calls[1].GetProperty("headers").GetProperty("Content-Type").GetString());
    }

    [Theory]
    [InlineData("""{"message":"Forbidden"}""")]
    [InlineData("""{"error":"Forbidden"}""")]
    public async Task ExplorerApi_ForbiddenWithoutAKey_AsksForOneThenStoresItInSessionStorageOnlyAndSendsIt(string forbidden)
    {
        var result = await ExplorerApiAsync($$"""
            const store = storage({});
            const api = PageApi.create("/prod/", server([{ status: 403, body: {{forbidden}} }, { status: 200, body: {} }]), store);
            const refused = await api.request("segments");
            api.setKey("  k3y-Value  ");
            const answered = await api.request("segments");
            return { refused, answered, calls, stored: [...store.map] };
            """);

        Assert.Equal($$"""{"ok":false,"status":403,"body":{{forbidden}},"keyNeeded":true,"keyRefused":false}""", result.GetProperty("refused").GetRawText());
        Assert.Equal("""[["segment-explorer.api-key","k3y-Value"]]""", result.GetProperty("stored").GetRawText());
        Assert.False(result.GetProperty("calls")[0].GetProperty("headers").TryGetProperty("x-api-key", out _));
        Assert.Equal("k3y-Value", result.GetProperty("calls")[1].GetProperty("headers").GetProperty("x-api-key").GetString());
        Assert.True(result.GetProperty("answered").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task ExplorerApi_StoredKeyRefused_IsForgottenAndNotSentAgain()
    {
        var result = await ExplorerApiAsync("""
            const store = storage({ "segment-explorer.api-key": "old-key" });
            const api = PageApi.create("/prod/", server([{ status: 403, body: { error: "Forbidden" } }, { status: 403, body: { error: "Forbidden" } }]), store);
            const refused = await api.request("segments");
            const asked = await api.request("segments");
            return { refused, asked, calls, stored: [...store.map] };
            """);

        Assert.Equal((true, true), (result.GetProperty("refused").GetProperty("keyNeeded").GetBoolean(), result.GetProperty("refused").GetProperty("keyRefused").GetBoolean()));
        Assert.Equal((true, false), (result.GetProperty("asked").GetProperty("keyNeeded").GetBoolean(), result.GetProperty("asked").GetProperty("keyRefused").GetBoolean()));
        Assert.Equal("[]", result.GetProperty("stored").GetRawText());
        Assert.Equal("old-key", result.GetProperty("calls")[0].GetProperty("headers").GetProperty("x-api-key").GetString());
        Assert.False(result.GetProperty("calls")[1].GetProperty("headers").TryGetProperty("x-api-key", out _));
    }

    [Theory]
    [InlineData(403, """{"error":"Missing Authentication Token"}""", """{"error":"Missing Authentication Token"}""")]
    [InlineData(403, """{"message":"User is not authorized"}""", """{"message":"User is not authorized"}""")]
    [InlineData(403, "\"Forbidden\"", "\"Forbidden\"")]
    [InlineData(503, """{"error":"no model is deployed yet"}""", """{"error":"no model is deployed yet"}""")]
    [InlineData(502, "undefined", "null")]
    public async Task ExplorerApi_OtherAnswers_AreNotKeyRefusalsAndKeepTheKey(int status, string body, string parsed)
    {
        var result = await ExplorerApiAsync($$"""
            const store = storage({ "segment-explorer.api-key": "k3y" });
            const api = PageApi.create("/prod/", server([{ status: {{status}}, body: {{body}} }]), store);
            const answer = await api.request("segments");
            return { answer, stored: [...store.map] };
            """);

        Assert.Equal($$"""{"ok":false,"status":{{status}},"body":{{parsed}},"keyNeeded":false,"keyRefused":false}""", result.GetProperty("answer").GetRawText());
        Assert.Equal("""[["segment-explorer.api-key","k3y"]]""", result.GetProperty("stored").GetRawText());
    }

    [Fact]
    public async Task ExplorerApi_SessionStorageBlocked_KeepsTheKeyForThePageOnly()
    {
        var result = await ExplorerApiAsync("""
            const blocked = { getItem() { throw new Error("SecurityError"); }, setItem() { throw new Error("SecurityError"); }, removeItem() { throw new Error("SecurityError"); } };
            const api = PageApi.create("/", server([{ status: 200, body: {} }]), blocked);
            api.setKey("k3y");
            await api.request("segments");
            return { calls };
            """);

        Assert.Equal("""[{"url":"/segments","method":"GET","headers":{"x-api-key":"k3y"},"body":null}]""", result.GetProperty("calls").GetRawText());
    }

    [Fact]
    public async Task ExplorerApi_ApiUnreachable_Rejects()
    {
        var result = await ExplorerApiAsync("""
            const api = PageApi.create("/", () => Promise.reject(new TypeError("Failed to fetch")), storage({}));
            try { await api.request("segments"); return { rejected: null }; } catch (error) { return { rejected: error.message }; }
            """);

        Assert.Equal("Failed to fetch", result.GetProperty("rejected").GetString());
    }

    [Theory]
    [InlineData("GET", "/segment", 405, "method", "GET is not allowed here; use POST", "POST")]
    [InlineData("DELETE", "/segments", 405, "method", "DELETE is not allowed here; use GET", "GET")]
    [InlineData("POST", "/", 405, "method", "POST is not allowed here; use GET", "GET")]
    [InlineData("GET", "/admin", 404, "path", "no resource /admin: use POST /segment, GET /segments or GET /", null)]
    public async Task UnknownRouteOrMethod_IsA4xxNamingWhatIsWrong(string method, string path, int status, string field, string error, string? allow)
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers));

        var response = await harness.SendAsync(new APIGatewayProxyRequest { HttpMethod = method, Path = path, Resource = path });

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(field, response.Json().GetProperty("field").GetString());
        Assert.Equal(error, response.Json().GetProperty("error").GetString());
        Assert.Equal(allow, response.Headers!.GetValueOrDefault("Allow"));
    }

    [Fact]
    public async Task Route_StageTrailingSlashAndProxyResource_ResolveToTheSamePath()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers));

        var response = await harness.SendAsync(new APIGatewayProxyRequest { HttpMethod = "get", Path = "/segments/", Resource = "/{proxy+}" });

        Assert.Equal(200, response.StatusCode);
    }

    [Fact]
    public async Task SageMakerRuntimeEndpoint_SendsASignedInvokeEndpointTheStrictStandInAccepts()
    {
        using var standIn = new SageMakerRuntimeStandIn();
        standIn.Handle("InvokeEndpoint", _ => new StandInResponse { Body = Encoding.UTF8.GetBytes(TwoAnswers) });
        var endpoint = new SageMakerRuntimeEndpoint(new SageMakerRuntimeClient(TestSupport.OptionsFor(standIn)));
        using var harness = new ProxyHarness(endpoint);

        var response = await harness.PostAsync(TwoCustomers);

        Assert.Equal(200, response.StatusCode);
        standIn.AssertNoInvalidRequests();
        var request = Assert.Single(standIn.Requests);
        Assert.Equal("/endpoints/segments/invocations", request.RawUrl);
        Assert.Equal("application/json", request.Headers["Content-Type"]);
        Assert.Equal("application/json", request.Headers["Accept"]);
        Assert.Equal([[1.0, -1.5, 1.0], [-1.0, -1.0, -2.0]], Instances(request.Body));
    }

    /// <summary>
    /// An event as API Gateway's REST proxy integration sends it, with the members the handler skips, its body as a JSON
    /// string (escaped) and the origin header in lower case, as HTTP/2 clients send it.
    /// </summary>
    private static byte[] ProxyEventJson(string method, string path, string? body, bool isBase64Encoded = false, string? origin = null)
    {
        var headers = new Dictionary<string, string> { ["Accept"] = "*/*", ["content-type"] = "application/json", ["X-Forwarded-For"] = "203.0.113.9" };
        if (origin is not null)
        {
            headers["origin"] = origin;
        }

        return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new APIGatewayProxyRequest
        {
            Resource = path,
            Path = path,
            HttpMethod = method,
            Headers = headers,
            MultiValueHeaders = headers.ToDictionary(header => header.Key, header => (IReadOnlyList<string>)[header.Value]),
            QueryStringParameters = new Dictionary<string, string> { ["debug"] = "1" },
            RequestContext = new ProxyRequestContext
            {
                RequestId = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                Stage = "prod",
                ResourcePath = path,
                HttpMethod = method,
                AccountId = "123456789012",
                ApiId = "1234567890",
                Identity = new RequestIdentity { SourceIp = "203.0.113.9", UserAgent = "curl/8.5.0" },
            },
            Body = body,
            IsBase64Encoded = isBase64Encoded,
        }, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest));
    }

    [Theory]
    [InlineData("POST", "/segment", TwoCustomers, false)]
    [InlineData("POST", "/segment", """{"age":60,"income":100000,"purchases":30}""", false)]
    [InlineData("POST", "/segment", """{"features":[[-1.14,-1.13,0.68]]}""", false)]
    [InlineData("POST", "/segment", """{"customers":[{"age":34,"income":"lots"}]}""", false)]
    [InlineData("POST", "/segment", "{\"customers\":[{\"\u00e4ge\":1}]}", false)]
    [InlineData("POST", "/segment", """{"customers":[{"age":34,"income":72000,"purchases":12""", false)]
    [InlineData("POST", "/segment", "eyJhZ2UiOjMwLCJpbmNvbWUiOjQwMDAwLCJwdXJjaGFzZXMiOjEwfQ==", true)]
    [InlineData("POST", "/segment", "not base64!", true)]
    [InlineData("POST", "/segment", null, false)]
    [InlineData("GET", "/segments", null, false)]
    [InlineData("GET", "/", null, false)]
    [InlineData("DELETE", "/segments", null, false)]
    [InlineData("GET", "/admin", null, false)]
    public async Task HandleAsync_LambdaEvent_AnswersExactlyAsForTheRequestObject(string method, string path, string? body, bool isBase64Encoded)
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers), ServingMode.EndpointWithFallback, corsAllowedOrigins: Origins);
        var eventJson = ProxyEventJson(method, path, body, isBase64Encoded, Origins[1]);
        var request = JsonSerializer.Deserialize(eventJson, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest)!;

        var (fromEvent, _) = await harness.InvokeAsync(eventJson);
        var fromObject = await harness.SendAsync(request);

        Assert.Equal(LambdaEntryPoint.Show(fromObject), LambdaEntryPoint.Show(fromEvent));
        Assert.Equal(Origins[1], fromEvent.Headers!["Access-Control-Allow-Origin"]);
        Assert.False(fromEvent.IsBase64Encoded);
    }

    [Theory]
    [InlineData(ServingMode.Centroids)]
    [InlineData(ServingMode.Endpoint)]
    public async Task HandleAsync_BatchAtTheLimit_AnswersEveryCustomerAsForTheRequestObject(ServingMode mode)
    {
        var random = new Random(5);
        var body = "{\"customers\":[" + string.Join(",", Enumerable.Range(0, 1000).Select(_ => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{{\"age\":{random.NextDouble() * 100:R},\"income\":{random.NextDouble() * 2e5:R},\"purchases\":{random.Next(1, 80)}}}"))) + "]}";
        var endpoint = new RecordingEndpoint(request => "{\"predictions\":[" + string.Join(",", Enumerable.Range(0, 1000).Select(index =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"closest_cluster\":{index % 3},\"distance_to_cluster\":{index / 7.0:R}}}"))) + "]}");
        using var harness = new ProxyHarness(endpoint, mode);
        var eventJson = ProxyEventJson("POST", "/segment", body);

        var (fromEvent, _) = await harness.InvokeAsync(eventJson);
        var fromObject = await harness.SendAsync(JsonSerializer.Deserialize(eventJson, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest)!);

        Assert.Equal(200, fromEvent.StatusCode);
        Assert.Equal(1000, JsonDocument.Parse(fromEvent.Body!).RootElement.GetProperty("predictions").GetArrayLength());
        Assert.Equal(LambdaEntryPoint.Show(fromObject), LambdaEntryPoint.Show(fromEvent));
    }

    [Fact]
    public async Task HandleAsync_LabelsWithQuotesBackslashesAndOtherScripts_ArriveIntact()
    {
        const string Label = "Say \"hi\" \\ <b>&amp;</b> \u00e4\u00df \u65e5\u672c \ud83d\ude00 \t end";
        var store = ProxyModels.Store();
        store.Put(S3Location.Parse(ProxyModels.ProfilesUri), ProxyModels.Profiles().Replace("\"Senior premium frequent buyers\"", JsonSerializer.Serialize(Label), StringComparison.Ordinal));
        using var harness = new ProxyHarness(mode: ServingMode.Centroids, store: store);

        var (response, document) = await harness.InvokeAsync(ProxyEventJson("POST", "/segment", """{"customers":[{"age":60,"income":100000,"purchases":30},{"age":30,"income":40000,"purchases":10}]}"""));

        Assert.True(response.StatusCode == 200, response.Body);
        var labels = JsonDocument.Parse(response.Body!).RootElement.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("segment_label").GetString());
        Assert.Equal([Label, "Young budget-conscious occasional buyers"], labels);
        Assert.StartsWith("{\"body\":\"{\\\"predictions\\\":[{\\\"closest_cluster\\\":4,", document, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_EventInAStreamWithoutAVisibleBuffer_IsReadWhole()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers));
        var eventJson = ProxyEventJson("POST", "/segment", TwoCustomers + new string(' ', 20_000));

        var (response, _) = await harness.InvokeAsync(eventJson, new BufferedStream(new MemoryStream(eventJson), 1024));

        Assert.Equal(200, response.StatusCode);
        Assert.Equal(2, JsonDocument.Parse(response.Body!).RootElement.GetProperty("features_processed").GetInt32());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("""{"httpMethod":"POST","path":"/segment","body":5}""")]
    [InlineData("""{"httpMethod":"POST","path":"/segment","body":"{}","isBase64Encoded":"yes"}""")]
    [InlineData("""{"httpMethod":["POST"],"path":"/segment"}""")]
    [InlineData("""{"httpMethod":"POST","path":"/segment","body":"\ud800"}""")]
    [InlineData("""{"httpMethod":"POST","path":"/segment","headers":"Origin"}""")]
    [InlineData("""{"httpMethod":"POST","path":"/segment","headers":{"Origin":7}}""")]
    [InlineData("""{"httpMethod":"POST","path":"/segment"} {}""")]
    public async Task HandleAsync_EventThatIsNotAProxyEvent_FailsTheInvocation(string eventJson)
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers), corsAllowedOrigins: Origins);

        await Assert.ThrowsAnyAsync<JsonException>(() => harness.InvokeAsync(Encoding.UTF8.GetBytes(eventJson)));
    }

    [Fact]
    public async Task HandleAsync_BodyThatIsNotUtf8_FailsTheInvocation()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers));
        byte[] eventJson = [.. """{"httpMethod":"POST","path":"/segment","body":"{\"age\":"""u8, 0xC3, 0x28, .. """}"}"""u8];

        await Assert.ThrowsAnyAsync<JsonException>(() => harness.InvokeAsync(eventJson));
    }

    private static readonly int[] SegmentIds = [0, 1, 4];

    [Fact]
    public void SegmentAnswer_Numbers_AreWrittenAsUtf8JsonWriterWritesThem()
    {
        var model = ProxyModels.Load();
        var random = new Random(11);
        double[] special = [0, -0.0, 1e-7, 1e21, 1e-300, 4.9e-324, double.MaxValue, 0.1 + 0.2, 2.5, 123456789.123456789, 1.0 / 3];
        Prediction[] predictions = [.. special.Concat(Enumerable.Range(0, 2000).Select(_ => Math.Pow(10, random.Next(-12, 12)) * random.NextDouble()))
            .Select((distance, index) => new Prediction(index % 7 == 0 ? 99 : SegmentIds[index % 3], distance))];
        using var plain = new PooledBuffer(16);
        using var embedded = new PooledBuffer(16);

        SegmentAnswer.Write(plain, predictions, model, "segments", "endpoint", "the endpoint segments is unavailable (\"quoted\")", embedded: false);
        SegmentAnswer.Write(embedded, predictions, model, "segments", "endpoint", "the endpoint segments is unavailable (\"quoted\")", embedded: true);

        using var expected = new MemoryStream();
        using (var writer = new Utf8JsonWriter(expected))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("predictions");
            foreach (var prediction in predictions)
            {
                writer.WriteStartObject();
                writer.WriteNumber("closest_cluster", prediction.ClosestCluster);
                writer.WriteNumber("distance_to_cluster", prediction.DistanceToCluster);
                writer.WriteString("segment_label", model.LabelOf(prediction.ClosestCluster));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("endpoint", "segments");
            writer.WriteString("model_version", "7");
            writer.WriteNumber("features_processed", predictions.Length);
            writer.WriteString("scored_by", "endpoint");
            writer.WriteBoolean("fallback", true);
            writer.WriteString("fallback_reason", "the endpoint segments is unavailable (\"quoted\")");
            writer.WriteEndObject();
        }

        Assert.Equal(Encoding.UTF8.GetString(expected.ToArray()), Encoding.UTF8.GetString(plain.Written));
        Assert.Equal(Encoding.UTF8.GetString(plain.Written), JsonDocument.Parse((byte[])[(byte)'"', .. embedded.Written, (byte)'"']).RootElement.GetString());
    }

    [Fact]
    public void SegmentAnswer_NonFiniteDistance_IsRefusedRatherThanWrittenAsInvalidJson()
    {
        using var output = new PooledBuffer(16);

        var exception = Assert.Throws<InvalidOperationException>(() =>
            SegmentAnswer.Write(output, [new Prediction(0, 1), new Prediction(1, double.NaN)], ProxyModels.Load(), null, "centroids", null, embedded: true));

        Assert.Equal("Prediction 1 has the distance NaN, which JSON cannot carry.", exception.Message);
    }

    /// <summary>
    /// Stand-ins for the two things the page hands to <c>PageApi.create</c>: a Storage (its entries in <c>map</c>) and a
    /// fetch that records each call and answers the next of the given answers (<c>body: undefined</c> is a non-JSON body).
    /// </summary>
    private const string ExplorerApiHarness = """
        const calls = [];
        function storage(entries) {
          const map = new Map(Object.entries(entries));
          return { map, getItem: k => (map.has(k) ? map.get(k) : null), setItem: (k, v) => { map.set(k, String(v)); }, removeItem: k => { map.delete(k); } };
        }
        function server(answers) {
          return (url, init) => {
            calls.push({ url, method: init.method, headers: init.headers, body: init.body === undefined ? null : init.body });
            const answer = answers.shift();
            return Promise.resolve({
              ok: answer.status >= 200 && answer.status < 300,
              status: answer.status,
              json: () => (answer.body === undefined ? Promise.reject(new SyntaxError("Unexpected token")) : Promise.resolve(answer.body)),
            });
          };
        }
        """;

    private static async Task<string> ExplorerPageAsync()
    {
        using var harness = new ProxyHarness(new RecordingEndpoint(_ => TwoAnswers));
        return (await harness.GetAsync("/")).Body!;
    }

    /// <summary>The page's inline scripts by id ("" for one without).</summary>
    private static Dictionary<string, string> Scripts(string page) =>
        Regex.Matches(page, "<script(?: id=\"([^\"]+)\")?>(.*?)</script>", RegexOptions.Singleline)
            .ToDictionary(match => match.Groups[1].Value, match => match.Groups[2].Value);

    /// <summary>
    /// Runs <paramref name="scenario"/> (the body of an async function returning a JSON-serializable result) in Node.js after
    /// the page's own PageApi script, exactly as served, with no browser globals: the client may use only what it is given.
    /// </summary>
    private static async Task<JsonElement> ExplorerApiAsync(string scenario)
    {
        var client = Scripts(await ExplorerPageAsync())["page-api"];
        var program = client + "\n" + ExplorerApiHarness + "\n(async () => {\n" + scenario + "\n})().then(result => process.stdout.write(JSON.stringify(result)),"
            + " error => { process.stderr.write(String(error && error.stack || error)); process.exitCode = 1; });\n";

        var (exitCode, output, errors) = await NodeAsync(program);

        Assert.True(exitCode == 0, "the scenario failed in node:\n" + errors);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static async Task<(int ExitCode, string Output, string Errors)> NodeAsync(string program, params string[] options)
    {
        var path = Path.Combine(Path.GetTempPath(), $"explorer-{Guid.NewGuid():N}.js");
        await File.WriteAllTextAsync(path, program);
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var option in options.Append(path))
            {
                start.ArgumentList.Add(option);
            }

            using var node = StartNode(start);
            var output = node.StandardOutput.ReadToEndAsync();
            var errors = node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync();
            return (node.ExitCode, await output, await errors);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static System.Diagnostics.Process StartNode(System.Diagnostics.ProcessStartInfo start)
    {
        try
        {
            return System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException("node is missing: install Node.js (scripts/setup.sh does) to test the explorer page's script.", exception);
        }
    }
}
