using Amazon.CDK;
using Amazon.CDK.AWS.S3;

namespace CustomerSegmentation.Infra.Deployment;

/// <summary>
/// Resources spelled the way cdk-nag names them in IAM5 findings, for <see cref="Compliance.NagAcknowledgements"/>'s
/// appliesTo: intrinsics become <c>&lt;AWS::Region&gt;</c>, <c>&lt;AWS::Partition&gt;</c>, <c>&lt;AWS::AccountId&gt;</c>
/// and a resource's attribute <c>&lt;LogicalId.Arn&gt;</c>.
/// </summary>
internal static class NagFinding
{
    /// <summary><c>Resource::</c> followed by <paramref name="arn"/> with its pseudo parameters as cdk-nag writes them.</summary>
    public static string Resource(string arn) =>
        "Resource::" + arn.Replace(Aws.PARTITION, "<AWS::Partition>", StringComparison.Ordinal)
            .Replace(Aws.REGION, "<AWS::Region>", StringComparison.Ordinal)
            .Replace(Aws.ACCOUNT_ID, "<AWS::AccountId>", StringComparison.Ordinal);

    /// <summary><c>Resource::&lt;LogicalId.Arn&gt;/&lt;objectPattern&gt;</c> for a bucket defined in the stack.</summary>
    public static string BucketObjects(IBucket bucket, string objectPattern)
    {
        var resource = bucket.Node.DefaultChild as CfnElement
            ?? throw new ArgumentException($"{bucket.Node.Path} is not defined in this stack; name its findings with Resource().", nameof(bucket));
        return $"Resource::<{Stack.Of(bucket).GetLogicalId(resource)}.Arn>/{objectPattern}";
    }
}
