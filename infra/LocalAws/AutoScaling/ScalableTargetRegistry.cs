using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;

namespace CustomerSegmentation.LocalAws.AutoScaling;

/// <summary>
/// What Application Auto Scaling holds: scalable targets and their scaling policies. One store, read by the Auto Scaling
/// API and by the services whose own rules depend on it (SageMaker refuses to change the instance type of a variant
/// that is a scalable target). Locally nothing scales; the store only records the configuration.
/// </summary>
public sealed class ScalableTargetRegistry
{
    private readonly object _gate = new();
    private readonly Dictionary<TargetKey, ScalableTarget> _targets = [];
    private readonly Dictionary<TargetKey, Dictionary<string, RecordedScalingPolicy>> _policies = [];

    /// <summary>Whether the resource is registered with the dimension, e.g. a SageMaker variant's instance count.</summary>
    public bool IsRegistered(string serviceNamespace, string resourceId, string scalableDimension)
    {
        lock (_gate)
        {
            return _targets.ContainsKey(new TargetKey(serviceNamespace, resourceId, scalableDimension));
        }
    }

    /// <summary>Whether the resource is registered with any dimension of the namespace.</summary>
    public bool IsRegistered(string serviceNamespace, string resourceId)
    {
        lock (_gate)
        {
            return _targets.Keys.Any(key => key.ServiceNamespace == serviceNamespace && key.ResourceId == resourceId);
        }
    }

    /// <summary>The target, or null when it is not registered.</summary>
    public ScalableTarget? Target(string serviceNamespace, string resourceId, string scalableDimension)
    {
        lock (_gate)
        {
            return _targets.GetValueOrDefault(new TargetKey(serviceNamespace, resourceId, scalableDimension));
        }
    }

    /// <summary>Every target of the namespace in registration order.</summary>
    public IReadOnlyList<ScalableTarget> Targets(string serviceNamespace)
    {
        lock (_gate)
        {
            return [.. _targets.Where(pair => pair.Key.ServiceNamespace == serviceNamespace).Select(pair => pair.Value)];
        }
    }

    /// <summary>The target's policies by name (empty when it has none or is not registered).</summary>
    public IReadOnlyDictionary<string, RecordedScalingPolicy> Policies(string serviceNamespace, string resourceId, string scalableDimension)
    {
        lock (_gate)
        {
            return _policies.TryGetValue(new TargetKey(serviceNamespace, resourceId, scalableDimension), out var policies)
                ? new Dictionary<string, RecordedScalingPolicy>(policies, StringComparer.Ordinal)
                : new Dictionary<string, RecordedScalingPolicy>(StringComparer.Ordinal);
        }
    }

    internal void Put(ScalableTarget target)
    {
        lock (_gate)
        {
            _targets[new TargetKey(target.ServiceNamespace!, target.ResourceId!, target.ScalableDimension!)] = target;
        }
    }

    /// <summary>Removes the target and its policies; false when it was not registered.</summary>
    internal bool Remove(string serviceNamespace, string resourceId, string scalableDimension)
    {
        var key = new TargetKey(serviceNamespace, resourceId, scalableDimension);
        lock (_gate)
        {
            _policies.Remove(key);
            return _targets.Remove(key);
        }
    }

    /// <summary>
    /// Adds a policy to a registered target, or replaces the one of the same name (which keeps its ARN). Null when the
    /// target is not registered.
    /// </summary>
    internal RecordedScalingPolicy? PutPolicy(RecordedScalingPolicy policy)
    {
        var request = policy.Request;
        var key = new TargetKey(request.ServiceNamespace, request.ResourceId, request.ScalableDimension);
        lock (_gate)
        {
            if (!_targets.ContainsKey(key))
            {
                return null;
            }

            if (!_policies.TryGetValue(key, out var policies))
            {
                policies = new Dictionary<string, RecordedScalingPolicy>(StringComparer.Ordinal);
                _policies[key] = policies;
            }

            var stored = policies.TryGetValue(request.PolicyName, out var existing) ? policy with { PolicyArn = existing.PolicyArn } : policy;
            policies[request.PolicyName] = stored;
            return stored;
        }
    }

    private sealed record TargetKey(string ServiceNamespace, string ResourceId, string ScalableDimension);
}

/// <summary>A scaling policy as PutScalingPolicy recorded it, with the ARN it was given.</summary>
public sealed record RecordedScalingPolicy(string PolicyArn, PutScalingPolicyRequest Request, DateTimeOffset CreationTime);
