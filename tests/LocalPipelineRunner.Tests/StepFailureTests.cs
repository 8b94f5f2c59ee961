using CustomerSegmentation.LocalPipelineRunner.Execution;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

[Collection(S3Collection.Name)]
public class StepFailureTests(S3Fixture s3)
{
    /// <summary>One Processing step running an inline command, optionally followed by <paramref name="next"/>.</summary>
    private static string SingleStep(string entrypoint, string next = "") => $$$"""
        {"Version": "2020-12-01", "Parameters": [], "Steps": [
          {"Name": "Script", "Type": "Processing", "Arguments": {
            "AppSpecification": {"ImageUri": "image", "ContainerEntrypoint": {{{entrypoint}}} },
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
            "RoleArn": "arn:aws:iam::000000000000:role/Role"}}{{{next}}}
        ]}
        """;

    [Fact]
    public async Task RunAsync_ScriptExitsNonZero_FailureReasonIsStderrTail()
    {
        var (record, _) = await s3.RunAsync(SingleStep("""["python3", "-c", "import sys\nfor i in range(15): print('line', i, file=sys.stderr)\nsys.exit(3)"]"""));

        Assert.Equal(ExecutionRecord.Failed, record.PipelineExecutionStatus);
        var lines = string.Join(Environment.NewLine, Enumerable.Range(5, 10).Select(i => $"line {i}"));
        Assert.Equal($"AlgorithmError: process exited with code 3. Last lines of stderr:{Environment.NewLine}{lines}", record.Step("Script").FailureReason);
    }

    [Fact]
    public async Task RunAsync_ScriptWritesFailureFile_FailureReasonIsItsMessage()
    {
        var (record, _) = await s3.RunAsync(SingleStep(
            """["/bin/sh", "-c", "mkdir -p /opt/ml/output && echo 'k must be at least 2' > /opt/ml/output/failure && exit 1"]"""));

        Assert.Equal("AlgorithmError: k must be at least 2", record.Step("Script").FailureReason);
    }

    [Fact]
    public async Task RunAsync_StepAfterFailure_IsNotExecuted()
    {
        var (record, _) = await s3.RunAsync(SingleStep(
            """["/bin/sh", "-c", "exit 1"]""",
            """, {"Name": "After", "Type": "Fail", "DependsOn": ["Script"], "Arguments": {"ErrorMessage": "unreachable"}}"""));

        Assert.Equal(["Script:Failed", "After:NotExecuted"], record.Steps.Select(s => $"{s.StepName}:{s.StepStatus}"));
        Assert.Equal("Step Script failed: AlgorithmError: process exited with code 1 and wrote nothing to stderr.", record.FailureReason);
    }

    [Fact]
    public async Task RunAsync_UnsupportedStepType_RefusesBeforeRunningAnything()
    {
        var work = Directory.CreateTempSubdirectory("runner-refuse-").FullName;
        var definition = SingleStep(
            """["/bin/sh", "-c", "exit 0"]""",
            """, {"Name": "Deploy", "Type": "Lambda", "DependsOn": ["Script"], "Arguments": {}}""");

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(() => s3.RunAsync(definition, workDirectory: work));

        Assert.Equal(
            "step Deploy of type Lambda cannot run locally: the local runner has no executor for Lambda steps " +
            "(it runs Condition, Fail, Model, Processing, RegisterModel, Training).",
            error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work));
    }

    [Fact]
    public async Task RunAsync_WrongParameterType_RefusesBeforeRunningAnything()
    {
        var work = Directory.CreateTempSubdirectory("runner-param-").FullName;
        var definition = """
            {"Version": "2020-12-01", "Parameters": [{"Name": "MaxK", "Type": "Integer", "DefaultValue": 10}],
             "Steps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}]}
            """;

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(
            () => s3.RunAsync(definition, new Dictionary<string, string> { ["MaxK"] = "many" }, work));

        Assert.Equal("Parameter MaxK is Integer: 'many' is not an integer such as 42.", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work));
    }

    [Fact]
    public async Task RunAsync_ModelDataMissing_FailsModelStepLikeCreateModel()
    {
        var bucket = await s3.NewBucketAsync("nomodel");
        var definition = $$$"""
            {"Version": "2020-12-01", "Parameters": [], "Steps": [
              {"Name": "CreateModel", "Type": "Model", "Arguments": {"ExecutionRoleArn": "arn:aws:iam::000000000000:role/Role",
                "PrimaryContainer": {"Image": "image", "ModelDataUrl": "s3://{{{bucket}}}/missing/model.tar.gz"} } }
            ]}
            """;

        var (record, _) = await s3.RunAsync(definition);

        Assert.Equal($"ValidationException: Could not find model data at s3://{bucket}/missing/model.tar.gz.", record.Step("CreateModel").FailureReason);
    }

    [Theory]
    [InlineData("/tmp/outside")]
    [InlineData("/opt/ml/processing/../../../etc")]
    public async Task RunAsync_OutputOutsideProcessingDirectory_FailsLikeTheApi(string localPath)
    {
        var definition = $$$"""
            {"Version": "2020-12-01", "Parameters": [], "Steps": [
              {"Name": "Script", "Type": "Processing", "Arguments": {
                "AppSpecification": {"ImageUri": "image", "ContainerEntrypoint": ["/bin/sh", "-c", "exit 0"]},
                "ProcessingOutputConfig": {"Outputs": [{"OutputName": "o", "S3Output": {"S3Uri": "s3://b/o", "LocalPath": "{{{localPath}}}", "S3UploadMode": "EndOfJob"} }]} } }
            ]}
            """;

        var (record, _) = await s3.RunAsync(definition);

        Assert.Equal($"ValidationException: LocalPath '{localPath}' must be a path under /opt/ml/processing/.", record.Step("Script").FailureReason);
    }

    [Fact]
    public async Task RunAsync_NonStringHyperparameter_FailsLikeTheApi()
    {
        var definition = """
            {"Version": "2020-12-01", "Parameters": [{"Name": "MaxK", "Type": "Integer", "DefaultValue": 10}], "Steps": [
              {"Name": "Train", "Type": "Training", "Arguments": {"HyperParameters": {"max-k": {"Get": "Parameters.MaxK"}}}}
            ]}
            """;

        var (record, _) = await s3.RunAsync(definition);

        Assert.Equal("ValidationException: HyperParameters.max-k must be a string, got 10.", record.Step("Train").FailureReason);
    }
}
