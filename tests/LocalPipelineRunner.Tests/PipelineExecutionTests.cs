using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Execution;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

[Collection(S3Collection.Name)]
public class PipelineExecutionTests(S3Fixture s3)
{
    private async Task<(string Code, string Data, string Models)> ArrangeMiniPipelineAsync()
    {
        var code = await s3.NewBucketAsync("code");
        var data = await s3.NewBucketAsync("data");
        var models = await s3.NewBucketAsync("models");
        await s3.PutTextAsync(code, "prepare.py", MiniPipeline.PrepareScript);
        await s3.PutTextAsync(code, "evaluate.py", MiniPipeline.EvaluateScript);
        await s3.PutAsync(code, "sourcedir.tar.gz", S3Fixture.TarGz(("train.py", MiniPipeline.TrainScript)));
        await s3.PutTextAsync(data, "in/data.csv", "1\n2\n3\n");
        return (code, data, models);
    }

    [Fact]
    public async Task RunAsync_QualityGatePasses_RunsEveryStepAndRegistersModel()
    {
        var (code, data, models) = await ArrangeMiniPipelineAsync();

        var (record, log) = await s3.RunAsync(MiniPipeline.Definition(code, data, models));

        Assert.True(record.PipelineExecutionStatus == ExecutionRecord.Succeeded, log);
        Assert.Null(record.FailureReason);
        Assert.Equal(
            ["Evaluate:Succeeded", "Prepare:Succeeded", "Train:Succeeded", "Gate:Succeeded", "CreateModel:Succeeded", "Register:Succeeded", "Stop:NotExecuted"],
            record.Steps.Select(s => $"{s.StepName}:{s.StepStatus}"));
        var run = $"s3://{models}/runs/{record.PipelineExecutionId}";
        Assert.Equal("3\n6\n9", await s3.GetTextAsync($"{run}/prepare/train/train.csv"));
        var artifacts = $"{run}/training/pipelines-{record.PipelineExecutionId}-Train/output/model.tar.gz";
        Assert.Equal(artifacts, (string?)record.Step("Train").Metadata!["ModelArtifacts"]!["S3ModelArtifacts"]);
        var model = await s3.ReadTarGzAsync(artifacts);
        Assert.Equal("54", model["model.txt"]);
        Assert.Equal("""[{"MetricName":"score","Value":0.8}]""", record.Step("Train").Metadata!["FinalMetricDataList"]!.ToJsonString());
        Assert.Equal("""{"metrics":{"score":0.8,"total":54,"sizes":[1,2]}}""", JsonNode.Parse(await s3.GetTextAsync($"{run}/evaluation/evaluation.json"))!.ToJsonString());
        Assert.Equal("True", (string?)record.Step("Gate").Metadata!["Outcome"]);
    }

    [Fact]
    public async Task RunAsync_ProcessingStep_GetsSageMakerPathsPythonAndS3Environment()
    {
        var (code, data, models) = await ArrangeMiniPipelineAsync();

        var (record, log) = await s3.RunAsync(MiniPipeline.Definition(code, data, models));

        Assert.True(record.PipelineExecutionStatus == ExecutionRecord.Succeeded, log);
        var contract = JsonNode.Parse(await s3.GetTextAsync($"s3://{models}/runs/{record.PipelineExecutionId}/prepare/train/nested/contract.json"))!;
        var stepDirectory = Path.Combine(record.ExecutionDirectory, "Prepare");
        Assert.Equal(new FileInfo(S3Fixture.Python).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? S3Fixture.Python, (string?)contract["python"]);
        Assert.Equal(s3.Endpoint.ToString().TrimEnd('/'), (string?)contract["endpoint"]);
        Assert.Equal("S3RVER", (string?)contract["key"]);
        Assert.Equal("us-east-1", (string?)contract["region"]);
        Assert.Equal($"{stepDirectory}/opt/ml/processing/output/train", (string?)contract["out_dir"]);
        Assert.Equal(stepDirectory, (string?)contract["cwd"]);
        Assert.Contains("prepared 3 rows", await File.ReadAllTextAsync(Path.Combine(stepDirectory, "stdout.log")), StringComparison.Ordinal);
        Assert.Contains("    [Prepare] prepared 3 rows", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_TrainingStep_FollowsTheScriptModeContract()
    {
        var (code, data, models) = await ArrangeMiniPipelineAsync();

        var (record, log) = await s3.RunAsync(MiniPipeline.Definition(code, data, models));

        Assert.True(record.PipelineExecutionStatus == ExecutionRecord.Succeeded, log);
        var stepDirectory = Path.Combine(record.ExecutionDirectory, "Train");
        var env = JsonNode.Parse((await s3.ReadTarGzAsync((string)record.Step("Train").Metadata!["ModelArtifacts"]!["S3ModelArtifacts"]!))["env.json"])!;
        Assert.Equal($"{stepDirectory}/opt/ml/model", (string?)env["SM_MODEL_DIR"]);
        Assert.Equal($"{stepDirectory}/opt/ml/input/data/train", (string?)env["SM_CHANNEL_TRAIN"]);
        Assert.Equal($"{stepDirectory}/opt/ml/output/data", (string?)env["SM_OUTPUT_DATA_DIR"]);
        Assert.Equal("""["train"]""", (string?)env["SM_CHANNELS"]);
        Assert.Equal("""{"empty":"","mode":"fast","n-clusters":3}""", (string?)env["SM_HPS"]);
        Assert.Equal("3", (string?)env["SM_HP_N-CLUSTERS"]);
        Assert.Equal("algo-1", (string?)env["SM_CURRENT_HOST"]);
        Assert.Equal("""["algo-1"]""", (string?)env["SM_HOSTS"]);
        Assert.Equal(Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)env["SM_NUM_CPUS"]);
        Assert.Equal($"{stepDirectory}/opt/ml/code", (string?)env["cwd"]);
        Assert.Equal("""{"n_clusters":3,"mode":"fast","empty":""}""", env["args"]!.ToJsonString());
        Assert.Equal("\"train.py\"", (string?)env["hyperparameters.json"]!["sagemaker_program"]);
    }

    [Fact]
    public async Task RunAsync_ModelAndRegisterModel_WriteRegistryWithIncreasingVersions()
    {
        var (code, data, models) = await ArrangeMiniPipelineAsync();
        var work = Directory.CreateTempSubdirectory("runner-registry-").FullName;

        var (first, firstLog) = await s3.RunAsync(MiniPipeline.Definition(code, data, models), workDirectory: work);
        var (second, secondLog) = await s3.RunAsync(
            MiniPipeline.Definition(code, data, models), new Dictionary<string, string> { ["ApprovalStatus"] = "Approved" }, work);

        Assert.True(first.PipelineExecutionStatus == ExecutionRecord.Succeeded, firstLog);
        Assert.True(second.PipelineExecutionStatus == ExecutionRecord.Succeeded, secondLog);
        Assert.Equal("arn:aws:sagemaker:us-east-1:000000000000:model-package/mini-models/1", (string?)first.Step("Register").Metadata!["ModelPackageArn"]);
        Assert.Equal("arn:aws:sagemaker:us-east-1:000000000000:model-package/mini-models/2", (string?)second.Step("Register").Metadata!["ModelPackageArn"]);
        var package = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work, "model-registry", "mini-models", "2.json")))!;
        Assert.Equal("Approved", (string?)package["ModelApprovalStatus"]);
        Assert.Equal($"s3://{models}/runs/{second.PipelineExecutionId}/evaluation/evaluation.json", (string?)package["ModelMetrics"]!["ModelQuality"]!["Statistics"]!["S3Uri"]);
        Assert.Equal(second.PipelineExecutionArn, (string?)package["CustomerMetadataProperties"]!["PipelineExecutionArn"]);
        var modelName = $"pipelines-{second.PipelineExecutionId}-CreateModel";
        Assert.Equal(modelName, (string?)package["CustomerMetadataProperties"]!["ModelName"]);
        var modelRecord = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work, "models", $"{modelName}.json")))!;
        Assert.Equal((string?)second.Step("Train").Metadata!["ModelArtifacts"]!["S3ModelArtifacts"], (string?)modelRecord["PrimaryContainer"]!["ModelDataUrl"]);
        Assert.Equal("inference.py", (string?)modelRecord["PrimaryContainer"]!["Environment"]!["SAGEMAKER_PROGRAM"]);
    }

    [Fact]
    public async Task RunAsync_QualityGateFails_RunsFailStepWithEvaluatedMessage()
    {
        var (code, data, models) = await ArrangeMiniPipelineAsync();

        var (record, log) = await s3.RunAsync(MiniPipeline.Definition(code, data, models), new Dictionary<string, string> { ["Threshold"] = "0.9" });

        Assert.Equal(ExecutionRecord.Failed, record.PipelineExecutionStatus);
        Assert.Equal("Step Stop failed: score 0.8 is below 0.9", record.FailureReason);
        Assert.Equal("score 0.8 is below 0.9", record.Step("Stop").FailureReason);
        Assert.Equal("False", (string?)record.Step("Gate").Metadata!["Outcome"]);
        Assert.Equal(["CreateModel:NotExecuted", "Register:NotExecuted", "Stop:Failed"],
            record.Steps.Where(s => s.StepName is "CreateModel" or "Register" or "Stop").Select(s => $"{s.StepName}:{s.StepStatus}"));
        Assert.Contains("Failure reason: Step Stop failed: score 0.8 is below 0.9", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_InputPrefixMissing_FailsStepLikeSageMakerAndSkipsTheRest()
    {
        var (code, data, models) = await ArrangeMiniPipelineAsync();

        var (record, _) = await s3.RunAsync(
            MiniPipeline.Definition(code, data, models), new Dictionary<string, string> { ["Input"] = $"s3://{data}/missing/customers.csv" });

        Assert.Equal(ExecutionRecord.Failed, record.PipelineExecutionStatus);
        var expected = $"ClientError: No S3 objects found under S3 URL \"s3://{data}/missing/customers.csv\" given in input data source. " +
            "Please ensure that the bucket exists in the selected region (us-east-1), that objects exist under that S3 prefix, " +
            $"and that the role has \"s3:ListBucket\" permissions on bucket \"{data}\".";
        Assert.Equal(expected, record.Step("Prepare").FailureReason);
        Assert.Equal($"Step Prepare failed: {expected}", record.FailureReason);
        Assert.All(record.Steps.Where(s => s.StepName != "Prepare"), s => Assert.Equal(StepRecord.NotExecuted, s.StepStatus));
    }

    [Fact]
    public async Task RunAsync_ExecutionRecord_IsWrittenAsJsonInTheExecutionDirectory()
    {
        var (code, data, models) = await ArrangeMiniPipelineAsync();

        var (record, _) = await s3.RunAsync(MiniPipeline.Definition(code, data, models), new Dictionary<string, string> { ["Threshold"] = "0.9" });

        var written = ExecutionRecord.FromJson(await File.ReadAllTextAsync(Path.Combine(record.ExecutionDirectory, "execution.json")));
        Assert.Equal(record.PipelineExecutionId, written.PipelineExecutionId);
        Assert.Equal(ExecutionRecord.Failed, written.PipelineExecutionStatus);
        Assert.Equal("0.9", written.Parameters["Threshold"]!.ToJsonString());
        Assert.Equal(record.Steps.Select(s => (s.StepName, s.StepStatus, s.FailureReason)), written.Steps.Select(s => (s.StepName, s.StepStatus, s.FailureReason)));
        Assert.All(written.Steps.Where(s => s.StepStatus != StepRecord.NotExecuted), s => Assert.True(s.DurationSeconds >= 0));
    }
}
