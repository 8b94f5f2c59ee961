using Amazon.CDK;
using Constructs;

namespace CustomerSegmentation.Infra.Compliance;

/// <summary>
/// Records, on a resource, the cdk-nag rules the platform deliberately does not follow there and why. The .NET
/// cdk-nag package is not available, so acknowledgements are written as the metadata cdk-nag itself reads
/// (<c>cdk_nag.rules_to_suppress</c>); the compliance check turns them into cdk-nag acknowledgements.
/// </summary>
public static class NagAcknowledgements
{
    private const string MetadataKey = "cdk_nag";

    /// <summary>Acknowledges <paramref name="ruleId"/> on the CloudFormation resource behind <paramref name="construct"/>.</summary>
    /// <param name="construct">An L1 resource, or an L2 construct whose default child is one.</param>
    /// <param name="ruleId">The rule, e.g. <c>AwsSolutions-S1</c>; with <paramref name="appliesTo"/>, a finding such as <c>AwsSolutions-IAM5</c>.</param>
    /// <param name="reason">Why this resource may break the rule: specific to it, at least 10 characters (cdk-nag's minimum).</param>
    /// <param name="appliesTo">For IAM5 and the like: the exact wildcard findings acknowledged, e.g. <c>Resource::arn:aws:s3:::bucket/*</c>.</param>
    public static void Add(IConstruct construct, string ruleId, string reason, params string[] appliesTo)
    {
        ArgumentNullException.ThrowIfNull(construct);
        ArgumentException.ThrowIfNullOrWhiteSpace(ruleId);
        if (string.IsNullOrWhiteSpace(reason) || reason.Trim().Length < 10)
        {
            throw new ArgumentException($"The reason for acknowledging {ruleId} must say why in at least 10 characters.", nameof(reason));
        }

        var resource = construct as CfnResource
            ?? construct.Node.DefaultChild as CfnResource
            ?? throw new ArgumentException($"{construct.Node.Path} is not a CloudFormation resource and has none as its default child.", nameof(construct));

        var rule = new Dictionary<string, object> { ["id"] = ruleId, ["reason"] = reason };
        if (appliesTo.Length > 0)
        {
            rule["applies_to"] = appliesTo;
        }

        var existing = resource.GetMetadata(MetadataKey) as IDictionary<string, object>;
        var rules = new List<object>();
        if (existing is not null && existing.TryGetValue("rules_to_suppress", out var previous) && previous is IEnumerable<object> list)
        {
            rules.AddRange(list);
        }

        rules.Add(rule);
        resource.AddMetadata(MetadataKey, new Dictionary<string, object> { ["rules_to_suppress"] = rules.ToArray() });
    }
}
