using System.Globalization;
using Amazon.CDK;
using Amazon.CDK.AWS.APIGateway;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.DynamoDB;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Constructs;
using CustomerSegmentation.Infra.Compliance;
using CustomerSegmentation.Infra.Deployment;
using Resource = Amazon.CDK.AWS.APIGateway.Resource;
using ResourceProps = Amazon.CDK.AWS.APIGateway.ResourceProps;

namespace CustomerSegmentation.Infra.Api;

/// <summary>Properties of <see cref="RecommendationsApi"/>.</summary>
public sealed class RecommendationsApiProps
{
    /// <summary>Prefix of the function and alarm names.</summary>
    public required string ProjectName { get; init; }

    /// <summary>
    /// The segment API whose REST API, stage, API key and access log the routes join: callers use one URL and one key
    /// for segments and recommendations.
    /// </summary>
    public required SegmentApi Api { get; init; }

    /// <summary>The table the recommendations pipeline publishes to; the function may only get items from it.</summary>
    public required ITable ServingTable { get; init; }

    /// <summary>The account managers' feedback; the function may only put an item and get one back by its key.</summary>
    public required ITable FeedbackTable { get; init; }

    /// <summary>The CloudWatch namespace of the recommendations metrics (the pipeline's), where the API's 5xx count goes too.</summary>
    public required string MetricNamespace { get; init; }

    /// <summary>The function's limits (<c>api:pointerCacheSeconds</c>, <c>api:feedbackMaxBodyBytes</c>), CORS origins and the routes' throttles.</summary>
    public required ApiSettings Settings { get; init; }

    /// <summary>The architecture the function's bootstrap is compiled for and runs on.</summary>
    public required LambdaArchitecture LambdaArchitecture { get; init; }

    /// <summary>Retention of the function's log group, in days (one of <see cref="DeploymentSettings.LogRetentionPeriods"/>).</summary>
    public required int LogRetentionDays { get; init; }

    /// <summary>
    /// The function's code. Default: the repository's <c>lambdas/RecommendationsApi</c> project, published native AOT for
    /// <see cref="LambdaArchitecture"/> by <see cref="NativeLambdaCode"/>.
    /// </summary>
    public Code? FunctionCode { get; init; }
}

/// <summary>
/// Recommendations in the account managers' hands, on the segment API's REST API and stage: GET
/// /recommendations/{customerId}, GET /recommendations/summary and POST /feedback behind the same API key (or IAM), and
/// the open GET /account-manager, GET /sales-leader and GET /openapi.json. Every route is a Lambda proxy integration of
/// the RecommendationsApi function, which may get items from the serving table and put (and get back) feedback items,
/// nothing else. Each route has its own throttle; alarms watch the routes' 5xx answers and the function's errors.
/// </summary>
public sealed class RecommendationsApi : Construct
{
    /// <summary>The alarms' window: long enough to hold a few requests of a quiet API, short enough to page soon.</summary>
    private static readonly Duration AlarmPeriod = Duration.Minutes(5);

    public RecommendationsApi(Construct scope, string id, RecommendationsApiProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;

        var function = NativeFunction.Create(this, "Function", new NativeFunctionProps
        {
            Project = "RecommendationsApi",
            Architecture = props.LambdaArchitecture,
            LogRetentionDays = props.LogRetentionDays,
            RoleDescription = "Runs the recommendations API: gets published recommendations from the serving table and stores account managers' feedback.",
            Code = props.FunctionCode,
            Function = new FunctionProps
            {
                FunctionName = $"{props.ProjectName}-recommendations-api",
                Description = "Answers GET /recommendations/{customerId} and /recommendations/summary, stores POST /feedback, serves the pages and the OpenAPI document.",
                // CPU comes with memory. A request is one table call and a few kilobytes of JSON, but a cold start also
                // opens a TLS connection, where 512 MB (about a third of a vCPU) is markedly quicker than 128 MB; billed per
                // millisecond, the difference is cents per ten million requests (see the README's cost section).
                MemorySize = 512,
                // One DynamoDB request per answer, with the SDK's retries, takes well under a second; a call hanging longer
                // than 10 s is failed by Lambda (counted in the errors alarm) instead of being billed until API Gateway's
                // 29 s integration timeout.
                Timeout = Duration.Seconds(10),
                Environment = FunctionEnvironment(props),
            },
        });
        Function = function.Function;
        Role = function.Role;
        LogGroup = function.LogGroup;
        GrantTableAccess(function.Role, props);

        var api = props.Api;
        var integration = new LambdaIntegration(Function, new LambdaIntegrationOptions
        {
            Proxy = true,
            // No extra permission for the console's test-invoke: the function is invoked through the stage only.
            AllowTestInvoke = false,
        });
        // Only the customer id is a parameter API Gateway can check. Bodies are left to the handler on purpose: it answers
        // a bad POST /feedback with 400 and the exact field path ({"error", "field": "rating"}), where a request model
        // would answer every mistake with the API-wide BAD_REQUEST_BODY response, which names neither the field nor the
        // rule (and is worded for POST /segment). The segment API's validator already checks bodies and parameters
        // together, which cdk-nag (APIG2) asks of the API.
        ParameterValidator = new RequestValidator(this, "ParameterValidator", new RequestValidatorProps
        {
            RestApi = api.RestApi,
            RequestValidatorName = "recommendations-parameters",
            ValidateRequestBody = false,
            ValidateRequestParameters = true,
        });

        var recommendations = new Resource(this, "Recommendations", new ResourceProps { Parent = api.RestApi.Root, PathPart = "recommendations" });
        RecommendationsMethod = recommendations.AddResource("{customerId}").AddMethod("GET", integration, new MethodOptions
        {
            RequestValidator = ParameterValidator,
            RequestParameters = new Dictionary<string, bool>
            {
                ["method.request.path.customerId"] = true,
                // Optional: both together ask for a cold-start answer for a customer the pipeline has never seen.
                ["method.request.querystring.region"] = false,
                ["method.request.querystring.end_use"] = false,
            },
        });
        SummaryMethod = recommendations.AddResource("summary").AddMethod("GET", integration);
        FeedbackMethod = new Resource(this, "Feedback", new ResourceProps
        {
            Parent = api.RestApi.Root,
            PathPart = "feedback",
            // A browser of a configured origin sends Idempotency-Key only when the preflight allows it.
            DefaultCorsPreflightOptions = WithAllowedHeader(api.RestApi.Root.DefaultCorsPreflightOptions, "Idempotency-Key"),
        }).AddMethod("POST", integration, new MethodOptions
        {
            // Documented, optional: without it the handler derives the key from the feedback's content.
            RequestParameters = new Dictionary<string, bool> { ["method.request.header.Idempotency-Key"] = false },
        });

        // Open like GET /, so a browser can load them (a navigation cannot send a header) and a CRM can import the
        // document before it has a key. They answer only bytes embedded in the function, the same for everyone, with no
        // table call; the pages then ask for the key, as the explorer does, for the keyed routes above.
        var open = new MethodOptions { ApiKeyRequired = false, AuthorizationType = AuthorizationType.NONE };
        AccountManagerPageMethod = OpenRoute("AccountManager", "account-manager");
        SalesLeaderPageMethod = OpenRoute("SalesLeader", "sales-leader");
        OpenApiMethod = OpenRoute("OpenApi", "openapi.json");
        Method OpenRoute(string resourceId, string pathPart) =>
            new Resource(this, resourceId, new ResourceProps { Parent = api.RestApi.Root, PathPart = pathPart }).AddMethod("GET", integration, open);

        Methods = [RecommendationsMethod, SummaryMethod, FeedbackMethod, AccountManagerPageMethod, SalesLeaderPageMethod, OpenApiMethod];
        foreach (var method in new[] { RecommendationsMethod, SummaryMethod })
        {
            api.ThrottleMethod(method, settings.RecommendationsThrottle);
            api.AcknowledgeMethod(method);
        }

        api.ThrottleMethod(FeedbackMethod, settings.FeedbackThrottle);
        api.AcknowledgeMethod(FeedbackMethod);
        foreach (var method in new[] { AccountManagerPageMethod, SalesLeaderPageMethod, OpenApiMethod })
        {
            api.ThrottleMethod(method, settings.PagesThrottle);
            api.AcknowledgeMethod(method,
                $"GET {method.Resource.Path} serves only a static document embedded in the function (no table call, no customer data) and must load without credentials; the recommendation and feedback routes it leads to require the API key or IAM.");
        }

        OpenApiUrl = api.Url + "openapi.json";
        (ServerErrorAlarm, FunctionErrorAlarm) = CreateAlarms(props);

        NagAcknowledgements.Add(Role.Node.FindChild("DefaultPolicy"), "AwsSolutions-IAM5",
            "X-Ray trace upload (active tracing) supports no resource-level scoping.",
            "Resource::*");
    }

    /// <summary>The RecommendationsApi function behind every route.</summary>
    public IFunction Function { get; }

    /// <summary>The function's role.</summary>
    public IRole Role { get; }

    /// <summary>The function's log group: one JSON line per request.</summary>
    public ILogGroup LogGroup { get; }

    /// <summary>Checks GET /recommendations/{customerId}'s parameters.</summary>
    public RequestValidator ParameterValidator { get; }

    /// <summary>GET /recommendations/{customerId}[?region=&amp;end_use=].</summary>
    public Method RecommendationsMethod { get; }

    /// <summary>GET /recommendations/summary: the latest run's coverage and feedback summary.</summary>
    public Method SummaryMethod { get; }

    /// <summary>POST /feedback.</summary>
    public Method FeedbackMethod { get; }

    /// <summary>GET /account-manager, the account manager's page (open).</summary>
    public Method AccountManagerPageMethod { get; }

    /// <summary>GET /sales-leader, the sales leader's page (open).</summary>
    public Method SalesLeaderPageMethod { get; }

    /// <summary>GET /openapi.json, the OpenAPI document (open).</summary>
    public Method OpenApiMethod { get; }

    /// <summary>Every method above, keyed routes first.</summary>
    public IReadOnlyList<Method> Methods { get; }

    /// <summary>Where a CRM imports the OpenAPI document: the stage URL and <c>openapi.json</c>.</summary>
    public string OpenApiUrl { get; }

    /// <summary>In ALARM while any of the routes above answered a 5xx in the last five minutes (from the stage's access log).</summary>
    public Alarm ServerErrorAlarm { get; }

    /// <summary>In ALARM while the function failed an invocation (crash, timeout) in the last five minutes.</summary>
    public Alarm FunctionErrorAlarm { get; }

    /// <summary>The access-log resource paths of <see cref="Methods"/>, as the 5xx metric filter matches them.</summary>
    public IReadOnlyList<string> ResourcePaths => [.. Methods.Select(m => m.Resource.Path)];

    private static Dictionary<string, string> FunctionEnvironment(RecommendationsApiProps props)
    {
        var settings = props.Settings;
        var environment = new Dictionary<string, string>
        {
            ["RECOMMENDATIONS_TABLE_NAME"] = props.ServingTable.TableName,
            ["FEEDBACK_TABLE_NAME"] = props.FeedbackTable.TableName,
            ["POINTER_CACHE_SECONDS"] = settings.PointerCacheSeconds.ToString(CultureInfo.InvariantCulture),
            ["MAX_BODY_BYTES"] = settings.FeedbackMaxBodyBytes.ToString(CultureInfo.InvariantCulture),
        };
        // As for the segment proxy: API Gateway answers only the preflight, the function's answers must name the origin.
        if (settings.CorsOrigins.Length > 0)
        {
            environment["CORS_ALLOWED_ORIGINS"] = settings.CorsOrigins;
        }

        return environment;
    }

    /// <summary>
    /// Exactly the calls the handler makes. Serving table: GetItem (the pointer) and BatchGetItem (a customer's item with
    /// its segment's); grantReadData would add Query, Scan, ConditionCheckItem, DescribeTable and the stream reads, so a
    /// leaked role could dump every customer's recommendations. Feedback table: PutItem (conditional on a new key) and
    /// GetItem, which reads back the stored item when that condition fails, to answer a replay (same content, 200) apart
    /// from a reused key (different content, 409); no Scan, Update or Delete, so the API can neither read others' ratings
    /// in bulk nor change one.
    /// </summary>
    private static void GrantTableAccess(IRole role, RecommendationsApiProps props)
    {
        _ = Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = role,
            Actions = ["dynamodb:GetItem", "dynamodb:BatchGetItem"],
            ResourceArns = [props.ServingTable.TableArn],
        });
        _ = props.ServingTable.EncryptionKey?.GrantDecrypt(role);
        _ = Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = role,
            Actions = ["dynamodb:PutItem", "dynamodb:GetItem"],
            ResourceArns = [props.FeedbackTable.TableArn],
        });
        _ = props.FeedbackTable.EncryptionKey?.GrantEncryptDecrypt(role);
    }

    private static CorsOptions? WithAllowedHeader(ICorsOptions? cors, string header) => cors is null ? null : new CorsOptions
    {
        AllowOrigins = cors.AllowOrigins,
        AllowMethods = cors.AllowMethods,
        AllowHeaders = [.. cors.AllowHeaders ?? [], header],
        AllowCredentials = cors.AllowCredentials,
        DisableCache = cors.DisableCache,
        ExposeHeaders = cors.ExposeHeaders,
        MaxAge = cors.MaxAge,
        StatusCode = cors.StatusCode,
    };

    /// <summary>
    /// The routes' 5xx come from the stage's access log, one line per request: API Gateway's own per-method metrics exist
    /// only with detailed metrics, billed as seven custom metrics per method, where this filter is one. It counts the
    /// function's answers and the gateway's (502 for a crash, 504 for a timeout). A 503 before the first run is published
    /// counts too: the API then serves nothing. Both alarms ignore quiet periods.
    /// </summary>
    private (Alarm ServerErrors, Alarm FunctionErrors) CreateAlarms(RecommendationsApiProps props)
    {
        var filter = new MetricFilter(this, "ServerErrorMetric", new MetricFilterProps
        {
            LogGroup = props.Api.AccessLogGroup,
            // The access log quotes every value, so the status is matched as text.
            FilterPattern = FilterPattern.All(
                FilterPattern.StringValue("$.status", "=", "5*"),
                FilterPattern.Any([.. ResourcePaths.Select(path => FilterPattern.StringValue("$.resourcePath", "=", path))])),
            MetricNamespace = props.MetricNamespace,
            MetricName = "ApiServerErrors",
            MetricValue = "1",
        });
        var serverErrors = new Alarm(this, "ServerErrorAlarm", new AlarmProps
        {
            AlarmName = $"{props.ProjectName}-recommendations-api-5xx",
            AlarmDescription = "GET /recommendations/*, POST /feedback or the pages answered a 5xx: the function failed or timed out, or nothing is published yet.",
            Metric = filter.Metric(new MetricOptions { Statistic = "Sum", Period = AlarmPeriod }),
            Threshold = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            EvaluationPeriods = 1,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });
        var functionErrors = new Alarm(this, "FunctionErrorAlarm", new AlarmProps
        {
            AlarmName = $"{props.ProjectName}-recommendations-api-errors",
            AlarmDescription = "The recommendations API function failed an invocation (an unhandled error or a timeout); its log group has the details.",
            Metric = Function.MetricErrors(new MetricOptions { Statistic = "Sum", Period = AlarmPeriod }),
            Threshold = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            EvaluationPeriods = 1,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });
        return (serverErrors, functionErrors);
    }
}
