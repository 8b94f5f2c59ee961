using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using CustomerSegmentation.Infra.Api;
using CustomerSegmentation.Infra.Configuration;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>
/// The RecommendationsApi construct in the synthesized stack: its function and permissions, its routes on the segment
/// API's REST API with their authorization, validation and throttles, its alarms and outputs.
/// </summary>
public sealed class RecommendationsApiTests(RecommendationsOptionsSynthesis options) : IClassFixture<RecommendationsOptionsSynthesis>
{
    private const string FunctionId = "RecommendationsApiFunction323BB958";
    private const string RoleId = "RecommendationsApiFunctionRoleEFCEB53F";
    private const string PolicyId = "RecommendationsApiFunctionRoleDefaultPolicy007449DF";
    private const string LogGroupId = "RecommendationsApiFunctionLogGroup4D6C1CD2";
    private const string ValidatorId = "RecommendationsApiParameterValidatorFB5E4508";
    private const string MetricFilterId = "RecommendationsApiServerErrorMetric9DD5C584";
    private const string ServerErrorAlarmId = "RecommendationsApiServerErrorAlarm11291CF7";
    private const string FunctionErrorAlarmId = "RecommendationsApiFunctionErrorAlarmF42A2399";
    private const string ServingTableId = "RecommendationsPipelineServingTableCEDB228F";
    private const string FeedbackTableId = "RecommendationsPipelineFeedbackTable1C8E94BA";
    private const string RestApiId = "SegmentApiRestApi21497BA3";
    private const string StageId = "SegmentApiRestApiDeploymentStageprodB8106CAD";
    private const string AccessLogGroupId = "SegmentApiAccessLogGroupA1EFAB81";
    private const string Invocations = $"arn:<AWS::Partition>:apigateway:<AWS::Region>:lambda:path/2015-03-31/functions/<{FunctionId}.Arn>/invocations";
    private const string OpenRouteReason =
        "serves only a static document embedded in the function (no table call, no customer data) and must load without credentials; the recommendation and feedback routes it leads to require the API key or IAM.";

    private static readonly Lazy<Template> DefaultTemplate = new(() => TestStacks.Template());

    private static readonly string[] KeyedRoutes = ["GET /recommendations/{customerId}", "GET /recommendations/summary", "POST /feedback"];

    private static readonly string[] OpenRoutes = ["GET /account-manager", "GET /openapi.json", "GET /sales-leader"];

    /// <summary>Every setting this construct reads away from its default, with IAM authorization and two CORS origins.</summary>
    internal static IDictionary<string, object> OptionsContext { get; } = new Dictionary<string, object>
    {
        ["api:authorization"] = "iam",
        ["api:corsOrigins"] = "https://CRM.example.com,https://admin.example.com:8443",
        ["api:pointerCacheSeconds"] = 0,
        ["api:feedbackMaxBodyBytes"] = 1_048_576,
        ["api:recommendationsThrottleRate"] = 300,
        ["api:recommendationsThrottleBurst"] = 600,
        ["api:feedbackThrottleRate"] = 3,
        ["api:feedbackThrottleBurst"] = 4,
        ["api:pagesThrottleRate"] = 1,
        ["api:pagesThrottleBurst"] = 2,
        ["api:stageName"] = "v2",
        ["deployment:lambdaArchitecture"] = "x86_64",
        ["deployment:logRetentionDays"] = 14,
    };

    private Template OptionsTemplate => Template.FromStack(options.Synthesis.Stack);

    [Fact]
    public void Function_Default_IsANativeBootstrapWithTracingItsOwnLogGroupAndTheContractsEnvironment()
    {
        var template = DefaultTemplate.Value;

        var variables = Variables(template);

        template.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["FunctionName"] = "customer-segmentation-recommendations-api",
            ["Runtime"] = "provided.al2023",
            ["Handler"] = "bootstrap",
            ["Architectures"] = Items("arm64"),
            ["MemorySize"] = 512,
            ["Timeout"] = 10,
            ["TracingConfig"] = new Dictionary<string, object> { ["Mode"] = "Active" },
            ["LoggingConfig"] = new Dictionary<string, object> { ["LogGroup"] = Ref(LogGroupId) },
            ["Role"] = new Dictionary<string, object> { ["Fn::GetAtt"] = Items(RoleId, "Arn") },
        });
        Assert.Equal(
            new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["FEEDBACK_TABLE_NAME"] = $"<{FeedbackTableId}>",
                ["MAX_BODY_BYTES"] = "16384",
                ["POINTER_CACHE_SECONDS"] = "30",
                ["RECOMMENDATIONS_TABLE_NAME"] = $"<{ServingTableId}>",
            },
            variables);
        Assert.Equal(30, Properties(template, LogGroupId).GetProperty("RetentionInDays").GetInt32());
        Assert.False(Properties(template, FunctionId).TryGetProperty("ReservedConcurrentExecutions", out _));
    }

    [Fact]
    public void Function_EverySettingChanged_ReachesTheEnvironmentArchitectureAndRetention()
    {
        var template = OptionsTemplate;

        var variables = Variables(template);

        Assert.Equal(
            new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["CORS_ALLOWED_ORIGINS"] = "https://crm.example.com,https://admin.example.com:8443",
                ["FEEDBACK_TABLE_NAME"] = $"<{FeedbackTableId}>",
                ["MAX_BODY_BYTES"] = "1048576",
                ["POINTER_CACHE_SECONDS"] = "0",
                ["RECOMMENDATIONS_TABLE_NAME"] = $"<{ServingTableId}>",
            },
            variables);
        Assert.Equal(["x86_64"], Properties(template, FunctionId).GetProperty("Architectures").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(14, Properties(template, LogGroupId).GetProperty("RetentionInDays").GetInt32());
    }

    [Fact]
    public void Function_Default_CodeIsTheRecommendationsApiProjectZipped()
    {
        FunctionCodeAssertions.AssertCodeIsTheProjectZipped(FunctionId, "RecommendationsApi");
    }

    [Fact]
    public void Policy_Default_GetsFromTheServingTableAndPutsAndGetsOnTheFeedbackTableOnly()
    {
        var statements = Statements(DefaultTemplate.Value);

        Assert.Equal(
            [
                $"|logs:CreateLogStream,logs:PutLogEvents|<{LogGroupId}.Arn>|",
                "|xray:PutTelemetryRecords,xray:PutTraceSegments|*|",
                $"|dynamodb:BatchGetItem,dynamodb:GetItem|<{ServingTableId}.Arn>|",
                $"|dynamodb:GetItem,dynamodb:PutItem|<{FeedbackTableId}.Arn>|",
            ],
            statements);
    }

    [Fact]
    public void Policy_Default_NeverScansQueriesUpdatesDeletesOrReachesAnIndexStreamOrKey()
    {
        var document = JsonSerializer.Serialize(Properties(DefaultTemplate.Value, PolicyId).GetProperty("PolicyDocument"));

        Assert.All(Items("Scan", "Query", "UpdateItem", "DeleteItem", "BatchWriteItem", "ConditionCheckItem", "DescribeTable", "GetRecords", "GetShardIterator"),
            action => Assert.DoesNotContain("dynamodb:" + action, document, StringComparison.Ordinal));
        Assert.DoesNotContain("/index/", document, StringComparison.Ordinal);
        Assert.DoesNotContain("/stream/", document, StringComparison.Ordinal);
        Assert.DoesNotContain("kms:", document, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_OnlyWildcard_IsXRayAndItIsAcknowledgedWithItsReason()
    {
        var policy = Resource(DefaultTemplate.Value, PolicyId);

        var rule = Assert.Single(policy.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray());

        Assert.Equal("AwsSolutions-IAM5", rule.GetProperty("id").GetString());
        Assert.Equal(["Resource::*"], rule.GetProperty("applies_to").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("X-Ray trace upload (active tracing) supports no resource-level scoping.", rule.GetProperty("reason").GetString());
        Assert.Single(Statements(DefaultTemplate.Value), s => s.Contains("|*|", StringComparison.Ordinal));
    }

    [Fact]
    public void Role_Default_TrustsOnlyLambdaAndCarriesNoManagedPolicy()
    {
        var role = Properties(DefaultTemplate.Value, RoleId);

        Assert.False(role.TryGetProperty("ManagedPolicyArns", out _));
        Assert.Equal(
            """{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}],"Version":"2012-10-17"}""",
            role.GetProperty("AssumeRolePolicyDocument").GetRawText());
    }

    [Fact]
    public void Routes_Default_AreSixProxyIntegrationsOfTheFunctionOnTheSegmentApisRestApi()
    {
        var template = DefaultTemplate.Value;

        var routes = Methods(template).ToDictionary(m => Route(template, m.Properties), m => m.Properties);

        Assert.Equal(KeyedRoutes.Concat(OpenRoutes).Order(StringComparer.Ordinal), routes.Keys.Order(StringComparer.Ordinal));
        Assert.All(routes.Values, method =>
        {
            var integration = method.GetProperty("Integration");
            Assert.Equal("AWS_PROXY", integration.GetProperty("Type").GetString());
            Assert.Equal("POST", integration.GetProperty("IntegrationHttpMethod").GetString());
            Assert.Equal(Invocations, TrainingPipelineTests.Readable(integration.GetProperty("Uri")));
            Assert.Equal($"<{RestApiId}>", TrainingPipelineTests.Readable(method.GetProperty("RestApiId")));
        });
        Assert.Single(template.FindResources("AWS::ApiGateway::RestApi"));
        Assert.Single(template.FindResources("AWS::ApiGateway::Stage"));
    }

    [Fact]
    public void Routes_Default_MayInvokeTheFunctionOnlyThroughTheirOwnRouteOfTheStage()
    {
        var permissions = DefaultTemplate.Value.FindResources("AWS::Lambda::Permission")
            .Where(p => p.Key.StartsWith("RecommendationsApi", StringComparison.Ordinal))
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
                .. Items("GET/account-manager", "GET/openapi.json", "GET/recommendations/*", "GET/recommendations/summary", "GET/sales-leader", "POST/feedback")
                    .Select(route => $"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{RestApiId}>/<{StageId}>/{route}"),
            ],
            permissions.Select(p => TrainingPipelineTests.Readable(p.GetProperty("SourceArn"))).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Authorization_ApiKey_KeyedRoutesNeedTheKeyAndThePagesAndDocumentDoNot()
    {
        var template = DefaultTemplate.Value;

        var routes = Methods(template).ToDictionary(m => Route(template, m.Properties), m => m.Properties);

        Assert.All(KeyedRoutes, route => Assert.Equal((true, "NONE"), Authorization(routes[route])));
        Assert.All(OpenRoutes, route => Assert.Equal((false, "NONE"), Authorization(routes[route])));
    }

    [Fact]
    public void Authorization_Iam_KeyedRoutesNeedASignatureAndThePagesAndDocumentStayOpen()
    {
        var template = OptionsTemplate;

        var routes = Methods(template).Where(m => m.Properties.GetProperty("HttpMethod").GetString() != "OPTIONS")
            .ToDictionary(m => Route(template, m.Properties), m => m.Properties);

        Assert.All(KeyedRoutes, route => Assert.Equal((false, "AWS_IAM"), Authorization(routes[route])));
        Assert.All(OpenRoutes, route => Assert.Equal((false, "NONE"), Authorization(routes[route])));
    }

    [Fact]
    public void Validator_GetRecommendations_ChecksTheParametersOnlyAndDeclaresTheColdStartQuery()
    {
        var template = DefaultTemplate.Value;
        var routes = Methods(template).ToDictionary(m => Route(template, m.Properties), m => m.Properties);

        var method = routes["GET /recommendations/{customerId}"];

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["Name"] = "\"recommendations-parameters\"",
                ["RestApiId"] = $$"""{"Ref":"{{RestApiId}}"}""",
                ["ValidateRequestBody"] = "false",
                ["ValidateRequestParameters"] = "true",
            },
            RawProperties(template, ValidatorId));
        Assert.Equal($"<{ValidatorId}>", TrainingPipelineTests.Readable(method.GetProperty("RequestValidatorId")));
        Assert.Equal(
            """{"method.request.path.customerId":true,"method.request.querystring.region":false,"method.request.querystring.end_use":false}""",
            method.GetProperty("RequestParameters").GetRawText());
    }

    [Fact]
    public void Validator_OtherRoutes_NoneIsValidatedOrHasABodyModelAndFeedbackDeclaresAnOptionalIdempotencyKey()
    {
        var template = DefaultTemplate.Value;
        var routes = Methods(template).ToDictionary(m => Route(template, m.Properties), m => m.Properties);

        Assert.All(routes.Values, m => Assert.False(m.TryGetProperty("RequestModels", out _)));
        Assert.All(routes.Where(r => r.Key != "GET /recommendations/{customerId}").Select(r => r.Value),
            m => Assert.False(m.TryGetProperty("RequestValidatorId", out _)));
        Assert.Equal("""{"method.request.header.Idempotency-Key":false}""", routes["POST /feedback"].GetProperty("RequestParameters").GetRawText());
        Assert.All(OpenRoutes.Append("GET /recommendations/summary"), route => Assert.False(routes[route].TryGetProperty("RequestParameters", out _)));
    }

    [Fact]
    public void Throttling_Default_EachNewRouteHasItsOwnMethodSettingAfterTheStagesOwn()
    {
        var settings = MethodSettings(DefaultTemplate.Value);

        Assert.Equal(
            [
                """{"DataTraceEnabled":false,"HttpMethod":"*","LoggingLevel":"ERROR","ResourcePath":"/*","ThrottlingBurstLimit":100,"ThrottlingRateLimit":50}""",
                Setting("GET", "/~1recommendations~1{customerId}", 50, 100),
                Setting("GET", "/~1recommendations~1summary", 50, 100),
                Setting("POST", "/~1feedback", 10, 20),
                Setting("GET", "/~1account-manager", 5, 10),
                Setting("GET", "/~1sales-leader", 5, 10),
                Setting("GET", "/~1openapi.json", 5, 10),
            ],
            settings);
    }

    [Fact]
    public void Throttling_EverySettingChanged_ReachesItsRoutes()
    {
        var settings = MethodSettings(OptionsTemplate);

        Assert.Equal(
            [
                Setting("GET", "/~1recommendations~1{customerId}", 300, 600),
                Setting("GET", "/~1recommendations~1summary", 300, 600),
                Setting("POST", "/~1feedback", 3, 4),
                Setting("GET", "/~1account-manager", 1, 2),
                Setting("GET", "/~1sales-leader", 1, 2),
                Setting("GET", "/~1openapi.json", 1, 2),
            ],
            settings.Skip(1));
    }

    [Fact]
    public void Throttling_EveryMethodSetting_NamesAResourcePathOfTheApi()
    {
        var template = DefaultTemplate.Value;
        var paths = Methods(template).Select(m => Route(template, m.Properties)).Select(r => r.Split(' ')[1]).ToHashSet(StringComparer.Ordinal);

        var named = MethodSettings(template).Skip(1).Select(s => JsonNode.Parse(s)!["ResourcePath"]!.GetValue<string>().Replace("~1", "/", StringComparison.Ordinal)[1..]);

        Assert.All(named, path => Assert.Contains(path, paths));
    }

    [Fact]
    public void ThrottleMethod_MethodOfAnotherApi_IsRefusedNamingBoth()
    {
        var stack = TestStacks.Create();
        var other = new Amazon.CDK.AWS.APIGateway.RestApi(stack, "OtherApi");
        var method = other.Root.AddMethod("GET");

        var error = Assert.Throws<ArgumentException>(() => stack.SegmentApi.ThrottleMethod(method, new ThrottleLimit(1, 1)));

        Assert.Equal("CustomerSegmentation/OtherApi/Default/GET is a method of CustomerSegmentation/OtherApi, not of CustomerSegmentation/SegmentApi/RestApi. (Parameter 'method')",
            error.Message);
    }

    [Fact]
    public void Cors_OneOrigin_FeedbackPreflightAlsoAllowsTheIdempotencyKeyAndTheOthersDoNot()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["api:corsOrigins"] = "https://crm.example.com" });

        var headers = Methods(template).Where(m => m.Properties.GetProperty("HttpMethod").GetString() == "OPTIONS")
            .ToDictionary(m => Route(template, m.Properties), m => m.Properties.GetProperty("Integration").GetProperty("IntegrationResponses")[0].GetProperty("ResponseParameters"));

        Assert.Equal(
            ["OPTIONS /account-manager", "OPTIONS /feedback", "OPTIONS /openapi.json", "OPTIONS /recommendations", "OPTIONS /recommendations/summary",
                "OPTIONS /recommendations/{customerId}", "OPTIONS /sales-leader"],
            headers.Keys.Order(StringComparer.Ordinal));
        Assert.All(headers, h =>
        {
            Assert.Equal("'https://crm.example.com'", h.Value.GetProperty("method.response.header.Access-Control-Allow-Origin").GetString());
            Assert.Equal(h.Key == "OPTIONS /feedback" ? "'Content-Type,X-Api-Key,Idempotency-Key'" : "'Content-Type,X-Api-Key'",
                h.Value.GetProperty("method.response.header.Access-Control-Allow-Headers").GetString());
        });
    }

    [Fact]
    public void Cors_Default_NoPreflightAndNoOriginVariable()
    {
        var template = DefaultTemplate.Value;

        Assert.DoesNotContain(Methods(template), m => m.Properties.GetProperty("HttpMethod").GetString() == "OPTIONS");
        Assert.DoesNotContain("CORS_ALLOWED_ORIGINS", Variables(template).Keys);
    }

    [Fact]
    public void ServerErrorAlarm_Default_CountsTheNewRoutes5xxFromTheAccessLogAndFiresOnTheFirst()
    {
        var template = DefaultTemplate.Value;

        var filter = Properties(template, MetricFilterId);

        Assert.Equal(
            """{ ($.status = "5*") && (($.resourcePath = "/recommendations/{customerId}") || ($.resourcePath = "/recommendations/summary") || """
                + """($.resourcePath = "/feedback") || ($.resourcePath = "/account-manager") || ($.resourcePath = "/sales-leader") || ($.resourcePath = "/openapi.json")) }""",
            filter.GetProperty("FilterPattern").GetString());
        Assert.Equal($"<{AccessLogGroupId}>", TrainingPipelineTests.Readable(filter.GetProperty("LogGroupName")));
        Assert.Equal(
            """[{"MetricName":"ApiServerErrors","MetricNamespace":"customer-segmentation/recommendations","MetricValue":"1"}]""",
            filter.GetProperty("MetricTransformations").GetRawText());
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["AlarmDescription"] = "\"GET /recommendations/*, POST /feedback or the pages answered a 5xx: the function failed or timed out, or nothing is published yet.\"",
                ["AlarmName"] = "\"customer-segmentation-recommendations-api-5xx\"",
                ["ComparisonOperator"] = "\"GreaterThanOrEqualToThreshold\"",
                ["EvaluationPeriods"] = "1",
                ["MetricName"] = "\"ApiServerErrors\"",
                ["Namespace"] = "\"customer-segmentation/recommendations\"",
                ["Period"] = "300",
                ["Statistic"] = "\"Sum\"",
                ["Threshold"] = "1",
                ["TreatMissingData"] = "\"notBreaching\"",
            },
            RawProperties(template, ServerErrorAlarmId));
    }

    [Fact]
    public void ServerErrorAlarm_FilterPaths_AreExactlyTheConstructsRoutes()
    {
        var api = TestStacks.Create().RecommendationsApi;

        Assert.Equal(
            ["/recommendations/{customerId}", "/recommendations/summary", "/feedback", "/account-manager", "/sales-leader", "/openapi.json"],
            api.ResourcePaths);
    }

    [Fact]
    public void FunctionErrorAlarm_Default_WatchesTheFunctionsErrorsAndFiresOnTheFirst()
    {
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["AlarmDescription"] = "\"The recommendations API function failed an invocation (an unhandled error or a timeout); its log group has the details.\"",
                ["AlarmName"] = "\"customer-segmentation-recommendations-api-errors\"",
                ["ComparisonOperator"] = "\"GreaterThanOrEqualToThreshold\"",
                ["Dimensions"] = $$$"""[{"Name":"FunctionName","Value":{"Ref":"{{{FunctionId}}}"}}]""",
                ["EvaluationPeriods"] = "1",
                ["MetricName"] = "\"Errors\"",
                ["Namespace"] = "\"AWS/Lambda\"",
                ["Period"] = "300",
                ["Statistic"] = "\"Sum\"",
                ["Threshold"] = "1",
                ["TreatMissingData"] = "\"notBreaching\"",
            },
            RawProperties(DefaultTemplate.Value, FunctionErrorAlarmId));
    }

    [Fact]
    public void Alarms_Default_TheApisTwoJoinThePipelinesCoverageAndAcceptanceAlarmsWithoutDuplicatingThem()
    {
        var names = DefaultTemplate.Value.FindResources("AWS::CloudWatch::Alarm").Values
            .Select(a => JsonSerializer.SerializeToElement(a).GetProperty("Properties").GetProperty("AlarmName").GetString()!)
            .Where(n => n.Contains("recommendations", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

        Assert.Equal(
            [
                "customer-segmentation-recommendations-acceptancerate-low", "customer-segmentation-recommendations-api-5xx",
                "customer-segmentation-recommendations-api-errors", "customer-segmentation-recommendations-finalcoverage-low",
            ],
            names);
    }

    [Fact]
    public void Outputs_Default_OpenApiUrlIsTheStageUrlsDocumentAndTheFunctionIsNamed()
    {
        var outputs = JsonSerializer.SerializeToElement(DefaultTemplate.Value.ToJSON()).GetProperty("Outputs");

        Assert.Equal(
            $"https://<{RestApiId}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<{StageId}>/openapi.json",
            TrainingPipelineTests.Readable(outputs.GetProperty("OpenApiUrl").GetProperty("Value")));
        Assert.Equal(
            TrainingPipelineTests.Readable(outputs.GetProperty("ApiUrl").GetProperty("Value")) + "openapi.json",
            TrainingPipelineTests.Readable(outputs.GetProperty("OpenApiUrl").GetProperty("Value")));
        Assert.Equal($"<{FunctionId}>", TrainingPipelineTests.Readable(outputs.GetProperty("RecommendationsFunctionName").GetProperty("Value")));
        Assert.DoesNotContain(outputs.EnumerateObject(), o => o.Name.StartsWith("RecommendationsApi", StringComparison.Ordinal));
    }

    [Fact]
    public void Acknowledgements_ApiKey_KeyedRoutesLikeTheSegmentRoutesAndOpenRoutesWithTheirOwnReason()
    {
        var template = DefaultTemplate.Value;

        var rules = Methods(template).ToDictionary(m => Route(template, m.Properties), m => Rules(m.Resource));

        Assert.All(KeyedRoutes, route => Assert.Equal(
            [
                "AwsSolutions-APIG4: Callers authenticate with the usage plan's API key (x-api-key), which also enforces their throttle and daily quota; api:authorization iam switches to SigV4.",
                "AwsSolutions-COG4: The API serves applications, not signed-in end users: they authenticate with an API key or IAM (api:authorization), so there is no Cognito user pool.",
            ],
            rules[route]));
        Assert.All(OpenRoutes, route => Assert.Equal(
            [
                $"AwsSolutions-APIG4: {route} {OpenRouteReason}",
                "AwsSolutions-COG4: The API serves applications, not signed-in end users: they authenticate with an API key or IAM (api:authorization), so there is no Cognito user pool.",
            ],
            rules[route]));
    }

    [Fact]
    public void Acknowledgements_Iam_KeyedRoutesOnlyCog4AndOpenRoutesStillApig4()
    {
        var template = OptionsTemplate;

        var rules = Methods(template).Where(m => m.Properties.GetProperty("HttpMethod").GetString() != "OPTIONS")
            .ToDictionary(m => Route(template, m.Properties), m => Rules(m.Resource).Select(r => r.Split(':')[0]).ToList());

        Assert.All(KeyedRoutes, route => Assert.Equal(["AwsSolutions-COG4"], rules[route]));
        Assert.All(OpenRoutes, route => Assert.Equal(["AwsSolutions-APIG4", "AwsSolutions-COG4"], rules[route]));
    }

    [Fact]
    public void Construct_Default_ExposesWhatItCreated()
    {
        var api = TestStacks.Create().RecommendationsApi;

        Assert.Equal(("Function", "FunctionRole", "FunctionLogGroup"), (api.Function.Node.Id, api.Role.Node.Id, api.LogGroup.Node.Id));
        Assert.Equal("ParameterValidator", api.ParameterValidator.Node.Id);
        Assert.Equal(
            [api.RecommendationsMethod, api.SummaryMethod, api.FeedbackMethod, api.AccountManagerPageMethod, api.SalesLeaderPageMethod, api.OpenApiMethod],
            api.Methods);
        Assert.Equal(["GET", "GET", "POST", "GET", "GET", "GET"], api.Methods.Select(m => m.HttpMethod));
        Assert.Equal(("ServerErrorAlarm", "FunctionErrorAlarm"), (api.ServerErrorAlarm.Node.Id, api.FunctionErrorAlarm.Node.Id));
    }

    // A params array, not an array literal: the analyzers want literals hoisted into fields, which would scatter expectations.
    private static string[] Items(params string[] values) => values;

    private static Dictionary<string, object> Ref(string logicalId) => new() { ["Ref"] = logicalId };

    private static JsonElement Resource(Template template, string logicalId) =>
        JsonSerializer.SerializeToElement(template.ToJSON()).GetProperty("Resources").GetProperty(logicalId);

    private static JsonElement Properties(Template template, string logicalId) => Resource(template, logicalId).GetProperty("Properties");

    /// <summary>Each property of the resource as its raw JSON text.</summary>
    private static Dictionary<string, string> RawProperties(Template template, string logicalId) =>
        Properties(template, logicalId).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetRawText());

    private static SortedDictionary<string, string> Variables(Template template) =>
        new(Properties(template, FunctionId).GetProperty("Environment").GetProperty("Variables").EnumerateObject()
            .ToDictionary(v => v.Name, v => TrainingPipelineTests.Readable(v.Value)), StringComparer.Ordinal);

    private static List<string> Statements(Template template) =>
        [.. Properties(template, PolicyId).GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().Select(TrainingPipelineTests.Summarize)];

    private static (bool ApiKeyRequired, string? AuthorizationType) Authorization(JsonElement method) =>
        (method.GetProperty("ApiKeyRequired").GetBoolean(), method.GetProperty("AuthorizationType").GetString());

    private static List<string> MethodSettings(Template template) =>
        [.. JsonSerializer.SerializeToElement(template.FindResources("AWS::ApiGateway::Stage").Values.Single())
            .GetProperty("Properties").GetProperty("MethodSettings").EnumerateArray().Select(s => s.GetRawText())];

    private static string Setting(string httpMethod, string resourcePath, int rate, int burst) =>
        $$"""{"HttpMethod":"{{httpMethod}}","ResourcePath":"{{resourcePath}}","LoggingLevel":"ERROR","DataTraceEnabled":false,"ThrottlingRateLimit":{{rate}},"ThrottlingBurstLimit":{{burst}}}""";

    /// <summary>This construct's methods (preflights included), whole and as properties.</summary>
    private static List<(JsonElement Resource, JsonElement Properties)> Methods(Template template) =>
        [.. template.FindResources("AWS::ApiGateway::Method")
            .Where(m => m.Key.StartsWith("RecommendationsApi", StringComparison.Ordinal))
            .Select(m => JsonSerializer.SerializeToElement(m.Value))
            .Select(m => (m, m.GetProperty("Properties")))];

    /// <summary>"METHOD /path", following the method's resource up to the API's root.</summary>
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

    private static List<string> Rules(JsonElement resource) =>
        [.. resource.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray()
            .Select(r => $"{r.GetProperty("id").GetString()}: {r.GetProperty("reason").GetString()}")];
}

/// <summary>The app synthesized once with <see cref="RecommendationsApiTests.OptionsContext"/>, for the template tests (the compliance tests run it as a variant).</summary>
public sealed class RecommendationsOptionsSynthesis() : SharedSynthesis(RecommendationsApiTests.OptionsContext);

/// <summary>The recommendations API's <c>api:*</c> context keys: defaults, valid overrides, and every bad value failing synthesis with its message.</summary>
public sealed class RecommendationsApiSettingsTests
{
    private static ApiSettings Read(IDictionary<string, object> context) =>
        PlatformSettings.FromContext(new App(new AppProps { Context = context }).Node).Api;

    [Fact]
    public void FromContext_Empty_UsesTheDocumentedDefaults()
    {
        var settings = Read(new Dictionary<string, object>());

        Assert.Equal((30, 16_384), (settings.PointerCacheSeconds, settings.FeedbackMaxBodyBytes));
        Assert.Equal(new ThrottleLimit(50, 100), settings.RecommendationsThrottle);
        Assert.Equal(new ThrottleLimit(10, 20), settings.FeedbackThrottle);
        Assert.Equal(new ThrottleLimit(5, 10), settings.PagesThrottle);
        Assert.Equal(new ApiSettings(), settings);
    }

    [Theory]
    [InlineData("0", "2", "1", "1")]
    [InlineData("300", "1048576", "10000", "5000")]
    public void FromContext_BoundaryValues_AreAccepted(string cacheSeconds, string bodyBytes, string rate, string burst)
    {
        var settings = Read(new Dictionary<string, object>
        {
            ["api:pointerCacheSeconds"] = cacheSeconds,
            ["api:feedbackMaxBodyBytes"] = bodyBytes,
            ["api:recommendationsThrottleRate"] = rate,
            ["api:recommendationsThrottleBurst"] = burst,
            ["api:feedbackThrottleRate"] = rate,
            ["api:feedbackThrottleBurst"] = burst,
            ["api:pagesThrottleRate"] = rate,
            ["api:pagesThrottleBurst"] = burst,
        });

        var limit = new ThrottleLimit(int.Parse(rate, System.Globalization.CultureInfo.InvariantCulture), int.Parse(burst, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(cacheSeconds, settings.PointerCacheSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(bodyBytes, settings.FeedbackMaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal((limit, limit, limit), (settings.RecommendationsThrottle, settings.FeedbackThrottle, settings.PagesThrottle));
    }

    [Theory]
    [InlineData("api:pointerCacheSeconds", "-1", "expected a whole number from 0 to 300")]
    [InlineData("api:pointerCacheSeconds", "301", "expected a whole number from 0 to 300")]
    [InlineData("api:pointerCacheSeconds", "30s", "expected a whole number from 0 to 300")]
    [InlineData("api:feedbackMaxBodyBytes", "1", "expected a whole number from 2 to 1048576")]
    [InlineData("api:feedbackMaxBodyBytes", "1048577", "expected a whole number from 2 to 1048576")]
    [InlineData("api:recommendationsThrottleRate", "0", "expected a whole number from 1 to 10000")]
    [InlineData("api:recommendationsThrottleRate", "10001", "expected a whole number from 1 to 10000")]
    [InlineData("api:recommendationsThrottleBurst", "5001", "expected a whole number from 1 to 5000")]
    [InlineData("api:feedbackThrottleRate", "fast", "expected a whole number from 1 to 10000")]
    [InlineData("api:feedbackThrottleBurst", "0", "expected a whole number from 1 to 5000")]
    [InlineData("api:pagesThrottleRate", "2.5", "expected a whole number from 1 to 10000")]
    [InlineData("api:pagesThrottleBurst", "-3", "expected a whole number from 1 to 5000")]
    public void Synthesis_BadValue_FailsNamingTheKeyTheValueAndWhatIsValid(string key, string value, string rule)
    {
        var error = Assert.Throws<ConfigurationException>(() => TestStacks.Create(new Dictionary<string, object> { [key] = value }));

        Assert.Equal([$"Context key '{key}' is '{value}': {rule}."], error.Problems);
    }

    [Fact]
    public void Synthesis_SeveralBadValues_ReportsEveryOneInOneError()
    {
        var error = Assert.Throws<ConfigurationException>(() => TestStacks.Create(new Dictionary<string, object>
        {
            ["api:pointerCacheSeconds"] = 900,
            ["api:feedbackMaxBodyBytes"] = 0,
            ["api:feedbackThrottleBurst"] = 9999,
            ["api:pagesThrottleRate"] = 0,
        }));

        Assert.Equal(
            [
                "Context key 'api:pointerCacheSeconds' is '900': expected a whole number from 0 to 300.",
                "Context key 'api:feedbackMaxBodyBytes' is '0': expected a whole number from 2 to 1048576.",
                "Context key 'api:feedbackThrottleBurst' is '9999': expected a whole number from 1 to 5000.",
                "Context key 'api:pagesThrottleRate' is '0': expected a whole number from 1 to 10000.",
            ],
            error.Problems);
    }
}
