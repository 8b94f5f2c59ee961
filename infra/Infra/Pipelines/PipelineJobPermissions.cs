using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Constructs;

namespace CustomerSegmentation.Infra.Pipelines;

/// <summary>
/// The statements every SageMaker pipeline role of the platform needs to run its jobs: start and watch them, register
/// models in its own group, pass itself to the jobs, pull the scikit-learn image, write the job logs and metrics. Each
/// method adds one statement (two for the image) and returns the resources a cdk-nag acknowledgement must name.
/// </summary>
internal static class PipelineJobPermissions
{
    /// <summary>
    /// Create, describe and stop the pipeline's processing and training jobs (and models, when
    /// <paramref name="createsModels"/>). SageMaker Pipelines names what it creates
    /// pipelines-&lt;execution id&gt;-&lt;step name&gt;-&lt;random suffix&gt;, and resource ARNs carry the name in lower
    /// case. The execution id and suffix exist only at run time, and long step names are truncated, so
    /// "pipelines-*" is the narrowest pattern that always matches.
    /// </summary>
    public static string[] RunJobs(Role role, bool createsModels)
    {
        string[] actions =
        [
            "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
            "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
        ];
        string[] resources = [Arn(role, "processing-job", "pipelines-*"), Arn(role, "training-job", "pipelines-*")];
        if (createsModels)
        {
            actions = [.. actions, "sagemaker:CreateModel", "sagemaker:DescribeModel"];
            resources = [.. resources, Arn(role, "model", "pipelines-*")];
        }

        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "RunPipelineJobs",
            Actions = [.. actions, "sagemaker:AddTags"],
            Resources = resources,
        }));
        return resources;
    }

    /// <summary>
    /// Register versions in <paramref name="modelPackageGroupName"/> only. Versions are &lt;group&gt;/&lt;version&gt;, the
    /// number assigned by SageMaker at registration; returns the group's ARN and the versions' pattern.
    /// </summary>
    public static string[] RegisterModels(Role role, string modelPackageGroupName)
    {
        string[] resources = [Arn(role, "model-package-group", modelPackageGroupName), Arn(role, "model-package", modelPackageGroupName + "/*")];
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "RegisterModels",
            Actions = ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:AddTags"],
            Resources = resources,
        }));
        return resources;
    }

    /// <summary>The pipeline passes its own role to the jobs it starts, and to SageMaker only.</summary>
    public static void PassRoleToJobs(Role role) =>
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "PassRoleToSageMakerJobs",
            Actions = ["iam:PassRole"],
            Resources = [role.RoleArn],
            Conditions = new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object> { ["iam:PassedToService"] = "sagemaker.amazonaws.com" },
            },
        }));

    /// <summary>Pull the scikit-learn image; ecr:GetAuthorizationToken has no resource type, IAM accepts it only on "*".</summary>
    public static void PullSklearnImage(Role role)
    {
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "PullSklearnImage",
            Actions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            Resources = [SklearnImage.RepositoryArn(role)],
        }));
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "EcrLogin",
            Actions = ["ecr:GetAuthorizationToken"],
            Resources = ["*"],
        }));
    }

    /// <summary>SageMaker jobs create their own log streams under /aws/sagemaker/ at run time; returns that pattern.</summary>
    public static string WriteJobLogs(Role role)
    {
        var logGroups = Stack.Of(role).FormatArn(new ArnComponents
        {
            Service = "logs",
            Resource = "log-group",
            ResourceName = "/aws/sagemaker/*",
            ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
        });
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "WriteJobLogs",
            Actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            Resources = [logGroups],
        }));
        return logGroups;
    }

    /// <summary>Job metrics: cloudwatch:PutMetricData has no resource type, so a condition limits it to SageMaker's namespaces.</summary>
    public static void PublishJobMetrics(Role role) =>
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "PublishJobMetrics",
            Actions = ["cloudwatch:PutMetricData"],
            Resources = ["*"],
            Conditions = new Dictionary<string, object>
            {
                ["StringLike"] = new Dictionary<string, object> { ["cloudwatch:namespace"] = "/aws/sagemaker/*" },
            },
        }));

    private static string Arn(IConstruct scope, string resource, string name) =>
        Stack.Of(scope).FormatArn(new ArnComponents { Service = "sagemaker", Resource = resource, ResourceName = name });
}
