namespace CustomerSegmentation.Infra.Configuration;

/// <summary>
/// CDK feature flags the platform relies on. They live in code, not only in cdk.json, because tests and a plain
/// <c>dotnet run</c> synthesize without the CLI, and the template must not depend on how it was synthesized.
/// </summary>
public static class PlatformFeatureFlags
{
    /// <summary>Flag name to value; pass as <c>AppProps.Context</c> (cdk.json and <c>-c</c> still take precedence).</summary>
    public static IDictionary<string, object> Values { get; } = new Dictionary<string, object>
    {
        // Access logs are delivered under a bucket policy instead of the legacy LogDeliveryWrite ACL, so every bucket
        // can enforce bucket-owner object ownership (ACLs disabled).
        ["@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"] = true,
        ["@aws-cdk/aws-s3:createDefaultLoggingPolicy"] = true,
        // Managed-policy statements are merged so roles stay under IAM size limits as grants accumulate.
        ["@aws-cdk/aws-iam:minimizePolicies"] = true,
        // Fails synthesis if a secret value would be rendered into the template.
        ["@aws-cdk/core:checkSecretUsage"] = true,
        ["@aws-cdk/core:target-partitions"] = new[] { "aws", "aws-cn" },
    };
}
