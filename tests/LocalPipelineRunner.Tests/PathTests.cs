using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Expressions;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

public class PathTests
{
    [Theory]
    [InlineData("data/customers.csv", "data/customers.csv", "customers.csv")]
    [InlineData("runs/x/train", "runs/x/train/train.csv", "train.csv")]
    [InlineData("runs/x/train/", "runs/x/train/sub/a.csv", "sub/a.csv")]
    [InlineData("data/cust", "data/customers.csv", "customers.csv")]
    [InlineData("", "a/b.csv", "a/b.csv")]
    public void RelativePath_S3PrefixLayout_MatchesSageMaker(string prefix, string key, string expected)
    {
        Assert.Equal(expected, S3Location.RelativePath(prefix, key));
    }

    [Theory]
    [InlineData("s3://bucket/a/b.csv", "bucket", "a/b.csv")]
    [InlineData("s3://bucket", "bucket", "")]
    public void Parse_S3Uri_SplitsBucketAndKey(string uri, string bucket, string key)
    {
        Assert.Equal(new S3Location(bucket, key), S3Location.Parse(uri));
    }

    [Fact]
    public void Parse_NotS3_FailsNamingValue()
    {
        Assert.Equal("'/tmp/x.csv' is not an S3 URI; expected s3://<bucket>/<key>.", Assert.Throws<PipelineRunnerException>(() => S3Location.Parse("/tmp/x.csv")).Message);
    }

    [Fact]
    public void PropertyPathParse_MixedSegments_SplitsNamesIndexesAndKeys()
    {
        Assert.Equal(["Outputs", "train", "S3Output", 0, "a.b"], PropertyPath.Parse("Outputs['train'].S3Output[0][\"a.b\"]"));
    }

    [Theory]
    [InlineData("a[", "Path 'a[' has an unclosed '['.")]
    [InlineData("a[x]", "Path 'a[x]': '[x]' is neither a list index nor a quoted name.")]
    public void PropertyPathParse_Malformed_Fails(string path, string expected)
    {
        Assert.Equal(expected, Assert.Throws<PipelineRunnerException>(() => PropertyPath.Parse(path)).Message);
    }

    [Fact]
    public void PropertyPathSelect_MissingSegment_IsNull()
    {
        Assert.Null(PropertyPath.Select(JsonNode.Parse("""{"a": [1]}"""), "a[3]"));
    }
}
