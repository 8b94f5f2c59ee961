using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMakerRuntime;
using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

/// <summary>
/// The real CDK app synthesized as `cdk synth` runs it, with cdk.json's context, its Lambda functions bundled (native
/// AOT) for this machine's architecture, once for the end-to-end tests. The cdk.out folder stays in this project's bin
/// folder between runs: CDK finds the bundle of an unchanged function under its source hash there and does not publish
/// it again, so only the first run (or a changed function) pays for the publish. Bundles of older hashes are removed.
/// </summary>
public sealed class SynthesizedAppFixture
{
    public SynthesizedAppFixture()
    {
        RepositoryRoot = FindRepositoryRoot();
        CloudAssemblyDirectory = Directory.CreateDirectory(Path.Combine(RepositoryRoot, "tests", "LocalPipelineRunner.Tests", "bin", "e2e-cdk-out")).FullName;
        var binDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var app = Path.Combine(RepositoryRoot, "infra", "Infra", "bin", binDirectory.Parent!.Name, binDirectory.Name, "Infra.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot };
        start.ArgumentList.Add(app);
        start.Environment["CDK_OUTDIR"] = CloudAssemblyDirectory;
        var context = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot, "cdk.json")))!["context"]!.AsObject();
        context["deployment:lambdaArchitecture"] = BootstrapExecutable.HostArchitecture
            ?? throw new InvalidOperationException($"Lambda has no architecture for this {RuntimeInformation.OSArchitecture} machine.");
        start.Environment["CDK_CONTEXT_JSON"] = context.ToJsonString();
        start.Environment["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] = "1";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"Synthesizing {app} failed ({process.ExitCode}): {output.Result}{error.Result}");
        }

        SynthesisTime = clock.Elapsed;
        RemoveStaleAssets();
        var template = JsonNode.Parse(File.ReadAllText(Path.Combine(CloudAssemblyDirectory, "CustomerSegmentation.template.json")))!;
        DataBucket = BucketName(template, "StorageDataBucket");
        ModelBucket = BucketName(template, "StorageModelBucket");
    }

    /// <summary>How long synthesis (with any bundling it had to do) took.</summary>
    public TimeSpan SynthesisTime { get; }

    public string RepositoryRoot { get; }

    public string CloudAssemblyDirectory { get; }

    public string DataBucket { get; }

    public string ModelBucket { get; }

    private void RemoveStaleAssets()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(CloudAssemblyDirectory, "CustomerSegmentation.assets.json")))!;
        var current = manifest["files"]!.AsObject().Select(f => (string?)f.Value!["source"]!["path"]).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var asset in new DirectoryInfo(CloudAssemblyDirectory).EnumerateFileSystemInfos("asset.*").Where(a => !current.Contains(a.Name)))
        {
            if (asset is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                asset.Delete();
            }
        }
    }

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
    public async Task StartAsync_SegmentedSampleData_TrainsRegistersDeploysAndServesTheModel()
    {
        var csv = Path.Combine(Directory.CreateTempSubdirectory("e2e-data-").FullName, "customers.csv");
        RunPython(Path.Combine(app.RepositoryRoot, "scripts"), "-m", "sample_data.customers", "--rows", "2000", "--seed", "7", "--segments", "4", "--out", csv);
        await s3.Store.EnsureBucketAsync(app.DataBucket, CancellationToken.None);
        await s3.Store.UploadFileAsync(new S3Location(app.DataBucket, "data/customers.csv"), csv, CancellationToken.None);
        var work = Directory.CreateTempSubdirectory("e2e-work-").FullName;
        var log = new StringWriter();
        var options = Options(work, log) with { Parameters = new Dictionary<string, string> { ["ModelApprovalStatus"] = "Approved" }, ApiPort = 0 };

        var clock = Stopwatch.StartNew();
        var environment = await PipelineRun.StartAsync(options);
        clock.Stop();
        var record = environment.Execution;

        try
        {
            Assert.True(record.PipelineExecutionStatus == ExecutionRecord.Succeeded, log.ToString());
            Assert.Equal(
                ["Preprocess:Succeeded", "Train:Succeeded", "Evaluate:Succeeded", "CheckQuality:Succeeded", "CreateModel:Succeeded", "RegisterModel:Succeeded",
                    "Deploy:Succeeded", "QualityGateFailed:NotExecuted"],
                record.Steps.Select(s => $"{s.StepName}:{s.StepStatus}"));
            await AssertTrainingArtifactsAsync(record, work);
            await AssertDeployedAndServingAsync(environment, record, log);
        }
        finally
        {
            await environment.DisposeAsync();
        }

        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"End-to-end run with deployment: synthesis {app.SynthesisTime.TotalSeconds:F1} s, pipeline and deployment {clock.Elapsed.TotalSeconds:F1} s"));
    }

    /// <summary>Everything the training half of the pipeline must leave behind (as before the Deploy step existed).</summary>
    private async Task AssertTrainingArtifactsAsync(ExecutionRecord record, string work)
    {
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
        Assert.Equal("Approved", (string?)package["ModelApprovalStatus"]);
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
    }

    /// <summary>
    /// The Deploy step ran the real EndpointDeployer bootstrap against the local SageMaker; the endpoint serves the real
    /// inference.py; the stack's EventBridge rules delivered SageMaker's events to the deployer, which registered
    /// autoscaling and published the deployed marker; the SegmentProxy bootstrap answers behind the local API front.
    /// </summary>
    private async Task AssertDeployedAndServingAsync(LocalEnvironment environment, ExecutionRecord record, StringWriter log)
    {
        const string endpoint = "customer-segmentation-endpoint";
        var packageArn = (string)record.Step("RegisterModel").Metadata!["ModelPackageArn"]!;
        var deployer = environment.Lambda.Function("customer-segmentation-endpoint-deployer");

        // SageMaker announces the new Approved version the moment it is registered, so the approval rule's event reaches
        // the deployer (one invocation at a time, in order) before the Deploy step does: the event creates the endpoint
        // and the step finds it being created with this very package.
        var approval = deployer.EventInvocations[0];
        Assert.StartsWith("rule CustomerSegmentation-ModelDeploymentModelApprovedRule", approval.Source, StringComparison.Ordinal);
        var created = JsonNode.Parse(approval.Result!.Payload)!;
        Assert.Equal(("Created", endpoint, packageArn), ((string?)created["Action"], (string?)created["EndpointName"], (string?)created["ModelPackageArn"]));
        var outputs = record.Step("Deploy").Metadata!["OutputParameters"]!;
        Assert.Equal(("Unchanged", endpoint, (string?)created["EndpointConfigName"], (string?)created["ModelName"]),
            ((string?)outputs["Action"], (string?)outputs["EndpointName"], (string?)outputs["EndpointConfigName"], (string?)outputs["ModelName"]));
        var response = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(record.ExecutionDirectory, "Deploy", "response.json")))!;
        Assert.Equal("Endpoint is Creating towards this package already.", (string?)response["Reason"]);
        Assert.All(deployer.EventInvocations, invocation => Assert.False(invocation.Result?.IsError ?? true, invocation.Result?.PayloadText ?? invocation.Failure));
        Assert.Empty(deployer.ProtocolViolations);

        Assert.Equal("IN_SERVICE", environment.EndpointStatuses[endpoint]);
        var described = await environment.SageMaker.ControlPlane.DescribeEndpointAsync(new() { EndpointName = endpoint }, CancellationToken.None);
        Assert.Equal(("InService", (string?)outputs["EndpointConfigName"]), (described.EndpointStatus, described.EndpointConfigName));
        Assert.Contains(environment.Events.Deliveries, d => d.DetailType == "SageMaker Endpoint State Change" && d.Failure is null);
        Assert.DoesNotContain(environment.Events.Deliveries, d => d.Failure is not null);
        Assert.True(environment.SageMaker.ScalableTargets.IsRegistered("sagemaker", $"endpoint/{endpoint}/variant/AllTraffic", "sagemaker:variant:DesiredInstanceCount"));

        var marker = JsonNode.Parse(await s3.GetTextAsync($"s3://{app.ModelBucket}/deployed/version.json"))!;
        Assert.Equal((packageArn, endpoint, (string?)outputs["EndpointConfigName"]),
            ((string?)marker["ModelPackageArn"], (string?)marker["EndpointName"], (string?)marker["EndpointConfigName"]));
        Assert.Equal($"s3://{app.ModelBucket}/runs/{record.PipelineExecutionId}/artifacts/preprocessing_spec.json", (string?)marker["PreprocessingSpecUri"]);

        var runtime = new SageMakerRuntimeClient(new AwsClientOptions
        {
            ServiceUrl = environment.SageMaker.Endpoint,
            Region = "us-east-1",
            Credentials = new Amazon.Runtime.BasicAWSCredentials("S3RVER", "S3RVER"),
        });
        var invoked = await runtime.InvokeEndpointAsync(new InvokeEndpointRequest
        {
            EndpointName = endpoint,
            Body = """{"features": [[0.0, 0.0, 0.0], [2.5, -1.0, 0.3]]}"""u8.ToArray(),
            Accept = "application/json",
        });
        var predictions = JsonNode.Parse(invoked.Body.Span)!["predictions"]!.AsArray();
        Assert.Equal(2, predictions.Count);
        Assert.All(predictions, p => Assert.InRange((int)p!["closest_cluster"]!, 0, 3));
        Assert.Equal("AllTraffic", invoked.InvokedProductionVariant);

        var api = environment.Api!;
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api.StageUri, "segment"))
        {
            Content = new StringContent("""{"customers":[{"age":34,"income":72000,"purchases":12}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", api.Api.ApiKeys.Values.Single());
        using var answer = await http.SendAsync(request);
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == System.Net.HttpStatusCode.OK, body + log);
        var segment = JsonNode.Parse(body)!;
        Assert.Equal(endpoint, (string?)segment["endpoint"]);
        Assert.InRange((int)segment["predictions"]![0]!["closest_cluster"]!, 0, 3);
        Assert.False(string.IsNullOrEmpty((string?)segment["predictions"]![0]!["segment_label"]));
        Assert.Empty(environment.Lambda.Function("customer-segmentation-segment-proxy").ProtocolViolations);

        var processes = environment.SageMaker.ModelServerProcessIds.Append(deployer.ProcessId!.Value).ToList();
        Assert.All(processes, pid => Assert.True(Directory.Exists($"/proc/{pid}")));
        await environment.DisposeAsync();
        Assert.All(processes, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} outlived the environment"));
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
            ["Preprocess:Succeeded", "Train:Succeeded", "Evaluate:Succeeded", "CheckQuality:Succeeded", "CreateModel:NotExecuted", "RegisterModel:NotExecuted",
                "Deploy:NotExecuted", "QualityGateFailed:Failed"],
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
        Pipeline = "customer-segmentation-training",
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
