using Amazon.CDK.Assertions;

namespace CustomerSegmentation.Infra.Tests;

public sealed class StorageTests
{
    private static readonly Template DefaultTemplate = TestStacks.Template();

    [Fact]
    public void Storage_Default_CreatesDataModelAndLogBuckets()
    {
        DefaultTemplate.ResourceCountIs("AWS::S3::Bucket", 3);
    }

    [Fact]
    public void Storage_Default_EveryBucketBlocksPublicAccessVersionsAndEncrypts()
    {
        var buckets = DefaultTemplate.FindResources("AWS::S3::Bucket");

        Assert.All(buckets.Values, bucket =>
        {
            var json = System.Text.Json.JsonSerializer.Serialize(bucket);
            Assert.Contains("\"BlockPublicAcls\":true", json, StringComparison.Ordinal);
            Assert.Contains("\"BlockPublicPolicy\":true", json, StringComparison.Ordinal);
            Assert.Contains("\"IgnorePublicAcls\":true", json, StringComparison.Ordinal);
            Assert.Contains("\"RestrictPublicBuckets\":true", json, StringComparison.Ordinal);
            Assert.Contains("\"VersioningConfiguration\":{\"Status\":\"Enabled\"}", json, StringComparison.Ordinal);
            Assert.Contains("\"SSEAlgorithm\":\"AES256\"", json, StringComparison.Ordinal);
            Assert.Contains("\"DeletionPolicy\":\"Retain\"", json, StringComparison.Ordinal);
            Assert.Contains("\"UpdateReplacePolicy\":\"Retain\"", json, StringComparison.Ordinal);
        });
    }
}
