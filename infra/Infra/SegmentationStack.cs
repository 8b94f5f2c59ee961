using Amazon.CDK;
using Constructs;
using CustomerSegmentation.Infra.Api;
using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Deployment;
using CustomerSegmentation.Infra.Notebook;
using CustomerSegmentation.Infra.Pipelines;
using CustomerSegmentation.Infra.Recommendations;
using CustomerSegmentation.Infra.Storage;

namespace CustomerSegmentation.Infra;

/// <summary>Properties of <see cref="SegmentationStack"/>.</summary>
public sealed class SegmentationStackProps : StackProps
{
    /// <summary>The validated platform settings.</summary>
    public required PlatformSettings Settings { get; init; }
}

/// <summary>
/// The whole platform in one stack: storage, the notebook environment, the training and recommendations pipelines,
/// the endpoint deployment and the API. Construct IDs below are a public contract: renaming one replaces the resource.
/// </summary>
public sealed class SegmentationStack : Stack
{
    public SegmentationStack(Construct scope, string id, SegmentationStackProps props)
        : base(scope, id, props)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;

        Storage = new SegmentationStorage(this, "Storage", new SegmentationStorageProps
        {
            Retention = settings.Storage.Retention,
            NoncurrentVersionExpiration = Duration.Days(settings.Storage.NoncurrentVersionExpirationDays),
            EncryptionKey = settings.Storage.KmsKeyArn is { } keyArn
                ? Amazon.CDK.AWS.KMS.Key.FromKeyArn(this, "BucketKey", keyArn)
                : null,
        });

        _ = new CfnOutput(this, "DataBucketName", new CfnOutputProps
        {
            Value = Storage.DataBucket.BucketName,
            Description = "Bucket for training data (customers CSV under data/).",
        });
        _ = new CfnOutput(this, "ModelBucketName", new CfnOutputProps
        {
            Value = Storage.ModelBucket.BucketName,
            Description = "Bucket for model artifacts, one versioned prefix per pipeline run.",
        });

        TrainingPipeline = new TrainingPipeline(this, "TrainingPipeline", new TrainingPipelineProps
        {
            DataBucket = Storage.DataBucket,
            ModelBucket = Storage.ModelBucket,
            ProjectName = settings.ProjectName,
            Settings = settings.Pipeline,
            DeployFunctionArn = settings.Pipeline.DeployStep ? ModelDeployment.FunctionArnOf(this, settings.ProjectName) : null,
            InitialInstanceCount = settings.Deployment.InitialInstanceCount,
        });
        RetrainingSchedule = new PipelineSchedule(this, "RetrainingSchedule", new PipelineScheduleProps
        {
            PipelineArn = TrainingPipeline.PipelineArn,
            ScheduleExpression = settings.Pipeline.ScheduleExpression,
            Enabled = settings.Pipeline.ScheduleEnabled,
            TargetId = "TrainingPipeline",
            Description = "Starts the training pipeline on its retraining schedule.",
            RoleDescription = "Lets the retraining schedule start the training pipeline and nothing else.",
        });
        _ = new CfnOutput(this, "PipelineName", new CfnOutputProps
        {
            Value = TrainingPipeline.PipelineName,
            Description = "The SageMaker training pipeline; start it with aws sagemaker start-pipeline-execution.",
        });
        _ = new CfnOutput(this, "ModelPackageGroupName", new CfnOutputProps
        {
            Value = TrainingPipeline.ModelPackageGroupName,
            Description = "The model registry group that receives every model passing the quality gate.",
        });

        RecommendationsPipeline = new RecommendationsPipeline(this, "RecommendationsPipeline", new RecommendationsPipelineProps
        {
            DataBucket = Storage.DataBucket,
            ProjectName = settings.ProjectName,
            Settings = settings.Recommendations,
            Retention = settings.Storage.Retention,
        });
        _ = new CfnOutput(this, "RecommendationsPipelineName", new CfnOutputProps
        {
            Value = RecommendationsPipeline.PipelineName,
            Description = "The SageMaker pipeline that computes and publishes product recommendations for account managers.",
        });
        _ = new CfnOutput(this, "RecommendationsTableName", new CfnOutputProps
        {
            Value = RecommendationsPipeline.ServingTable.TableName,
            Description = "The DynamoDB table serving the recommendations: get pk 'pointer' for the latest run, then 'run#<run_id>#customer#<customer_id>'.",
        });
        _ = new CfnOutput(this, "FeedbackTableName", new CfnOutputProps
        {
            Value = RecommendationsPipeline.FeedbackTable.TableName,
            Description = "The DynamoDB table of the account managers' feedback (one item per idempotency_key), read by the next recommendations run.",
        });

        ModelDeployment = new ModelDeployment(this, "ModelDeployment", new ModelDeploymentProps
        {
            ProjectName = settings.ProjectName,
            ModelPackageGroupName = TrainingPipeline.ModelPackageGroupName,
            ModelBucket = Storage.ModelBucket,
            ServingCodeBucket = TrainingPipeline.SourceDir.Bucket,
            ServingCodeObjectKey = TrainingPipeline.SourceDir.S3ObjectKey,
            ServingImageRepositoryArn = SklearnImage.RepositoryArn(this),
            InstanceType = settings.Pipeline.InferenceInstanceType,
            Settings = settings.Deployment,
        });
        _ = new CfnOutput(this, "EndpointName", new CfnOutputProps
        {
            Value = ModelDeployment.EndpointName,
            Description = "The SageMaker real-time endpoint the deployer creates and updates (it exists once a model is deployed).",
        });

        SegmentApi = new SegmentApi(this, "SegmentApi", new SegmentApiProps
        {
            ProjectName = settings.ProjectName,
            ModelBucket = Storage.ModelBucket,
            EndpointName = ModelDeployment.EndpointName,
            Settings = settings.Api,
            LambdaArchitecture = settings.Deployment.LambdaArchitecture,
            LogRetentionDays = settings.Deployment.LogRetentionDays,
        });
        _ = new CfnOutput(this, "ApiUrl", new CfnOutputProps
        {
            Value = SegmentApi.Url,
            Description = "The segment API: POST <url>segment, GET <url>segments, and the explorer page at <url>.",
        });
        if (SegmentApi.ApiKey is { } apiKey)
        {
            _ = new CfnOutput(this, "ApiKeyId", new CfnOutputProps
            {
                Value = apiKey.KeyId,
                Description = "The API key's id, not its value; callers send the value as x-api-key. Get it with: aws apigateway get-api-key --api-key <id> --include-value",
            });
        }

        RecommendationsApi = new RecommendationsApi(this, "RecommendationsApi", new RecommendationsApiProps
        {
            ProjectName = settings.ProjectName,
            Api = SegmentApi,
            ServingTable = RecommendationsPipeline.ServingTable,
            FeedbackTable = RecommendationsPipeline.FeedbackTable,
            MetricNamespace = RecommendationsPipeline.MetricNamespace,
            Settings = settings.Api,
            LambdaArchitecture = settings.Deployment.LambdaArchitecture,
            LogRetentionDays = settings.Deployment.LogRetentionDays,
        });
        _ = new CfnOutput(this, "OpenApiUrl", new CfnOutputProps
        {
            Value = RecommendationsApi.OpenApiUrl,
            Description = "The OpenAPI 3.0 document of every route (no key needed), for a CRM to import (Salesforce External Services, for one).",
        });
        _ = new CfnOutput(this, "RecommendationsFunctionName", new CfnOutputProps
        {
            Value = RecommendationsApi.Function.FunctionName,
            Description = "The function behind GET /recommendations/{customerId}, GET /recommendations/summary, POST /feedback and the pages; its log has one line per request.",
        });

        var notebook = settings.Notebook;
        Notebook = new NotebookEnvironment(this, "Notebook", new NotebookEnvironmentProps
        {
            ProjectName = settings.ProjectName,
            DataBucket = Storage.DataBucket,
            ModelBucket = Storage.ModelBucket,
            InstanceType = notebook.InstanceType,
            VolumeSizeGb = notebook.VolumeSizeGb,
            PlatformIdentifier = notebook.PlatformIdentifier,
            IdleStopMinutes = notebook.IdleStopMinutes,
            SubnetId = notebook.SubnetId,
            SecurityGroupId = notebook.SecurityGroupId,
            GitRepositoryUrl = notebook.GitRepositoryUrl,
            GitBranch = notebook.GitBranch,
            GitSecret = notebook.GitSecret is { } gitSecret ? NotebookEnvironment.ImportGitSecret(this, "GitSecret", gitSecret) : null,
            GitUserName = notebook.GitUserName,
            GitUserEmail = notebook.GitUserEmail,
            Retention = settings.Storage.Retention,
        });
        _ = new CfnOutput(this, "NotebookInstanceName", new CfnOutputProps
        {
            Value = Notebook.Instance.AttrNotebookInstanceName,
            Description = "The data scientists' SageMaker notebook instance.",
        });
        _ = new CfnOutput(this, "GitSecretArn", new CfnOutputProps
        {
            Value = Notebook.GitSecret.SecretArn,
            Description = "Secrets Manager secret with the notebook's git credentials {\"username\",\"token\"}.",
        });
    }

    /// <summary>The data, model and access-log buckets.</summary>
    public SegmentationStorage Storage { get; }

    /// <summary>The SageMaker training pipeline, its role, model package group and scripts.</summary>
    public TrainingPipeline TrainingPipeline { get; }

    /// <summary>The EventBridge rule that starts the training pipeline weekly.</summary>
    public PipelineSchedule RetrainingSchedule { get; }

    /// <summary>The recommendations pipeline, its role, model package group, serving table, schedule and alarms.</summary>
    public RecommendationsPipeline RecommendationsPipeline { get; }

    /// <summary>The endpoint deployer, its rollback alarms and event rules, and the endpoint model's role.</summary>
    public ModelDeployment ModelDeployment { get; }

    /// <summary>The REST API and its SegmentProxy function.</summary>
    public SegmentApi SegmentApi { get; }

    /// <summary>The recommendation, feedback and page routes on the same API, their function and alarms.</summary>
    public RecommendationsApi RecommendationsApi { get; }

    /// <summary>The data scientists' notebook instance, its role and git secret.</summary>
    public NotebookEnvironment Notebook { get; }
}
