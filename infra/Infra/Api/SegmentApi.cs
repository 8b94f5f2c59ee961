using System.Globalization;
using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.AWS.APIGateway;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.WAFv2;
using Constructs;
using CustomerSegmentation.Infra.Compliance;
using CustomerSegmentation.Infra.Deployment;
using Stage = Amazon.CDK.AWS.APIGateway.Stage;

namespace CustomerSegmentation.Infra.Api;

/// <summary>Properties of <see cref="SegmentApi"/>.</summary>
public sealed class SegmentApiProps
{
    /// <summary>Prefix of the API, function, API key and usage plan names.</summary>
    public required string ProjectName { get; init; }

    /// <summary>
    /// The model bucket: the proxy reads the deployed marker and the spec, profiles and metrics of the version it names,
    /// exactly the objects <see cref="SegmentApi.ReadableModelObjects"/> lists, and nothing else.
    /// </summary>
    public required IBucket ModelBucket { get; init; }

    /// <summary>The SageMaker endpoint the proxy invokes; neither passed nor granted in <see cref="ApiServingMode.Centroids"/> mode.</summary>
    public required string EndpointName { get; init; }

    /// <summary>Serving mode, limits, authorization, throttling, CORS, stage and firewall.</summary>
    public required ApiSettings Settings { get; init; }

    /// <summary>The architecture the proxy's bootstrap is compiled for and runs on.</summary>
    public required LambdaArchitecture LambdaArchitecture { get; init; }

    /// <summary>Retention of the proxy's log group and the API's access and execution logs, in days (one of <see cref="DeploymentSettings.LogRetentionPeriods"/>).</summary>
    public required int LogRetentionDays { get; init; }

    /// <summary>
    /// The proxy's code. Default: the repository's <c>lambdas/SegmentProxy</c> project, published native AOT for
    /// <see cref="LambdaArchitecture"/> by <see cref="NativeLambdaCode"/>.
    /// </summary>
    public Code? ProxyCode { get; init; }
}

/// <summary>
/// The public face of the platform: a REST API (<c>POST /segment</c>, <c>GET /segments</c>, <c>GET /</c>) whose every
/// route is a Lambda proxy integration of the SegmentProxy function. The data routes are authenticated (API key and
/// usage plan, or IAM); GET /, the static explorer page, is open so a browser can load it. Throttled, body-validated,
/// access-logged as JSON, traced with X-Ray, CORS only for configured origins, and optionally behind a WAF web ACL. The
/// function may read only the model documents it serves and invoke only the one endpoint. Other constructs add their
/// routes to the same API and stage (RecommendationsApi), with their own throttles (<see cref="ThrottleMethod"/>) and
/// the same authorization acknowledgements (<see cref="AcknowledgeMethod"/>).
/// </summary>
public sealed class SegmentApi : Construct
{
    /// <summary>The JSON content type the request model and the gateway's own error answers use.</summary>
    private const string Json = "application/json";

    // cdk-nag names the managed policy of the CloudWatch role this way in its IAM4 finding.
    private const string PushToCloudWatchLogsPolicy = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs";

    private readonly ApiAuthorization authorization;

    // The stage renders one method setting of its own: the stage-wide throttle and error-only logging.
    private int methodSettingCount = 1;

    public SegmentApi(Construct scope, string id, SegmentApiProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;
        authorization = settings.Authorization;

        var proxy = NativeFunction.Create(this, "Proxy", new NativeFunctionProps
        {
            Project = "SegmentProxy",
            Architecture = props.LambdaArchitecture,
            LogRetentionDays = props.LogRetentionDays,
            RoleDescription = "Runs the segment proxy: reads the deployed model's documents from the model bucket and, unless it scores from centroids, invokes the endpoint.",
            Code = props.ProxyCode,
            Function = new FunctionProps
            {
                FunctionName = $"{props.ProjectName}-segment-proxy",
                Description = "Scales raw customer attributes with the deployed model's preprocessing spec and returns their segments.",
                // CPU comes with memory. A request parses up to api:maxBodyBytes of JSON and scales up to api:maxBatchSize
                // rows, and a cold start also loads the model documents over TLS; 512 MB (about a third of a vCPU) keeps
                // both quick while the native binary itself needs a fraction of it.
                MemorySize = 512,
                // API Gateway stops waiting for a REST integration after 29 seconds; running longer would be billed for an
                // answer nobody receives. A request normally takes milliseconds plus one endpoint call.
                Timeout = Duration.Seconds(29),
                Environment = ProxyEnvironment(props),
            },
        });
        Function = proxy.Function;
        Role = proxy.Role;
        ProxyLogGroup = proxy.LogGroup;
        GrantProxyPermissions(proxy.Role, props);

        AccessLogGroup = new LogGroup(this, "AccessLogGroup", new LogGroupProps
        {
            Retention = DeploymentSettings.LogRetentionPeriods[props.LogRetentionDays],
        });
        RestApi = CreateRestApi(props);
        Stage = RestApi.DeploymentStage;
        // RestApi adds an "Endpoint" stack output of its own; the stack's ApiUrl output is the one documented.
        _ = RestApi.Node.TryRemoveChild("Endpoint");
        ExecutionLogGroup = CreateExecutionLogGroup(settings.StageName, props.LogRetentionDays);

        var integration = new LambdaIntegration(Function, new LambdaIntegrationOptions
        {
            Proxy = true,
            // No extra permission for the console's test-invoke: the function is invoked through the stage only.
            AllowTestInvoke = false,
        });
        // Parameters too, although no route declares any: cdk-nag (APIG2) accepts only a validator that checks both.
        var validator = RestApi.AddRequestValidator("RequestValidator", new RequestValidatorOptions
        {
            RequestValidatorName = "body-and-parameters",
            ValidateRequestBody = true,
            ValidateRequestParameters = true,
        });
        RequestModel = RestApi.AddModel("SegmentRequestModel", new ModelOptions
        {
            ModelName = "SegmentRequest",
            ContentType = Json,
            Description = "POST /segment body: a batch of customers, one customer, or legacy pre-scaled feature rows.",
            Schema = SegmentRequestSchema(),
        });
        // Open, so a browser can load the page at all (a navigation cannot send a header). Safe because GET / answers only
        // the page embedded in the function, the same bytes for everyone: no customer or model data, no S3 or endpoint
        // call. Everything the page shows comes from POST /segment and GET /segments, which still need the key (the page
        // asks for it) or a signature. API Gateway applies the stage's throttle per method, so anonymous page loads are
        // capped on GET / alone and cannot use up the data routes' budget; each costs one millisecond-scale invocation.
        ExplorerPageMethod = RestApi.Root.AddMethod("GET", integration, new MethodOptions
        {
            ApiKeyRequired = false,
            AuthorizationType = AuthorizationType.NONE,
        });
        Methods =
        [
            ExplorerPageMethod,
            RestApi.Root.AddResource("segment").AddMethod("POST", integration, new MethodOptions
            {
                RequestValidator = validator,
                RequestModels = new Dictionary<string, IModel> { [Json] = RequestModel },
            }),
            RestApi.Root.AddResource("segments").AddMethod("GET", integration),
        ];
        AddErrorResponses(settings.CorsOriginList);

        if (settings.Authorization == ApiAuthorization.ApiKey)
        {
            (ApiKey, UsagePlan) = CreateApiKeyAndUsagePlan(props);
        }

        if (settings.WebAclArn is { } webAclArn)
        {
            WebAclAssociation = new CfnWebACLAssociation(this, "WebAclAssociation", new CfnWebACLAssociationProps
            {
                ResourceArn = Stage.StageArn,
                WebAclArn = webAclArn,
            });
        }

        Acknowledge(props);
    }

    /// <summary>The SegmentProxy function behind every route.</summary>
    public IFunction Function { get; }

    /// <summary>The proxy's role.</summary>
    public IRole Role { get; }

    /// <summary>The proxy's log group.</summary>
    public ILogGroup ProxyLogGroup { get; }

    /// <summary>The REST API.</summary>
    public RestApi RestApi { get; }

    /// <summary>The stage callers use (<see cref="ApiSettings.StageName"/>).</summary>
    public Stage Stage { get; }

    /// <summary>The stage's invoke URL, <c>https://&lt;api&gt;.execute-api.&lt;region&gt;.amazonaws.com/&lt;stage&gt;/</c>.</summary>
    public string Url => RestApi.Url;

    /// <summary>One JSON line per request: who, what, the status and the latencies (never a body).</summary>
    public ILogGroup AccessLogGroup { get; }

    /// <summary>
    /// API Gateway's execution log group for the stage, created here so it has a retention (API Gateway would create it
    /// on the first error with logs kept forever). Errors only, never bodies.
    /// </summary>
    public ILogGroup ExecutionLogGroup { get; }

    /// <summary>The JSON schema model POST /segment bodies are validated against.</summary>
    public Model RequestModel { get; }

    /// <summary>GET /, POST /segment and GET /segments.</summary>
    public IReadOnlyList<Method> Methods { get; }

    /// <summary>GET /, the explorer page: the one method that needs neither the API key nor IAM.</summary>
    public Method ExplorerPageMethod { get; }

    /// <summary>The callers' API key; null with IAM authorization.</summary>
    public IApiKey? ApiKey { get; }

    /// <summary>The usage plan (throttle and daily quota) of <see cref="ApiKey"/>; null with IAM authorization.</summary>
    public UsagePlan? UsagePlan { get; }

    /// <summary>The association with <see cref="ApiSettings.WebAclArn"/>; null when none is configured.</summary>
    public CfnWebACLAssociation? WebAclAssociation { get; }

    /// <summary>
    /// The model-bucket objects the proxy reads, as object-key patterns: the deployed marker the EndpointDeployer writes,
    /// and the three documents of a pipeline run it names (written by the pipeline's Evaluate step under
    /// <c>runs/&lt;execution id&gt;/artifacts/</c>, see TrainingPipelineDefinition).
    /// </summary>
    public static IReadOnlyList<string> ReadableModelObjects { get; } =
    [
        "deployed/version.json",
        "runs/*/artifacts/preprocessing_spec.json",
        "runs/*/artifacts/segment_profiles.json",
        "runs/*/artifacts/metrics.json",
    ];

    /// <summary>
    /// Gives <paramref name="method"/>, a route another construct added to this API, its own throttle in the stage's
    /// method settings instead of the stage-wide api:throttleRate and api:throttleBurst.
    /// </summary>
    /// <exception cref="ArgumentException">The method belongs to another API.</exception>
    public void ThrottleMethod(Method method, ThrottleLimit limit)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(limit);
        if (method.Api.Node.Path != RestApi.Node.Path)
        {
            throw new ArgumentException($"{method.Node.Path} is a method of {method.Api.Node.Path}, not of {RestApi.Node.Path}.", nameof(method));
        }

        // The L2 stage renders its method settings once, when it is created, and cannot add one later; an override at the
        // next index appends to the rendered list. API Gateway spells the resource path's slashes ~1. A method's own entry
        // replaces the stage-wide one for that method entirely, so it repeats the logging choice.
        var stage = (CfnStage)Stage.Node.DefaultChild!;
        stage.AddPropertyOverride($"MethodSettings.{methodSettingCount++}", new Dictionary<string, object>
        {
            ["HttpMethod"] = method.HttpMethod,
            ["ResourcePath"] = "/" + method.Resource.Path.Replace("/", "~1", StringComparison.Ordinal),
            ["LoggingLevel"] = "ERROR",
            ["DataTraceEnabled"] = false,
            ["ThrottlingRateLimit"] = limit.Rate,
            ["ThrottlingBurstLimit"] = limit.Burst,
        });
    }

    /// <summary>
    /// Records on <paramref name="method"/> why cdk-nag's authorization rules do not apply to it: as for this API's own data
    /// routes (API key or IAM, no Cognito user pool), or, for a route open on purpose, <paramref name="openReason"/>.
    /// </summary>
    public void AcknowledgeMethod(Method method, string? openReason = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (openReason is not null)
        {
            NagAcknowledgements.Add(method, "AwsSolutions-APIG4", openReason);
        }
        else if (authorization == ApiAuthorization.ApiKey)
        {
            NagAcknowledgements.Add(method, "AwsSolutions-APIG4",
                "Callers authenticate with the usage plan's API key (x-api-key), which also enforces their throttle and daily quota; api:authorization iam switches to SigV4.");
        }

        NagAcknowledgements.Add(method, "AwsSolutions-COG4",
            "The API serves applications, not signed-in end users: they authenticate with an API key or IAM (api:authorization), so there is no Cognito user pool.");
    }

    private static Dictionary<string, string> ProxyEnvironment(SegmentApiProps props)
    {
        var settings = props.Settings;
        string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string>
        {
            ["MODEL_BUCKET"] = props.ModelBucket.BucketName,
            ["SERVING_MODE"] = settings.ServingModeName,
            ["MAX_BATCH_SIZE"] = Text(settings.MaxBatchSize),
            ["MAX_BODY_BYTES"] = Text(settings.MaxBodyBytes),
            ["MODEL_REFRESH_SECONDS"] = Text(settings.ModelRefreshSeconds),
        };
        // API Gateway answers only the preflight; the proxy's own answers must name the origin for a browser to read them.
        if (settings.CorsOrigins.Length > 0)
        {
            environment["CORS_ALLOWED_ORIGINS"] = settings.CorsOrigins;
        }

        if (settings.ServingMode != ApiServingMode.Centroids)
        {
            environment["ENDPOINT_NAME"] = props.EndpointName;
        }

        return environment;
    }

    private static void GrantProxyPermissions(Role role, SegmentApiProps props)
    {
        // Only GetObject: no List, so the proxy cannot enumerate the bucket, and no other object is readable. The price:
        // without s3:ListBucket S3 answers a missing marker with 403 AccessDenied instead of 404, so the proxy's 503 says
        // "no model is deployed yet (or this function may not read ...)", unable to tell the two apart.
        _ = Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = role,
            Actions = ["s3:GetObject"],
            ResourceArns = [.. ReadableModelObjects.Select(props.ModelBucket.ArnForObjects)],
        });
        _ = props.ModelBucket.EncryptionKey?.GrantDecrypt(role);
        if (props.Settings.ServingMode != ApiServingMode.Centroids)
        {
            _ = Grant.AddToPrincipal(new GrantOnPrincipalOptions
            {
                Grantee = role,
                Actions = ["sagemaker:InvokeEndpoint"],
                ResourceArns =
                [
                    Stack.Of(role).FormatArn(new ArnComponents { Service = "sagemaker", Resource = "endpoint", ResourceName = props.EndpointName }),
                ],
            });
        }
    }

    private RestApi CreateRestApi(SegmentApiProps props)
    {
        var settings = props.Settings;
        var iam = settings.Authorization == ApiAuthorization.Iam;
        return new RestApi(this, "RestApi", new RestApiProps
        {
            RestApiName = $"{props.ProjectName}-api",
            Description = "Customer segmentation: POST /segment scores customers, GET /segments lists the segments, GET / is the explorer page.",
            // Callers are applications, usually in the same region; an edge-optimized API would add a CloudFront hop
            // that caches nothing here.
            EndpointTypes = [EndpointType.REGIONAL],
            // Access and execution logging need the account's API Gateway CloudWatch role, one per account and region.
            // Created by default so a first deploy into a fresh account works; retained when the stack is deleted,
            // because other APIs of the account log through the same setting and would silently stop logging.
            // api:cloudWatchRole false leaves an account setting owned by someone else untouched.
            CloudWatchRole = settings.CloudWatchRole,
            CloudWatchRoleRemovalPolicy = settings.CloudWatchRole ? RemovalPolicy.RETAIN : null,
            DeployOptions = new StageOptions
            {
                StageName = settings.StageName,
                TracingEnabled = true,
                // Execution logs carry errors only; data tracing would log request and response bodies, which are
                // customer data, so it stays off.
                LoggingLevel = MethodLoggingLevel.ERROR,
                DataTraceEnabled = false,
                ThrottlingRateLimit = settings.ThrottleRate,
                ThrottlingBurstLimit = settings.ThrottleBurst,
                AccessLogDestination = new LogGroupLogDestination(AccessLogGroup),
                AccessLogFormat = AccessLogFormat.Custom(AccessLogLine),
            },
            DefaultMethodOptions = new MethodOptions
            {
                AuthorizationType = iam ? AuthorizationType.IAM : AuthorizationType.NONE,
                ApiKeyRequired = !iam,
            },
            // No CORS unless origins are configured: then only those origins, never "*".
            DefaultCorsPreflightOptions = settings.CorsOriginList.Count == 0 ? null : new CorsOptions
            {
                AllowOrigins = [.. settings.CorsOriginList],
                AllowMethods = ["GET", "POST", "OPTIONS"],
                AllowHeaders = iam
                    ? ["Content-Type", "Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"]
                    : ["Content-Type", "X-Api-Key"],
                MaxAge = Duration.Hours(1),
            },
        });
    }

    /// <summary>
    /// The access log line: JSON (CloudWatch Logs Insights parses it), every value quoted so the format itself is valid
    /// JSON. Identifies the caller by IP, API key id or IAM ARN; never the body, headers or the key itself.
    /// </summary>
    internal static string AccessLogLine { get; } = new JsonObject
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
    }.ToJsonString();

    // The stage name as configured, not the stage's Ref: the stage depends on this log group, so referring back would be a cycle.
    private LogGroup CreateExecutionLogGroup(string stageName, int retentionDays)
    {
        var logGroup = new LogGroup(this, "ExecutionLogGroup", new LogGroupProps
        {
            LogGroupName = Fn.Join(string.Empty, ["API-Gateway-Execution-Logs_", RestApi.RestApiId, "/", stageName]),
            Retention = DeploymentSettings.LogRetentionPeriods[retentionDays],
        });
        Stage.Node.AddDependency(logGroup);
        return logGroup;
    }

    /// <summary>
    /// The schema checks only that the body is a JSON object. Contract 6 promises a 400 naming the exact field
    /// (<c>customers[3].income</c>); a stricter schema would answer such mistakes here with a generic message about the
    /// body, so everything inside the object is left to the proxy. The properties document the three forms.
    /// </summary>
    private static JsonSchema SegmentRequestSchema() => new()
    {
        Schema = JsonSchemaVersion.DRAFT4,
        Title = "SegmentRequest",
        Description = "{\"customers\":[{\"age\":34,\"income\":72000,\"purchases\":12}, ...]}, one customer object, or {\"features\":[[-1.14,-1.13,0.68], ...]}.",
        Type = JsonSchemaType.OBJECT,
        Properties = new Dictionary<string, IJsonSchema>
        {
            ["customers"] = new JsonSchema { Description = "Customers with raw attributes age, income and purchases." },
            ["features"] = new JsonSchema { Description = "Legacy: rows of already-scaled features in the model's column order." },
            ["age"] = new JsonSchema { Description = "One customer: age in years." },
            ["income"] = new JsonSchema { Description = "One customer: yearly income." },
            ["purchases"] = new JsonSchema { Description = "One customer: number of purchases." },
        },
    };

    /// <summary>
    /// The gateway's own refusals in the proxy's error shape (contract 6): <c>{"error": ..., "field": ...}</c>. A body the
    /// validator rejects names the field <c>body</c>, as the proxy does; authorization, throttling and quota refusals
    /// carry API Gateway's message (<c>messageString</c> is already a quoted JSON string).
    /// With exactly one CORS origin these answers name it, so a page of that origin can read a missing key's 403, a
    /// throttled 429 or the gateway's 5xx instead of seeing an opaque network error. With several origins they name none:
    /// a gateway response can only set a fixed value or copy a request header, and copying <c>Origin</c> would allow every
    /// origin; which origin sent the request is known only to the proxy, which echoes it on its own answers.
    /// </summary>
    private void AddErrorResponses(IReadOnlyList<string> corsOrigins)
    {
        var headers = corsOrigins.Count == 1 ? new Dictionary<string, string> { ["Access-Control-Allow-Origin"] = $"'{corsOrigins[0]}'" } : null;
        _ = RestApi.AddGatewayResponse("BadRequestBodyResponse", new GatewayResponseOptions
        {
            Type = ResponseType_.BAD_REQUEST_BODY,
            StatusCode = "400",
            ResponseHeaders = headers,
            Templates = new Dictionary<string, string>
            {
                [Json] = "{\"error\":\"the body is not a JSON object: send {\\\"customers\\\":[{\\\"age\\\":34,\\\"income\\\":72000,\\\"purchases\\\":12}]}, one customer object, or {\\\"features\\\":[[...]]}\",\"field\":\"body\"}",
            },
        });
        foreach (var (id, type) in new[] { ("Default4xxResponse", ResponseType_.DEFAULT_4XX), ("Default5xxResponse", ResponseType_.DEFAULT_5XX) })
        {
            _ = RestApi.AddGatewayResponse(id, new GatewayResponseOptions
            {
                Type = type,
                ResponseHeaders = headers,
                Templates = new Dictionary<string, string> { [Json] = "{\"error\":$context.error.messageString}" },
            });
        }
    }

    private (IApiKey ApiKey, UsagePlan UsagePlan) CreateApiKeyAndUsagePlan(SegmentApiProps props)
    {
        var settings = props.Settings;
        // No value given: API Gateway generates it, so the key never appears in the template or the cloud assembly.
        var apiKey = new ApiKey(this, "ApiKey", new ApiKeyProps
        {
            ApiKeyName = $"{props.ProjectName}-api-key",
            Description = "Callers of the segment API send it as x-api-key.",
            Enabled = true,
        });
        var plan = RestApi.AddUsagePlan("UsagePlan", new UsagePlanProps
        {
            Name = $"{props.ProjectName}-usage-plan",
            Description = "Throttle and daily quota of the segment API's key.",
            // Per key; with the one key the stack creates, the same limits as the stage.
            Throttle = new ThrottleSettings { RateLimit = settings.ThrottleRate, BurstLimit = settings.ThrottleBurst },
            Quota = settings.QuotaPerDay == 0 ? null : new QuotaSettings { Limit = settings.QuotaPerDay, Period = Period.DAY },
            ApiStages = [new UsagePlanPerApiStage { Api = RestApi, Stage = Stage }],
        });
        plan.AddApiKey(apiKey);
        return (apiKey, plan);
    }

    private void Acknowledge(SegmentApiProps props)
    {
        var settings = props.Settings;
        foreach (var method in Methods)
        {
            AcknowledgeMethod(method, method == ExplorerPageMethod
                ? "GET / serves only the static explorer page embedded in the function (no data, no S3 or endpoint call) and must load in a browser without credentials; the data routes it calls require the API key or IAM."
                : null);
        }

        if (settings.WebAclArn is null)
        {
            NagAcknowledgements.Add(Stage, "AwsSolutions-APIG3",
                "No web ACL is configured (api:webAclArn associates one): every data route requires an API key or IAM signature, GET / serves only the static page, and stage and usage-plan throttling bound the load.");
        }

        if (RestApi.Node.TryFindChild("CloudWatchRole") is { } cloudWatchRole)
        {
            NagAcknowledgements.Add(cloudWatchRole, "AwsSolutions-IAM4",
                "The account's API Gateway logging role exists only to let API Gateway write logs; AWS's managed AmazonAPIGatewayPushToCloudWatchLogs policy is designed for exactly this role.",
                PushToCloudWatchLogsPolicy);
        }

        var policy = Role.Node.FindChild("DefaultPolicy");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "X-Ray trace upload (active tracing) supports no resource-level scoping.",
            "Resource::*");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "The proxy reads three fixed file names of the deployed model version; the pipeline execution id in their path is chosen by SageMaker at run time, so it is the only wildcard.",
            [.. ReadableModelObjects.Where(k => k.Contains('*', StringComparison.Ordinal)).Select(k => NagFinding.BucketObjects(props.ModelBucket, k))]);
    }
}
