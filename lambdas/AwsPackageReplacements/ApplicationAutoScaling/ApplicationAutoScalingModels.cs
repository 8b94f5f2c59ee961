namespace CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;

// Shapes of the Application Auto Scaling operations the EndpointDeployer calls, named member for member after
// botocore's application-autoscaling/2016-02-06/service-2.json (a test checks every name against that model).
// botocore-required request members are C# required members; enums are plain strings.

public sealed record SuspendedState
{
    public bool? DynamicScalingInSuspended { get; init; }
    public bool? DynamicScalingOutSuspended { get; init; }
    public bool? ScheduledScalingSuspended { get; init; }
}

public sealed record RegisterScalableTargetRequest
{
    public required string ServiceNamespace { get; init; }
    public required string ResourceId { get; init; }
    public required string ScalableDimension { get; init; }
    public int? MinCapacity { get; init; }
    public int? MaxCapacity { get; init; }
    public string? RoleARN { get; init; }
    public SuspendedState? SuspendedState { get; init; }
}

public sealed record RegisterScalableTargetResponse;

public sealed record DeregisterScalableTargetRequest
{
    public required string ServiceNamespace { get; init; }
    public required string ResourceId { get; init; }
    public required string ScalableDimension { get; init; }
}

public sealed record DeregisterScalableTargetResponse;

public sealed record DescribeScalableTargetsRequest
{
    public required string ServiceNamespace { get; init; }
    public IReadOnlyList<string>? ResourceIds { get; init; }
    public string? ScalableDimension { get; init; }
    public int? MaxResults { get; init; }
    public string? NextToken { get; init; }
}

public sealed record ScalableTarget
{
    public string? ServiceNamespace { get; init; }
    public string? ResourceId { get; init; }
    public string? ScalableDimension { get; init; }
    public int? MinCapacity { get; init; }
    public int? MaxCapacity { get; init; }
    public string? RoleARN { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public SuspendedState? SuspendedState { get; init; }
}

public sealed record DescribeScalableTargetsResponse
{
    public IReadOnlyList<ScalableTarget>? ScalableTargets { get; init; }
    public string? NextToken { get; init; }
}

public sealed record PredefinedMetricSpecification
{
    public required string PredefinedMetricType { get; init; }
    public string? ResourceLabel { get; init; }
}

public sealed record TargetTrackingScalingPolicyConfiguration
{
    public required double TargetValue { get; init; }
    public PredefinedMetricSpecification? PredefinedMetricSpecification { get; init; }
    public int? ScaleOutCooldown { get; init; }
    public int? ScaleInCooldown { get; init; }
    public bool? DisableScaleIn { get; init; }
}

public sealed record PutScalingPolicyRequest
{
    public required string PolicyName { get; init; }
    public required string ServiceNamespace { get; init; }
    public required string ResourceId { get; init; }
    public required string ScalableDimension { get; init; }
    public string? PolicyType { get; init; }
    public TargetTrackingScalingPolicyConfiguration? TargetTrackingScalingPolicyConfiguration { get; init; }
}

public sealed record Alarm
{
    public string? AlarmName { get; init; }
    public string? AlarmARN { get; init; }
}

public sealed record PutScalingPolicyResponse
{
    public string? PolicyARN { get; init; }
    public IReadOnlyList<Alarm>? Alarms { get; init; }
}

public sealed record DeleteScalingPolicyRequest
{
    public required string PolicyName { get; init; }
    public required string ServiceNamespace { get; init; }
    public required string ResourceId { get; init; }
    public required string ScalableDimension { get; init; }
}

public sealed record DeleteScalingPolicyResponse;
