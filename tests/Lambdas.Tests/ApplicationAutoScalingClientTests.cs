using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using static CustomerSegmentation.Lambdas.Tests.TestSupport;

namespace CustomerSegmentation.Lambdas.Tests;

public sealed class ApplicationAutoScalingClientTests : IDisposable
{
    private const string ResourceId = "endpoint/segments/variant/AllTraffic";
    private const string Dimension = "sagemaker:variant:DesiredInstanceCount";
    private readonly AwsJsonServiceStandIn _standIn = new(BotocoreServiceModel.ApplicationAutoScaling);

    public void Dispose() => _standIn.Dispose();

    [Fact]
    public async Task EveryOperation_EndpointAutoscalingRequests_PassTheStrictStandInAndParse()
    {
        _standIn.Handle("RegisterScalableTarget", _ => StandInResponse.Json(null));
        _standIn.Handle("DescribeScalableTargets", _ => StandInResponse.Json(JsonNode.Parse($$$"""
            {"ScalableTargets":[{"ServiceNamespace":"sagemaker","ResourceId":"{{{ResourceId}}}","ScalableDimension":"{{{Dimension}}}",
              "MinCapacity":1,"MaxCapacity":4,"RoleARN":"arn:aws:iam::123456789012:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
              "CreationTime":1795086000.25,"SuspendedState":{"DynamicScalingInSuspended":false,"DynamicScalingOutSuspended":false,"ScheduledScalingSuspended":false}}]}
            """)));
        _standIn.Handle("PutScalingPolicy", _ => StandInResponse.Json(JsonNode.Parse("""
            {"PolicyARN":"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:resource/sagemaker/endpoint/segments/variant/AllTraffic:policyName/invocations",
             "Alarms":[{"AlarmName":"TargetTracking-high","AlarmARN":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:TargetTracking-high"}]}
            """)));
        _standIn.Handle("DeleteScalingPolicy", _ => StandInResponse.Json(null));
        _standIn.Handle("DeregisterScalableTarget", _ => StandInResponse.Json(null));
        var client = new ApplicationAutoScalingClient(OptionsFor(_standIn));

        await client.RegisterScalableTargetAsync(new()
        {
            ServiceNamespace = "sagemaker",
            ResourceId = ResourceId,
            ScalableDimension = Dimension,
            MinCapacity = 1,
            MaxCapacity = 4,
        });
        var targets = await client.DescribeScalableTargetsAsync(new() { ServiceNamespace = "sagemaker", ResourceIds = [ResourceId], ScalableDimension = Dimension });
        var policy = await client.PutScalingPolicyAsync(new()
        {
            PolicyName = "invocations",
            ServiceNamespace = "sagemaker",
            ResourceId = ResourceId,
            ScalableDimension = Dimension,
            PolicyType = "TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration = new()
            {
                TargetValue = 70.0,
                ScaleInCooldown = 300,
                ScaleOutCooldown = 60,
                PredefinedMetricSpecification = new() { PredefinedMetricType = "SageMakerVariantInvocationsPerInstance" },
            },
        });
        await client.DeleteScalingPolicyAsync(new() { PolicyName = "invocations", ServiceNamespace = "sagemaker", ResourceId = ResourceId, ScalableDimension = Dimension });
        await client.DeregisterScalableTargetAsync(new() { ServiceNamespace = "sagemaker", ResourceId = ResourceId, ScalableDimension = Dimension });

        _standIn.AssertNoInvalidRequests();
        Assert.Equal(["RegisterScalableTarget", "DescribeScalableTargets", "PutScalingPolicy", "DeleteScalingPolicy", "DeregisterScalableTarget"],
            _standIn.Requests.Select(request => request.Operation));
        Assert.All(_standIn.Requests, request => Assert.Contains("/us-east-1/application-autoscaling/aws4_request", request.Headers["Authorization"], StringComparison.Ordinal));
        Assert.Equal("AnyScaleFrontendService.PutScalingPolicy", _standIn.RequestsFor("PutScalingPolicy")[0].Headers["X-Amz-Target"]);
        var target = Assert.Single(targets.ScalableTargets!);
        Assert.Equal(4, target.MaxCapacity);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1795086000250), target.CreationTime);
        Assert.Equal("TargetTracking-high", policy.Alarms![0].AlarmName);
    }

    [Fact]
    public async Task RegisterScalableTarget_UnknownServiceNamespace_IsRejectedByTheModel()
    {
        _standIn.Handle("RegisterScalableTarget", _ => StandInResponse.Json(null));
        var client = new ApplicationAutoScalingClient(OptionsFor(_standIn));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.RegisterScalableTargetAsync(new()
        {
            ServiceNamespace = "SageMaker",
            ResourceId = ResourceId,
            ScalableDimension = Dimension,
        }));

        Assert.Equal("ValidationException", error.ErrorCode);
        Assert.Equal("Application Auto Scaling", error.ServiceId);
        Assert.StartsWith("RegisterScalableTarget: RegisterScalableTarget.ServiceNamespace: 'SageMaker' is not one of the ServiceNamespace values (",
            Assert.Single(_standIn.InvalidRequests), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutScalingPolicy_ObjectUnderMaintenanceThenThrottled_OnlyThrottlingIsRetried()
    {
        var delays = new List<TimeSpan>();
        _standIn.Handle("PutScalingPolicy", _ => StandInResponse.Error(400, "ObjectNotFoundException", "No scalable target registered"));
        _standIn.FailNext("PutScalingPolicy", 1, StandInResponse.Throttling());
        var client = new ApplicationAutoScalingClient(OptionsFor(_standIn, delays));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.PutScalingPolicyAsync(new()
        {
            PolicyName = "invocations",
            ServiceNamespace = "sagemaker",
            ResourceId = ResourceId,
            ScalableDimension = Dimension,
        }));

        Assert.Equal("ObjectNotFoundException", error.ErrorCode);
        Assert.Equal(2, _standIn.Requests.Count);
        Assert.Single(delays);
        _standIn.AssertNoInvalidRequests();
    }
}
