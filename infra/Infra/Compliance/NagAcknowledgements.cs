using System.Text.RegularExpressions;
using Amazon.CDK;
using Constructs;

namespace CustomerSegmentation.Infra.Compliance;

/// <summary>
/// Records, on a resource, the cdk-nag rules the platform deliberately does not follow there and why. The .NET
/// cdk-nag package is not available, so acknowledgements are written as the metadata cdk-nag itself reads
/// (<c>cdk_nag.rules_to_suppress</c>); the compliance check turns them into cdk-nag acknowledgements.
/// </summary>
public static partial class NagAcknowledgements
{
    private const string MetadataKey = "cdk_nag";

    /// <summary>Acknowledges <paramref name="ruleId"/> on the CloudFormation resource behind <paramref name="construct"/>.</summary>
    /// <param name="construct">An L1 resource, or an L2 construct whose default child is one.</param>
    /// <param name="ruleId">One rule, e.g. <c>AwsSolutions-S1</c>, or <c>AwsSolutions-IAM5</c> together with <paramref name="appliesTo"/>.</param>
    /// <param name="reason">Why this resource may break the rule: specific to it, at least 10 characters (cdk-nag's minimum).</param>
    /// <param name="appliesTo">
    /// For rules that report one finding per wildcard (IAM4, IAM5): each finding acknowledged, exactly as cdk-nag names
    /// it, e.g. <c>Resource::&lt;BucketLogicalId.Arn&gt;/*</c>. cdk-nag 3 matches findings one by one, so an
    /// acknowledgement of such a rule without <paramref name="appliesTo"/> hides nothing and the compliance tests call it stale.
    /// </param>
    public static void Add(IConstruct construct, string ruleId, string reason, params string[] appliesTo)
    {
        ArgumentNullException.ThrowIfNull(construct);
        ArgumentException.ThrowIfNullOrWhiteSpace(ruleId);
        ArgumentNullException.ThrowIfNull(appliesTo);
        if (!RuleIdPattern().IsMatch(ruleId))
        {
            throw new ArgumentException(
                $"'{ruleId}' is not a rule id such as AwsSolutions-S1: name the rule here and pass findings such as Resource::* as appliesTo.",
                nameof(ruleId));
        }

        if (appliesTo.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"The findings acknowledged for {ruleId} include an empty one.", nameof(appliesTo));
        }

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

    // Pack and rule, as cdk-nag names them; the same shape scripts/checks/cdk-nag.mjs accepts.
    [GeneratedRegex("^[A-Za-z0-9]+-[A-Za-z0-9]+$")]
    private static partial Regex RuleIdPattern();
}
