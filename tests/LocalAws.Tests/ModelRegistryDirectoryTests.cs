using System.Net;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.LocalAws.SageMaker;

namespace CustomerSegmentation.LocalAws.Tests;

public sealed class ModelRegistryDirectoryTests : IDisposable
{
    private const string Account = "000000000000";
    private const string Region = "us-east-1";
    private readonly string _registry = Directory.CreateTempSubdirectory("model-registry-").FullName;

    public void Dispose() => Directory.Delete(_registry, recursive: true);

    [Fact]
    public void Find_ArnOfAFileTheRunnerWrote_EveryMemberOfTheFile()
    {
        Write("segmentation-models", 2, $$$"""
            {"ModelPackageGroupName":"segmentation-models","ModelApprovalStatus":"Approved",
             "InferenceSpecification":{"Containers":[{"Image":"image","ModelDataUrl":"s3://m/model.tar.gz","Environment":{"SAGEMAKER_PROGRAM":"inference.py"}}]},
             "CustomerMetadataProperties":{"SegmentProfilesUri":"s3://m/profiles.json"},
             "ModelPackageVersion":2,"ModelPackageArn":"arn:aws:sagemaker:{{{Region}}}:{{{Account}}}:model-package/segmentation-models/2",
             "ModelPackageStatus":"Completed","CreationTime":"2026-11-25T11:00:00.0000000+00:00","PipelineExecutionArn":"arn:aws:sagemaker:x"}
            """);

        var package = Registry().Find($"arn:aws:sagemaker:{Region}:{Account}:model-package/segmentation-models/2")!;

        Assert.Equal(("segmentation-models", "segmentation-models", 2, "Approved", "Completed"),
            (package.ModelPackageName, package.ModelPackageGroupName, package.ModelPackageVersion, package.ModelApprovalStatus, package.ModelPackageStatus));
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 11, 0, 0, TimeSpan.Zero), package.CreationTime);
        Assert.Equal("inference.py", package.InferenceSpecification!.Containers![0].Environment!["SAGEMAKER_PROGRAM"]);
        Assert.Equal("s3://m/profiles.json", package.CustomerMetadataProperties!["SegmentProfilesUri"]);
    }

    [Fact]
    public void Find_VersionedName_TheSamePackageWithArnFilledIn()
    {
        Write("group", 7, """{"ModelApprovalStatus":"Rejected"}""");

        var package = Registry().Find("group/7")!;

        Assert.Equal(("group", 7, $"arn:aws:sagemaker:{Region}:{Account}:model-package/group/7", "Rejected"),
            (package.ModelPackageGroupName, package.ModelPackageVersion, package.ModelPackageArn, package.ModelApprovalStatus));
    }

    [Theory]
    [InlineData("arn:aws:sagemaker:us-east-1:123456789012:model-package/group/1")]
    [InlineData("arn:aws:sagemaker:eu-west-1:000000000000:model-package/group/1")]
    [InlineData("group/2")]
    [InlineData("group")]
    [InlineData("../group/1")]
    [InlineData("group/1/../1")]
    [InlineData("other/1")]
    public void Find_NotAPackageOfThisRegistry_Null(string name)
    {
        Write("group", 1, "{}");

        Assert.Null(Registry().Find(name));
    }

    [Fact]
    public void Find_FileIsNotAPackage_InternalFailureNamingTheFile()
    {
        Write("group", 1, """{"ModelPackageVersion":"one"}""");

        var error = Assert.Throws<AwsServiceException>(() => Registry().Find("group/1"));

        Assert.Equal((HttpStatusCode.InternalServerError, "InternalFailure"), (error.StatusCode, error.ErrorCode));
        Assert.StartsWith($"The local model registry file {Path.Combine(_registry, "group", "1.json")} is not a model package: ", error.ErrorMessage, StringComparison.Ordinal);
    }

    private ModelRegistryDirectory Registry() => new(_registry, Account, Region);

    private void Write(string group, int version, string json)
    {
        Directory.CreateDirectory(Path.Combine(_registry, group));
        File.WriteAllText(Path.Combine(_registry, group, $"{version}.json"), json);
    }
}
