using System.Diagnostics;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

/// <summary>
/// The real CDK app synthesized into a temporary cdk.out (as `cdk synth` runs it, with cdk.json's context plus
/// <c>pipeline:deployStep=false</c>), once for the end-to-end tests.
/// </summary>
public sealed class SynthesizedAppFixture
{
    public SynthesizedAppFixture()
    {
        RepositoryRoot = FindRepositoryRoot();
        CloudAssemblyDirectory = Directory.CreateTempSubdirectory("e2e-cdk-out-").FullName;
        var binDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var app = Path.Combine(RepositoryRoot, "infra", "Infra", "bin", binDirectory.Parent!.Name, binDirectory.Name, "Infra.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot };
        start.ArgumentList.Add(app);
        start.Environment["CDK_OUTDIR"] = CloudAssemblyDirectory;
        var context = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot, "cdk.json")))!["context"]!.AsObject();
        // The runner has no Lambda step executor yet (it refuses the Deploy step), and these tests need no Lambda
        // bundles: the pipeline ends at RegisterModel and the Lambda assets keep their hashes without a publish.
        context["pipeline:deployStep"] = false;
        context["aws:cdk:bundling-stacks"] = new JsonArray();
        start.Environment["CDK_CONTEXT_JSON"] = context.ToJsonString();
        start.Environment["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"Synthesizing {app} failed ({process.ExitCode}): {output.Result}{error.Result}");
        }

        var template = JsonNode.Parse(File.ReadAllText(Path.Combine(CloudAssemblyDirectory, "CustomerSegmentation.template.json")))!;
        DataBucket = BucketName(template, "StorageDataBucket");
        ModelBucket = BucketName(template, "StorageModelBucket");
    }

    public string RepositoryRoot { get; }

    public string CloudAssemblyDirectory { get; }

    public string DataBucket { get; }

    public string ModelBucket { get; }

    private static string BucketName(JsonNode template, string logicalIdPrefix) =>
        template["Resources"]!.AsObject()
            .Single(r => r.Key.StartsWith(logicalIdPrefix, StringComparison.Ordinal) && (string?)r.Value!["Type"] == "AWS::S3::Bucket")
            .Key.ToLowerInvariant();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Infra.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Infra.sln above {AppContext.BaseDirectory}.");
    }
}

[Collection(S3Collection.Name)]
public class TrainingPipelineEndToEndTests(S3Fixture s3, SynthesizedAppFixture app) : IClassFixture<SynthesizedAppFixture>
{
    /// <summary>One normal blob: k-means finds no segments worth the name (silhouette about 0.23 on it).</summary>
    private const string NoStructureScript = """
        import numpy as np, sys
        rng = np.random.default_rng(11)
        n = 1000
        age = np.clip(rng.normal(45, 8, n), 18, 90).round()
        income = np.clip(rng.normal(60000, 12000, n), 1000, None).round(1)
        purchases = np.clip(rng.normal(25, 6, n), 1, None).round()
        with open(sys.argv[1], "w") as f:
            f.write("CustomerID,Age,Gender,Income,Purchases\n")
            for i in range(n):
                f.write("B%05d,%d,%s,%.1f,%d\n" % (i, age[i], "Female" if i % 2 else "Male", income[i], purchases[i]))
        """;

    [Fact]
    public async Task RunAsync_SegmentedSampleData_ProducesEveryArtifactAndRegistersTheModel()
    {
        var csv = Path.Combine(Directory.CreateTempSubdirectory("e2e-data-").FullName, "customers.csv");
        RunPython(Path.Combine(app.RepositoryRoot, "scripts"), "-m", "sample_data.customers", "--rows", "2000", "--seed", "7", "--segments", "4", "--out", csv);
        await s3.Store.EnsureBucketAsync(app.DataBucket, CancellationToken.None);
        await s3.Store.UploadFileAsync(new S3Location(app.DataBucket, "data/customers.csv"), csv, CancellationToken.None);
        var work = Directory.CreateTempSubdirectory("e2e-work-").FullName;
        var log = new StringWriter();

        var clock = Stopwatch.StartNew();
        var record = await PipelineRun.RunAsync(Options(work, log));
        clock.Stop();

        Assert.True(record.PipelineExecutionStatus == ExecutionRecord.Succeeded, log.ToString());
        Assert.Equal(
            ["Preprocess:Succeeded", "Train:Succeeded", "Evaluate:Succeeded", "CheckQuality:Succeeded", "CreateModel:Succeeded", "RegisterModel:Succeeded", "QualityGateFailed:NotExecuted"],
            record.Steps.Select(s => $"{s.StepName}:{s.StepStatus}"));
        var run = $"s3://{app.ModelBucket}/runs/{record.PipelineExecutionId}";
        foreach (var artifact in new[]
        {
            "preprocess/train/train.csv", "preprocess/validation/validation.csv", "preprocess/profile/data_profile.json",
            "evaluation/evaluation.json", "artifacts/preprocessing_spec.json", "artifacts/segment_profiles.json", "artifacts/metrics.json", "artifacts/model_quality.json",
        })
        {
            Assert.True(await s3.Store.ExistsAsync(S3Location.Parse($"{run}/{artifact}"), CancellationToken.None), $"{run}/{artifact} is missing");
        }

        var modelArtifacts = (string)record.Step("Train").Metadata!["ModelArtifacts"]!["S3ModelArtifacts"]!;
        Assert.Equal($"{run}/training/pipelines-{record.PipelineExecutionId}-Train/output/model.tar.gz", modelArtifacts);
        Assert.Equal(["metrics.json", "model.joblib", "preprocessing_spec.json", "segment_profiles.json"], (await s3.ReadTarGzAsync(modelArtifacts)).Keys.Order());

        var metrics = JsonNode.Parse(await s3.GetTextAsync($"{run}/evaluation/evaluation.json"))!["metrics"]!;
        Assert.Equal(4, (int)metrics["k"]!);
        Assert.InRange((double)metrics["silhouette"]!, 0.8, 1.0);
        Assert.InRange((double)metrics["min_cluster_fraction"]!, 0.2, 0.25);
        Assert.InRange((double)metrics["max_cluster_fraction"]!, 0.25, 0.3);
        Assert.True((double)metrics["calinski_harabasz"]! > 1000);
        Assert.InRange((double)metrics["davies_bouldin"]!, 0.0, 0.5);
        var validationRows = (await s3.GetTextAsync($"{run}/preprocess/validation/validation.csv")).Trim().Split('\n').Length - 1;
        Assert.Equal(validationRows, (int)metrics["rows"]!);
        Assert.True(metrics.AsObject().ContainsKey("label_stability_ari"));

        var trainMetrics = record.Step("Train").Metadata!["FinalMetricDataList"]!.AsArray().ToDictionary(m => (string)m!["MetricName"]!, m => (double)m!["Value"]!);
        var definedMetrics = record.Step("Train").Metadata!["AlgorithmSpecification"]!["MetricDefinitions"]!.AsArray().Select(m => (string)m!["Name"]!);
        Assert.Equal(definedMetrics.Order(), trainMetrics.Keys.Order());
        Assert.Equal(4, trainMetrics["k"]);

        var package = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work, "model-registry", "customer-segmentation-models", "1.json")))!;
        Assert.Equal("PendingManualApproval", (string?)package["ModelApprovalStatus"]);
        Assert.Equal(modelArtifacts, (string?)package["InferenceSpecification"]!["Containers"]![0]!["ModelDataUrl"]);
        Assert.Equal($"{run}/artifacts/model_quality.json", (string?)package["ModelMetrics"]!["ModelQuality"]!["Statistics"]!["S3Uri"]);
        Assert.Equal($"{run}/artifacts/preprocessing_spec.json", (string?)package["CustomerMetadataProperties"]!["PreprocessingSpecUri"]);
        Assert.Equal($"{run}/artifacts/segment_profiles.json", (string?)package["CustomerMetadataProperties"]!["SegmentProfilesUri"]);
        Assert.Equal($"{run}/artifacts/metrics.json", (string?)package["CustomerMetadataProperties"]!["MetricsUri"]);
        Assert.Equal(record.PipelineExecutionArn, (string?)package["CustomerMetadataProperties"]!["PipelineExecutionArn"]);

        var model = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work, "models", $"pipelines-{record.PipelineExecutionId}-CreateModel.json")))!;
        Assert.Equal(modelArtifacts, (string?)model["PrimaryContainer"]!["ModelDataUrl"]);
        Assert.Equal("inference.py", (string?)model["PrimaryContainer"]!["Environment"]!["SAGEMAKER_PROGRAM"]);
        var submitDirectory = (string)model["PrimaryContainer"]!["Environment"]!["SAGEMAKER_SUBMIT_DIRECTORY"]!;
        Assert.True(await s3.Store.ExistsAsync(S3Location.Parse(submitDirectory), CancellationToken.None), $"{submitDirectory} was not published");
        Console.WriteLine($"End-to-end training run: {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Also the standalone path: the runner starts its own s3rver and uploads the CSV itself.</summary>
    [Fact]
    public async Task RunAsync_DataWithoutClusterStructure_FailsTheQualityGateWithItsMessage()
    {
        var csv = Path.Combine(Directory.CreateTempSubdirectory("e2e-blob-").FullName, "no-structure.csv");
        RunPython(app.RepositoryRoot, "-c", NoStructureScript, csv);
        var log = new StringWriter();
        var options = Options(Directory.CreateTempSubdirectory("e2e-work-").FullName, log) with
        {
            S3Endpoint = null,
            SearchRoot = app.RepositoryRoot,
            Uploads = [FileUpload.Parse($"{csv}=s3://local-input/no-structure.csv")],
            Parameters = new Dictionary<string, string> { ["DataFile"] = "s3://local-input/no-structure.csv" },
        };

        var record = await PipelineRun.RunAsync(options);

        Assert.Equal(ExecutionRecord.Failed, record.PipelineExecutionStatus);
        Assert.Equal(
            ["Preprocess:Succeeded", "Train:Succeeded", "Evaluate:Succeeded", "CheckQuality:Succeeded", "CreateModel:NotExecuted", "RegisterModel:NotExecuted", "QualityGateFailed:Failed"],
            record.Steps.Select(s => $"{s.StepName}:{s.StepStatus}"));
        var evaluation = Path.Combine(record.ExecutionDirectory, "Evaluate", "opt", "ml", "processing", "output", "evaluation", "evaluation.json");
        var metrics = JsonNode.Parse(await File.ReadAllTextAsync(evaluation))!["metrics"]!;
        Assert.InRange((double)metrics["silhouette"]!, 0.0, 0.35);
        var expected = $"Model quality below the gate: silhouette {metrics["silhouette"]!.ToJsonString()} (minimum 0.35), " +
            $"smallest segment fraction {metrics["min_cluster_fraction"]!.ToJsonString()} (minimum 0.01)";
        Assert.Equal(expected, record.Step("QualityGateFailed").FailureReason);
        Assert.Equal($"Step QualityGateFailed failed: {expected}", record.FailureReason);
        Assert.False(Directory.Exists(Path.Combine(options.WorkDirectory, "model-registry")));
        Assert.Contains("(s3rver started for this run)", log.ToString(), StringComparison.Ordinal);
    }

    private PipelineRunOptions Options(string work, TextWriter log) => new()
    {
        CloudAssemblyDirectory = app.CloudAssemblyDirectory,
        WorkDirectory = work,
        S3Endpoint = s3.Endpoint,
        Python = S3Fixture.Python,
        Log = log,
    };

    private static void RunPython(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(S3Fixture.Python) { WorkingDirectory = workingDirectory, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"python {string.Join(' ', arguments)} failed: {error.Result}");
    }
}
