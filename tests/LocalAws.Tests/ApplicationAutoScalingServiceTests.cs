using System.Net;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using static CustomerSegmentation.LocalAws.Tests.LocalSageMakerHarness;
using static CustomerSegmentation.LocalAws.Tests.SageMakerControlPlaneTests;

namespace CustomerSegmentation.LocalAws.Tests;

/// <summary>Application Auto Scaling's rules, through the platform's own ApplicationAutoScalingClient over the loopback server.</summary>
public sealed class ApplicationAutoScalingServiceTests
{
    private const string Dimension = "sagemaker:variant:DesiredInstanceCount";

    [Fact]
    public async Task RegisterScalableTarget_InServiceVariant_RecordedAndDescribedWithTheServiceLinkedRole()
    {
        await using var harness = await ServingAsync("segments");

        await harness.Scaling.RegisterScalableTargetAsync(Target("segments", 1, 4));
        var described = await harness.Scaling.DescribeScalableTargetsAsync(new() { ServiceNamespace = "sagemaker", ResourceIds = [VariantResource("segments")] });

        var target = Assert.Single(described.ScalableTargets!);
        Assert.Equal(("sagemaker", VariantResource("segments"), Dimension, 1, 4), (target.ServiceNamespace, target.ResourceId, target.ScalableDimension, target.MinCapacity, target.MaxCapacity));
        Assert.Equal($"arn:aws:iam::{Account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint", target.RoleARN);
        Assert.NotNull(target.CreationTime);
        Assert.Equal(4, harness.Service.ScalableTargets.Target("sagemaker", VariantResource("segments"), Dimension)!.MaxCapacity);
    }

    [Fact]
    public async Task RegisterScalableTarget_AgainWithOnlyANewMaximum_KeepsTheMinimumAndCreationTime()
    {
        await using var harness = await ServingAsync("segments");
        await harness.Scaling.RegisterScalableTargetAsync(Target("segments", 2, 4));
        var first = harness.Service.ScalableTargets.Target("sagemaker", VariantResource("segments"), Dimension)!;

        await harness.Scaling.RegisterScalableTargetAsync(Target("segments", null, 6));

        var target = harness.Service.ScalableTargets.Target("sagemaker", VariantResource("segments"), Dimension)!;
        Assert.Equal((2, 6, first.CreationTime), (target.MinCapacity, target.MaxCapacity, target.CreationTime));
    }

    [Fact]
    public async Task RegisterScalableTarget_EndpointStillCreating_ValidationException()
    {
        var host = new ControlledEndpointHost { StartsOnItsOwn = false };
        await using var harness = Controlled(host);
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, "s3://models/model.tar.gz"));
        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config });

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.RegisterScalableTargetAsync(Target("segments", 1, 4)));

        AssertError(error, "ValidationException", "Endpoint segments is not InService: its variant cannot be a scalable target yet.");
        Assert.Empty(harness.Service.ScalableTargets.Targets("sagemaker"));
    }

    [Fact]
    public async Task RegisterScalableTarget_UnknownEndpoint_ValidationException()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.RegisterScalableTargetAsync(Target("missing", 1, 4)));

        AssertError(error, "ValidationException", "Endpoint missing is not InService: its variant cannot be a scalable target yet.");
    }

    [Fact]
    public async Task RegisterScalableTarget_UnknownVariant_ValidationException()
    {
        await using var harness = await ServingAsync("segments");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.RegisterScalableTargetAsync(
            Target("segments", 1, 4) with { ResourceId = "endpoint/segments/variant/Canary" }));

        AssertError(error, "ValidationException", "Endpoint segments has no production variant Canary.");
    }

    [Theory]
    [InlineData("endpoint/segments", Dimension, "Unsupported resource ID 'endpoint/segments': a SageMaker variant is endpoint/<endpoint name>/variant/<variant name>.")]
    [InlineData("endpoint/segments/variant/AllTraffic", "sagemaker:variant:DesiredProvisionedConcurrency",
        "Unsupported scalable dimension 'sagemaker:variant:DesiredProvisionedConcurrency' for endpoint/segments/variant/AllTraffic: the local SageMaker's variants scale by sagemaker:variant:DesiredInstanceCount.")]
    public async Task RegisterScalableTarget_MalformedTarget_ValidationExceptionSayingWhatIsValid(string resourceId, string dimension, string message)
    {
        await using var harness = await ServingAsync("segments");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.RegisterScalableTargetAsync(
            Target("segments", 1, 4) with { ResourceId = resourceId, ScalableDimension = dimension }));

        AssertError(error, "ValidationException", message);
    }

    [Fact]
    public async Task RegisterScalableTarget_OtherServiceNamespace_ValidationException()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.RegisterScalableTargetAsync(new()
        {
            ServiceNamespace = "ecs",
            ResourceId = "service/default/web",
            ScalableDimension = "ecs:service:DesiredCount",
            MinCapacity = 1,
            MaxCapacity = 2,
        }));

        AssertError(error, "ValidationException", "Unsupported service namespace 'ecs': the local Application Auto Scaling manages sagemaker resources only.");
    }

    [Theory]
    [InlineData(null, 4, "MinCapacity and MaxCapacity are required to register a new scalable target.")]
    [InlineData(1, null, "MinCapacity and MaxCapacity are required to register a new scalable target.")]
    [InlineData(5, 4, "Minimum capacity cannot be greater than maximum capacity.")]
    [InlineData(-1, 4, "Minimum capacity cannot be less than 0.")]
    public async Task RegisterScalableTarget_BadCapacities_ValidationException(int? min, int? max, string message)
    {
        await using var harness = await ServingAsync("segments");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.RegisterScalableTargetAsync(Target("segments", min, max)));

        AssertError(error, "ValidationException", message);
    }

    [Fact]
    public async Task DeregisterScalableTarget_Registered_RemovesTheTargetAndItsPolicies()
    {
        await using var harness = await ServingAsync("segments");
        await harness.Scaling.RegisterScalableTargetAsync(Target("segments", 1, 4));
        await harness.Scaling.PutScalingPolicyAsync(Policy("segments"));

        await harness.Scaling.DeregisterScalableTargetAsync(new() { ServiceNamespace = "sagemaker", ResourceId = VariantResource("segments"), ScalableDimension = Dimension });

        Assert.Empty((await harness.Scaling.DescribeScalableTargetsAsync(new() { ServiceNamespace = "sagemaker" })).ScalableTargets!);
        Assert.Empty(harness.Service.ScalableTargets.Policies("sagemaker", VariantResource("segments"), Dimension));
    }

    [Fact]
    public async Task DeregisterScalableTarget_NotRegistered_ObjectNotFoundException()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.DeregisterScalableTargetAsync(new()
        {
            ServiceNamespace = "sagemaker",
            ResourceId = VariantResource("segments"),
            ScalableDimension = Dimension,
        }));

        AssertError(error, "ObjectNotFoundException",
            $"No scalable target registered for service namespace: sagemaker, resource ID: {VariantResource("segments")}, scalable dimension: {Dimension}");
    }

    [Fact]
    public async Task PutScalingPolicy_TargetTracking_RecordedAndItsArnKeptWhenReplaced()
    {
        await using var harness = await ServingAsync("segments");
        await harness.Scaling.RegisterScalableTargetAsync(Target("segments", 1, 4));

        var first = await harness.Scaling.PutScalingPolicyAsync(Policy("segments"));
        var second = await harness.Scaling.PutScalingPolicyAsync(Policy("segments", 90));

        Assert.StartsWith($"arn:aws:autoscaling:{Region}:{Account}:scalingPolicy:", first.PolicyARN, StringComparison.Ordinal);
        Assert.EndsWith($":resource/sagemaker/{VariantResource("segments")}:policyName/segments-invocations", first.PolicyARN, StringComparison.Ordinal);
        Assert.Equal(first.PolicyARN, second.PolicyARN);
        var policy = Assert.Single(harness.Service.ScalableTargets.Policies("sagemaker", VariantResource("segments"), Dimension)).Value;
        Assert.Equal((90, "SageMakerVariantInvocationsPerInstance"),
            (policy.Request.TargetTrackingScalingPolicyConfiguration!.TargetValue, policy.Request.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification!.PredefinedMetricType));
    }

    [Fact]
    public async Task PutScalingPolicy_NoScalableTarget_ObjectNotFoundException()
    {
        await using var harness = await ServingAsync("segments");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.PutScalingPolicyAsync(Policy("segments")));

        AssertError(error, "ObjectNotFoundException",
            $"No scalable target registered for service namespace: sagemaker, resource ID: {VariantResource("segments")}, scalable dimension: {Dimension}");
    }

    [Fact]
    public async Task PutScalingPolicy_StepScaling_ValidationExceptionNamingWhatIsRecorded()
    {
        await using var harness = await ServingAsync("segments");
        await harness.Scaling.RegisterScalableTargetAsync(Target("segments", 1, 4));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.PutScalingPolicyAsync(Policy("segments") with { PolicyType = null }));

        AssertError(error, "ValidationException",
            "PolicyType StepScaling (the default) is not recorded locally: use TargetTrackingScaling with a TargetTrackingScalingPolicyConfiguration.");
    }

    [Fact]
    public async Task PutScalingPolicy_UnknownPolicyType_ValidationExceptionWithTheEnum()
    {
        await using var harness = await ServingAsync("segments");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.PutScalingPolicyAsync(Policy("segments") with { PolicyType = "Predictive" }));

        AssertError(error, "ValidationException",
            "1 validation error detected: Value 'Predictive' at 'policyType' failed to satisfy constraint: Member must satisfy enum value set: [StepScaling, TargetTrackingScaling]");
    }

    [Fact]
    public async Task PutScalingPolicy_TargetTrackingWithoutConfiguration_ValidationException()
    {
        await using var harness = await ServingAsync("segments");
        await harness.Scaling.RegisterScalableTargetAsync(Target("segments", 1, 4));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.PutScalingPolicyAsync(Policy("segments") with { TargetTrackingScalingPolicyConfiguration = null }));

        AssertError(error, "ValidationException", "TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy.");
    }

    [Fact]
    public async Task DescribeScalableTargets_PagesOfOne_EveryTargetOnceThenNoToken()
    {
        await using var harness = await ServingAsync("first");
        await harness.ServeAsync("second", "m1-config");
        await harness.Scaling.RegisterScalableTargetAsync(Target("first", 1, 2));
        await harness.Scaling.RegisterScalableTargetAsync(Target("second", 1, 3));

        var page1 = await harness.Scaling.DescribeScalableTargetsAsync(new() { ServiceNamespace = "sagemaker", MaxResults = 1 });
        var page2 = await harness.Scaling.DescribeScalableTargetsAsync(new() { ServiceNamespace = "sagemaker", MaxResults = 1, NextToken = page1.NextToken });

        Assert.Equal([VariantResource("first"), VariantResource("second")], page1.ScalableTargets!.Concat(page2.ScalableTargets!).Select(target => target.ResourceId));
        Assert.NotNull(page1.NextToken);
        Assert.Null(page2.NextToken);
    }

    [Fact]
    public async Task DescribeScalableTargets_ForeignNextToken_InvalidNextTokenException()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.DescribeScalableTargetsAsync(new() { ServiceNamespace = "sagemaker", NextToken = "abc" }));

        AssertError(error, "InvalidNextTokenException", "Invalid pagination token 'abc'.");
    }

    [Fact]
    public async Task DescribeScalableTargets_MaxResultsAboveFifty_ValidationException()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Scaling.DescribeScalableTargetsAsync(new() { ServiceNamespace = "sagemaker", MaxResults = 51 }));

        Assert.Equal((HttpStatusCode.BadRequest, "1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50"),
            (error.StatusCode, error.ErrorMessage));
    }

    private static async Task<LocalSageMakerHarness> ServingAsync(string endpoint)
    {
        var harness = Controlled();
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, "s3://models/model.tar.gz"));
        await harness.ServeAsync(endpoint, config);
        return harness;
    }

    private static PutScalingPolicyRequest Policy(string endpoint, double target = 70) => new()
    {
        PolicyName = $"{endpoint}-invocations",
        ServiceNamespace = "sagemaker",
        ResourceId = VariantResource(endpoint),
        ScalableDimension = Dimension,
        PolicyType = "TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration = new()
        {
            TargetValue = target,
            PredefinedMetricSpecification = new() { PredefinedMetricType = "SageMakerVariantInvocationsPerInstance" },
        },
    };
}
