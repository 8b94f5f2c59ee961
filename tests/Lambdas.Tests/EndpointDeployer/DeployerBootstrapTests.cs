using System.Text.Json;
using CustomerSegmentation.EndpointDeployer;
using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

/// <summary>
/// The real native-AOT deployer bootstrap, driven through the loopback Runtime API against the simulated SageMaker and
/// Application Auto Scaling (strict botocore-validating stand-ins) and a real s3rver.
/// </summary>
public sealed class DeployerBootstrapTests(DeployerBootstrapFixture fixture) : IClassFixture<DeployerBootstrapFixture>, IAsyncLifetime, IDisposable
{
    private const string Bucket = DeployerHarness.Bucket;
    private readonly LambdaRuntimeApiServer _api = new();
    private SimulatedAwsServices _aws = null!;
    private BootstrapProcess? _deployer;

    private SageMakerSimulation Simulation => _aws.Simulation;

    public async Task InitializeAsync() => _aws = await SimulatedAwsServices.StartAsync(Bucket);

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _deployer?.Dispose();
        _api.Dispose();
        _aws?.Dispose();
    }

    [Fact]
    public void Publish_Deployer_ProducesANativeExecutableWithoutTrimWarnings()
    {
        var bytes = File.ReadAllBytes(fixture.BootstrapPath);

        Assert.Equal<byte>([0x7F, (byte)'E', (byte)'L', (byte)'F'], bytes[..4]);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(fixture.BootstrapPath)!, "bootstrap.dll")), "an IL bootstrap.dll was published instead of a native binary");
        Assert.DoesNotMatch(@"warning (IL|AOT)\d{4}", fixture.PublishOutput);
    }

    [Fact]
    public async Task Bootstrap_FirstDeployThenInService_CreatesTheEndpointRegistersScalingAndWritesTheMarker()
    {
        var package = await PackageAsync(1);
        StartDeployer();

        var created = await InvokeAsync(PipelineStep(package));
        Settle();
        var inService = await InvokeAsync(InServiceEvent());

        Assert.Equal("Created", created.GetProperty("Action").GetString());
        Assert.StartsWith("segmentation-c-1-", created.GetProperty("EndpointConfigName").GetString(), StringComparison.Ordinal);
        Assert.Equal("Unchanged", inService.GetProperty("Action").GetString());
        Assert.Equal(created.GetProperty("EndpointConfigName").GetString(), Simulation.EndpointConfigName);
        Assert.Equal(4, Simulation.ScalableTarget(DeployerHarness.ResourceId)!.MaxCapacity);
        Assert.NotNull(Simulation.ScalingPolicy(DeployerHarness.ResourceId));
        using var marker = JsonDocument.Parse((await _aws.S3.GetTextAsync(EndpointDeploymentService.MarkerKey))!);
        Assert.Equal(package, marker.RootElement.GetProperty("ModelPackageArn").GetString());
        Assert.Equal(created.GetProperty("ModelName").GetString(), marker.RootElement.GetProperty("ModelName").GetString());
        Assert.Equal($"s3://{Bucket}/runs/exec-1/artifacts/preprocessing_spec.json", marker.RootElement.GetProperty("PreprocessingSpecUri").GetString());
        Assert.Equal("""{"version":1}""", await _aws.S3.GetTextAsync(EndpointDeploymentService.BaselineKey));
        AssertClean();
    }

    [Fact]
    public async Task Bootstrap_UpdateUnderThrottling_RetriesAndStartsTheBlueGreenUpdate()
    {
        StartDeployer();
        await DeployLiveAsync(await PackageAsync(1));
        var next = await PackageAsync(2);
        _aws.SageMakerStandIn.FailNext("CreateModel", 2, StandInResponse.Throttling());
        _aws.SageMakerStandIn.FailNext("UpdateEndpoint", 1, StandInResponse.Throttling());

        var updated = await InvokeAsync(PipelineStep(next));

        Assert.Equal("Updated", updated.GetProperty("Action").GetString());
        Assert.Equal(3, _aws.SageMakerStandIn.RequestsFor("CreateModel").Count(request => request.BodyJson.GetProperty("ModelName").GetString()!.Contains("-m-2-", StringComparison.Ordinal)));
        Assert.Equal(2, _aws.SageMakerStandIn.RequestsFor("UpdateEndpoint").Count);
        var update = _aws.SageMakerStandIn.RequestsFor("UpdateEndpoint")[^1].BodyJson;
        Assert.True(update.GetProperty("RetainAllVariantProperties").GetBoolean());
        Assert.Equal("CANARY", update.GetProperty("DeploymentConfig").GetProperty("BlueGreenUpdatePolicy").GetProperty("TrafficRoutingConfiguration").GetProperty("Type").GetString());
        Assert.Equal("segmentation-5xx", update.GetProperty("DeploymentConfig").GetProperty("AutoRollbackConfiguration").GetProperty("Alarms")[0].GetProperty("AlarmName").GetString());
        Assert.Equal("Updating", Simulation.EndpointStatus);
        AssertClean();
    }

    [Fact]
    public async Task Bootstrap_SameEventTwice_CreatesNothingNew()
    {
        var package = await PackageAsync(1);
        StartDeployer();

        var first = await InvokeAsync(ApprovalEvent(package, "Approved"));
        var second = await InvokeAsync(ApprovalEvent(package, "Approved"));

        Assert.Equal("Created", first.GetProperty("Action").GetString());
        Assert.Equal("Unchanged", second.GetProperty("Action").GetString());
        Assert.Equal(first.GetProperty("EndpointConfigName").GetString(), second.GetProperty("EndpointConfigName").GetString());
        Assert.Single(_aws.SageMakerStandIn.RequestsFor("CreateModel"));
        Assert.Single(_aws.SageMakerStandIn.RequestsFor("CreateEndpointConfig"));
        Assert.Single(_aws.SageMakerStandIn.RequestsFor("CreateEndpoint"));
        AssertClean();
    }

    [Fact]
    public async Task Bootstrap_EndpointBusy_DefersAndCompletesOnTheInServiceEvent()
    {
        var first = await PackageAsync(1);
        var second = await PackageAsync(2);
        StartDeployer();
        await InvokeAsync(PipelineStep(first));

        var deferred = await InvokeAsync(PipelineStep(second));
        Settle();
        var completed = await InvokeAsync(InServiceEvent());

        Assert.Equal("Deferred", deferred.GetProperty("Action").GetString());
        Assert.Equal("Updated", completed.GetProperty("Action").GetString());
        Assert.Equal(second, completed.GetProperty("ModelPackageArn").GetString());
        Assert.Single(_aws.SageMakerStandIn.RequestsFor("AddTags"));
        Assert.Single(_aws.SageMakerStandIn.RequestsFor("DeleteTags"));
        Assert.DoesNotContain(EndpointDeploymentService.PendingPackageTag,
            Simulation.TagsOf(SageMakerSimulation.EndpointArn(DeployerHarness.EndpointName)).Keys);
        AssertClean();
    }

    [Fact]
    public async Task Bootstrap_FailedEndpoint_IsDeletedAndCreatedAgain()
    {
        StartDeployer();
        Simulation.FailNextTransition = true;
        Simulation.DeletesImmediately = true;
        await InvokeAsync(PipelineStep(await PackageAsync(1)));
        Settle("Failed");

        var recreated = await InvokeAsync(PipelineStep(await PackageAsync(2)));

        Assert.Equal("Created", recreated.GetProperty("Action").GetString());
        Assert.Equal(DeployerHarness.EndpointName, Assert.Single(_aws.SageMakerStandIn.RequestsFor("DeleteEndpoint")).BodyJson.GetProperty("EndpointName").GetString());
        Assert.Equal(2, _aws.SageMakerStandIn.RequestsFor("CreateEndpoint").Count);
        AssertClean();
    }

    [Fact]
    public async Task Bootstrap_InstanceTypeChangeUnderAutoScaling_DeregistersFirstAndRegistersAgain()
    {
        StartDeployer();
        var package = await PackageAsync(1);
        await DeployLiveAsync(package);

        var updated = await InvokeAsync(PipelineStep(package, "ml.c5.xlarge"));
        Settle();
        await InvokeAsync(InServiceEvent());

        Assert.Equal("Updated", updated.GetProperty("Action").GetString());
        Assert.Single(_aws.ScalingStandIn.RequestsFor("DeregisterScalableTarget"));
        Assert.False(_aws.SageMakerStandIn.RequestsFor("UpdateEndpoint")[0].BodyJson.GetProperty("RetainAllVariantProperties").GetBoolean());
        Assert.Equal(2, _aws.ScalingStandIn.RequestsFor("RegisterScalableTarget").Count);
        Assert.NotNull(Simulation.ScalableTarget(DeployerHarness.ResourceId));
        AssertClean();
    }

    [Fact]
    public async Task Bootstrap_MoreVersionsThanKept_DeletesTheOldOnesOverTheWire()
    {
        StartDeployer(("KEEP_VERSIONS", "1"));
        await DeployLiveAsync(await PackageAsync(1));
        var second = await DeployLiveAsync(await PackageAsync(2));

        Assert.Equal([second.GetProperty("EndpointConfigName").GetString()!], Simulation.ConfigNames);
        Assert.Equal([second.GetProperty("ModelName").GetString()!], Simulation.ModelNames);
        Assert.Single(_aws.SageMakerStandIn.RequestsFor("DeleteEndpointConfig"));
        Assert.Single(_aws.SageMakerStandIn.RequestsFor("DeleteModel"));
        AssertClean();
    }

    [Fact]
    public async Task Bootstrap_PendingAndRejectedApprovals_DeployNothing()
    {
        var pending = await PackageAsync(1, "PendingManualApproval");
        var rejected = await PackageAsync(2, "Rejected");
        StartDeployer();

        var step = await InvokeAsync(PipelineStep(pending));
        var pendingEvent = await InvokeAsync(ApprovalEvent(pending, "PendingManualApproval"));
        var rejectedEvent = await InvokeAsync(ApprovalEvent(rejected, "Rejected"));

        Assert.Equal(("Skipped", "Model package is PendingManualApproval: it is deployed when its approval event arrives."),
            (step.GetProperty("Action").GetString(), step.GetProperty("Reason").GetString()));
        Assert.Equal("Skipped", pendingEvent.GetProperty("Action").GetString());
        Assert.Equal(("Skipped", "Model package is Rejected: only an approved package is deployed."),
            (rejectedEvent.GetProperty("Action").GetString(), rejectedEvent.GetProperty("Reason").GetString()));
        Assert.Equal(["DescribeModelPackage"], _aws.SageMakerStandIn.Requests.Select(request => request.Operation));
        AssertClean();
    }

    [Fact]
    public async Task Bootstrap_AwsCallFails_PostsAnErrorNamingTheCall()
    {
        StartDeployer();
        _aws.SageMakerStandIn.FailNext("DescribeModelPackage", 3, StandInResponse.ServiceUnavailable());

        var requestId = _api.Enqueue(PipelineStep("arn:aws:sagemaker:us-east-1:123456789012:model-package/segmentation-models/1"));
        var outcome = await _api.WaitForOutcomeAsync(requestId, TimeSpan.FromSeconds(60));

        Assert.True(outcome.IsError);
        Assert.Equal("EndpointDeploymentException", outcome.ErrorTypeHeader);
        Assert.Equal("PipelineDeployRequest failed: SageMaker DescribeModelPackage failed: HTTP 503 ServiceUnavailable: Service is temporarily unavailable.",
            outcome.BodyJson.GetProperty("errorMessage").GetString());
        Assert.Equal(3, _aws.SageMakerStandIn.RequestsFor("DescribeModelPackage").Count);
        _aws.AssertNoInvalidRequests();
        _api.ThrowIfProtocolViolated();
    }

    [Fact]
    public async Task Bootstrap_BadConfiguration_ReportsAnInitErrorNamingTheVariable()
    {
        StartDeployer(("KEEP_VERSIONS", "none"), ("DEPLOYMENT_STRATEGY", "rolling"));

        var report = await _api.WaitForInitErrorAsync(TimeSpan.FromSeconds(60));
        var exitCode = await _deployer!.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        Assert.Equal("DeployerConfigurationException", report.ErrorTypeHeader);
        Assert.Equal("EndpointDeployer configuration is invalid: DEPLOYMENT_STRATEGY is 'rolling': it must be one of canary, linear, all-at-once. "
            + "KEEP_VERSIONS is 'none': it must be a whole number from 1 to 100.", report.BodyJson.GetProperty("errorMessage").GetString());
        Assert.Equal(0, _api.NextRequests);
        Assert.Empty(_aws.SageMakerStandIn.Requests);
        _aws.AssertNoInvalidRequests();
        _api.ThrowIfProtocolViolated();
    }

    private void StartDeployer(params (string Name, string Value)[] overrides) =>
        _deployer = BootstrapProcess.Start(fixture.BootstrapPath,
            [.. DeployerHarness.Variables, .. overrides, .. _aws.EndpointVariables, ("AWS_LAMBDA_RUNTIME_API", _api.RuntimeApi)]);

    private async Task<string> PackageAsync(int version, string approval = "Approved")
    {
        var artifacts = $"runs/exec-{version}/artifacts";
        await _aws.S3.PutTextAsync($"{artifacts}/segment_profiles.json", $$"""{"version":{{version}}}""");
        return Simulation.AddPackage(version, approval, DeployerHarness.Group, new Dictionary<string, string>
        {
            ["PreprocessingSpecUri"] = $"s3://{Bucket}/{artifacts}/preprocessing_spec.json",
            ["SegmentProfilesUri"] = $"s3://{Bucket}/{artifacts}/segment_profiles.json",
        });
    }

    private async Task<JsonElement> DeployLiveAsync(string package)
    {
        var result = await InvokeAsync(PipelineStep(package));
        Settle();
        await InvokeAsync(InServiceEvent());
        return result;
    }

    /// <summary>Lets SageMaker finish the endpoint's transition (time passing in AWS).</summary>
    private void Settle(string expected = "InService")
    {
        for (var i = 0; i < 10 && Simulation.EndpointStatus is "Creating" or "Updating"; i++)
        {
            Simulation.DescribeEndpointAsync(new() { EndpointName = DeployerHarness.EndpointName }, CancellationToken.None).GetAwaiter().GetResult();
        }

        Assert.Equal(expected, Simulation.EndpointStatus);
    }

    private async Task<JsonElement> InvokeAsync(string payload)
    {
        var outcome = await _api.WaitForOutcomeAsync(_api.Enqueue(payload), TimeSpan.FromSeconds(60));
        Assert.False(outcome.IsError, outcome.BodyText);
        return outcome.BodyJson;
    }

    private void AssertClean()
    {
        _aws.AssertNoInvalidRequests();
        _api.ThrowIfProtocolViolated();
        var lines = _deployer!.LogLines();
        Assert.Contains(lines, line => line.GetProperty("message").GetString() == "EndpointDeployer initialized.");
        Assert.DoesNotContain(lines, line => line.GetProperty("level").GetString() == "Error");
    }

    private static string PipelineStep(string package, string instanceType = "ml.m5.large") =>
        $$"""{"ModelPackageArn":"{{package}}","InstanceType":"{{instanceType}}","InitialInstanceCount":"1","PipelineExecutionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/segmentation/execution/e1"}""";

    private static string ApprovalEvent(string package, string approval) => $$$"""
        {"version":"0","detail-type":"SageMaker Model Package State Change","source":"aws.sagemaker",
         "detail":{"ModelPackageGroupName":"{{{DeployerHarness.Group}}}","ModelPackageArn":"{{{package}}}","ModelApprovalStatus":"{{{approval}}}"}}
        """;

    private static string InServiceEvent() => $$$"""
        {"version":"0","detail-type":"SageMaker Endpoint State Change","source":"aws.sagemaker",
         "detail":{"EndpointName":"{{{DeployerHarness.EndpointName}}}","EndpointStatus":"IN_SERVICE"}}
        """;
}
