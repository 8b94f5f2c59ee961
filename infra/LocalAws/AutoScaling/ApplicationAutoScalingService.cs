using System.Net;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.LocalAws.SageMaker;

namespace CustomerSegmentation.LocalAws.AutoScaling;

/// <summary>
/// Application Auto Scaling's rules for the operations the EndpointDeployer calls: a target is registered only for a
/// resource its service accepts (a SageMaker variant of an InService endpoint), a new target needs both capacities,
/// a policy needs a registered target, and deregistering removes the target's policies. Locally nothing scales: the
/// configuration is recorded in <see cref="Registry"/>, where tests and DescribeScalableTargets see it.
/// </summary>
public sealed class ApplicationAutoScalingService
{
    public const string ServiceId = "Application Auto Scaling";
    private const int DescribePageSize = 50;
    private static readonly string[] PolicyTypes = ["StepScaling", "TargetTrackingScaling"];
    private readonly Dictionary<string, IScalableResources> _resources;
    private readonly string _accountId;
    private readonly string _region;
    private readonly TimeProvider _time;

    /// <param name="registry">Where targets and policies are kept.</param>
    /// <param name="resources">The services whose resources can be targets, one per namespace.</param>
    /// <param name="accountId">The account in policy ARNs.</param>
    /// <param name="region">The region in policy ARNs.</param>
    /// <param name="time">Creation times. Default: the system clock.</param>
    public ApplicationAutoScalingService(ScalableTargetRegistry registry, IEnumerable<IScalableResources> resources, string accountId, string region,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(resources);
        Registry = registry;
        _resources = resources.ToDictionary(resource => resource.ServiceNamespace, StringComparer.Ordinal);
        _accountId = accountId;
        _region = region;
        _time = time ?? TimeProvider.System;
    }

    public ScalableTargetRegistry Registry { get; }

    public Task<DescribeScalableTargetsResponse> DescribeScalableTargetsAsync(DescribeScalableTargetsRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        const string operation = "DescribeScalableTargets";
        var errors = new ValidationErrors();
        errors.Range(request.MaxResults, nameof(request.MaxResults), 1, DescribePageSize);
        errors.ThrowIfAny(ServiceId, operation);
        var targets = Registry.Targets(request.ServiceNamespace)
            .Where(target => request.ResourceIds is null || request.ResourceIds.Contains(target.ResourceId!, StringComparer.Ordinal))
            .Where(target => request.ScalableDimension is null || target.ScalableDimension == request.ScalableDimension)
            .ToList();
        var (page, next) = PageToken.Slice(targets, request.NextToken, request.MaxResults ?? DescribePageSize, ServiceId, operation, "InvalidNextTokenException");
        return Task.FromResult(new DescribeScalableTargetsResponse { ScalableTargets = page, NextToken = next });
    }

    public Task<RegisterScalableTargetResponse> RegisterScalableTargetAsync(RegisterScalableTargetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        const string operation = "RegisterScalableTarget";
        var resources = ResourcesOf(request.ServiceNamespace, operation);
        if (resources.RegistrationProblem(request.ResourceId, request.ScalableDimension) is { } problem)
        {
            throw Error(operation, "ValidationException", problem);
        }

        var existing = Registry.Target(request.ServiceNamespace, request.ResourceId, request.ScalableDimension);
        var minimum = request.MinCapacity ?? existing?.MinCapacity;
        var maximum = request.MaxCapacity ?? existing?.MaxCapacity;
        if (minimum is null || maximum is null)
        {
            throw Error(operation, "ValidationException", "MinCapacity and MaxCapacity are required to register a new scalable target.");
        }

        if (minimum < 0)
        {
            throw Error(operation, "ValidationException", "Minimum capacity cannot be less than 0.");
        }

        if (minimum > maximum)
        {
            throw Error(operation, "ValidationException", "Minimum capacity cannot be greater than maximum capacity.");
        }

        Registry.Put(new ScalableTarget
        {
            ServiceNamespace = request.ServiceNamespace,
            ResourceId = request.ResourceId,
            ScalableDimension = request.ScalableDimension,
            MinCapacity = minimum,
            MaxCapacity = maximum,
            RoleARN = request.RoleARN ?? existing?.RoleARN ?? resources.ServiceLinkedRoleArn,
            CreationTime = existing?.CreationTime ?? _time.GetUtcNow(),
            SuspendedState = request.SuspendedState ?? existing?.SuspendedState
                ?? new SuspendedState { DynamicScalingInSuspended = false, DynamicScalingOutSuspended = false, ScheduledScalingSuspended = false },
        });
        return Task.FromResult(new RegisterScalableTargetResponse());
    }

    public Task<DeregisterScalableTargetResponse> DeregisterScalableTargetAsync(DeregisterScalableTargetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        const string operation = "DeregisterScalableTarget";
        ResourcesOf(request.ServiceNamespace, operation);
        return Registry.Remove(request.ServiceNamespace, request.ResourceId, request.ScalableDimension)
            ? Task.FromResult(new DeregisterScalableTargetResponse())
            : throw NoTarget(operation, request.ServiceNamespace, request.ResourceId, request.ScalableDimension);
    }

    public Task<PutScalingPolicyResponse> PutScalingPolicyAsync(PutScalingPolicyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        const string operation = "PutScalingPolicy";
        var errors = new ValidationErrors();
        errors.OneOf(request.PolicyType, nameof(request.PolicyType), PolicyTypes);
        errors.ThrowIfAny(ServiceId, operation);
        ResourcesOf(request.ServiceNamespace, operation);
        if (request.PolicyType != "TargetTrackingScaling")
        {
            // PolicyType defaults to StepScaling, whose configuration the shared request shape does not carry.
            throw Error(operation, "ValidationException",
                $"PolicyType {request.PolicyType ?? "StepScaling (the default)"} is not recorded locally: use TargetTrackingScaling with a TargetTrackingScalingPolicyConfiguration.");
        }

        if (request.TargetTrackingScalingPolicyConfiguration is null)
        {
            throw Error(operation, "ValidationException", "TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy.");
        }

        var arn = $"arn:aws:autoscaling:{_region}:{_accountId}:scalingPolicy:{Guid.NewGuid()}:resource/{request.ServiceNamespace}/{request.ResourceId}:policyName/{request.PolicyName}";
        var stored = Registry.PutPolicy(new RecordedScalingPolicy(arn, request, _time.GetUtcNow()))
            ?? throw NoTarget(operation, request.ServiceNamespace, request.ResourceId, request.ScalableDimension);
        return Task.FromResult(new PutScalingPolicyResponse { PolicyARN = stored.PolicyArn, Alarms = [] });
    }

    private IScalableResources ResourcesOf(string serviceNamespace, string operation) =>
        _resources.TryGetValue(serviceNamespace, out var resources)
            ? resources
            : throw Error(operation, "ValidationException",
                $"Unsupported service namespace '{serviceNamespace}': the local Application Auto Scaling manages {string.Join(", ", _resources.Keys)} resources only.");

    private static AwsServiceException NoTarget(string operation, string serviceNamespace, string resourceId, string scalableDimension) =>
        Error(operation, "ObjectNotFoundException",
            $"No scalable target registered for service namespace: {serviceNamespace}, resource ID: {resourceId}, scalable dimension: {scalableDimension}");

    private static AwsServiceException Error(string operation, string code, string message) =>
        new(ServiceId, operation, HttpStatusCode.BadRequest, code, message, null);
}
