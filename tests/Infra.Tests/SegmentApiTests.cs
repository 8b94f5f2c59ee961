using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using CustomerSegmentation.Infra.Api;
using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Pipelines;
using Json.Schema;
using Match = Amazon.CDK.Assertions.Match;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>The SegmentApi construct in the synthesized stack: the proxy function, its permissions, the REST API and its stage.</summary>
public sealed class SegmentApiTests(ApiOptionsSynthesis options) : IClassFixture<ApiOptionsSynthesis>
{
    private const string FunctionId = "SegmentApiProxyCDE44EFD";
    private const string RoleId = "SegmentApiProxyRoleBBCD7E60";
    private const string PolicyId = "SegmentApiProxyRoleDefaultPolicyF7E5FD30";
    private const string ProxyLogGroupId = "SegmentApiProxyLogGroupA6EF8CE3";
    private const string RestApiId = "SegmentApiRestApi21497BA3";
    private const string StageId = "SegmentApiRestApiDeploymentStageprodB8106CAD";
    private const string AccessLogGroupId = "SegmentApiAccessLogGroupA1EFAB81";
    private const string ExecutionLogGroupId = "SegmentApiExecutionLogGroupB99E580C";
    private const string ValidatorId = "SegmentApiRestApiRequestValidator7A1BB854";
    private const string ModelId = "SegmentApiRestApiSegmentRequestModelD3ECA1B4";
    private const string ApiKeyId = "SegmentApiApiKeyC34C3D93";
    private const string UsagePlanId = "SegmentApiRestApiUsagePlanF820CC89";
    private const string AccountId = "SegmentApiRestApiAccountEE016466";
    private const string CloudWatchRoleId = "SegmentApiRestApiCloudWatchRole0EDD246A";
    private const string ModelBucketId = "StorageModelBucket83DEC8C9";
    private const string WebAclArn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111";
    private const string Invocations = "arn:<AWS::Partition>:apigateway:<AWS::Region>:lambda:path/2015-03-31/functions/<SegmentApiProxyCDE44EFD.Arn>/invocations";

    private static readonly Lazy<Template> DefaultTemplate = new(() => TestStacks.Template());

    /// <summary>Every API setting away from its default at once, so each must reach the template.</summary>
    internal static IDictionary<string, object> OptionsContext { get; } = new Dictionary<string, object>
    {
        ["api:servingMode"] = "centroids",
        ["api:authorization"] = "iam",
        ["api:corsOrigins"] = "https://App.Example.com, https://admin.example.com:8443,https://app.example.com",
        ["api:throttleRate"] = 200,
        ["api:throttleBurst"] = 400,
        ["api:quotaPerDay"] = 5,
        ["api:maxBatchSize"] = 50,
        ["api:maxBodyBytes"] = 65536,
        ["api:modelRefreshSeconds"] = 0,
        ["api:stageName"] = "v1",
        ["api:cloudWatchRole"] = false,
        ["api:webAclArn"] = WebAclArn,
        ["deployment:lambdaArchitecture"] = "x86_64",
        ["deployment:logRetentionDays"] = 7,
        ["storage:kmsKeyArn"] = SynthesizedVariants.KmsKeyArn,
    };

    private Template OptionsTemplate => Template.FromStack(options.Synthesis.Stack);

    [Fact]
    public void Function_Default_IsANativeBootstrapOnProvidedAl2023WithTracingAndItsOwnLogGroup()
    {
        DefaultTemplate.Value.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["FunctionName"] = "customer-segmentation-segment-proxy",
            ["Runtime"] = "provided.al2023",
            ["Handler"] = "bootstrap",
            ["Architectures"] = Items("arm64"),
            ["MemorySize"] = 512,
            ["Timeout"] = 29,
            ["TracingConfig"] = new Dictionary<string, object> { ["Mode"] = "Active" },
            ["LoggingConfig"] = new Dictionary<string, object> { ["LogGroup"] = Ref(ProxyLogGroupId) },
            ["Role"] = GetAtt(RoleId, "Arn"),
        });
        Assert.Equal(30, Properties(DefaultTemplate.Value, ProxyLogGroupId).GetProperty("RetentionInDays").GetInt32());
        Assert.False(Properties(DefaultTemplate.Value, FunctionId).TryGetProperty("ReservedConcurrentExecutions", out _));
    }

    [Fact]
    public void Function_Default_CodeIsTheSegmentProxyProjectZipped()
    {
        FunctionCodeAssertions.AssertCodeIsTheProjectZipped(FunctionId, "SegmentProxy");
    }

    [Fact]
    public void Function_Default_PassesTheProxySettingsAsItsEnvironment()
    {
        var variables = Variables(DefaultTemplate.Value, FunctionId);

        Assert.Equal(
            new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["ENDPOINT_NAME"] = "customer-segmentation-endpoint",
                ["MAX_BATCH_SIZE"] = "1000",
                ["MAX_BODY_BYTES"] = "262144",
                ["MODEL_BUCKET"] = $"<{ModelBucketId}>",
                ["MODEL_REFRESH_SECONDS"] = "60",
                ["SERVING_MODE"] = "endpoint",
            },
            variables);
    }

    [Fact]
    public void Function_EverySettingChanged_ReachesTheFunctionAndCentroidsModeGetsNoEndpoint()
    {
        var template = OptionsTemplate;

        var variables = Variables(template, FunctionId);

        Assert.Equal(
            new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["CORS_ALLOWED_ORIGINS"] = "https://app.example.com,https://admin.example.com:8443",
                ["MAX_BATCH_SIZE"] = "50",
                ["MAX_BODY_BYTES"] = "65536",
                ["MODEL_BUCKET"] = $"<{ModelBucketId}>",
                ["MODEL_REFRESH_SECONDS"] = "0",
                ["SERVING_MODE"] = "centroids",
            },
            variables);
        template.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["FunctionName"] = "customer-segmentation-segment-proxy",
            ["Architectures"] = Items("x86_64"),
        });
        Assert.Equal(7, Properties(template, ProxyLogGroupId).GetProperty("RetentionInDays").GetInt32());
    }

    [Fact]
    public void Function_EndpointWithFallback_PassesTheEndpointAndMayInvokeIt()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["api:servingMode"] = "endpoint-with-fallback" });

        var variables = Variables(template, FunctionId);

        Assert.Equal("endpoint-with-fallback", variables["SERVING_MODE"]);
        Assert.Equal("customer-segmentation-endpoint", variables["ENDPOINT_NAME"]);
        Assert.Contains(Statements(template, PolicyId), s => s.StartsWith("|sagemaker:InvokeEndpoint|", StringComparison.Ordinal));
    }

    [Fact]
    public void ProxyPolicy_Default_GrantsGetObjectOnTheModelDocumentsAndInvokeOnTheOneEndpointOnly()
    {
        var statements = Statements(DefaultTemplate.Value, PolicyId);

        Assert.Equal(
            [
                $"|logs:CreateLogStream,logs:PutLogEvents|<{ProxyLogGroupId}.Arn>|",
                "|xray:PutTelemetryRecords,xray:PutTraceSegments|*|",
                $"|s3:GetObject|<{ModelBucketId}.Arn>/deployed/version.json,<{ModelBucketId}.Arn>/runs/*/artifacts/metrics.json," +
                    $"<{ModelBucketId}.Arn>/runs/*/artifacts/preprocessing_spec.json,<{ModelBucketId}.Arn>/runs/*/artifacts/segment_profiles.json|",
                "|sagemaker:InvokeEndpoint|arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/customer-segmentation-endpoint|",
            ],
            statements);
    }

    [Fact]
    public void ProxyPolicy_CentroidsModeWithKmsKey_ReadsAndDecryptsButNeverInvokesTheEndpoint()
    {
        var statements = Statements(OptionsTemplate, PolicyId);

        Assert.Equal(
            [
                $"|logs:CreateLogStream,logs:PutLogEvents|<{ProxyLogGroupId}.Arn>|",
                "|xray:PutTelemetryRecords,xray:PutTraceSegments|*|",
                $"|s3:GetObject|<{ModelBucketId}.Arn>/deployed/version.json,<{ModelBucketId}.Arn>/runs/*/artifacts/metrics.json," +
                    $"<{ModelBucketId}.Arn>/runs/*/artifacts/preprocessing_spec.json,<{ModelBucketId}.Arn>/runs/*/artifacts/segment_profiles.json|",
                $"|kms:Decrypt|{SynthesizedVariants.KmsKeyArn}|",
            ],
            statements);
        Assert.DoesNotContain(JsonSerializer.Serialize(Resource(OptionsTemplate, PolicyId)), "sagemaker:", StringComparison.Ordinal);
    }

    [Fact]
    public void ProxyPolicy_S3ManagedBucket_GrantsNoKeyAction()
    {
        Assert.DoesNotContain(Statements(DefaultTemplate.Value, PolicyId), s => s.Contains("kms:", StringComparison.Ordinal));
    }

    [Fact]
    public void ProxyPolicy_ReadableRunDocuments_AreExactlyTheOnesThePipelineRegistersWithEachModel()
    {
        var metadata = FindProperty(SynthesizedPipeline.Definition(), "CustomerMetadataProperties")!.AsObject();
        const string ExecutionId = "execution-0a1b2c3d";

        var keys = Items("PreprocessingSpecUri", "SegmentProfilesUri", "MetricsUri")
            .Select(name => string.Concat(metadata[name]!["Std:Join"]!["Values"]!.AsArray()
                .Select(v => v is JsonObject ? ExecutionId : v!.GetValue<string>())))
            .Select(uri => uri[("s3://" + ModelBucketId.ToLowerInvariant() + "/").Length..])
            .ToList();

        var patterns = SegmentApi.ReadableModelObjects.Where(k => k.StartsWith("runs/", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, patterns.Count);
        Assert.All(keys, key => Assert.Single(patterns, p => Regex.IsMatch(key, "^" + Regex.Escape(p).Replace("\\*", "[^/]+", StringComparison.Ordinal) + "$")));
        Assert.All(patterns, p => Assert.Single(keys, key => Regex.IsMatch(key, "^" + Regex.Escape(p).Replace("\\*", "[^/]+", StringComparison.Ordinal) + "$")));
    }

    [Fact]
    public void ProxyPolicy_MarkerObject_IsTheOneTheProxyReads()
    {
        // The test project does not reference the native-AOT Lambda project, so the proxy's constant is read from its source.
        var source = File.ReadAllText(Path.Combine(RepositoryLayout.Root().FullName, "lambdas", "SegmentProxy", "DeployedModelSource.cs"));

        var key = Regex.Match(source, "public const string Key = \"([^\"]+)\";").Groups[1].Value;

        Assert.Equal("deployed/version.json", key);
        Assert.Contains(key, SegmentApi.ReadableModelObjects);
    }

    [Fact]
    public void ProxyPolicy_EveryWildcardResource_IsNamedInAnIam5AcknowledgementAndNoOtherIs()
    {
        var policy = Resource(DefaultTemplate.Value, PolicyId);
        var wildcards = policy.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray()
            .SelectMany(s => s.GetProperty("Resource").ValueKind == JsonValueKind.Array ? s.GetProperty("Resource").EnumerateArray().ToArray() : [s.GetProperty("Resource")])
            .Select(r => "Resource::" + TrainingPipelineTests.Readable(r))
            .Where(r => r.Contains('*', StringComparison.Ordinal))
            .ToHashSet();

        var acknowledged = policy.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray()
            .Where(rule => rule.GetProperty("id").GetString() == "AwsSolutions-IAM5")
            .SelectMany(rule => rule.GetProperty("applies_to").EnumerateArray().Select(a => a.GetString()!))
            .ToHashSet();

        Assert.Equal(4, wildcards.Count);
        Assert.Equal(wildcards.Order(StringComparer.Ordinal), acknowledged.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ProxyRole_Default_TrustsOnlyLambdaAndCarriesNoManagedPolicy()
    {
        var role = Properties(DefaultTemplate.Value, RoleId);

        Assert.False(role.TryGetProperty("ManagedPolicyArns", out _));
        Assert.Equal(
            """{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}],"Version":"2012-10-17"}""",
            role.GetProperty("AssumeRolePolicyDocument").GetRawText());
    }

    [Fact]
    public void Routes_Default_AreExactlyTheThreeMethodsEachAProxyIntegrationOfTheFunction()
    {
        var template = DefaultTemplate.Value;

        var routes = Methods(template).Select(m => (Route: Route(template, m), Integration: m.GetProperty("Integration"))).ToList();

        Assert.Equal(["GET /", "GET /segments", "POST /segment"], routes.Select(r => r.Route).Order(StringComparer.Ordinal));
        Assert.All(routes, r =>
        {
            Assert.Equal("AWS_PROXY", r.Integration.GetProperty("Type").GetString());
            Assert.Equal("POST", r.Integration.GetProperty("IntegrationHttpMethod").GetString());
            Assert.Equal(Invocations, TrainingPipelineTests.Readable(r.Integration.GetProperty("Uri")));
        });
        template.HasResourceProperties("AWS::ApiGateway::RestApi", new Dictionary<string, object>
        {
            ["Name"] = "customer-segmentation-api",
            ["EndpointConfiguration"] = new Dictionary<string, object> { ["Types"] = Items("REGIONAL") },
        });
    }

    [Fact]
    public void Routes_Default_MayInvokeTheFunctionOnlyThroughTheirOwnRouteOfTheStage()
    {
        var permissions = DefaultTemplate.Value.FindResources("AWS::Lambda::Permission")
            .Where(p => p.Key.StartsWith("SegmentApi", StringComparison.Ordinal))
            .Select(p => JsonSerializer.SerializeToElement(p.Value).GetProperty("Properties"))
            .ToList();

        Assert.All(permissions, p =>
        {
            Assert.Equal("apigateway.amazonaws.com", p.GetProperty("Principal").GetString());
            Assert.Equal("lambda:InvokeFunction", p.GetProperty("Action").GetString());
            Assert.Equal($"<{FunctionId}.Arn>", TrainingPipelineTests.Readable(p.GetProperty("FunctionName")));
        });
        Assert.Equal(
            [
                $"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{RestApiId}>/<{StageId}>/GET/",
                $"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{RestApiId}>/<{StageId}>/GET/segments",
                $"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{RestApiId}>/<{StageId}>/POST/segment",
            ],
            permissions.Select(p => TrainingPipelineTests.Readable(p.GetProperty("SourceArn"))).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PostSegment_Default_IsValidatedAgainstTheRequestModelAndTheGetsAreNot()
    {
        var template = DefaultTemplate.Value;

        var methods = Methods(template).ToDictionary(m => Route(template, m));

        template.HasResourceProperties("AWS::ApiGateway::RequestValidator", new Dictionary<string, object>
        {
            ["RestApiId"] = Ref(RestApiId),
            ["ValidateRequestBody"] = true,
            ["ValidateRequestParameters"] = true,
        });
        var post = methods["POST /segment"];
        Assert.Equal($"<{ValidatorId}>", TrainingPipelineTests.Readable(post.GetProperty("RequestValidatorId")));
        Assert.Equal($"<{ModelId}>", TrainingPipelineTests.Readable(post.GetProperty("RequestModels").GetProperty("application/json")));
        Assert.Equal(["application/json"], post.GetProperty("RequestModels").EnumerateObject().Select(p => p.Name));
        Assert.All(Items("GET /", "GET /segments"), route =>
        {
            Assert.False(methods[route].TryGetProperty("RequestValidatorId", out _));
            Assert.False(methods[route].TryGetProperty("RequestModels", out _));
        });
    }

    [Fact]
    public void RequestModel_Default_RequiresAJsonObjectAndNothingElse()
    {
        var model = Properties(DefaultTemplate.Value, ModelId);
        var schema = JsonNode.Parse(model.GetProperty("Schema").GetRawText())!.AsObject();

        var constraints = schema.Select(p => p.Key).Except(["$schema", "title", "description", "properties"]).ToList();

        Assert.Equal("application/json", model.GetProperty("ContentType").GetString());
        Assert.Equal("SegmentRequest", model.GetProperty("Name").GetString());
        Assert.Equal("http://json-schema.org/draft-04/schema#", (string?)schema["$schema"]);
        Assert.Equal(["type"], constraints);
        Assert.Equal("object", (string?)schema["type"]);
        Assert.Equal(["customers", "features", "age", "income", "purchases"], schema["properties"]!.AsObject().Select(p => p.Key));
        Assert.All(schema["properties"]!.AsObject(), p => Assert.Equal(["description"], p.Value!.AsObject().Select(k => k.Key)));
    }

    [Theory]
    [InlineData("""{"customers":[{"age":34,"income":72000,"purchases":12},{"age":51,"income":38000,"purchases":3}]}""", true)]
    [InlineData("""{"age":34,"income":72000,"purchases":12}""", true)]
    [InlineData("""{"features":[[-1.14,-1.13,0.68]]}""", true)]
    [InlineData("""{"customers":[{"age":"old","income":-1}]}""", true)]
    [InlineData("""{"customers":"none","colour":"blue"}""", true)]
    [InlineData("""{}""", true)]
    [InlineData("""[{"age":34,"income":72000,"purchases":12}]""", false)]
    [InlineData("\"customers\"", false)]
    [InlineData("42", false)]
    [InlineData("null", false)]
    public void RequestModel_Body_PassesTheGatewayOnlyWhenItIsAJsonObjectLeavingFieldErrorsToTheProxy(string body, bool passes)
    {
        var schema = JsonNode.Parse(Properties(DefaultTemplate.Value, ModelId).GetProperty("Schema").GetRawText())!.AsObject();
        // JsonSchema.Net has no draft-04; the schema uses only "type", "properties" and annotations, which mean the same in draft-07.
        schema["$schema"] = "http://json-schema.org/draft-07/schema#";

        using var document = JsonDocument.Parse(body);

        var result = JsonSchema.FromText(schema.ToJsonString()).Evaluate(document.RootElement);

        Assert.Equal(passes, result.IsValid);
    }

    [Fact]
    public void GatewayResponses_Default_AnswerInTheProxysErrorShape()
    {
        var responses = GatewayResponses(DefaultTemplate.Value);

        Assert.Equal(["BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"], responses.Keys.Order(StringComparer.Ordinal));
        var badBody = responses["BAD_REQUEST_BODY"];
        Assert.Equal("400", badBody.GetProperty("StatusCode").GetString());
        var answer = JsonNode.Parse(badBody.GetProperty("ResponseTemplates").GetProperty("application/json").GetString()!)!.AsObject();
        Assert.Equal(["error", "field"], answer.Select(p => p.Key));
        Assert.Equal("body", (string?)answer["field"]);
        Assert.Equal(
            """the body is not a JSON object: send {"customers":[{"age":34,"income":72000,"purchases":12}]}, one customer object, or {"features":[[...]]}""",
            (string?)answer["error"]);
        Assert.All(Items("DEFAULT_4XX", "DEFAULT_5XX"), type =>
        {
            Assert.False(responses[type].TryGetProperty("StatusCode", out _));
            Assert.Equal("""{"error":$context.error.messageString}""", responses[type].GetProperty("ResponseTemplates").GetProperty("application/json").GetString());
        });
        Assert.All(responses.Values, r => Assert.False(r.TryGetProperty("ResponseParameters", out _)));
    }

    [Fact]
    public void GatewayResponses_OneCorsOrigin_NameItSoThatOriginsPagesCanReadTheGatewaysRefusals()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["api:corsOrigins"] = "https://App.Example.com" });

        var responses = GatewayResponses(template);

        Assert.Equal(["BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX"], responses.Keys.Order(StringComparer.Ordinal));
        Assert.All(responses.Values, r => Assert.Equal(
            new Dictionary<string, string> { ["gatewayresponse.header.Access-Control-Allow-Origin"] = "'https://app.example.com'" },
            r.GetProperty("ResponseParameters").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)));
    }

    [Fact]
    public void GatewayResponses_SeveralCorsOrigins_NameNoneBecauseAFixedHeaderCannotNameTheCallersOrigin()
    {
        var responses = GatewayResponses(OptionsTemplate);

        Assert.Equal(3, responses.Count);
        Assert.All(responses.Values, r => Assert.False(r.TryGetProperty("ResponseParameters", out _)));
    }

    [Fact]
    public void Stage_Default_IsProdThrottledTracedAndLogsErrorsButNeverBodies()
    {
        DefaultTemplate.Value.HasResourceProperties("AWS::ApiGateway::Stage", new Dictionary<string, object>
        {
            ["StageName"] = "prod",
            ["RestApiId"] = Ref(RestApiId),
            ["TracingEnabled"] = true,
            // First; the routes RecommendationsApi adds follow with their own throttles (see RecommendationsApiTests).
            ["MethodSettings"] = Match.ArrayWith(
            [
                new Dictionary<string, object>
                {
                    ["HttpMethod"] = "*",
                    ["ResourcePath"] = "/*",
                    ["LoggingLevel"] = "ERROR",
                    ["DataTraceEnabled"] = false,
                    ["ThrottlingRateLimit"] = 50,
                    ["ThrottlingBurstLimit"] = 100,
                },
            ]),
        });
        Assert.Single(DefaultTemplate.Value.FindResources("AWS::ApiGateway::Stage"));
    }

    [Fact]
    public void Stage_CustomNameAndThrottle_AreApplied()
    {
        OptionsTemplate.HasResourceProperties("AWS::ApiGateway::Stage", new Dictionary<string, object>
        {
            ["StageName"] = "v1",
            // First; the routes RecommendationsApi adds follow with their own throttles (see RecommendationsApiTests).
            ["MethodSettings"] = Match.ArrayWith(
            [
                new Dictionary<string, object>
                {
                    ["HttpMethod"] = "*",
                    ["ResourcePath"] = "/*",
                    ["LoggingLevel"] = "ERROR",
                    ["DataTraceEnabled"] = false,
                    ["ThrottlingRateLimit"] = 200,
                    ["ThrottlingBurstLimit"] = 400,
                },
            ]),
        });
    }

    [Fact]
    public void AccessLog_Default_IsOneJsonObjectPerRequestWithIdentityStatusAndLatencies()
    {
        var setting = Properties(DefaultTemplate.Value, StageId).GetProperty("AccessLogSetting");

        var format = JsonNode.Parse(setting.GetProperty("Format").GetString()!)!.AsObject();

        Assert.Equal($"<{AccessLogGroupId}.Arn>", TrainingPipelineTests.Readable(setting.GetProperty("DestinationArn")));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["requestId"] = "$context.requestId",
                ["extendedRequestId"] = "$context.extendedRequestId",
                ["requestTimeEpoch"] = "$context.requestTimeEpoch",
                ["ip"] = "$context.identity.sourceIp",
                ["userAgent"] = "$context.identity.userAgent",
                ["apiKeyId"] = "$context.identity.apiKeyId",
                ["userArn"] = "$context.identity.userArn",
                ["httpMethod"] = "$context.httpMethod",
                ["resourcePath"] = "$context.resourcePath",
                ["protocol"] = "$context.protocol",
                ["status"] = "$context.status",
                ["responseLength"] = "$context.responseLength",
                ["latencyMs"] = "$context.responseLatency",
                ["integrationLatencyMs"] = "$context.integration.latency",
                ["integrationStatus"] = "$context.integration.status",
                ["errorType"] = "$context.error.responseType",
                ["error"] = "$context.error.message",
                ["validationError"] = "$context.error.validationErrorString",
                ["xrayTraceId"] = "$context.xrayTraceId",
            },
            format.ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()));
        Assert.Equal(30, Properties(DefaultTemplate.Value, AccessLogGroupId).GetProperty("RetentionInDays").GetInt32());
    }

    [Fact]
    public void AccessLog_Default_NeverRecordsABodyHeaderOrTheKeyItself()
    {
        var format = Properties(DefaultTemplate.Value, StageId).GetProperty("AccessLogSetting").GetProperty("Format").GetString()!;

        Assert.DoesNotMatch(@"\$input|requestOverride|responseOverride|identity\.apiKey[^I]|\.header", format);
    }

    [Fact]
    public void ExecutionLogGroup_Default_IsTheStagesGroupCreatedBeforeItWithARetention()
    {
        var template = DefaultTemplate.Value;
        var logGroup = Properties(template, ExecutionLogGroupId);

        var stageDependsOn = Resource(template, StageId).GetProperty("DependsOn").EnumerateArray().Select(d => d.GetString()).ToList();

        Assert.Equal($"API-Gateway-Execution-Logs_<{RestApiId}>/prod", TrainingPipelineTests.Readable(logGroup.GetProperty("LogGroupName")));
        Assert.Equal(30, logGroup.GetProperty("RetentionInDays").GetInt32());
        Assert.Contains(ExecutionLogGroupId, stageDependsOn);
    }

    [Fact]
    public void ExecutionLogGroup_CustomStage_IsNamedForThatStage()
    {
        var logGroup = OptionsTemplate.FindResources("AWS::Logs::LogGroup").Single(r => r.Key.StartsWith("SegmentApiExecutionLogGroup", StringComparison.Ordinal));

        var name = JsonSerializer.SerializeToElement(logGroup.Value).GetProperty("Properties").GetProperty("LogGroupName");

        Assert.Equal($"API-Gateway-Execution-Logs_<{RestApiId}>/v1", TrainingPipelineTests.Readable(name));
    }

    [Fact]
    public void ApiKey_Default_EveryDataRouteRequiresItAndItsUsagePlanThrottlesAndCapsItPerDay()
    {
        var template = DefaultTemplate.Value;

        var methods = Methods(template).ToDictionary(m => Route(template, m));

        Assert.Equal(["GET /", "GET /segments", "POST /segment"], methods.Keys.Order(StringComparer.Ordinal));
        Assert.All(Items("POST /segment", "GET /segments"), route =>
        {
            Assert.True(methods[route].GetProperty("ApiKeyRequired").GetBoolean());
            Assert.Equal("NONE", methods[route].GetProperty("AuthorizationType").GetString());
        });
        template.HasResourceProperties("AWS::ApiGateway::ApiKey", new Dictionary<string, object>
        {
            ["Name"] = "customer-segmentation-api-key",
            ["Enabled"] = true,
            ["Value"] = Match.Absent(),
        });
        template.HasResourceProperties("AWS::ApiGateway::UsagePlan", new Dictionary<string, object>
        {
            ["UsagePlanName"] = "customer-segmentation-usage-plan",
            ["Throttle"] = new Dictionary<string, object> { ["RateLimit"] = 50, ["BurstLimit"] = 100 },
            ["Quota"] = new Dictionary<string, object> { ["Limit"] = 100000, ["Period"] = "DAY" },
            ["ApiStages"] = new object[]
            {
                Match.ObjectLike(new Dictionary<string, object> { ["ApiId"] = Ref(RestApiId), ["Stage"] = Ref(StageId) }),
            },
        });
        template.HasResourceProperties("AWS::ApiGateway::UsagePlanKey", new Dictionary<string, object>
        {
            ["KeyId"] = Ref(ApiKeyId),
            ["KeyType"] = "API_KEY",
            ["UsagePlanId"] = Ref(UsagePlanId),
        });
        Assert.Single(template.FindResources("AWS::ApiGateway::ApiKey"));
    }

    [Fact]
    public void ApiKey_QuotaZero_UsagePlanHasNoQuota()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["api:quotaPerDay"] = 0 });

        template.HasResourceProperties("AWS::ApiGateway::UsagePlan", new Dictionary<string, object>
        {
            ["Throttle"] = new Dictionary<string, object> { ["RateLimit"] = 50, ["BurstLimit"] = 100 },
            ["Quota"] = Match.Absent(),
        });
    }

    [Fact]
    public void Iam_Authorization_EveryDataRouteRequiresSigV4AndNoKeyOrUsagePlanExists()
    {
        var template = OptionsTemplate;

        var routes = Methods(template).Where(m => m.GetProperty("HttpMethod").GetString() != "OPTIONS").ToDictionary(m => Route(template, m));

        Assert.Equal(["GET /", "GET /segments", "POST /segment"], routes.Keys.Order(StringComparer.Ordinal));
        Assert.All(Items("POST /segment", "GET /segments"), route =>
        {
            Assert.Equal("AWS_IAM", routes[route].GetProperty("AuthorizationType").GetString());
            Assert.False(routes[route].GetProperty("ApiKeyRequired").GetBoolean());
        });
        Assert.Empty(template.FindResources("AWS::ApiGateway::ApiKey"));
        Assert.Empty(template.FindResources("AWS::ApiGateway::UsagePlan"));
        Assert.Empty(template.FindOutputs("ApiKeyId"));
    }

    [Fact]
    public void Cors_Default_IsOffEntirely()
    {
        var template = DefaultTemplate.Value;

        Assert.DoesNotContain(Methods(template), m => m.GetProperty("HttpMethod").GetString() == "OPTIONS");
        Assert.DoesNotContain("Access-Control-", JsonSerializer.Serialize(template.ToJSON()), StringComparison.Ordinal);
    }

    [Fact]
    public void Cors_Origins_PreflightOfEveryRouteAllowsExactlyThoseOriginsAndTheSigV4Headers()
    {
        var template = OptionsTemplate;

        var preflights = Methods(template).Where(m => m.GetProperty("HttpMethod").GetString() == "OPTIONS").ToList();

        Assert.Equal(["OPTIONS /", "OPTIONS /segment", "OPTIONS /segments"], preflights.Select(m => Route(template, m)).Order(StringComparer.Ordinal));
        Assert.All(preflights, m =>
        {
            var integration = m.GetProperty("Integration");
            var response = Assert.Single(integration.GetProperty("IntegrationResponses").EnumerateArray());
            var headers = response.GetProperty("ResponseParameters");
            Assert.Equal("MOCK", integration.GetProperty("Type").GetString());
            Assert.Equal("204", response.GetProperty("StatusCode").GetString());
            Assert.Equal("'https://app.example.com'", headers.GetProperty("method.response.header.Access-Control-Allow-Origin").GetString());
            Assert.Equal("'GET,POST,OPTIONS'", headers.GetProperty("method.response.header.Access-Control-Allow-Methods").GetString());
            Assert.Equal("'Content-Type,Authorization,X-Amz-Date,X-Amz-Security-Token,X-Amz-Content-Sha256'",
                headers.GetProperty("method.response.header.Access-Control-Allow-Headers").GetString());
            Assert.False(headers.TryGetProperty("method.response.header.Access-Control-Allow-Credentials", out _));
            var vtl = response.GetProperty("ResponseTemplates").GetProperty("application/json").GetString()!;
            Assert.Equal(["https://admin.example.com:8443"], Regex.Matches(vtl, "\\$origin == \"(https://[^\"]+)\"").Select(g => g.Groups[1].Value));
        });
        Assert.DoesNotContain("'*'", JsonSerializer.Serialize(template.ToJSON()), StringComparison.Ordinal);
    }

    [Fact]
    public void Cors_OriginsWithApiKey_PreflightAllowsTheKeyHeader()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["api:corsOrigins"] = "https://app.example.com" });

        var preflight = Methods(template).First(m => m.GetProperty("HttpMethod").GetString() == "OPTIONS");

        var headers = preflight.GetProperty("Integration").GetProperty("IntegrationResponses")[0].GetProperty("ResponseParameters");
        Assert.Equal("'Content-Type,X-Api-Key'", headers.GetProperty("method.response.header.Access-Control-Allow-Headers").GetString());
        Assert.Equal("'https://app.example.com'", headers.GetProperty("method.response.header.Access-Control-Allow-Origin").GetString());
        Assert.False(preflight.GetProperty("ApiKeyRequired").GetBoolean());
    }

    [Fact]
    public void CloudWatchRole_Default_SetsTheAccountRoleAndKeepsItWhenTheStackIsDeleted()
    {
        var template = JsonSerializer.SerializeToElement(DefaultTemplate.Value.ToJSON()).GetProperty("Resources");

        var account = template.GetProperty(AccountId);
        var role = template.GetProperty(CloudWatchRoleId);

        Assert.Equal("AWS::ApiGateway::Account", account.GetProperty("Type").GetString());
        Assert.Equal($"<{CloudWatchRoleId}.Arn>", TrainingPipelineTests.Readable(account.GetProperty("Properties").GetProperty("CloudWatchRoleArn")));
        Assert.Equal(("Retain", "Retain"), (account.GetProperty("DeletionPolicy").GetString(), account.GetProperty("UpdateReplacePolicy").GetString()));
        Assert.Equal(("Retain", "Retain"), (role.GetProperty("DeletionPolicy").GetString(), role.GetProperty("UpdateReplacePolicy").GetString()));
        Assert.Equal(["arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"],
            role.GetProperty("Properties").GetProperty("ManagedPolicyArns").EnumerateArray().Select(TrainingPipelineTests.Readable));
        Assert.Equal("""{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"}}],"Version":"2012-10-17"}""",
            role.GetProperty("Properties").GetProperty("AssumeRolePolicyDocument").GetRawText());
        Assert.Contains(AccountId, template.GetProperty(StageId).GetProperty("DependsOn").EnumerateArray().Select(d => d.GetString()));
    }

    [Fact]
    public void CloudWatchRole_False_LeavesTheAccountSettingAlone()
    {
        var template = OptionsTemplate;

        Assert.Empty(template.FindResources("AWS::ApiGateway::Account"));
        Assert.DoesNotContain(template.FindResources("AWS::IAM::Role").Values,
            r => JsonSerializer.Serialize(r).Contains("apigateway.amazonaws.com", StringComparison.Ordinal));
    }

    [Fact]
    public void WebAcl_Default_NoAssociationAndTheMissingFirewallIsAcknowledgedOnTheStage()
    {
        var stage = Resource(DefaultTemplate.Value, StageId);

        var acknowledged = Acknowledged(stage);

        Assert.Empty(DefaultTemplate.Value.FindResources("AWS::WAFv2::WebACLAssociation"));
        Assert.Equal(["AwsSolutions-APIG3"], acknowledged);
    }

    [Fact]
    public void WebAcl_Arn_IsAssociatedWithTheStageAndNothingIsAcknowledged()
    {
        var template = OptionsTemplate;
        var stage = template.FindResources("AWS::ApiGateway::Stage").Single();

        var association = JsonSerializer.SerializeToElement(template.FindResources("AWS::WAFv2::WebACLAssociation").Single().Value).GetProperty("Properties");

        Assert.Equal(WebAclArn, association.GetProperty("WebACLArn").GetString());
        Assert.Equal($"arn:<AWS::Partition>:apigateway:<AWS::Region>::/restapis/<{RestApiId}>/stages/<{stage.Key}>",
            TrainingPipelineTests.Readable(association.GetProperty("ResourceArn")));
        Assert.Empty(Acknowledged(JsonSerializer.SerializeToElement(stage.Value)));
    }

    [Fact]
    public void Methods_ApiKeyAuthorization_AcknowledgeApig4AndCog4AndIamOnlyCog4ButTheOpenPageApig4Always()
    {
        var withKey = AcknowledgedByRoute(DefaultTemplate.Value);
        var withIam = AcknowledgedByRoute(OptionsTemplate);

        Assert.Equal(["GET /", "GET /segments", "POST /segment"], withKey.Keys.Order(StringComparer.Ordinal));
        Assert.All(withKey.Values, rules => Assert.Equal(["AwsSolutions-APIG4", "AwsSolutions-COG4"], rules));
        Assert.Equal(["GET /", "GET /segments", "POST /segment"], withIam.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["AwsSolutions-APIG4", "AwsSolutions-COG4"], withIam["GET /"]);
        Assert.Equal(["AwsSolutions-COG4"], withIam["GET /segments"]);
        Assert.Equal(["AwsSolutions-COG4"], withIam["POST /segment"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ExplorerPage_AnyAuthorization_GetRootNeedsNoKeyNorSignatureAndSaysWhyThatIsSafe(bool iam)
    {
        var template = iam ? OptionsTemplate : DefaultTemplate.Value;

        var page = Methods(template, withMetadata: true).Single(m => Route(template, m.GetProperty("Properties")) == "GET /");

        Assert.False(page.GetProperty("Properties").GetProperty("ApiKeyRequired").GetBoolean());
        Assert.Equal("NONE", page.GetProperty("Properties").GetProperty("AuthorizationType").GetString());
        var reason = page.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray()
            .Single(r => r.GetProperty("id").GetString() == "AwsSolutions-APIG4").GetProperty("reason").GetString();
        Assert.Equal("GET / serves only the static explorer page embedded in the function (no data, no S3 or endpoint call) and must load in a browser "
            + "without credentials; the data routes it calls require the API key or IAM.", reason);
    }

    [Fact]
    public void Outputs_Default_ApiUrlIsTheStageInvokeUrlAndApiKeyIdSaysHowToGetTheValue()
    {
        var outputs = JsonSerializer.SerializeToElement(DefaultTemplate.Value.ToJSON()).GetProperty("Outputs");

        var url = outputs.GetProperty("ApiUrl");
        var key = outputs.GetProperty("ApiKeyId");

        Assert.Equal($"https://<{RestApiId}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<{StageId}>/", TrainingPipelineTests.Readable(url.GetProperty("Value")));
        Assert.Equal($"<{ApiKeyId}>", TrainingPipelineTests.Readable(key.GetProperty("Value")));
        Assert.EndsWith("aws apigateway get-api-key --api-key <id> --include-value", key.GetProperty("Description").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(outputs.EnumerateObject(), o => o.Name.StartsWith("SegmentApi", StringComparison.Ordinal));
    }

    [Fact]
    public void Construct_Default_ExposesWhatItCreated()
    {
        var api = TestStacks.Create().SegmentApi;

        Assert.Equal("Proxy", api.Function.Node.Id);
        Assert.Equal("ProxyRole", api.Role.Node.Id);
        Assert.Equal("ProxyLogGroup", api.ProxyLogGroup.Node.Id);
        Assert.Equal("RestApi", api.RestApi.Node.Id);
        Assert.Same(api.RestApi.DeploymentStage, api.Stage);
        Assert.Equal("AccessLogGroup", api.AccessLogGroup.Node.Id);
        Assert.Equal("ExecutionLogGroup", api.ExecutionLogGroup.Node.Id);
        Assert.Equal("SegmentRequestModel", api.RequestModel.Node.Id);
        Assert.Equal(["GET", "POST", "GET"], api.Methods.Select(m => m.HttpMethod));
        Assert.Same(api.Methods[0], api.ExplorerPageMethod);
        Assert.Equal("ApiKey", api.ApiKey!.Node.Id);
        Assert.Equal("UsagePlan", api.UsagePlan!.Node.Id);
        Assert.Null(api.WebAclAssociation);
    }

    // A params array, not an array literal: the analyzers want literals hoisted into fields, which would scatter expectations.
    private static string[] Items(params string[] values) => values;

    private static Dictionary<string, object> Ref(string logicalId) => new() { ["Ref"] = logicalId };

    private static Dictionary<string, object> GetAtt(string logicalId, string attribute) => new() { ["Fn::GetAtt"] = Items(logicalId, attribute) };

    private static JsonElement Resource(Template template, string logicalId) =>
        JsonSerializer.SerializeToElement(template.ToJSON()).GetProperty("Resources").GetProperty(logicalId);

    private static JsonElement Properties(Template template, string logicalId) => Resource(template, logicalId).GetProperty("Properties");

    private static SortedDictionary<string, string> Variables(Template template, string functionId) =>
        new(Properties(template, functionId).GetProperty("Environment").GetProperty("Variables").EnumerateObject()
            .ToDictionary(v => v.Name, v => TrainingPipelineTests.Readable(v.Value)), StringComparer.Ordinal);

    private static List<string> Statements(Template template, string policyId) =>
        [.. Properties(template, policyId).GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().Select(TrainingPipelineTests.Summarize)];

    /// <summary>
    /// This construct's methods (RecommendationsApiTests covers the routes RecommendationsApi adds to the same API): their
    /// properties, or whole resources with <paramref name="withMetadata"/>.
    /// </summary>
    private static List<JsonElement> Methods(Template template, bool withMetadata = false) =>
        [.. template.FindResources("AWS::ApiGateway::Method")
            .Where(m => m.Key.StartsWith("SegmentApi", StringComparison.Ordinal))
            .Select(m => JsonSerializer.SerializeToElement(m.Value))
            .Select(m => withMetadata ? m : m.GetProperty("Properties"))];

    /// <summary>"METHOD /path", following each method's resource up to the root.</summary>
    private static string Route(Template template, JsonElement method)
    {
        var resources = JsonSerializer.SerializeToElement(template.ToJSON()).GetProperty("Resources");
        var segments = new List<string>();
        var resource = method.GetProperty("ResourceId");
        while (resource.TryGetProperty("Ref", out var reference))
        {
            var properties = resources.GetProperty(reference.GetString()!).GetProperty("Properties");
            segments.Insert(0, properties.GetProperty("PathPart").GetString()!);
            resource = properties.GetProperty("ParentId");
        }

        Assert.Equal($"<{RestApiId}.RootResourceId>", TrainingPipelineTests.Readable(resource));
        return $"{method.GetProperty("HttpMethod").GetString()} /{string.Join('/', segments)}";
    }

    private static Dictionary<string, JsonElement> GatewayResponses(Template template) =>
        template.FindResources("AWS::ApiGateway::GatewayResponse").Values
            .Select(r => JsonSerializer.SerializeToElement(r).GetProperty("Properties"))
            .ToDictionary(r => r.GetProperty("ResponseType").GetString()!);

    /// <summary>The cdk-nag rules acknowledged on each route (preflights left out).</summary>
    private static Dictionary<string, List<string>> AcknowledgedByRoute(Template template) =>
        Methods(template, withMetadata: true)
            .Where(m => m.GetProperty("Properties").GetProperty("HttpMethod").GetString() != "OPTIONS")
            .ToDictionary(m => Route(template, m.GetProperty("Properties")), Acknowledged);

    private static List<string> Acknowledged(JsonElement resource) =>
        resource.TryGetProperty("Metadata", out var metadata)
            ? [.. metadata.GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray().Select(r => r.GetProperty("id").GetString()!)]
            : [];

    private static JsonNode? FindProperty(JsonNode? node, string name) => node switch
    {
        JsonObject o when o[name] is { } found => found,
        JsonObject o => o.Select(p => FindProperty(p.Value, name)).FirstOrDefault(f => f is not null),
        JsonArray a => a.Select(i => FindProperty(i, name)).FirstOrDefault(f => f is not null),
        _ => null,
    };
}

/// <summary>The app synthesized once with every API option on (<see cref="SegmentApiTests.OptionsContext"/>), for the template tests (the compliance tests run it as a variant).</summary>
public sealed class ApiOptionsSynthesis() : SharedSynthesis(SegmentApiTests.OptionsContext);

/// <summary>The <c>api:*</c> context keys: defaults and valid overrides (the bad values are in <see cref="PlatformSettingsTests"/>).</summary>
public sealed class ApiSettingsTests
{
    private static ApiSettings Read(IDictionary<string, object> context) =>
        PlatformSettings.FromContext(new App(new AppProps { Context = context }).Node).Api;

    [Fact]
    public void FromContext_Empty_UsesDocumentedApiDefaults()
    {
        var settings = Read(new Dictionary<string, object>());

        Assert.Equal(
            new ApiSettings
            {
                ServingMode = ApiServingMode.Endpoint,
                Authorization = ApiAuthorization.ApiKey,
                CorsOrigins = string.Empty,
                ThrottleRate = 50,
                ThrottleBurst = 100,
                QuotaPerDay = 100_000,
                MaxBatchSize = 1000,
                MaxBodyBytes = 262_144,
                ModelRefreshSeconds = 60,
                StageName = "prod",
                CloudWatchRole = true,
                WebAclArn = null,
            },
            settings);
        Assert.Equal("endpoint", settings.ServingModeName);
        Assert.Empty(settings.CorsOriginList);
    }

    [Fact]
    public void FromContext_ValidApiOverrides_AreRead()
    {
        var settings = Read(new Dictionary<string, object>
        {
            ["api:servingMode"] = "endpoint-with-fallback",
            ["api:authorization"] = "iam",
            ["api:throttleRate"] = 10000,
            ["api:throttleBurst"] = "5000",
            ["api:quotaPerDay"] = 1_000_000_000,
            ["api:maxBatchSize"] = 100_000,
            ["api:maxBodyBytes"] = 10_485_760,
            ["api:modelRefreshSeconds"] = 3600,
            ["api:stageName"] = "live_v2-eu",
            ["api:cloudWatchRole"] = "false",
            ["api:webAclArn"] = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/api-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
        });

        Assert.Equal((ApiServingMode.EndpointWithFallback, "endpoint-with-fallback", ApiAuthorization.Iam),
            (settings.ServingMode, settings.ServingModeName, settings.Authorization));
        Assert.Equal((10000, 5000, 1_000_000_000), (settings.ThrottleRate, settings.ThrottleBurst, settings.QuotaPerDay));
        Assert.Equal((100_000, 10_485_760, 3600), (settings.MaxBatchSize, settings.MaxBodyBytes, settings.ModelRefreshSeconds));
        Assert.Equal(("live_v2-eu", false), (settings.StageName, settings.CloudWatchRole));
        Assert.Equal("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/api-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", settings.WebAclArn);
    }

    [Fact]
    public void FromContext_SeveralBadApiValues_ReportsEachInOneError()
    {
        var error = Assert.Throws<ConfigurationException>(() => Read(new Dictionary<string, object>
        {
            ["api:servingMode"] = "local",
            ["api:corsOrigins"] = "*",
            ["api:maxBodyBytes"] = 0,
            ["api:stageName"] = "my stage",
        }));

        Assert.Equal(
            [
                "Context key 'api:servingMode' is 'local': expected one of endpoint, centroids, endpoint-with-fallback.",
                "Context key 'api:corsOrigins' is '*': expected https origins separated by commas, each scheme, host and optional port without path or wildcard, such as https://app.example.com ('*' is not one).",
                "Context key 'api:maxBodyBytes' is '0': expected a whole number from 2 to 10485760.",
                "Context key 'api:stageName' is 'my stage': expected 1 to 128 letters, digits, hyphens or underscores (an API Gateway stage name).",
            ],
            error.Problems);
    }

    [Theory]
    [InlineData("https://app.example.com", "https://app.example.com")]
    [InlineData(" https://App.Example.COM , https://admin.example.com:8443,https://app.example.com ", "https://app.example.com,https://admin.example.com:8443")]
    [InlineData("https://localhost:5173", "https://localhost:5173")]
    public void FromContext_CorsOrigins_AreNormalizedToDistinctLowerCaseOrigins(string value, string expected)
    {
        var settings = Read(new Dictionary<string, object> { ["api:corsOrigins"] = value });

        Assert.Equal(expected, settings.CorsOrigins);
        Assert.Equal(expected.Split(','), settings.CorsOriginList);
    }
}
