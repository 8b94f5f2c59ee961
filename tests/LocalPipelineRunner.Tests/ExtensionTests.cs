using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

[Collection(S3Collection.Name)]
public class ExtensionTests(S3Fixture s3)
{
    /// <summary>What a later Lambda executor will do in shape: evaluate the step's inputs, expose OutputParameters.</summary>
    private sealed class EchoLambdaExecutor : IStepExecutor
    {
        public string StepType => "Lambda";

        public Task<StepResult> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
        {
            var inputs = context.Expressions.Evaluate(context.Step.Arguments)!;
            var output = new JsonObject { ["Name"] = "echo", ["Value"] = inputs["payload"]!.DeepClone() };
            return Task.FromResult(new StepResult(new JsonObject { ["OutputParameters"] = new JsonArray(output) }));
        }
    }

    [Fact]
    public async Task RunAsync_RegisteredExecutor_RunsItsStepTypeAndExposesItsProperties()
    {
        var definition = PipelineDefinition.Parse((JsonObject)JsonNode.Parse("""
            {"Version": "2020-12-01", "Parameters": [{"Name": "Message", "Type": "String", "DefaultValue": "deployed"}], "Steps": [
              {"Name": "Report", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Steps.Deploy.OutputParameters['echo'].Value"}}},
              {"Name": "Deploy", "Type": "Lambda", "Arguments": {"payload": {"Get": "Parameters.Message"}}}
            ]}
            """)!);
        var execution = new PipelineExecution(
            definition, "Ext", s3.Store, new RunnerEnvironment(Directory.CreateTempSubdirectory("runner-ext-").FullName, S3Fixture.Python), TextWriter.Null);
        execution.Executors.Register(new EchoLambdaExecutor());

        var record = await execution.RunAsync(new Dictionary<string, string>());

        Assert.Equal(["Report:Failed", "Deploy:Succeeded"], record.Steps.Select(s => $"{s.StepName}:{s.StepStatus}"));
        Assert.Equal("deployed", record.Step("Report").FailureReason);
    }

    [Theory]
    [InlineData("data.csv", "--upload 'data.csv' is not <local file>=s3://<bucket>/<key>.")]
    [InlineData("data.csv=/tmp/x", "--upload 'data.csv=/tmp/x' is not <local file>=s3://<bucket>/<key>.")]
    public void FileUploadParse_Malformed_Fails(string text, string expected)
    {
        Assert.Equal(expected, Assert.Throws<PipelineRunnerException>(() => FileUpload.Parse(text)).Message);
    }

    [Fact]
    public async Task FileUploadPut_CreatesBucketAndObject()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "a,b\n1,2\n");
        var bucket = $"upload-{Guid.NewGuid():N}";

        await FileUpload.Parse($"{file}=s3://{bucket}/data/in.csv").PutAsync(s3.Store, CancellationToken.None);

        Assert.Equal("a,b\n1,2\n", await s3.GetTextAsync($"s3://{bucket}/data/in.csv"));
    }

    [Theory]
    [InlineData("/nonexistent/data.csv", "s3://b/k.csv", "--upload: '/nonexistent/data.csv' does not exist.")]
    [InlineData(null, "s3://b/folder/", "--upload: s3://b/folder/ names no object key.")]
    public async Task FileUploadPut_BadSourceOrTarget_Fails(string? source, string target, string expected)
    {
        var upload = new FileUpload(source ?? Path.GetTempFileName(), S3Location.Parse(target));

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(() => upload.PutAsync(s3.Store, CancellationToken.None));

        Assert.Equal(expected, error.Message);
    }
}
