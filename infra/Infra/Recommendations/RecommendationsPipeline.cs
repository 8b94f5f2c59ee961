using System.Globalization;
using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.DynamoDB;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.S3.Assets;
using Amazon.CDK.AWS.Sagemaker;
using Amazon.CDK.CustomResources;
using Constructs;
using CustomerSegmentation.Infra.Compliance;
using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Deployment;
using CustomerSegmentation.Infra.Pipelines;

namespace CustomerSegmentation.Infra.Recommendations;

/// <summary>Properties of <see cref="RecommendationsPipeline"/>.</summary>
public sealed class RecommendationsPipelineProps
{
    /// <summary>
    /// Bucket of the inputs (<c>recommendations/input/*</c>, read), the runs (<c>recommendations/runs/*</c>, read and
    /// written) and the manifest (<c>recommendations/latest.json</c>, written); nothing else of it is reachable.
    /// </summary>
    public required IBucket DataBucket { get; init; }

    /// <summary>
    /// Prefix of the pipeline name (<c>&lt;project&gt;-recommendations</c>), the model package group
    /// (<c>&lt;project&gt;-recommendation-models</c>) and the metric namespace (<c>&lt;project&gt;/recommendations</c>).
    /// </summary>
    public required string ProjectName { get; init; }

    /// <summary>Schedule, instance types, time to live of published runs, alarm thresholds.</summary>
    public required RecommendationsSettings Settings { get; init; }

    /// <summary>
    /// What happens to the serving table when it leaves the stack (the feedback table is always retained: its ratings
    /// cannot be recomputed). Default: <see cref="DataRetention.Retain"/>.
    /// </summary>
    public DataRetention Retention { get; init; } = DataRetention.Retain;

    /// <summary>The folder whose <c>*.py</c> files are packed into sourcedir.tar.gz. Default: the repository's <c>scripts/recommendations</c>.</summary>
    public DirectoryInfo? ScriptsFolder { get; init; }
}

/// <summary>
/// Product recommendations for account managers: the SageMaker pipeline of the IPRE specification, its own execution
/// role, the model package group it registers the clustering models in, the serving table Publish loads, a weekly
/// schedule, and alarms on the coverage and acceptance rate the steps report.
/// </summary>
public sealed class RecommendationsPipeline : Construct
{
    /// <summary>The log group of every SageMaker processing job in the account and region, where the step metrics are printed.</summary>
    public const string ProcessingJobLogGroupName = "/aws/sagemaker/ProcessingJobs";

    // The id of the stack-wide singleton function every AwsCustomResource of CDK 2.x runs in.
    private const string AwsCustomResourceHandlerId = "AWS679f53fac002430cb0da5b7982bd2287";

    public RecommendationsPipeline(Construct scope, string id, RecommendationsPipelineProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var stack = Stack.Of(this);
        var settings = props.Settings;
        PipelineName = $"{props.ProjectName}-recommendations";
        ModelPackageGroupName = $"{props.ProjectName}-recommendation-models";
        MetricNamespace = $"{props.ProjectName}/recommendations";

        var bundle = SourceDirBundle.Write(
            props.ScriptsFolder ?? RepositoryLayout.RecommendationsScripts(),
            new DirectoryInfo(Path.Combine(Path.GetTempPath(), "customer-segmentation-sourcedir")));
        SourceDir = new Asset(this, "SourceDir", new AssetProps { Path = bundle.FullName });

        var modelPackageGroup = new CfnModelPackageGroup(this, "ModelPackageGroup", new CfnModelPackageGroupProps
        {
            ModelPackageGroupName = ModelPackageGroupName,
            ModelPackageGroupDescription = "Per-segment clustering models of the product recommendations, one version per pipeline run.",
        });

        // The items of each run (one per customer and per segment, the summary) plus the pointer (publish.py): pk only,
        // runs expire by TTL. On demand because the load is a weekly burst of writes and a trickle of reads. The
        // AWS-managed key encrypts it with a KMS key whose use CloudTrail records, without any reader needing a grant on
        // a key.
        ServingTable = new Table(this, "ServingTable", new TableProps
        {
            PartitionKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = "pk", Type = AttributeType.STRING },
            BillingMode = BillingMode.PAY_PER_REQUEST,
            Encryption = TableEncryption.AWS_MANAGED,
            PointInTimeRecovery = true,
            TimeToLiveAttribute = "expires_at",
            RemovalPolicy = props.Retention == DataRetention.Destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
        });

        // Account managers' ratings, one item per idempotency key (contract section 2): written once by the API with a
        // condition on the key, read whole by FeedbackCalibration. Feedback is the learning signal of every later run,
        // so nothing expires it and it outlives the stack; the rest as the serving table.
        FeedbackTable = new Table(this, "FeedbackTable", new TableProps
        {
            PartitionKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = "idempotency_key", Type = AttributeType.STRING },
            BillingMode = BillingMode.PAY_PER_REQUEST,
            Encryption = TableEncryption.AWS_MANAGED,
            PointInTimeRecovery = true,
            RemovalPolicy = RemovalPolicy.RETAIN,
        });

        var role = new Role(this, "ExecutionRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("sagemaker.amazonaws.com"),
            Description = "Runs the recommendations pipeline and the processing and training jobs it starts.",
        });
        ExecutionRole = role;
        GrantPipelinePermissions(role, props.DataBucket);

        var definition = RecommendationsPipelineDefinition.Create(new RecommendationsPipelineInputs
        {
            RoleArn = role.RoleArn,
            DataBucketName = props.DataBucket.BucketName,
            SourceDirUri = SourceDir.S3ObjectUrl,
            Region = Aws.REGION,
            ImageUri = SklearnImage.Uri(this),
            ModelPackageGroupName = ModelPackageGroupName,
            TableName = ServingTable.TableName,
            FeedbackTableName = FeedbackTable.TableName,
            Settings = settings,
        });

        var pipeline = new CfnPipeline(this, "Pipeline", new CfnPipelineProps
        {
            PipelineName = PipelineName,
            PipelineDisplayName = PipelineName,
            PipelineDescription = "Market basket, per-segment clustering, association mining, ranking and feedback calibration; publishes up to TopK explained recommendations per customer.",
            RoleArn = role.RoleArn,
            // As in TrainingPipeline: a dictionary keeps CloudFormation's exact property name in the untyped L1 property.
            PipelineDefinition = new Dictionary<string, object> { ["PipelineDefinitionBody"] = definition.ToJson() },
        });
        pipeline.Node.AddDependency(modelPackageGroup, role);
        PipelineArn = stack.FormatArn(new ArnComponents { Service = "sagemaker", Resource = "pipeline", ResourceName = PipelineName });

        Schedule = new PipelineSchedule(this, "Schedule", new PipelineScheduleProps
        {
            PipelineArn = PipelineArn,
            ScheduleExpression = settings.ScheduleExpression,
            Enabled = settings.ScheduleEnabled,
            TargetId = "RecommendationsPipeline",
            Description = "Starts the recommendations pipeline before the account managers' week.",
            RoleDescription = "Lets the recommendations schedule start the recommendations pipeline and nothing else.",
        });

        var (jobLogs, jobLogsCreated) = EnsureProcessingJobLogGroup();
        CoverageAlarm = StepMetricAlarm(jobLogs, jobLogsCreated, "Coverage", "FinalCoverage", settings.MinCoverage, string.Create(CultureInfo.InvariantCulture,
            $"The share of customers with a recommendation (FinalCoverage of FeedbackCalibration) was below {settings.MinCoverage} in the latest run."));
        AcceptanceAlarm = StepMetricAlarm(jobLogs, jobLogsCreated, "Acceptance", "AcceptanceRate", settings.MinAcceptanceRate, string.Create(CultureInfo.InvariantCulture,
            $"The share of rated recommendations account managers accepted (AcceptanceRate of FeedbackCalibration) was below {settings.MinAcceptanceRate} in the latest run with feedback."));
    }

    /// <summary>The pipeline's name, <c>&lt;project&gt;-recommendations</c>.</summary>
    public string PipelineName { get; }

    /// <summary>The pipeline's ARN (the resource returns no ARN attribute, so it is built from the name).</summary>
    public string PipelineArn { get; }

    /// <summary>The model package group's name, <c>&lt;project&gt;-recommendation-models</c>.</summary>
    public string ModelPackageGroupName { get; }

    /// <summary>The CloudWatch namespace of the step metrics, <c>&lt;project&gt;/recommendations</c>.</summary>
    public string MetricNamespace { get; }

    /// <summary>The role the pipeline and its jobs run as.</summary>
    public IRole ExecutionRole { get; }

    /// <summary>The table Publish loads and readers query: the pointer item and, per run, one item per customer and per segment and the summary.</summary>
    public ITable ServingTable { get; }

    /// <summary>
    /// The account managers' feedback (partition key <c>idempotency_key</c>, no expiry, always retained): the API writes
    /// it, FeedbackCalibration reads it in the next run.
    /// </summary>
    public ITable FeedbackTable { get; }

    /// <summary>sourcedir.tar.gz: the step scripts.</summary>
    public Asset SourceDir { get; }

    /// <summary>The EventBridge rule that starts the pipeline weekly.</summary>
    public PipelineSchedule Schedule { get; }

    /// <summary>In ALARM while the latest run's FinalCoverage is below the threshold.</summary>
    public Alarm CoverageAlarm { get; }

    /// <summary>In ALARM while the latest run with feedback has an AcceptanceRate below the threshold.</summary>
    public Alarm AcceptanceAlarm { get; }

    /// <summary>
    /// The steps print their metrics as JSON lines (<c>{"metric": "FinalCoverage", "value": 0.97, "step": ...}</c>) into
    /// the processing job log group, where a metric filter turns each into a CloudWatch metric. A metric filter needs
    /// its log group to exist, and SageMaker creates this one only with the account's first processing job, after the
    /// stack may have been deployed; a log group resource would fail in every account that has run one. So a custom
    /// resource creates it when missing and leaves it alone otherwise, and keeps it on delete: it is SageMaker's.
    /// </summary>
    private (ILogGroup LogGroup, IDependable Created) EnsureProcessingJobLogGroup()
    {
        var logGroupArn = Stack.Of(this).FormatArn(new ArnComponents
        {
            Service = "logs",
            Resource = "log-group",
            ResourceName = ProcessingJobLogGroupName + ":*",
            ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
        });
        var handlerLogs = new LogGroup(this, "LogGroupCreatorLogs", new LogGroupProps
        {
            Retention = RetentionDays.ONE_MONTH,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        var handlerRole = new Role(this, "LogGroupCreatorRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = "Creates SageMaker's processing job log group when it does not exist yet, and writes its own log.",
        });
        handlerRole.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "CreateProcessingJobLogGroup",
            Actions = ["logs:CreateLogGroup"],
            Resources = [logGroupArn],
        }));
        handlerLogs.GrantWrite(handlerRole);

        var creator = new AwsCustomResource(this, "ProcessingJobLogGroup", new AwsCustomResourceProps
        {
            OnCreate = new AwsSdkCall
            {
                Service = "CloudWatchLogs",
                Action = "createLogGroup",
                Parameters = new Dictionary<string, object> { ["logGroupName"] = ProcessingJobLogGroupName },
                PhysicalResourceId = PhysicalResourceId.Of(ProcessingJobLogGroupName),
                IgnoreErrorCodesMatching = "ResourceAlreadyExistsException",
            },
            Role = handlerRole,
            LogGroup = handlerLogs,
            InstallLatestAwsSdk = false,
        });

        // As for the auto-delete provider in SegmentationStorage: CDK 2.160 picks the handler's runtime from a region map
        // of Node.js versions Lambda no longer accepts for new functions; pin the current one and drop the unused map.
        var stack = Stack.Of(this);
        ((CfnResource)stack.Node.FindChild(AwsCustomResourceHandlerId).Node.DefaultChild!).AddPropertyOverride("Runtime", "nodejs24.x");
        _ = stack.Node.TryRemoveChild("LatestNodeRuntimeMap");

        var policy = handlerRole.Node.FindChild("DefaultPolicy");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "IAM evaluates logs:CreateLogGroup against the log group's ARN with a ':log-stream:' suffix; the wildcard covers only SageMaker's processing job log group.",
            NagFinding.Resource(logGroupArn));

        return (LogGroup.FromLogGroupName(this, "ProcessingJobLogs", ProcessingJobLogGroupName), creator);
    }

    /// <summary>
    /// A metric filter for one step metric and an alarm while its latest value is below <paramref name="threshold"/>.
    /// The pipeline runs weekly, so the alarm ignores the days without data and keeps the state of the last run.
    /// </summary>
    private Alarm StepMetricAlarm(ILogGroup logGroup, IDependable logGroupCreated, string id, string metricName, double threshold, string description)
    {
        var filter = new MetricFilter(this, id + "Metric", new MetricFilterProps
        {
            LogGroup = logGroup,
            FilterPattern = FilterPattern.StringValue("$.metric", "=", metricName),
            MetricNamespace = MetricNamespace,
            MetricName = metricName,
            MetricValue = "$.value",
        });
        filter.Node.AddDependency(logGroupCreated);
        return new Alarm(this, id + "Alarm", new AlarmProps
        {
            AlarmName = $"{PipelineName}-{metricName.ToLowerInvariant()}-low",
            AlarmDescription = description,
            Metric = filter.Metric(new MetricOptions { Statistic = "Minimum", Period = Duration.Days(1) }),
            Threshold = threshold,
            ComparisonOperator = ComparisonOperator.LESS_THAN_THRESHOLD,
            EvaluationPeriods = 1,
            TreatMissingData = TreatMissingData.IGNORE,
        });
    }

    /// <summary>Least privilege: the data bucket's recommendations prefixes, this project's group, the serving table, reading the feedback table.</summary>
    private void GrantPipelinePermissions(Role role, IBucket dataBucket)
    {
        var inputs = dataBucket.ArnForObjects(RecommendationsPipelineDefinition.InputPrefix + "*");
        var runs = dataBucket.ArnForObjects(RecommendationsPipelineDefinition.RunsPrefix + "*");
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "ReadInputs",
            Actions = ["s3:GetObject"],
            Resources = [inputs],
        }));
        // Runs are written once and never deleted or overwritten by another run; an upload SageMaker gives up on is aborted.
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "ReadWriteRuns",
            Actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            Resources = [runs],
        }));
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "WriteManifest",
            Actions = ["s3:PutObject"],
            Resources = [dataBucket.ArnForObjects(RecommendationsPipelineDefinition.ManifestKey)],
        }));
        // S3Prefix inputs and the feedback prefix are listed before they are read; listing is limited to the same prefixes.
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "ListOwnPrefixes",
            Actions = ["s3:ListBucket"],
            Resources = [dataBucket.BucketArn],
            Conditions = new Dictionary<string, object>
            {
                ["StringLike"] = new Dictionary<string, object>
                {
                    ["s3:prefix"] = new[] { RecommendationsPipelineDefinition.InputPrefix + "*", RecommendationsPipelineDefinition.RunsPrefix + "*" },
                },
            },
        }));
        if (dataBucket.EncryptionKey is { } key)
        {
            // What S3 asks of the caller for SSE-KMS objects: Decrypt to read (and to complete multipart uploads),
            // GenerateDataKey to write.
            role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
            {
                Sid = "UseDataBucketKey",
                Actions = ["kms:Decrypt", "kms:GenerateDataKey"],
                Resources = [key.KeyArn],
            }));
        }

        // The scripts: exactly this asset object, and listing exactly its key (the code input is an S3Prefix).
        var assetBucketArn = $"arn:{Aws.PARTITION}:s3:::{SourceDir.S3BucketName}";
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "ReadScripts",
            Actions = ["s3:GetObject"],
            Resources = [$"{assetBucketArn}/{SourceDir.S3ObjectKey}"],
        }));
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "ListScripts",
            Actions = ["s3:ListBucket"],
            Resources = [assetBucketArn],
            Conditions = new Dictionary<string, object>
            {
                ["StringLike"] = new Dictionary<string, object> { ["s3:prefix"] = SourceDir.S3ObjectKey },
            },
        }));

        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "PublishRecommendations",
            Actions = ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:GetItem"],
            Resources = [ServingTable.TableArn],
        }));
        // FeedbackCalibration reads every rating; the API alone writes them.
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "ReadFeedback",
            Actions = ["dynamodb:Scan"],
            Resources = [FeedbackTable.TableArn],
        }));

        var jobs = PipelineJobPermissions.RunJobs(role, createsModels: false);
        var registry = PipelineJobPermissions.RegisterModels(role, ModelPackageGroupName);
        PipelineJobPermissions.PassRoleToJobs(role);
        PipelineJobPermissions.PullSklearnImage(role);
        var logGroups = PipelineJobPermissions.WriteJobLogs(role);
        PipelineJobPermissions.PublishJobMetrics(role);

        var policy = role.Node.FindChild("DefaultPolicy");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "Pipeline jobs get names pipelines-<execution id>-<step>-<suffix> generated at run time; the prefix is the narrowest stable scope.",
            jobs.Select(NagFinding.Resource).ToArray());
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "Model package versions are numbered by SageMaker inside the recommendations group; the wildcard covers only that group's versions.",
            NagFinding.Resource(registry[1]));
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData (limited to /aws/sagemaker/* namespaces, where SageMaker reports job metrics) support no resource-level scoping.",
            "Resource::*");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "SageMaker jobs create their own log streams under /aws/sagemaker/ (ProcessingJobs, TrainingJobs) at run time.",
            NagFinding.Resource(logGroups));
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "Objects under the two prefixes the pipeline owns: recommendations/input/* to read, recommendations/runs/* where each execution writes its own prefix.",
            NagFinding.BucketObjects(dataBucket, RecommendationsPipelineDefinition.InputPrefix + "*"),
            NagFinding.BucketObjects(dataBucket, RecommendationsPipelineDefinition.RunsPrefix + "*"));
    }
}
