using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.S3.Assets;
using Amazon.CDK.AWS.Sagemaker;
using Constructs;
using CustomerSegmentation.Infra.Compliance;
using CustomerSegmentation.Infra.Deployment;
using CustomerSegmentation.Infra.Pipelines.Definition;

namespace CustomerSegmentation.Infra.Pipelines;

/// <summary>Properties of <see cref="TrainingPipeline"/>.</summary>
public sealed class TrainingPipelineProps
{
    /// <summary>Bucket of the training data; the pipeline reads <c>data/*</c>.</summary>
    public required IBucket DataBucket { get; init; }

    /// <summary>Bucket of the model artifacts; the pipeline writes <c>runs/*</c> and reads <c>deployed/*</c>.</summary>
    public required IBucket ModelBucket { get; init; }

    /// <summary>Prefix of the pipeline name (<c>&lt;project&gt;-training</c>) and model package group (<c>&lt;project&gt;-models</c>).</summary>
    public required string ProjectName { get; init; }

    /// <summary>Parameter defaults and caching.</summary>
    public required PipelineSettings Settings { get; init; }

    /// <summary>
    /// The endpoint deployer function the Deploy step invokes; the pipeline role may invoke exactly this one.
    /// Default: none, the pipeline has no Deploy step and ends at RegisterModel.
    /// </summary>
    public string? DeployFunctionArn { get; init; }

    /// <summary>Instances the Deploy step asks for when it creates the endpoint.</summary>
    public required int InitialInstanceCount { get; init; }

    /// <summary>The folder whose <c>*.py</c> files are packed into sourcedir.tar.gz. Default: the repository's <c>scripts/sagemaker</c>.</summary>
    public DirectoryInfo? ScriptsFolder { get; init; }
}

/// <summary>
/// The SageMaker training pipeline (Preprocess, Train, Evaluate, quality gate, CreateModel, RegisterModel, Deploy), its
/// execution role, the model package group it registers into, and the scripts it runs, uploaded as one asset.
/// </summary>
public sealed class TrainingPipeline : Construct
{
    public TrainingPipeline(Construct scope, string id, TrainingPipelineProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var stack = Stack.Of(this);
        PipelineName = $"{props.ProjectName}-training";
        ModelPackageGroupName = $"{props.ProjectName}-models";

        var bundle = SourceDirBundle.Write(
            props.ScriptsFolder ?? RepositoryLayout.SageMakerScripts(),
            new DirectoryInfo(Path.Combine(Path.GetTempPath(), "customer-segmentation-sourcedir")));
        SourceDir = new Asset(this, "SourceDir", new AssetProps { Path = bundle.FullName });

        var modelPackageGroup = new CfnModelPackageGroup(this, "ModelPackageGroup", new CfnModelPackageGroupProps
        {
            ModelPackageGroupName = ModelPackageGroupName,
            ModelPackageGroupDescription = "Customer segmentation models registered by the training pipeline.",
        });

        var role = new Role(this, "ExecutionRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("sagemaker.amazonaws.com"),
            Description = "Runs the training pipeline and the processing and training jobs it starts.",
        });
        ExecutionRole = role;
        GrantPipelinePermissions(role, props);

        var definition = TrainingPipelineDefinition.Create(new TrainingPipelineInputs
        {
            RoleArn = role.RoleArn,
            DataBucketName = props.DataBucket.BucketName,
            ModelBucketName = props.ModelBucket.BucketName,
            SourceDirUri = SourceDir.S3ObjectUrl,
            Region = Aws.REGION,
            ImageUri = SklearnImage.Uri(this),
            ModelPackageGroupName = ModelPackageGroupName,
            Settings = props.Settings,
            DeployFunctionArn = props.DeployFunctionArn,
            InitialInstanceCount = props.InitialInstanceCount,
            Cache = props.Settings.CacheExpireAfter is { } expireAfter ? new CacheConfig(true, expireAfter) : null,
        });

        var pipeline = new CfnPipeline(this, "Pipeline", new CfnPipelineProps
        {
            PipelineName = PipelineName,
            PipelineDisplayName = PipelineName,
            PipelineDescription = "Preprocess, train and evaluate the k-means segmentation model; register and deploy it when it passes the quality gate.",
            RoleArn = role.RoleArn,
            // PipelineDefinition is untyped in the L1 (a JSON object), so CDK would render a PipelineDefinitionProperty with
            // its jsii (camelCase) member name; a dictionary keeps CloudFormation's exact property name.
            PipelineDefinition = new Dictionary<string, object> { ["PipelineDefinitionBody"] = definition.ToJson() },
        });
        // The group must exist before RegisterModel can run, and the role's policy before any step can.
        pipeline.Node.AddDependency(modelPackageGroup, role);

        PipelineArn = stack.FormatArn(new ArnComponents { Service = "sagemaker", Resource = "pipeline", ResourceName = PipelineName });
    }

    /// <summary>The pipeline's name, <c>&lt;project&gt;-training</c>.</summary>
    public string PipelineName { get; }

    /// <summary>The pipeline's ARN (the resource returns no ARN attribute, so it is built from the name).</summary>
    public string PipelineArn { get; }

    /// <summary>The model package group's name, <c>&lt;project&gt;-models</c>.</summary>
    public string ModelPackageGroupName { get; }

    /// <summary>The role the pipeline, its jobs and its models run as.</summary>
    public IRole ExecutionRole { get; }

    /// <summary>sourcedir.tar.gz: the scripts the jobs and the model's container run.</summary>
    public Asset SourceDir { get; }

    private void GrantPipelinePermissions(Role role, TrainingPipelineProps props)
    {
        props.DataBucket.GrantRead(role, "data/*");
        props.ModelBucket.GrantReadWrite(role, "runs/*");
        // Reading the deployed baseline also needs s3:ListBucket (part of this grant) so that a missing baseline is a 404,
        // which train.py treats as "no baseline", rather than a 403, which fails the step.
        props.ModelBucket.GrantRead(role, "deployed/*");
        SourceDir.GrantRead(role);

        var pipelineResources = PipelineJobPermissions.RunJobs(role, createsModels: true);
        var registryResources = PipelineJobPermissions.RegisterModels(role, ModelPackageGroupName);
        PipelineJobPermissions.PassRoleToJobs(role);
        if (props.DeployFunctionArn is { } deployFunctionArn)
        {
            role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
            {
                Sid = "InvokeDeployer",
                Actions = ["lambda:InvokeFunction"],
                Resources = [deployFunctionArn],
            }));
        }

        PipelineJobPermissions.PullSklearnImage(role);
        var logGroups = PipelineJobPermissions.WriteJobLogs(role);
        PipelineJobPermissions.PublishJobMetrics(role);

        var policy = role.Node.FindChild("DefaultPolicy");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "Pipeline jobs and models get names pipelines-<execution id>-<step>-<suffix> generated at run time; the prefix is the narrowest stable scope.",
            pipelineResources.Select(NagFinding.Resource).ToArray());
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "Model package versions are numbered by SageMaker inside this project's group; the wildcard covers only that group's versions.",
            NagFinding.Resource(registryResources[1]));
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData (limited to /aws/sagemaker/* namespaces) support no resource-level scoping.",
            "Resource::*");
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "SageMaker jobs create their own log streams under /aws/sagemaker/ (ProcessingJobs, TrainingJobs, Endpoints) at run time.",
            NagFinding.Resource(logGroups));
        NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
            "Bucket grants limited to the prefixes the pipeline owns: data/* to read, runs/* to write, deployed/* to read the baseline, and the CDK asset objects.",
            "Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
            NagFinding.BucketObjects(props.DataBucket, "data/*"),
            NagFinding.BucketObjects(props.ModelBucket, "runs/*"),
            NagFinding.BucketObjects(props.ModelBucket, "deployed/*"),
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*");
        if (props.ModelBucket.EncryptionKey is not null)
        {
            NagAcknowledgements.Add(policy, "AwsSolutions-IAM5",
                "Writing run artifacts to the KMS-encrypted model bucket needs the key actions S3 uses for SSE-KMS, granted on that key only.",
                "Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*");
        }
    }
}
