using System.Globalization;
using Amazon.CDK;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.SQS;
using Constructs;
using CustomerSegmentation.Infra.Compliance;

namespace CustomerSegmentation.Infra.Deployment;

/// <summary>Properties of <see cref="ModelDeployment"/>.</summary>
public sealed class ModelDeploymentProps
{
    /// <summary>Prefix of the endpoint (<c>&lt;project&gt;-endpoint</c>), function, model and endpoint-config names.</summary>
    public required string ProjectName { get; init; }

    /// <summary>The model package group the pipeline registers into; approvals there trigger a deployment.</summary>
    public required string ModelPackageGroupName { get; init; }

    /// <summary>
    /// Bucket of the model artifacts: the endpoint's model reads <c>runs/*</c>, the deployer reads <c>runs/*</c> and
    /// writes <c>deployed/*</c>, and data capture (when on) writes <c>data-capture/*</c>.
    /// </summary>
    public required IBucket ModelBucket { get; init; }

    /// <summary>Bucket of the serving code (sourcedir.tar.gz, SAGEMAKER_SUBMIT_DIRECTORY of the registered container).</summary>
    public required IBucket ServingCodeBucket { get; init; }

    /// <summary>Object key of the serving code in <see cref="ServingCodeBucket"/>; the model may read exactly this object.</summary>
    public required string ServingCodeObjectKey { get; init; }

    /// <summary>The ECR repository of the serving image; the model may pull from exactly this repository.</summary>
    public required string ServingImageRepositoryArn { get; init; }

    /// <summary>Instance type for endpoints the deployer creates from approval events (the pipeline passes its own).</summary>
    public required string InstanceType { get; init; }

    /// <summary>Scaling, traffic shifting, retention and the function's architecture.</summary>
    public required DeploymentSettings Settings { get; init; }

    /// <summary>
    /// The deployer's code. Default: the repository's <c>lambdas/EndpointDeployer</c> project, published native AOT for
    /// <see cref="DeploymentSettings.LambdaArchitecture"/> by <see cref="NativeLambdaCode"/>.
    /// </summary>
    public Code? DeployerCode { get; init; }

    /// <summary>p99 ModelLatency, in milliseconds, above which a deployment rolls back. Default: 500.</summary>
    public double LatencyP99ThresholdMilliseconds { get; init; } = 500;
}

/// <summary>
/// Zero-downtime deployment of approved models: the EndpointDeployer Lambda (invoked by the pipeline's Deploy step and
/// by EventBridge when a version is approved or the endpoint changes state), the role the endpoint's model runs as,
/// the rollback alarms SageMaker watches during blue/green updates, and the dead-letter queue for events that could
/// not be handled.
/// </summary>
public sealed class ModelDeployment : Construct
{
    /// <summary>The production variant the deployer creates; the rollback alarms watch its metrics.</summary>
    public const string VariantName = "AllTraffic";

    private const string AutoscalingService = "sagemaker.application-autoscaling.amazonaws.com";

    private static readonly string[] ApprovedStatus = ["Approved"];

    public ModelDeployment(Construct scope, string id, ModelDeploymentProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var stack = Stack.Of(this);
        var settings = props.Settings;
        EndpointName = $"{props.ProjectName}-endpoint";
        FunctionName = FunctionNameOf(props.ProjectName);

        ModelExecutionRole = CreateModelExecutionRole(props);
        Alarms = new RollbackAlarms(this, "RollbackAlarms", new RollbackAlarmsProps
        {
            EndpointName = EndpointName,
            VariantName = VariantName,
            LatencyP99ThresholdMilliseconds = props.LatencyP99ThresholdMilliseconds,
        });

        DeadLetterQueue = new Queue(this, "DeadLetterQueue", new QueueProps
        {
            Encryption = QueueEncryption.SQS_MANAGED,
            EnforceSSL = true,
            RetentionPeriod = Duration.Days(14),
        });

        var deployer = NativeFunction.Create(this, "Deployer", new NativeFunctionProps
        {
            Project = "EndpointDeployer",
            Architecture = settings.LambdaArchitecture,
            LogRetentionDays = settings.LogRetentionDays,
            RoleDescription = "Runs the endpoint deployer: creates models, endpoint configurations and the endpoint, and scales it.",
            Code = props.DeployerCode,
            Function = new FunctionProps
            {
                FunctionName = FunctionName,
                Description = "Deploys approved segmentation models to the SageMaker endpoint with blue/green traffic shifting.",
                // The binary is small; 256 MB buys the CPU share that keeps TLS handshakes to the control plane quick.
                MemorySize = 256,
                // A deployment is a handful of control-plane calls (describe, create model and config, create or update the
                // endpoint, tag, prune old versions): seconds, with room for SDK retries under throttling. The function never
                // waits for the endpoint; InService arrives as an Endpoint State Change event.
                Timeout = Duration.Seconds(60),
                // One deployment at a time: the pipeline step, an approval and endpoint events can arrive together, and two
                // concurrent runs could prune the endpoint configuration the other is about to use. Throttled asynchronous
                // events wait in Lambda's queue and are retried.
                ReservedConcurrentExecutions = 1,
                DeadLetterQueue = DeadLetterQueue,
                RetryAttempts = 2,
                Environment = DeployerEnvironment(props, settings),
            },
        });
        var role = deployer.Role;
        Role = role;
        Function = deployer.Function;

        var target = new LambdaFunction(Function, new LambdaFunctionProps
        {
            DeadLetterQueue = DeadLetterQueue,
            RetryAttempts = 4,
            MaxEventAge = Duration.Hours(2),
        });
        ModelApprovedRule = new Rule(this, "ModelApprovedRule", new RuleProps
        {
            Description = "Deploys a model version of the project's group when it is approved.",
            EventPattern = new EventPattern
            {
                Source = ["aws.sagemaker"],
                DetailType = ["SageMaker Model Package State Change"],
                Detail = new Dictionary<string, object>
                {
                    ["ModelPackageGroupName"] = new[] { props.ModelPackageGroupName },
                    ["ModelApprovalStatus"] = ApprovedStatus,
                },
            },
            Targets = [target],
        });
        EndpointStateChangeRule = new Rule(this, "EndpointStateChangeRule", new RuleProps
        {
            Description = "Lets the deployer register autoscaling once the endpoint is InService and record failed or rolled-back updates.",
            EventPattern = new EventPattern
            {
                Source = ["aws.sagemaker"],
                DetailType = ["SageMaker Endpoint State Change"],
                Detail = new Dictionary<string, object> { ["EndpointName"] = new[] { EndpointName } },
            },
            Targets = [target],
        });

        GrantDeployerPermissions(role, props, stack);
    }

    /// <summary>The stable endpoint name, <c>&lt;project&gt;-endpoint</c>; models and configurations behind it change.</summary>
    public string EndpointName { get; }

    /// <summary>The deployer's function name, <see cref="FunctionNameOf"/>.</summary>
    public string FunctionName { get; }

    /// <summary>The EndpointDeployer function.</summary>
    public IFunction Function { get; }

    /// <summary>The deployer's role.</summary>
    public IRole Role { get; }

    /// <summary>The role the endpoint's model runs as (the deployer passes it to CreateModel).</summary>
    public IRole ModelExecutionRole { get; }

    /// <summary>The rollback alarms SageMaker watches while a new model takes traffic.</summary>
    public RollbackAlarms Alarms { get; }

    /// <summary>Events and asynchronous invocations the deployer could not handle after its retries.</summary>
    public IQueue DeadLetterQueue { get; }

    /// <summary>Model package approved in the project's group.</summary>
    public Rule ModelApprovedRule { get; }

    /// <summary>State changes of the project's endpoint.</summary>
    public Rule EndpointStateChangeRule { get; }

    /// <summary>
    /// The deployer's name, <c>&lt;project&gt;-endpoint-deployer</c>. It is fixed so the pipeline, defined before this
    /// construct, can name the function in its Deploy step.
    /// </summary>
    public static string FunctionNameOf(string projectName) => $"{projectName}-endpoint-deployer";

    /// <summary>The deployer's ARN in <paramref name="scope"/>'s stack, built from <see cref="FunctionNameOf"/>.</summary>
    public static string FunctionArnOf(Construct scope, string projectName) =>
        Stack.Of(scope).FormatArn(new ArnComponents
        {
            Service = "lambda",
            Resource = "function",
            ResourceName = FunctionNameOf(projectName),
            ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
        });

    private Dictionary<string, string> DeployerEnvironment(ModelDeploymentProps props, DeploymentSettings settings)
    {
        string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        return new Dictionary<string, string>
        {
            ["ENDPOINT_NAME"] = EndpointName,
            ["MODEL_PACKAGE_GROUP_NAME"] = props.ModelPackageGroupName,
            ["EXECUTION_ROLE_ARN"] = ModelExecutionRole.RoleArn,
            ["INSTANCE_TYPE"] = props.InstanceType,
            ["INITIAL_INSTANCE_COUNT"] = Text(settings.InitialInstanceCount),
            ["MIN_CAPACITY"] = Text(settings.MinCapacity),
            ["MAX_CAPACITY"] = Text(settings.MaxCapacity),
            ["TARGET_INVOCATIONS_PER_INSTANCE"] = Text(settings.TargetInvocationsPerInstance),
            ["DEPLOYMENT_STRATEGY"] = settings.StrategyName,
            ["CANARY_PERCENT"] = Text(settings.CanaryPercent),
            ["LINEAR_STEP_PERCENT"] = Text(settings.LinearStepPercent),
            ["WAIT_SECONDS"] = Text(settings.WaitSeconds),
            ["ROLLBACK_ALARM_NAMES"] = string.Join(',', Alarms.All.Select(a => a.AlarmName)),
            ["DATA_CAPTURE_S3_URI"] = settings.DataCapturePercent > 0 ? $"s3://{props.ModelBucket.BucketName}/data-capture" : string.Empty,
            ["DATA_CAPTURE_PERCENT"] = Text(settings.DataCapturePercent),
            ["MODEL_BUCKET"] = props.ModelBucket.BucketName,
            ["KEEP_VERSIONS"] = Text(settings.KeepVersions),
        };
    }

    private Role CreateModelExecutionRole(ModelDeploymentProps props)
    {
        var role = new Role(this, "ModelExecutionRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("sagemaker.amazonaws.com"),
            Description = "Runs the segmentation endpoint's model: reads its artifacts and serving code, pulls the image, writes logs.",
        });
        var stack = Stack.Of(this);

        props.ModelBucket.GrantRead(role, "runs/*");
        props.ServingCodeBucket.GrantRead(role, props.ServingCodeObjectKey);
        if (props.Settings.DataCapturePercent > 0)
        {
            props.ModelBucket.GrantPut(role, "data-capture/*");
        }

        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "PullServingImage",
            Actions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            Resources = [props.ServingImageRepositoryArn],
        }));
        // ecr:GetAuthorizationToken has no resource type, and cloudwatch:PutMetricData none either (the condition keeps it
        // to SageMaker's namespaces).
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "EcrLogin",
            Actions = ["ecr:GetAuthorizationToken"],
            Resources = ["*"],
        }));
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "PublishEndpointMetrics",
            Actions = ["cloudwatch:PutMetricData"],
            Resources = ["*"],
            Conditions = new Dictionary<string, object>
            {
                ["StringLike"] = new Dictionary<string, object> { ["cloudwatch:namespace"] = "/aws/sagemaker/*" },
            },
        }));
        var endpointLogs = stack.FormatArn(new ArnComponents
        {
            Service = "logs",
            Resource = "log-group",
            ResourceName = $"/aws/sagemaker/Endpoints/{EndpointName}:*",
            ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
        });
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "WriteEndpointLogs",
            Actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            Resources = [endpointLogs],
        }));

        var policy = role.Node.FindChild("DefaultPolicy");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData (limited to /aws/sagemaker/* namespaces) support no resource-level scoping.",
            "Resource::*");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "The serving container creates one log stream per instance, named at run time, in its endpoint's log group.",
            NagFinding.Resource(endpointLogs));
        string[] s3Findings = props.Settings.DataCapturePercent > 0
            ? ["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:Abort*",
                NagFinding.BucketObjects(props.ModelBucket, "runs/*"), NagFinding.BucketObjects(props.ModelBucket, "data-capture/*")]
            : ["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", NagFinding.BucketObjects(props.ModelBucket, "runs/*")];
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "The model reads the run artifacts (model.tar.gz) under runs/*, one exact serving-code object and, with data capture on, writes data-capture/*.",
            s3Findings);
        AcknowledgeKeyActions(policy, props.ModelBucket, props.Settings.DataCapturePercent > 0);
        return role;
    }

    private void GrantDeployerPermissions(Role role, ModelDeploymentProps props, Stack stack)
    {
        string Arn(string resource, string name) =>
            stack.FormatArn(new ArnComponents { Service = "sagemaker", Resource = resource, ResourceName = name });

        // SageMaker puts resource names into ARNs in lower case; the project name is lower case by its validation.
        var packages = Arn("model-package", props.ModelPackageGroupName + "/*");
        var models = Arn("model", props.ProjectName + "-*");
        var endpointConfigs = Arn("endpoint-config", props.ProjectName + "-*");
        var endpoint = Arn("endpoint", EndpointName);
        role.AddToPrincipalPolicy(Statement("ReadModelPackages", ["sagemaker:DescribeModelPackage"], packages));
        role.AddToPrincipalPolicy(Statement("ManageModels",
            ["sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:DeleteModel"], models));
        role.AddToPrincipalPolicy(Statement("ManageEndpointConfigs",
            ["sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig", "sagemaker:DeleteEndpointConfig"], endpointConfigs));
        // Creating or updating the endpoint is authorized against the endpoint and the configuration it is given.
        role.AddToPrincipalPolicy(Statement("ManageEndpoint",
            [
                "sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint",
                "sagemaker:UpdateEndpointWeightsAndCapacities",
            ],
            endpoint, endpointConfigs));
        role.AddToPrincipalPolicy(Statement("TagDeployedResources",
            ["sagemaker:AddTags", "sagemaker:ListTags", "sagemaker:DeleteTags"], models, endpointConfigs, endpoint));
        // SageMaker's List* calls and Application Auto Scaling have no resource-level permissions for these actions
        // (scalable targets get their ARN from the service at registration), so they can only be granted on "*".
        role.AddToPrincipalPolicy(Statement("ListDeployedVersions", ["sagemaker:ListModels", "sagemaker:ListEndpointConfigs"], "*"));
        role.AddToPrincipalPolicy(Statement("ScaleEndpoint",
            [
                "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:DescribeScalableTargets", "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:DeleteScalingPolicy", "application-autoscaling:DescribeScalingPolicies",
            ],
            "*"));
        // A target-tracking policy makes Application Auto Scaling create its alarms as the caller, named
        // TargetTracking-endpoint/<endpoint>/variant/<variant>-AlarmHigh-<uuid>.
        var scalingAlarms = stack.FormatArn(new ArnComponents
        {
            Service = "cloudwatch",
            Resource = "alarm",
            ResourceName = $"TargetTracking-endpoint/{EndpointName}/*",
            ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
        });
        role.AddToPrincipalPolicy(Statement("ManageScalingAlarms",
            ["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"], scalingAlarms));
        // UpdateEndpoint checks that the AutoRollbackConfiguration alarms exist with the caller's permissions.
        role.AddToPrincipalPolicy(Statement("ReadRollbackAlarms", ["cloudwatch:DescribeAlarms"], [.. Alarms.All.Select(a => a.AlarmArn)]));
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "CreateAutoscalingServiceLinkedRole",
            Actions = ["iam:CreateServiceLinkedRole"],
            Resources =
            [
                stack.FormatArn(new ArnComponents
                {
                    Service = "iam",
                    Region = string.Empty,
                    Resource = "role",
                    ResourceName = $"aws-service-role/{AutoscalingService}/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
                }),
            ],
            Conditions = new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object> { ["iam:AWSServiceName"] = AutoscalingService },
            },
        }));
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "PassModelExecutionRole",
            Actions = ["iam:PassRole"],
            Resources = [ModelExecutionRole.RoleArn],
            Conditions = new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object> { ["iam:PassedToService"] = "sagemaker.amazonaws.com" },
            },
        }));

        props.ModelBucket.GrantRead(role, "runs/*");
        props.ModelBucket.GrantPut(role, "deployed/*");

        var policy = role.Node.FindChild("DefaultPolicy");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "sagemaker:ListModels/ListEndpointConfigs, Application Auto Scaling target and policy actions, and X-Ray trace upload (active tracing) support no resource-level scoping.",
            "Resource::*");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "Model package versions are numbered by SageMaker inside this project's group; the deployer describes only that group's versions.",
            NagFinding.Resource(packages));
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "The deployer names each model and endpoint configuration <project>-<timestamp> at run time and prunes old ones; the project prefix is the narrowest stable scope.",
            NagFinding.Resource(models), NagFinding.Resource(endpointConfigs));
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "Application Auto Scaling names its target-tracking alarms for this endpoint with a random suffix at run time.",
            NagFinding.Resource(scalingAlarms));
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "The deployer reads the run artifacts under runs/* and publishes the live version's files under deployed/* of the model bucket only.",
            "Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:Abort*",
            NagFinding.BucketObjects(props.ModelBucket, "runs/*"), NagFinding.BucketObjects(props.ModelBucket, "deployed/*"));
        AcknowledgeKeyActions(policy, props.ModelBucket, writes: true);
    }

    private static void AcknowledgeKeyActions(IConstruct policy, IBucket bucket, bool writes)
    {
        if (bucket.EncryptionKey is not null && writes)
        {
            NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
                "Writing to the KMS-encrypted model bucket needs the key actions S3 uses for SSE-KMS, granted on that key only.",
                "Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*");
        }
    }

    private static PolicyStatement Statement(string sid, string[] actions, params string[] resources) =>
        new(new PolicyStatementProps { Sid = sid, Actions = actions, Resources = resources });
}
