using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.EndpointDeployer;
using static CustomerSegmentation.EndpointDeployer.EndpointDeploymentService;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

public sealed class EndpointDeploymentServiceTests
{
    private const string Bucket = DeployerHarness.Bucket;

    [Fact]
    public async Task DeployAsync_NoEndpoint_CreatesTaggedModelConfigAndEndpoint()
    {
        var harness = new DeployerHarness();
        var package = harness.ApprovedPackage(7);

        var result = await harness.DeployAsync(package);

        Assert.Equal(DeploymentAction.Created, result.Action);
        Assert.Equal("segmentation-m-7-20261125110100000", result.ModelName);
        Assert.Equal("segmentation-c-7-20261125110100000", result.EndpointConfigName);
        Assert.Equal(package, result.ModelPackageArn);
        Assert.Equal("Creating", harness.SageMaker.EndpointStatus);
        Assert.Equal(result.EndpointConfigName, harness.SageMaker.EndpointConfigName);
        var config = harness.SageMaker.Config(result.EndpointConfigName!).Request;
        var variant = Assert.Single(config.ProductionVariants);
        Assert.Equal(("AllTraffic", "segmentation-m-7-20261125110100000", "ml.m5.large", 1), (variant.VariantName, variant.ModelName, variant.InstanceType, variant.InitialInstanceCount));
        Assert.Equal(("s3://segmentation-capture/endpoint", 20), (config.DataCaptureConfig!.DestinationS3Uri, config.DataCaptureConfig.InitialSamplingPercentage));
        Assert.Equal(["Input", "Output"], config.DataCaptureConfig.CaptureOptions.Select(option => option.CaptureMode));
        Assert.Equal(package, harness.SageMaker.TagsOf("arn:aws:sagemaker:us-east-1:123456789012:model/segmentation-m-7-20261125110100000")[PackageTag]);
        Assert.Equal(new Dictionary<string, string>
        {
            [PackageTag] = package,
            [ModelNameTag] = result.ModelName!,
            [InstanceTypeTag] = "ml.m5.large",
            [InstanceCountTag] = "1",
        }, harness.SageMaker.TagsOf(harness.SageMaker.Config(result.EndpointConfigName!).Arn));
        Assert.Equal(0, harness.SageMaker.CallCount("RegisterScalableTarget"));
        Assert.Empty(harness.Store.Puts);
    }

    [Fact]
    public async Task OnEndpointStateChange_InServiceAfterCreate_RegistersAutoScalingAndWritesTheMarkerAndBaseline()
    {
        var harness = new DeployerHarness();
        var package = harness.ApprovedPackage(7);
        var created = await harness.DeployAsync(package);

        var result = await harness.SettleAndNotifyAsync();

        Assert.Equal(DeploymentAction.Unchanged, result.Action);
        Assert.Equal("Endpoint is InService: autoscaling registered, deployed marker current, 0 old models and configs deleted.", result.Reason);
        var target = harness.SageMaker.ScalableTarget(DeployerHarness.ResourceId)!;
        Assert.Equal(("sagemaker", "sagemaker:variant:DesiredInstanceCount", 1, 4), (target.ServiceNamespace, target.ScalableDimension, target.MinCapacity, target.MaxCapacity));
        var policy = harness.SageMaker.ScalingPolicy(DeployerHarness.ResourceId)!;
        Assert.Equal("TargetTrackingScaling", policy.PolicyType);
        Assert.Equal(70, policy.TargetTrackingScalingPolicyConfiguration!.TargetValue);
        Assert.Equal("SageMakerVariantInvocationsPerInstance", policy.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification!.PredefinedMetricType);
        Assert.Equal("""{"version":7,"segments":[]}""", harness.Store.Text(Bucket, BaselineKey));
        using var marker = JsonDocument.Parse(harness.Store.Text(Bucket, MarkerKey)!);
        var root = marker.RootElement;
        Assert.Equal(package, root.GetProperty("ModelPackageArn").GetString());
        Assert.Equal(7, root.GetProperty("ModelPackageVersion").GetInt32());
        Assert.Equal(created.ModelName, root.GetProperty("ModelName").GetString());
        Assert.Equal(created.EndpointConfigName, root.GetProperty("EndpointConfigName").GetString());
        Assert.Equal($"s3://{Bucket}/runs/exec-7/artifacts/preprocessing_spec.json", root.GetProperty("PreprocessingSpecUri").GetString());
        Assert.Equal($"s3://{Bucket}/runs/exec-7/artifacts/segment_profiles.json", root.GetProperty("SegmentProfilesUri").GetString());
        Assert.Equal("2026-11-25T11:02:00Z", root.GetProperty("DeployedAt").GetString());
        Assert.Equal([$"{Bucket}/{BaselineKey}", $"{Bucket}/{MarkerKey}"], harness.Store.Puts);
    }

    [Fact]
    public async Task OnEndpointStateChange_RepeatedInService_DoesNotRewriteTheMarker()
    {
        var harness = new DeployerHarness();
        await harness.DeployLiveAsync(harness.ApprovedPackage(7));

        await harness.SettleAndNotifyAsync();

        Assert.Equal(2, harness.Store.Puts.Count);
        Assert.Equal(2, harness.SageMaker.CallCount("RegisterScalableTarget"));
    }

    [Fact]
    public async Task DeployAsync_NewPackageWhileInService_StartsBlueGreenCanaryWithRollbackAlarms()
    {
        var harness = new DeployerHarness();
        await harness.DeployLiveAsync(harness.ApprovedPackage(7));
        var next = harness.ApprovedPackage(8);

        var result = await harness.DeployAsync(next);

        Assert.Equal(DeploymentAction.Updated, result.Action);
        Assert.Equal("Blue/green update started.", result.Reason);
        Assert.StartsWith("segmentation-c-8-", result.EndpointConfigName, StringComparison.Ordinal);
        var update = harness.SageMaker.LastUpdate!;
        Assert.Equal(result.EndpointConfigName, update.EndpointConfigName);
        Assert.True(update.RetainAllVariantProperties);
        var policy = update.DeploymentConfig!.BlueGreenUpdatePolicy;
        Assert.Equal(("CANARY", 300, "CAPACITY_PERCENT", 10), (policy.TrafficRoutingConfiguration.Type, policy.TrafficRoutingConfiguration.WaitIntervalInSeconds,
            policy.TrafficRoutingConfiguration.CanarySize!.Type, policy.TrafficRoutingConfiguration.CanarySize.Value));
        Assert.Equal(2 * 300 + 3600, policy.MaximumExecutionTimeoutInSeconds);
        Assert.Equal(["segmentation-5xx", "segmentation-latency"], update.DeploymentConfig.AutoRollbackConfiguration!.Alarms!.Select(alarm => alarm.AlarmName));
        Assert.Equal(0, harness.SageMaker.CallCount("DeregisterScalableTarget"));
        Assert.Equal("Updating", harness.SageMaker.EndpointStatus);
    }

    [Theory]
    [InlineData("linear", "LINEAR", 4 * 300 + 3600)]
    [InlineData("all-at-once", "ALL_AT_ONCE", 300 + 3600)]
    public async Task DeployAsync_OtherStrategies_UseTheirTrafficRouting(string strategy, string type, int timeout)
    {
        var harness = new DeployerHarness(("DEPLOYMENT_STRATEGY", strategy), ("ROLLBACK_ALARM_NAMES", ""));
        await harness.DeployLiveAsync(harness.ApprovedPackage(7));

        await harness.DeployAsync(harness.ApprovedPackage(8));

        var update = harness.SageMaker.LastUpdate!.DeploymentConfig!;
        Assert.Equal(type, update.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.Type);
        Assert.Equal(type == "LINEAR" ? 25 : null, update.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.LinearStepSize?.Value);
        Assert.Null(update.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.CanarySize);
        Assert.Equal(timeout, update.BlueGreenUpdatePolicy.MaximumExecutionTimeoutInSeconds);
        Assert.Null(update.AutoRollbackConfiguration);
    }

    [Fact]
    public async Task DeployAsync_SameEventTwice_CreatesNothingNew()
    {
        var harness = new DeployerHarness();
        var package = harness.ApprovedPackage(7);
        var first = await harness.DeployAsync(package);

        var whileCreating = await harness.DeployAsync(package);
        await harness.SettleAndNotifyAsync();
        var whileInService = await harness.DeployAsync(package);

        Assert.Equal((DeploymentAction.Unchanged, "Endpoint is Creating towards this package already."), (whileCreating.Action, whileCreating.Reason));
        Assert.Equal((DeploymentAction.Unchanged, "Endpoint is InService with this package already."), (whileInService.Action, whileInService.Reason));
        Assert.Equal((first.ModelName, first.EndpointConfigName), (whileInService.ModelName, whileInService.EndpointConfigName));
        Assert.Equal(1, harness.SageMaker.CallCount("CreateModel"));
        Assert.Equal(1, harness.SageMaker.CallCount("CreateEndpointConfig"));
        Assert.Equal(1, harness.SageMaker.CallCount("CreateEndpoint"));
        Assert.Equal(0, harness.SageMaker.CallCount("UpdateEndpoint"));
    }

    [Fact]
    public async Task DeployAsync_ModelLeftByAFailedEarlierAttempt_IsFoundByItsTagAndReused()
    {
        var harness = new DeployerHarness();
        var package = harness.ApprovedPackage(7);
        await harness.SageMaker.CreateModelAsync(new()
        {
            ModelName = "segmentation-m-7-20261125105900000",
            PrimaryContainer = new() { ModelPackageName = package },
            ExecutionRoleArn = "arn:aws:iam::123456789012:role/segmentation-sagemaker",
            Tags = [new() { Key = PackageTag, Value = package }],
        }, CancellationToken.None);

        var result = await harness.DeployAsync(package);

        Assert.Equal(DeploymentAction.Created, result.Action);
        Assert.Equal("segmentation-m-7-20261125105900000", result.ModelName);
        Assert.Equal(1, harness.SageMaker.CallCount("CreateModel"));
    }

    [Fact]
    public async Task DeployAsync_EndpointBusy_DefersAndTheInServiceEventCompletesIt()
    {
        var harness = new DeployerHarness();
        await harness.DeployLiveAsync(harness.ApprovedPackage(7));
        await harness.DeployAsync(harness.ApprovedPackage(8));
        var third = harness.ApprovedPackage(9);

        var deferred = await harness.DeployAsync(third, "ml.m5.large", 2);
        var completed = await harness.SettleAndNotifyAsync();

        Assert.Equal(DeploymentAction.Deferred, deferred.Action);
        Assert.Equal("Endpoint is Updating: the deployment is recorded on it and completes on its next IN_SERVICE event.", deferred.Reason);
        Assert.Equal(DeploymentAction.Updated, completed.Action);
        Assert.Equal("Deferred deployment completed: Blue/green update started.", completed.Reason);
        Assert.Equal(third, completed.ModelPackageArn);
        Assert.StartsWith("segmentation-c-9-", harness.SageMaker.LastUpdate!.EndpointConfigName, StringComparison.Ordinal);
        Assert.Equal(2, harness.SageMaker.Config(completed.EndpointConfigName!).Request.ProductionVariants[0].InitialInstanceCount);
        var endpointTags = harness.SageMaker.TagsOf(SageMakerSimulation.EndpointArn(DeployerHarness.EndpointName));
        Assert.DoesNotContain(PendingPackageTag, endpointTags.Keys);
        Assert.DoesNotContain(PendingInstanceCountTag, endpointTags.Keys);
        Assert.Equal(3, harness.SageMaker.CallCount("CreateEndpointConfig"));
    }

    [Fact]
    public async Task DeployAsync_EndpointFailed_DeletesOnlyOurEndpointAndCreatesItAgain()
    {
        var harness = new DeployerHarness();
        harness.SageMaker.FailNextTransition = true;
        await harness.DeployAsync(harness.ApprovedPackage(7));
        for (var i = 0; i < 3; i++)
        {
            await harness.SageMaker.DescribeEndpointAsync(new() { EndpointName = DeployerHarness.EndpointName }, CancellationToken.None);
        }

        Assert.Equal("Failed", harness.SageMaker.EndpointStatus);

        var result = await harness.DeployAsync(harness.ApprovedPackage(8));

        Assert.Equal(DeploymentAction.Created, result.Action);
        Assert.Equal("Creating", harness.SageMaker.EndpointStatus);
        Assert.Equal(result.EndpointConfigName, harness.SageMaker.EndpointConfigName);
        var calls = harness.SageMaker.Calls;
        Assert.True(calls.ToList().LastIndexOf("DeleteEndpoint") < calls.ToList().LastIndexOf("CreateEndpoint"));
        Assert.Equal(1, harness.SageMaker.CallCount("DeleteEndpoint"));
        Assert.Contains(LogLines(harness), line => line.GetProperty("message").GetString() == "Endpoint is Failed: deleting it to create it again."
            && line.GetProperty("level").GetString() == "Warning");
    }

    [Fact]
    public async Task DeployAsync_FailedEndpointDeletionOutlastsTheWait_FailsWithAClearMessage()
    {
        var harness = new DeployerHarness();
        harness.SageMaker.FailNextTransition = true;
        await harness.DeployAsync(harness.ApprovedPackage(7));
        for (var i = 0; i < 3; i++)
        {
            await harness.SageMaker.DescribeEndpointAsync(new() { EndpointName = DeployerHarness.EndpointName }, CancellationToken.None);
        }

        harness.SageMaker.DescribesPerTransition = 50;

        var error = await Assert.ThrowsAsync<TimeoutException>(() => harness.DeployAsync(harness.ApprovedPackage(8)));

        Assert.Equal("Endpoint segmentation-endpoint was Failed and is still being deleted after 5 checks; invoke again to create it.", error.Message);
        Assert.Equal(1, harness.SageMaker.CallCount("CreateEndpoint"));
    }

    [Theory]
    [InlineData("PendingManualApproval", "Model package is PendingManualApproval: it is deployed when its approval event arrives.")]
    [InlineData("Rejected", "Model package is Rejected: it is never deployed.")]
    public async Task DeployAsync_NotApprovedPackage_IsSkippedAndSaysWhy(string approval, string reason)
    {
        var harness = new DeployerHarness();
        var package = harness.ApprovedPackage(7, approval);

        var result = await harness.DeployAsync(package);

        Assert.Equal((DeploymentAction.Skipped, reason, package), (result.Action, result.Reason, result.ModelPackageArn));
        Assert.Equal(["DescribeModelPackage"], harness.SageMaker.Calls);
    }

    [Fact]
    public async Task DeployAsync_PackageOfAnotherGroup_IsSkipped()
    {
        var harness = new DeployerHarness();
        var package = harness.SageMaker.AddPackage(3, "Approved", "other-models");

        var result = await harness.DeployAsync(package);

        Assert.Equal((DeploymentAction.Skipped, "Model package belongs to group 'other-models', not 'segmentation-models'."), (result.Action, result.Reason));
    }

    [Theory]
    [InlineData("PendingManualApproval", "segmentation-models", "Model package is PendingManualApproval: only an approved package is deployed.")]
    [InlineData("Rejected", "segmentation-models", "Model package is Rejected: only an approved package is deployed.")]
    [InlineData("Approved", "other-models", "Model package group 'other-models' is not 'segmentation-models'.")]
    public async Task OnModelPackageStateChange_NotOurApprovedPackage_IsSkippedWithoutAnyCall(string approval, string group, string reason)
    {
        var harness = new DeployerHarness();

        var result = await harness.Service.OnModelPackageStateChangeAsync(
            new ModelPackageStateChange($"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/4", group, approval), CancellationToken.None);

        Assert.Equal((DeploymentAction.Skipped, reason), (result.Action, result.Reason));
        Assert.Empty(harness.SageMaker.Calls);
        Assert.Contains(LogLines(harness), line => line.GetProperty("message").GetString() == "Nothing to deploy."
            && line.GetProperty("reason").GetString() == reason);
    }

    [Fact]
    public async Task OnModelPackageStateChange_PendingPackageApprovedLater_IsDeployed()
    {
        var harness = new DeployerHarness();
        var package = harness.ApprovedPackage(7, "PendingManualApproval");
        var skipped = await harness.DeployAsync(package);
        harness.SageMaker.SetApproval(package, "Approved");

        var result = await harness.Service.OnModelPackageStateChangeAsync(
            new ModelPackageStateChange(package, DeployerHarness.Group, "Approved"), CancellationToken.None);

        Assert.Equal(DeploymentAction.Skipped, skipped.Action);
        Assert.Equal(DeploymentAction.Created, result.Action);
        Assert.Equal("ml.m5.large", harness.SageMaker.Config(result.EndpointConfigName!).Request.ProductionVariants[0].InstanceType);
    }

    [Fact]
    public async Task DeployAsync_InstanceTypeChangeUnderAutoScaling_DeregistersFirstAndRegistersAgainWhenInService()
    {
        var harness = new DeployerHarness();
        var package = harness.ApprovedPackage(7);
        await harness.DeployLiveAsync(package);

        var result = await harness.DeployAsync(package, "ml.c5.xlarge");
        var afterUpdate = harness.SageMaker.ScalableTarget(DeployerHarness.ResourceId);
        await harness.SettleAndNotifyAsync();

        Assert.Equal(DeploymentAction.Updated, result.Action);
        Assert.Equal("Blue/green update started; instance type ml.m5.large -> ml.c5.xlarge.", result.Reason);
        Assert.Null(afterUpdate);
        var calls = harness.SageMaker.Calls.ToList();
        Assert.True(calls.IndexOf("DeregisterScalableTarget") < calls.IndexOf("UpdateEndpoint"));
        Assert.False(harness.SageMaker.LastUpdate!.RetainAllVariantProperties);
        Assert.Equal(1, harness.SageMaker.CallCount("CreateModel"));
        Assert.Equal(4, harness.SageMaker.ScalableTarget(DeployerHarness.ResourceId)!.MaxCapacity);
        Assert.Equal("ml.c5.xlarge", harness.SageMaker.Config(harness.SageMaker.EndpointConfigName!).Request.ProductionVariants[0].InstanceType);
    }

    [Fact]
    public async Task OnEndpointStateChange_MoreVersionsThanKept_DeletesTheOldestOwnModelsAndConfigsOnly()
    {
        var harness = new DeployerHarness();
        await harness.SageMaker.CreateModelAsync(new()
        {
            ModelName = "analytics-m-1-20200101000000000",
            PrimaryContainer = new() { ModelPackageName = harness.ApprovedPackage(1) },
            ExecutionRoleArn = "arn:aws:iam::123456789012:role/analytics",
        }, CancellationToken.None);
        var results = new List<DeploymentResult>();
        for (var version = 2; version <= 6; version++)
        {
            results.Add(await harness.DeployLiveAsync(harness.ApprovedPackage(version)));
        }

        Assert.Equal(results.TakeLast(3).Select(result => result.EndpointConfigName!).Order(StringComparer.Ordinal), harness.SageMaker.ConfigNames);
        Assert.Equal(results.TakeLast(3).Select(result => result.ModelName!).Append("analytics-m-1-20200101000000000").Order(StringComparer.Ordinal),
            harness.SageMaker.ModelNames);
        Assert.Equal(results[^1].EndpointConfigName, harness.SageMaker.EndpointConfigName);
    }

    [Fact]
    public async Task OnEndpointStateChange_ServedConfigOlderThanTheKeptOnes_IsNeverDeleted()
    {
        var harness = new DeployerHarness(("KEEP_VERSIONS", "1"));
        var served = await harness.DeployLiveAsync(harness.ApprovedPackage(2));
        harness.SageMaker.RollBackNextUpdate = true;
        var rolledBack = await harness.DeployAsync(harness.ApprovedPackage(3));

        var result = await harness.SettleAndNotifyAsync();

        Assert.Equal(served.EndpointConfigName, harness.SageMaker.EndpointConfigName);
        Assert.Equal(result.EndpointConfigName, served.EndpointConfigName);
        Assert.Equal(new[] { served.EndpointConfigName!, rolledBack.EndpointConfigName! }.Order(StringComparer.Ordinal), harness.SageMaker.ConfigNames);
        Assert.Equal(new[] { served.ModelName!, rolledBack.ModelName! }.Order(StringComparer.Ordinal), harness.SageMaker.ModelNames);
    }

    [Theory]
    [InlineData("other-endpoint", "IN_SERVICE", "Endpoint 'other-endpoint' is not 'segmentation-endpoint'.")]
    [InlineData("segmentation-endpoint", "UPDATING", "Endpoint state UPDATING needs no action: only IN_SERVICE is acted on.")]
    [InlineData("segmentation-endpoint", "FAILED", "Endpoint state FAILED needs no action: only IN_SERVICE is acted on.")]
    public async Task OnEndpointStateChange_NotOurInServiceEvent_IsSkippedWithoutAnyCall(string endpoint, string status, string reason)
    {
        var harness = new DeployerHarness();

        var result = await harness.Service.OnEndpointStateChangeAsync(new EndpointStateChange(endpoint, status), CancellationToken.None);

        Assert.Equal((DeploymentAction.Skipped, reason), (result.Action, result.Reason));
        Assert.Empty(harness.SageMaker.Calls);
    }

    [Fact]
    public async Task OnEndpointStateChange_LateEventForAnEndpointUpdatingAgain_IsSkipped()
    {
        var harness = new DeployerHarness();
        await harness.DeployAsync(harness.ApprovedPackage(7));

        var result = await harness.Service.OnEndpointStateChangeAsync(new EndpointStateChange(DeployerHarness.EndpointName, "IN_SERVICE"), CancellationToken.None);

        Assert.Equal((DeploymentAction.Skipped, "Endpoint is Creating by now: its next IN_SERVICE event completes the work."), (result.Action, result.Reason));
        Assert.Equal(0, harness.SageMaker.CallCount("RegisterScalableTarget"));
    }

    [Fact]
    public async Task DeployAsync_UnknownPackage_SurfacesTheSageMakerError()
    {
        var harness = new DeployerHarness();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.DeployAsync("arn:aws:sagemaker:us-east-1:123456789012:model-package/segmentation-models/99"));

        Assert.Equal("SageMaker DescribeModelPackage failed: HTTP 400 ValidationException: Model Package arn:aws:sagemaker:us-east-1:123456789012:model-package/segmentation-models/99 does not exist.",
            error.Message);
    }

    [Fact]
    public async Task OnEndpointStateChange_SegmentProfilesMissing_FailsNamingTheObject()
    {
        var harness = new DeployerHarness();
        var package = harness.SageMaker.AddPackage(7, "Approved", DeployerHarness.Group,
            new Dictionary<string, string>
            {
                ["SegmentProfilesUri"] = $"s3://{Bucket}/runs/gone/segment_profiles.json",
                ["PreprocessingSpecUri"] = $"s3://{Bucket}/runs/gone/preprocessing_spec.json",
            });
        await harness.DeployAsync(package);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(harness.SettleAndNotifyAsync);

        Assert.Equal($"The segment profiles s3://{Bucket}/runs/gone/segment_profiles.json of model package {package} do not exist.", error.Message);
        Assert.Null(harness.Store.Text(Bucket, MarkerKey));
    }

    [Theory]
    [InlineData("SegmentProfilesUri")]
    [InlineData("PreprocessingSpecUri")]
    public async Task OnEndpointStateChange_PackageWithoutContractMetadata_FailsAndWritesNoMarker(string missing)
    {
        var harness = new DeployerHarness();
        harness.Store.PutText(Bucket, "runs/r/segment_profiles.json", "{}");
        var metadata = new Dictionary<string, string>
        {
            ["SegmentProfilesUri"] = $"s3://{Bucket}/runs/r/segment_profiles.json",
            ["PreprocessingSpecUri"] = $"s3://{Bucket}/runs/r/preprocessing_spec.json",
        };
        metadata.Remove(missing);
        var package = harness.SageMaker.AddPackage(7, "Approved", DeployerHarness.Group, metadata);
        await harness.DeployAsync(package);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(harness.SettleAndNotifyAsync);

        Assert.Equal($"Model package {package} has no CustomerMetadataProperties.{missing}: the deployed marker cannot name it.", error.Message);
        Assert.Empty(harness.Store.Puts);
        Assert.NotNull(harness.SageMaker.ScalableTarget(DeployerHarness.ResourceId));
    }

    private static List<JsonElement> LogLines(DeployerHarness harness) =>
        [.. harness.Log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => TestSupport.Json(line))];
}
