using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.EndpointDeployer;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

/// <summary>The deployment service wired to the simulation, an in-memory S3 and a hand-moved clock.</summary>
public sealed class DeployerHarness
{
    public const string EndpointName = "segmentation-endpoint";
    public const string Group = "segmentation-models";
    public const string Bucket = "segmentation-model-bucket";
    public const string ResourceId = "endpoint/segmentation-endpoint/variant/AllTraffic";

    public static readonly (string Name, string Value)[] Variables =
    [
        ("ENDPOINT_NAME", EndpointName),
        ("MODEL_PACKAGE_GROUP_NAME", Group),
        ("EXECUTION_ROLE_ARN", "arn:aws:iam::123456789012:role/segmentation-sagemaker"),
        ("INSTANCE_TYPE", "ml.m5.large"),
        ("INITIAL_INSTANCE_COUNT", "1"),
        ("MIN_CAPACITY", "1"),
        ("MAX_CAPACITY", "4"),
        ("TARGET_INVOCATIONS_PER_INSTANCE", "70"),
        ("DEPLOYMENT_STRATEGY", "canary"),
        ("CANARY_PERCENT", "10"),
        ("LINEAR_STEP_PERCENT", "25"),
        ("WAIT_SECONDS", "300"),
        ("ROLLBACK_ALARM_NAMES", "segmentation-5xx, segmentation-latency"),
        ("DATA_CAPTURE_S3_URI", "s3://segmentation-capture/endpoint"),
        ("DATA_CAPTURE_PERCENT", "20"),
        ("MODEL_BUCKET", Bucket),
        ("KEEP_VERSIONS", "3"),
    ];

    public DeployerHarness(params (string Name, string Value)[] overrides)
    {
        SageMaker = new SageMakerSimulation(Clock);
        Settings = DeployerSettings.FromEnvironment(TestSupport.Environment([.. overrides, .. Variables]));
        Service = new EndpointDeploymentService(Settings, SageMaker, SageMaker, Store, new LambdaLogger(Log, Clock), Clock,
            new EndpointDeletionWait { MaxPolls = 5, Interval = TimeSpan.FromSeconds(1), Delay = (_, _) => Task.CompletedTask });
    }

    public ManualClock Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 11, 0, 0, TimeSpan.Zero));

    public SageMakerSimulation SageMaker { get; }

    public InMemoryObjectStore Store { get; } = new();

    public StringWriter Log { get; } = new();

    public DeployerSettings Settings { get; }

    public EndpointDeploymentService Service { get; }

    /// <summary>An approved package whose run artifacts (segment profiles) exist in the in-memory S3.</summary>
    public string ApprovedPackage(int version, string approval = "Approved")
    {
        var run = $"s3://{Bucket}/runs/exec-{version}/artifacts";
        Store.PutText(Bucket, $"runs/exec-{version}/artifacts/segment_profiles.json", $$"""{"version":{{version}},"segments":[]}""");
        return SageMaker.AddPackage(version, approval, Group, new Dictionary<string, string>
        {
            ["PreprocessingSpecUri"] = $"{run}/preprocessing_spec.json",
            ["SegmentProfilesUri"] = $"{run}/segment_profiles.json",
            ["MetricsUri"] = $"{run}/metrics.json",
            ["PipelineExecutionArn"] = $"arn:aws:sagemaker:us-east-1:123456789012:pipeline/segmentation/execution/exec-{version}",
        });
    }

    public Task<DeploymentResult> DeployAsync(string packageArn, string instanceType = "ml.m5.large", int count = 1)
    {
        Clock.Advance(TimeSpan.FromMinutes(1));
        return Service.DeployAsync(new DeploymentRequest(packageArn, instanceType, count), CancellationToken.None);
    }

    /// <summary>Describes the endpoint until its transition ends (as time passes in AWS), then delivers IN_SERVICE.</summary>
    public async Task<DeploymentResult> SettleAndNotifyAsync()
    {
        for (var i = 0; i < 10 && SageMaker.EndpointStatus is "Creating" or "Updating"; i++)
        {
            await SageMaker.DescribeEndpointAsync(new() { EndpointName = EndpointName }, CancellationToken.None);
        }

        Assert.Equal("InService", SageMaker.EndpointStatus);
        Clock.Advance(TimeSpan.FromMinutes(1));
        return await Service.OnEndpointStateChangeAsync(new EndpointStateChange(EndpointName, "IN_SERVICE"), CancellationToken.None);
    }

    /// <summary>Deploys and brings the endpoint to InService with everything an IN_SERVICE event does.</summary>
    public async Task<DeploymentResult> DeployLiveAsync(string packageArn, string instanceType = "ml.m5.large")
    {
        var result = await DeployAsync(packageArn, instanceType);
        await SettleAndNotifyAsync();
        return result;
    }
}
