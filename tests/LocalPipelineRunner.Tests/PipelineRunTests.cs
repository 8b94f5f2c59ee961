using System.Diagnostics;
using System.Text.RegularExpressions;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

[Collection(S3Collection.Name)]
public class PipelineRunTests(S3Fixture s3)
{
    private static PipelineRunOptions Options(string cdkOut, Uri? endpoint, params (string, string)[] parameters) => new()
    {
        CloudAssemblyDirectory = cdkOut,
        WorkDirectory = Directory.CreateTempSubdirectory("runner-run-").FullName,
        Pipeline = "Mini-Pipeline",
        S3Endpoint = endpoint,
        SearchRoot = AppContext.BaseDirectory,
        Python = S3Fixture.Python,
        Parameters = parameters.ToDictionary(p => p.Item1, p => p.Item2),
        Log = new StringWriter(),
    };

    [Fact]
    public async Task RunAsync_CloudAssembly_PublishesAssetsCreatesBucketsAndResolvesTheDefinition()
    {
        var cdkOut = HandWrittenCloudAssembly.Create();

        var record = await PipelineRun.RunAsync(Options(cdkOut, s3.Endpoint));

        Assert.Equal(ExecutionRecord.Succeeded, record.PipelineExecutionStatus);
        Assert.Equal("Mini-Pipeline", record.PipelineName);
        Assert.StartsWith("arn:aws:sagemaker:us-east-1:000000000000:pipeline/mini-pipeline/execution/", record.PipelineExecutionArn, StringComparison.Ordinal);
        Assert.Equal(
            "HELLO arn:aws:iam::000000000000:role/PipelineRoleDCFDBB91",
            await s3.GetTextAsync($"s3://modelbucket5b2b7e4d/out/{record.PipelineExecutionId}/out.txt"));
        Assert.True(await s3.Store.ExistsAsync(new S3Location(HandWrittenCloudAssembly.AssetBucket, $"{HandWrittenCloudAssembly.AssetHash}.gz"), CancellationToken.None));
        Assert.Equal(
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            (string?)record.Step("Copy").Metadata!["AppSpecification"]!["ImageUri"]);
        Assert.Empty(await s3.Store.ListKeysAsync(new S3Location("databuckete3889a50", string.Empty), CancellationToken.None));
        await s3.PutTextAsync("databuckete3889a50", "probe.txt", "the publisher created the data bucket");
    }

    [Fact]
    public async Task RunAsync_NoEndpoint_StartsAndStopsItsOwnS3rver()
    {
        var options = Options(HandWrittenCloudAssembly.Create(), null, ("Greeting", "bye"));

        var record = await PipelineRun.RunAsync(options);

        Assert.Equal(ExecutionRecord.Succeeded, record.PipelineExecutionStatus);
        var output = Path.Combine(record.ExecutionDirectory, "Copy", "opt", "ml", "processing", "output", "out.txt");
        Assert.Equal("BYE arn:aws:iam::000000000000:role/PipelineRoleDCFDBB91", await File.ReadAllTextAsync(output));
        Assert.Contains("(s3rver started for this run)", options.Log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_SeveralPipelinesAndNoSelector_FailsListingThem()
    {
        var options = Options(HandWrittenCloudAssembly.Create(), s3.Endpoint) with { Pipeline = null };

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(() => PipelineRun.RunAsync(options));

        Assert.Equal(
            "Stack MiniStack has 2 pipelines (MiniPipeline (Mini-Pipeline), OtherPipeline (Other-Pipeline)); pass --pipeline <logical id or name>.",
            error.Message);
    }

    [Theory]
    [InlineData("Missing", null, "Stack MiniStack has no pipeline 'Missing'; pipelines: MiniPipeline (Mini-Pipeline), OtherPipeline (Other-Pipeline).")]
    [InlineData("OtherPipeline", "NoStack", "cdk.out has no stack 'NoStack'; stacks: MiniStack.")]
    public async Task RunAsync_UnknownPipelineOrStack_FailsListingChoices(string pipeline, string? stack, string expected)
    {
        var options = Options(HandWrittenCloudAssembly.Create(), s3.Endpoint) with { Pipeline = pipeline, StackName = stack };

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(() => PipelineRun.RunAsync(options));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public async Task StartAsync_TwoPipelines_RunsBothInTheGivenOrderInOneEnvironmentEachWithTheParameter()
    {
        var options = Options(HandWrittenCloudAssembly.Create(), null, ("Greeting", "bye")) with { Pipelines = ["Other-Pipeline", "MiniPipeline"] };

        await using var environment = await PipelineRun.StartAsync(options);

        Assert.Equal(["Other-Pipeline", "Mini-Pipeline"], environment.Executions.Select(e => e.PipelineName));
        Assert.All(environment.Executions, e => Assert.Equal(ExecutionRecord.Succeeded, e.PipelineExecutionStatus));
        Assert.Same(environment.Executions[1], environment.Execution);
        Assert.NotEqual(environment.Executions[0].PipelineExecutionId, environment.Executions[1].PipelineExecutionId);
        foreach (var execution in environment.Executions)
        {
            Assert.Equal("bye", execution.Parameters["Greeting"]!.GetValue<string>());
            Assert.Equal("BYE arn:aws:iam::000000000000:role/PipelineRoleDCFDBB91",
                await File.ReadAllTextAsync(Path.Combine(execution.ExecutionDirectory, "Copy", "opt", "ml", "processing", "output", "out.txt")));
        }

        var log = options.Log.ToString()!;
        Assert.Single(Regex.Matches(log, "s3rver started for this run"));
        Assert.True(log.IndexOf("Pipeline Other-Pipeline execution", StringComparison.Ordinal) < log.IndexOf("Pipeline Mini-Pipeline execution", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_PipelineShorthand_IsTheOnlyEntryOfPipelines()
    {
        var one = Options("cdk.out", null) with { Pipeline = "MiniPipeline" };
        var none = one with { Pipeline = null };
        var two = one with { Pipelines = ["MiniPipeline", "OtherPipeline"] };

        Assert.Equal(["MiniPipeline"], one.Pipelines);
        Assert.Equal("MiniPipeline", one.Pipeline);
        Assert.Empty(none.Pipelines);
        Assert.Null(none.Pipeline);
        Assert.Null(two.Pipeline);
    }

    [Theory]
    [InlineData(new[] { "MiniPipeline", "Mini-Pipeline" }, null,
        "--pipeline names MiniPipeline (Mini-Pipeline) more than once; each pipeline runs once per run.")]
    [InlineData(new[] { "MiniPipeline", "OtherPipeline" }, "run000000001",
        "--execution-id run000000001 names one execution, but 2 pipelines run; leave it out, each execution gets its own id.")]
    [InlineData(new[] { "MiniPipeline", "Nope" }, null,
        "Stack MiniStack has no pipeline 'Nope'; pipelines: MiniPipeline (Mini-Pipeline), OtherPipeline (Other-Pipeline).")]
    public async Task StartAsync_BadPipelineList_FailsBeforeAnythingRuns(string[] pipelines, string? executionId, string expected)
    {
        var options = Options(HandWrittenCloudAssembly.Create(), s3.Endpoint) with { Pipelines = pipelines, ExecutionId = executionId };

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(() => PipelineRun.StartAsync(options));

        Assert.Equal(expected, error.Message);
        Assert.DoesNotContain("execution", options.Log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_TwoPipelinesAndAParameterNeitherDeclares_FailsNamingEachPipelinesParameters()
    {
        var options = Options(HandWrittenCloudAssembly.Create(), s3.Endpoint, ("Nope", "1"), ("Greeting", "hi")) with { Pipelines = ["MiniPipeline", "OtherPipeline"] };

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(() => PipelineRun.StartAsync(options));

        Assert.Equal("Unknown parameter Nope; pipeline Mini-Pipeline declares: Greeting; pipeline Other-Pipeline declares: Greeting.", error.Message);
        Assert.DoesNotContain("Copy (Processing) started", options.Log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NotACloudAssembly_FailsNamingTheFolder()
    {
        var empty = Directory.CreateTempSubdirectory("not-cdk-out-").FullName;

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(() => PipelineRun.RunAsync(Options(empty, s3.Endpoint)));

        Assert.Equal($"'{empty}' is not a cdk.out folder: it has no manifest.json. Synthesize the app first.", error.Message);
    }

    [Theory]
    [InlineData("hello", 0)]
    [InlineData("fail", 1)]
    public void Main_RunToEnd_ExitCodeFollowsExecutionStatus(string greeting, int expected)
    {
        var cdkOut = HandWrittenCloudAssembly.Create();
        var work = Directory.CreateTempSubdirectory("runner-cli-").FullName;

        var (exitCode, output, _) = RunCli("--cdk-out", cdkOut, "--pipeline", "MiniPipeline", "--work-dir", work,
            "--s3-endpoint", s3.Endpoint.ToString(), "--param", $"Greeting={greeting}", "--execution-id", "cli000000001");

        Assert.Equal(expected, exitCode);
        Assert.Contains($"Pipeline Mini-Pipeline execution cli000000001: {(expected == 0 ? "Succeeded" : "Failed")}", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(work, "cli000000001", "execution.json")));
    }

    [Theory]
    [InlineData("hello", 0)]
    [InlineData("fail", 1)]
    public void Main_TwoPipelines_RunsBothAndExitsZeroOnlyWhenEverySucceeded(string greeting, int expected)
    {
        var work = Directory.CreateTempSubdirectory("runner-cli-").FullName;

        var (exitCode, output, _) = RunCli("--cdk-out", HandWrittenCloudAssembly.Create(), "--pipeline", "MiniPipeline", "--pipeline", "Other-Pipeline",
            "--work-dir", work, "--s3-endpoint", s3.Endpoint.ToString(), "--param", $"Greeting={greeting}");

        var status = expected == 0 ? "Succeeded" : "Failed";
        Assert.Equal(expected, exitCode);
        Assert.Matches($"Pipeline Mini-Pipeline execution [a-z0-9]{{12}}: {status}", output);
        Assert.Matches($"Pipeline Other-Pipeline execution [a-z0-9]{{12}}: {status}", output);
        Assert.Equal(2, Directory.GetFiles(work, "execution.json", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void Main_WrongParameterType_ExitsTwoWithTheError()
    {
        var (exitCode, _, error) = RunCli("--cdk-out", HandWrittenCloudAssembly.Create(), "--pipeline", "MiniPipeline",
            "--s3-endpoint", s3.Endpoint.ToString(), "--param", "Nope=1");

        Assert.Equal(2, exitCode);
        Assert.Equal("error: Unknown parameter Nope; the pipeline declares: Greeting.", error.Trim());
    }

    [Fact]
    public void Main_Help_PrintsUsageAndExitsZero()
    {
        var (exitCode, output, _) = RunCli("--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("Usage: LocalPipelineRunner --cdk-out <dir> [options]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Main_UnknownArgument_ExitsTwo()
    {
        var (exitCode, _, error) = RunCli("--cdkout", "x");

        Assert.Equal(2, exitCode);
        Assert.StartsWith("Unknown argument '--cdkout'.", error, StringComparison.Ordinal);
    }

    private static (int ExitCode, string Output, string Error) RunCli(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "LocalPipelineRunner.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SEGMENTATION_PYTHON"] = S3Fixture.Python;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}
