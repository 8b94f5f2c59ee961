using System.Text.RegularExpressions;
using Constructs;
using CustomerSegmentation.Infra.Api;
using CustomerSegmentation.Infra.Deployment;
using CustomerSegmentation.Infra.Pipelines;
using CustomerSegmentation.Infra.Recommendations;

namespace CustomerSegmentation.Infra.Configuration;

/// <summary>
/// Every deploy-time choice of the platform, read once from CDK context (cdk.json or <c>-c key=value</c>) and
/// validated as a whole. The README's configuration reference documents each key; keep the two in step.
/// </summary>
public sealed partial record PlatformSettings
{
    /// <summary>CloudFormation stack name. Context <c>stackName</c>; default <c>CustomerSegmentation</c>.</summary>
    public required string StackName { get; init; }

    /// <summary>
    /// Prefix of the names the platform gives AWS resources it must find again (pipeline, endpoint, model package group).
    /// Context <c>projectName</c>; default <c>customer-segmentation</c>.
    /// </summary>
    public required string ProjectName { get; init; }

    /// <summary>Bucket settings.</summary>
    public required StorageSettings Storage { get; init; }

    /// <summary>Notebook instance and its git wiring.</summary>
    public required NotebookSettings Notebook { get; init; }

    /// <summary>The training pipeline's schedule and parameter defaults.</summary>
    public required PipelineSettings Pipeline { get; init; }

    /// <summary>The endpoint deployer, the endpoint's scaling and traffic shifting.</summary>
    public required DeploymentSettings Deployment { get; init; }

    /// <summary>The segment API and its proxy function.</summary>
    public required ApiSettings Api { get; init; }

    /// <summary>The recommendations pipeline's schedule, instances, time to live and alarm thresholds.</summary>
    public required RecommendationsSettings Recommendations { get; init; }

    /// <summary>Reads and validates every setting; throws <see cref="ConfigurationException"/> listing all problems.</summary>
    public static PlatformSettings FromContext(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var read = new ContextReader(node);

        var settings = new PlatformSettings
        {
            StackName = read.String("stackName", "CustomerSegmentation", StackNamePattern(),
                "expected 1 to 128 letters, digits or hyphens, starting with a letter (a CloudFormation stack name)"),
            ProjectName = read.String("projectName", "customer-segmentation", ProjectNamePattern(),
                "expected 3 to 32 lower-case letters, digits or hyphens, starting with a letter and not ending with a hyphen"),
            Storage = StorageSettings.Read(read),
            Notebook = NotebookSettings.Read(read),
            Pipeline = PipelineSettings.Read(read),
            Deployment = DeploymentSettings.Read(read),
            Api = ApiSettings.Read(read),
            Recommendations = RecommendationsSettings.Read(read),
        };

        return read.Errors.Count > 0 ? throw new ConfigurationException(read.Errors) : settings;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9-]{0,127}$")]
    private static partial Regex StackNamePattern();

    // 32 leaves room for the timestamp suffixes SageMaker names get within their 63-character limit.
    [GeneratedRegex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$")]
    private static partial Regex ProjectNamePattern();
}

/// <summary>What happens to stateful resources (buckets, keys, secrets) when the stack is deleted.</summary>
public enum DataRetention
{
    /// <summary>Kept in the account: <c>cdk destroy</c> never deletes data. The default.</summary>
    Retain,

    /// <summary>Deleted with the stack, objects included. For throw-away development stacks only; synthesis warns.</summary>
    Destroy,
}

/// <summary>Settings of the data, model and access-log buckets.</summary>
public sealed partial record StorageSettings
{
    /// <summary>Context <c>storage:removalPolicy</c>: <c>retain</c> (default) or <c>destroy</c>.</summary>
    public DataRetention Retention { get; init; } = DataRetention.Retain;

    /// <summary>Context <c>storage:noncurrentVersionExpirationDays</c>: 1 to 3650; default 90.</summary>
    public int NoncurrentVersionExpirationDays { get; init; } = 90;

    /// <summary>
    /// Context <c>storage:kmsKeyArn</c>: a customer-managed KMS key for the data and model buckets; default none
    /// (S3-managed keys). The access-log bucket always uses S3-managed keys, the only kind S3 log delivery accepts.
    /// </summary>
    public string? KmsKeyArn { get; init; }

    internal static StorageSettings Read(ContextReader read) => new()
    {
        Retention = read.Choice("storage:removalPolicy", DataRetention.Retain,
            new Dictionary<string, DataRetention>(StringComparer.OrdinalIgnoreCase)
            {
                ["retain"] = DataRetention.Retain,
                ["destroy"] = DataRetention.Destroy,
            }),
        NoncurrentVersionExpirationDays = read.Int("storage:noncurrentVersionExpirationDays", 90, 1, 3650),
        KmsKeyArn = read.OptionalString("storage:kmsKeyArn", KmsKeyArnPattern(),
            "expected a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    };

    [GeneratedRegex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$")]
    private static partial Regex KmsKeyArnPattern();
}

/// <summary>Settings of the data scientists' notebook instance.</summary>
public sealed partial record NotebookSettings
{
    /// <summary>Context <c>notebook:instanceType</c>; default <c>ml.t3.medium</c>.</summary>
    public string InstanceType { get; init; } = "ml.t3.medium";

    /// <summary>Context <c>notebook:volumeSizeGb</c>: 5 to 16384; default 20.</summary>
    public int VolumeSizeGb { get; init; } = 20;

    /// <summary>Context <c>notebook:platformIdentifier</c>; default <c>notebook-al2-v3</c> (Amazon Linux 2, JupyterLab 4).</summary>
    public string PlatformIdentifier { get; init; } = "notebook-al2-v3";

    /// <summary>Context <c>notebook:idleStopMinutes</c>: stop the instance after this many idle minutes, 0 = never; default 60.</summary>
    public int IdleStopMinutes { get; init; } = 60;

    /// <summary>Context <c>notebook:subnetId</c>: run inside this VPC subnet (needs a security group too); default none.</summary>
    public string? SubnetId { get; init; }

    /// <summary>Context <c>notebook:securityGroupId</c>: the security group for the VPC placement; default none.</summary>
    public string? SecurityGroupId { get; init; }

    /// <summary>Context <c>git:repositoryUrl</c>: HTTPS URL cloned into the notebook; default none (no clone).</summary>
    public string? GitRepositoryUrl { get; init; }

    /// <summary>Context <c>git:branch</c>; default <c>main</c>.</summary>
    public string GitBranch { get; init; } = "main";

    /// <summary>
    /// Context <c>git:secret</c>: name or ARN of an existing Secrets Manager secret holding
    /// <c>{"username": ..., "token": ...}</c>; default none (the stack creates a placeholder secret to fill in).
    /// </summary>
    public string? GitSecret { get; init; }

    /// <summary>Context <c>git:userName</c>: the commit author name; default <c>SageMaker Notebook</c>.</summary>
    public string GitUserName { get; init; } = "SageMaker Notebook";

    /// <summary>Context <c>git:userEmail</c>: the commit author e-mail; default <c>notebook@example.com</c>.</summary>
    public string GitUserEmail { get; init; } = "notebook@example.com";

    internal static NotebookSettings Read(ContextReader read)
    {
        var settings = new NotebookSettings
        {
            InstanceType = read.String("notebook:instanceType", "ml.t3.medium", InstanceTypePattern(),
                "expected a SageMaker notebook instance type such as ml.t3.medium"),
            VolumeSizeGb = read.Int("notebook:volumeSizeGb", 20, 5, 16384),
            PlatformIdentifier = read.String("notebook:platformIdentifier", "notebook-al2-v3", PlatformPattern(),
                "expected a notebook platform identifier such as notebook-al2-v3"),
            IdleStopMinutes = read.Int("notebook:idleStopMinutes", 60, 0, 10080),
            SubnetId = read.OptionalString("notebook:subnetId", SubnetPattern(), "expected a subnet id such as subnet-0123456789abcdef0"),
            SecurityGroupId = read.OptionalString("notebook:securityGroupId", SecurityGroupPattern(),
                "expected a security group id such as sg-0123456789abcdef0"),
            GitRepositoryUrl = read.OptionalString("git:repositoryUrl", RepositoryUrlPattern(),
                "expected an https:// git URL without credentials, such as https://github.com/acme/ml-pipeline.git"),
            GitBranch = read.String("git:branch", "main", BranchPattern(), "expected a git branch name"),
            GitSecret = read.OptionalString("git:secret", SecretPattern(),
                "expected a Secrets Manager secret name or ARN"),
            GitUserName = read.String("git:userName", "SageMaker Notebook", UserNamePattern(),
                "expected 1 to 100 printable characters without quotes or backslashes"),
            GitUserEmail = read.String("git:userEmail", "notebook@example.com", EmailPattern(), "expected an e-mail address"),
        };

        if ((settings.SubnetId is null) != (settings.SecurityGroupId is null))
        {
            var (setKey, setValue, missingKey) = settings.SubnetId is null
                ? ("notebook:securityGroupId", settings.SecurityGroupId!, "notebook:subnetId")
                : ("notebook:subnetId", settings.SubnetId, "notebook:securityGroupId");
            read.Fail(setKey, setValue, $"{missingKey} must be set too, because a notebook in a VPC needs both a subnet and a security group");
        }

        return settings;
    }

    [GeneratedRegex(@"^ml\.[a-z0-9]+\.[a-z0-9]+$")]
    private static partial Regex InstanceTypePattern();

    [GeneratedRegex("^notebook-al2-v[0-9]+$")]
    private static partial Regex PlatformPattern();

    [GeneratedRegex("^subnet-[0-9a-f]{8,17}$")]
    private static partial Regex SubnetPattern();

    [GeneratedRegex("^sg-[0-9a-f]{8,17}$")]
    private static partial Regex SecurityGroupPattern();

    [GeneratedRegex(@"^https://[^\s@'""\\]+$")]
    private static partial Regex RepositoryUrlPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")]
    private static partial Regex BranchPattern();

    [GeneratedRegex(@"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$")]
    private static partial Regex SecretPattern();

    [GeneratedRegex(@"^[^'""\\\r\n]{1,100}$")]
    private static partial Regex UserNamePattern();

    [GeneratedRegex(@"^[^@\s'""\\]+@[^@\s'""\\]+\.[^@\s'""\\]+$")]
    private static partial Regex EmailPattern();
}
