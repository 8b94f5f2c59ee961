using System.Text.RegularExpressions;
using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.KMS;
using Amazon.CDK.AWS.S3;
using Amazon.CDK.AWS.Sagemaker;
using Amazon.CDK.AWS.SecretsManager;
using Constructs;
using CustomerSegmentation.Infra.Compliance;
using CustomerSegmentation.Infra.Configuration;

namespace CustomerSegmentation.Infra.Notebook;

/// <summary>Properties of <see cref="NotebookEnvironment"/>.</summary>
public sealed class NotebookEnvironmentProps
{
    /// <summary>The platform's name prefix: names the instance and scopes the pipeline and endpoint permissions.</summary>
    public required string ProjectName { get; init; }

    /// <summary>Training data; the notebook reads and writes under <c>data/</c> and <c>notebooks/</c>.</summary>
    public required IBucket DataBucket { get; init; }

    /// <summary>Model artifacts; the notebook only reads them.</summary>
    public required IBucket ModelBucket { get; init; }

    /// <summary>Notebook instance type. Default: <c>ml.t3.medium</c>.</summary>
    public string InstanceType { get; init; } = "ml.t3.medium";

    /// <summary>Size of the ML storage volume in GB. Default: 20.</summary>
    public int VolumeSizeGb { get; init; } = 20;

    /// <summary>Notebook platform (OS and JupyterLab version). Default: <c>notebook-al2-v3</c>.</summary>
    public string PlatformIdentifier { get; init; } = "notebook-al2-v3";

    /// <summary>Stop the instance after this many minutes without kernel activity; 0 = never. Default: 60.</summary>
    public int IdleStopMinutes { get; init; } = 60;

    /// <summary>VPC subnet for the instance (requires <see cref="SecurityGroupId"/>). Default: none, SageMaker-managed network with direct internet access.</summary>
    public string? SubnetId { get; init; }

    /// <summary>Security group for the VPC placement (requires <see cref="SubnetId"/>). Default: none.</summary>
    public string? SecurityGroupId { get; init; }

    /// <summary>HTTPS URL of the repository the lifecycle clones into the notebook. Default: none, no clone.</summary>
    public string? GitRepositoryUrl { get; init; }

    /// <summary>Branch to clone and pull. Default: <c>main</c>.</summary>
    public string GitBranch { get; init; } = "main";

    /// <summary>
    /// Secret holding <c>{"username","token"}</c> for the repository. Default: a new secret with a generated placeholder
    /// token and user name <c>REPLACE_ME</c>, to be filled in after deployment.
    /// </summary>
    public ISecret? GitSecret { get; init; }

    /// <summary>The commit author name. Default: <c>SageMaker Notebook</c>.</summary>
    public string GitUserName { get; init; } = "SageMaker Notebook";

    /// <summary>The commit author e-mail. Default: <c>notebook@example.com</c>.</summary>
    public string GitUserEmail { get; init; } = "notebook@example.com";

    /// <summary>Key for the ML storage volume. Default: a new customer-managed key with yearly rotation.</summary>
    public IKey? VolumeKey { get; init; }

    /// <summary>Whether the created key and placeholder secret outlive the stack. Default: <see cref="DataRetention.Retain"/>.</summary>
    public DataRetention Retention { get; init; } = DataRetention.Retain;

    /// <summary>Folder holding the lifecycle scripts. Default: <see cref="NotebookLifecycleScripts.LocateScriptsDirectory"/>.</summary>
    public string? ScriptsDirectory { get; init; }
}

/// <summary>
/// The data scientists' SageMaker notebook instance: encrypted volume, no root access, a least-privilege role, and
/// lifecycle scripts that wire it to the buckets and to git (credentials read from Secrets Manager when git asks).
/// </summary>
public sealed partial class NotebookEnvironment : Construct
{
    private const string LogGroupName = "/aws/sagemaker/NotebookInstances";

    public NotebookEnvironment(Construct scope, string id, NotebookEnvironmentProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        if ((props.SubnetId is null) != (props.SecurityGroupId is null))
        {
            throw new ArgumentException(
                $"SubnetId ('{props.SubnetId}') and SecurityGroupId ('{props.SecurityGroupId}') must be given together or not at all.",
                nameof(props));
        }

        var stack = Stack.Of(this);
        var removalPolicy = props.Retention == DataRetention.Destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
        var instanceName = $"{props.ProjectName}-notebook";

        VolumeKey = props.VolumeKey ?? new Key(this, "VolumeKey", new KeyProps
        {
            Description = $"Encrypts the ML storage volume of the {instanceName} notebook instance.",
            EnableKeyRotation = true,
            RemovalPolicy = removalPolicy,
        });

        GitSecret = props.GitSecret ?? CreatePlaceholderSecret(props.ProjectName, removalPolicy);

        Role = new Role(this, "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("sagemaker.amazonaws.com"),
            Description = $"Runs the {instanceName} notebook instance: its data, models, git secret, pipelines and endpoints only.",
        });
        GrantPermissions(stack, props, instanceName);

        var settings = new NotebookScriptSettings
        {
            DataBucket = props.DataBucket.BucketName,
            ModelBucket = props.ModelBucket.BucketName,
            ProjectName = props.ProjectName,
            Region = stack.Region,
            NotebookInstanceName = instanceName,
            GitRepositoryUrl = props.GitRepositoryUrl,
            GitBranch = props.GitBranch,
            GitSecretId = GitSecret.SecretFullArn ?? GitSecret.SecretName,
            GitUserName = props.GitUserName,
            GitUserEmail = props.GitUserEmail,
            IdleStopMinutes = props.IdleStopMinutes,
        };
        var scripts = props.ScriptsDirectory ?? NotebookLifecycleScripts.LocateScriptsDirectory();
        LifecycleConfig = new CfnNotebookInstanceLifecycleConfig(this, "LifecycleConfig", new CfnNotebookInstanceLifecycleConfigProps
        {
            NotebookInstanceLifecycleConfigName = $"{instanceName}-lifecycle",
            OnCreate = new[] { Hook(NotebookLifecycleScripts.Render(scripts, "on-create.sh", settings)) },
            OnStart = new[] { Hook(NotebookLifecycleScripts.Render(scripts, "on-start.sh", settings)) },
        });

        var inVpc = props.SubnetId is not null;
        Instance = new CfnNotebookInstance(this, "Instance", new CfnNotebookInstanceProps
        {
            NotebookInstanceName = instanceName,
            InstanceType = props.InstanceType,
            VolumeSizeInGb = props.VolumeSizeGb,
            PlatformIdentifier = props.PlatformIdentifier,
            RoleArn = Role.RoleArn,
            KmsKeyId = VolumeKey.KeyArn,
            RootAccess = "Disabled",
            DirectInternetAccess = inVpc ? "Disabled" : "Enabled",
            SubnetId = props.SubnetId,
            SecurityGroupIds = inVpc ? [props.SecurityGroupId!] : null,
            LifecycleConfigName = LifecycleConfig.AttrNotebookInstanceLifecycleConfigName,
        });
        // The lifecycle scripts run at creation and need the role's policy (secret, buckets) already attached.
        Instance.Node.AddDependency(Role);

        if (!inVpc)
        {
            const string reason = "No notebook:subnetId/notebook:securityGroupId configured: the instance uses the SageMaker-managed network so it can reach git and package registries; set both to place it in a VPC without direct internet access.";
            NagAcknowledgements.Add(Instance, "AwsSolutions-SM1", reason);
            NagAcknowledgements.Add(Instance, "AwsSolutions-SM3", reason);
        }
    }

    /// <summary>The notebook instance.</summary>
    public CfnNotebookInstance Instance { get; }

    /// <summary>The role the notebook (and code run in it) acts as.</summary>
    public IRole Role { get; }

    /// <summary>The secret holding the git credentials (created placeholder or the one given).</summary>
    public ISecret GitSecret { get; }

    /// <summary>The key encrypting the ML storage volume.</summary>
    public IKey VolumeKey { get; }

    /// <summary>The OnCreate/OnStart scripts.</summary>
    public CfnNotebookInstanceLifecycleConfig LifecycleConfig { get; }

    /// <summary>
    /// Imports an existing git secret by name or ARN (context <c>git:secret</c>). A full ARN ends with the six random
    /// characters Secrets Manager appends (<c>-AbC123</c>); an ARN without them is treated as partial.
    /// </summary>
    public static ISecret ImportGitSecret(Construct scope, string id, string nameOrArn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrArn);
        if (!nameOrArn.StartsWith("arn:", StringComparison.Ordinal))
        {
            return Secret.FromSecretNameV2(scope, id, nameOrArn);
        }

        return CompleteSecretArnPattern().IsMatch(nameOrArn)
            ? Secret.FromSecretCompleteArn(scope, id, nameOrArn)
            : Secret.FromSecretPartialArn(scope, id, nameOrArn);
    }

    private Secret CreatePlaceholderSecret(string projectName, RemovalPolicy removalPolicy)
    {
        var secret = new Secret(this, "GitSecret", new SecretProps
        {
            Description = $"Git credentials of the {projectName} notebook as {{\"username\":\"<GitHub user>\",\"token\":\"<personal access token>\"}}. "
                + "The generated token is a placeholder: set the real values with aws secretsmanager put-secret-value --secret-id <this secret's ARN> --secret-string file://git.json, then restart the notebook.",
            GenerateSecretString = new SecretStringGenerator
            {
                SecretStringTemplate = "{\"username\":\"REPLACE_ME\"}",
                GenerateStringKey = "token",
                ExcludePunctuation = true,
            },
            RemovalPolicy = removalPolicy,
        });
        NagAcknowledgements.Add(secret, "AwsSolutions-SMG4",
            "Holds a GitHub personal access token, which GitHub issues and expires; Secrets Manager cannot rotate it.");
        return secret;
    }

    private void GrantPermissions(Stack stack, NotebookEnvironmentProps props, string instanceName)
    {
        props.DataBucket.GrantReadWrite(Role, "data/*");
        props.DataBucket.GrantReadWrite(Role, "notebooks/*");
        props.ModelBucket.GrantRead(Role);
        GitSecret.GrantRead(Role);
        VolumeKey.GrantEncryptDecrypt(Role);
        VolumeKey.Grant(Role, "kms:CreateGrant", "kms:DescribeKey");

        string SageMakerArn(string resource, string name) => stack.FormatArn(new ArnComponents
        {
            Service = "sagemaker",
            Resource = resource,
            ResourceName = name,
        });

        var pipelines = SageMakerArn("pipeline", $"{props.ProjectName}-*");
        var endpoints = SageMakerArn("endpoint", $"{props.ProjectName}-*");
        var packageGroups = SageMakerArn("model-package-group", $"{props.ProjectName}-*");
        var packages = SageMakerArn("model-package", $"{props.ProjectName}-*");
        Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = Role,
            Actions =
            [
                "sagemaker:StartPipelineExecution", "sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutions",
                "sagemaker:ListPipelineExecutionSteps", "sagemaker:DescribePipeline",
            ],
            ResourceArns = [pipelines],
        });
        Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = Role,
            Actions = ["sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"],
            ResourceArns = [endpoints],
        });
        Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = Role,
            Actions = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage"],
            ResourceArns = [packageGroups, packages],
        });
        Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = Role,
            Actions = ["sagemaker:StopNotebookInstance"],
            ResourceArns = [SageMakerArn("notebook-instance", instanceName)],
        });
        // These List actions support no resource-level permissions in IAM: "*" is the only resource they accept.
        Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = Role,
            Actions = ["sagemaker:ListPipelines", "sagemaker:ListEndpoints", "sagemaker:ListModelPackageGroups", "sagemaker:ListModelPackages"],
            ResourceArns = ["*"],
        });

        var logGroup = stack.FormatArn(new ArnComponents
        {
            Service = "logs",
            Resource = "log-group",
            ResourceName = LogGroupName,
            ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
        });
        Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = Role,
            Actions = ["logs:CreateLogGroup", "logs:DescribeLogStreams"],
            ResourceArns = [logGroup],
        });
        Grant.AddToPrincipal(new GrantOnPrincipalOptions
        {
            Grantee = Role,
            Actions = ["logs:CreateLogStream", "logs:PutLogEvents"],
            ResourceArns = [$"{logGroup}:log-stream:{instanceName}/*"],
        });

        var arnPrefix = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:";
        string[] findings =
        [
            ObjectsFinding(stack, props.DataBucket, "/data/*"),
            ObjectsFinding(stack, props.DataBucket, "/notebooks/*"),
            ObjectsFinding(stack, props.ModelBucket, "/*"),
            $"Resource::{arnPrefix}pipeline/{props.ProjectName}-*",
            $"Resource::{arnPrefix}endpoint/{props.ProjectName}-*",
            $"Resource::{arnPrefix}model-package-group/{props.ProjectName}-*",
            $"Resource::{arnPrefix}model-package/{props.ProjectName}-*",
            $"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{LogGroupName}:log-stream:{instanceName}/*",
            "Resource::*",
            "Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
            "Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*",
        ];
        NagAcknowledgements.Add(Role.Node.FindChild("DefaultPolicy"), "AwsSolutions-IAM5",
            "The notebook may only touch this platform's SageMaker resources, whose names the pipeline makes unique with a "
            + "timestamp suffix after the project prefix; its lifecycle and Jupyter log streams are named after the instance; "
            + "S3 and KMS wildcards come from grants scoped to the platform's own buckets and prefixes and its volume key; the SageMaker List actions accept no resource but *.",
            findings);
    }

    /// <summary>The cdk-nag finding a grant on <paramref name="bucket"/> objects produces.</summary>
    private static string ObjectsFinding(Stack stack, IBucket bucket, string objects) =>
        bucket.Node.DefaultChild is CfnElement element
            ? $"Resource::<{stack.GetLogicalId(element)}.Arn>{objects}"
            : $"Resource::{bucket.BucketArn}{objects}";

    private static CfnNotebookInstanceLifecycleConfig.NotebookInstanceLifecycleHookProperty Hook(string script) =>
        new() { Content = Fn.Base64(script) };

    [GeneratedRegex(@"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+-[A-Za-z0-9]{6}$")]
    private static partial Regex CompleteSecretArnPattern();
}
