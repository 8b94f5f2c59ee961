using System.IO.Compression;
using CustomerSegmentation.LocalPipelineRunner.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

[Collection(S3Collection.Name)]
public class AssetPublisherTests(S3Fixture s3)
{
    /// <summary>A cdk.out with one stack, no resources but a bucket, and the given asset manifest "files" section.</summary>
    private static string CloudAssembly(string files)
    {
        var directory = Directory.CreateTempSubdirectory("cdk-out-assets-").FullName;
        File.WriteAllText(Path.Combine(directory, "manifest.json"), """
            {"artifacts": {"S.assets": {"type": "cdk:asset-manifest", "properties": {"file": "S.assets.json"}},
              "S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.template.json"}, "dependencies": ["S.assets"]}}}
            """);
        File.WriteAllText(Path.Combine(directory, "S.template.json"), """{"Resources": {"AssetTestBucket1234": {"Type": "AWS::S3::Bucket"}}}""");
        File.WriteAllText(Path.Combine(directory, "S.assets.json"), $$$"""{"files": {{{files}}} }""");
        return directory;
    }

    [Fact]
    public async Task PublishAsync_DirectoryAsset_UploadsItZipped()
    {
        var cdkOut = CloudAssembly("""
            {"dirhash": {"source": {"path": "asset.dirhash", "packaging": "zip"},
              "destinations": {"d": {"bucketName": "zip-assets-${AWS::AccountId}-${AWS::Region}-${AWS::Partition}", "objectKey": "dirhash.zip"}}}}
            """);
        Directory.CreateDirectory(Path.Combine(cdkOut, "asset.dirhash", "sub"));
        await File.WriteAllTextAsync(Path.Combine(cdkOut, "asset.dirhash", "sub", "handler.txt"), "zipped content");

        await new AssetPublisher(s3.Store, TextWriter.Null).PublishAsync(LocalPipelineRunner.CloudFormation.CloudAssembly.Load(cdkOut, null), CancellationToken.None);

        var zipPath = Path.GetTempFileName();
        await s3.Store.DownloadFileAsync(new S3Location("zip-assets-000000000000-us-east-1-aws", "dirhash.zip"), zipPath, CancellationToken.None);
        using var zip = ZipFile.OpenRead(zipPath);
        using var reader = new StreamReader(zip.GetEntry("sub/handler.txt")!.Open());
        Assert.Equal("zipped content", await reader.ReadToEndAsync());
        Assert.Empty(await s3.Store.ListKeysAsync(new S3Location("assettestbucket1234", string.Empty), CancellationToken.None));
    }

    [Theory]
    [InlineData("""{"h": {"source": {"path": "missing.gz", "packaging": "file"}, "destinations": {}}}""", "Asset h: source '{0}/missing.gz' does not exist (file).")]
    [InlineData("""{"h": {"source": {"path": "x", "packaging": "container-image"}, "destinations": {}}}""", "Asset h: packaging 'container-image' is not supported (file, zip).")]
    [InlineData("""{"h": {"source": {"executable": ["build.sh"]}, "destinations": {}}}""", "File asset h has no source.path (executable sources are not supported).")]
    public async Task PublishAsync_UnusableAsset_FailsNamingIt(string files, string expected)
    {
        var cdkOut = CloudAssembly(files);

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(
            () => new AssetPublisher(s3.Store, TextWriter.Null).PublishAsync(LocalPipelineRunner.CloudFormation.CloudAssembly.Load(cdkOut, null), CancellationToken.None));

        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, cdkOut), error.Message);
    }
}
