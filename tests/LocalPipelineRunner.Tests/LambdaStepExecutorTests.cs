using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Expressions;
using CustomerSegmentation.LocalPipelineRunner.Steps;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

/// <summary>
/// Lambda steps against a real local function: the Python test function of LocalAws.Tests (a custom-runtime bootstrap)
/// answers {"action": "raw", "answer": ...} with the answer and {"action": "fail", ...} with an error.
/// </summary>
public sealed class LambdaStepExecutorTests : IAsyncDisposable
{
    private const string FunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:deployer";
    private const string Outputs = """
        [{"OutputName": "EndpointName", "OutputType": "String"}, {"OutputName": "Count", "OutputType": "Integer"},
         {"OutputName": "Ready", "OutputType": "Boolean"}, {"OutputName": "Score", "OutputType": "Float"}, {"OutputName": "Action"}]
        """;

    private const string GoodAnswer = """{"EndpointName": "ep", "Count": 3, "Ready": true, "Score": 0.75, "Action": "Created", "Extra": "ignored"}""";

    private readonly LocalLambdaService _lambda;
    private readonly ObjectStore _unusedStore = new(new Uri("http://127.0.0.1:9/"));
    private readonly string _work = Directory.CreateTempSubdirectory("lambda-step-").FullName;

    public LambdaStepExecutorTests()
    {
        _lambda = new LocalLambdaService(FunctionStack(), TextWriter.Null);
    }

    public async ValueTask DisposeAsync()
    {
        await _lambda.DisposeAsync();
        _unusedStore.Dispose();
    }

    /// <summary>A stack with the function "deployer", its bootstrap in an asset folder as CDK stages it.</summary>
    private static StackTemplate FunctionStack()
    {
        var cdkOut = Directory.CreateTempSubdirectory("lambda-step-cdk-out-").FullName;
        var code = Directory.CreateDirectory(Path.Combine(cdkOut, "asset.deployer")).FullName;
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Functions", "python_function.py"), Path.Combine(code, "bootstrap"));
        File.SetUnixFileMode(Path.Combine(code, "bootstrap"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var template = JsonNode.Parse("""
            {"Resources": {"Deployer": {"Type": "AWS::Lambda::Function",
              "Properties": {"Runtime": "provided.al2023", "FunctionName": "deployer", "Timeout": 10, "Code": {"S3Key": "deployer.zip"}},
              "Metadata": {"aws:asset:path": "asset.deployer", "aws:asset:property": "Code"}}}}
            """)!.AsObject();
        return new StackTemplate(template, "Stack", cdkOut);
    }

    private StepContext Context(string arguments, string outputs = Outputs, string functionArn = $"\"{FunctionArn}\"")
    {
        var raw = JsonNode.Parse($$"""
            {"Name": "Deploy", "Type": "Lambda", "Arguments": {{arguments}}, "FunctionArn": {{functionArn}}, "OutputParameters": {{outputs}} }
            """)!.AsObject();
        var step = PipelineDefinition.Parse(new JsonObject { ["Steps"] = new JsonArray(raw) }).Steps[0];
        var state = new ExecutionState("Pipeline", "exec00000001", DateTimeOffset.UtcNow,
            new Dictionary<string, JsonNode?> { ["InstanceType"] = "ml.m5.large" });
        var directory = Directory.CreateDirectory(Path.Combine(_work, "Deploy")).FullName;
        return new StepContext(step, state, new ExpressionEvaluator(state), _unusedStore, new RunnerEnvironment(_work, "/usr/bin/python3"), directory, TextWriter.Null);
    }

    private async Task<string> FailureAsync(string arguments, string outputs = Outputs, string functionArn = $"\"{FunctionArn}\"") =>
        (await Assert.ThrowsAsync<StepFailedException>(() => new LambdaStepExecutor(_lambda).ExecuteAsync(Context(arguments, outputs, functionArn), CancellationToken.None))).Message;

    [Fact]
    public async Task ExecuteAsync_TypedAnswer_ExposesEachOutputParameterWithItsType()
    {
        var context = Context($$"""{"action": "raw", "answer": {{GoodAnswer}} }""");

        var result = await new LambdaStepExecutor(_lambda).ExecuteAsync(context, CancellationToken.None);

        Assert.Equal(
            $$$"""{"FunctionArn":"{{{FunctionArn}}}","OutputParameters":{"EndpointName":"ep","Count":3,"Ready":true,"Score":0.75,"Action":"Created"}}""",
            result.Properties.ToJsonString());
        Assert.Equal(3L, PropertyPath.Select(result.Properties, "OutputParameters['Count']")!.GetValue<long>());
    }

    [Fact]
    public async Task ExecuteAsync_Arguments_AreEvaluatedIntoTheEventAndKeptWithTheResponse()
    {
        var context = Context("""
            {"action": "raw", "InstanceType": {"Get": "Parameters.InstanceType"}, "PipelineExecutionArn": {"Get": "Execution.PipelineExecutionArn"},
             "answer": {"EndpointName": "ep", "Count": 1, "Ready": false, "Score": 1, "Action": "Unchanged"}}
            """);

        await new LambdaStepExecutor(_lambda).ExecuteAsync(context, CancellationToken.None);

        var sent = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(context.StepDirectory, "event.json")))!;
        Assert.Equal("ml.m5.large", (string?)sent["InstanceType"]);
        Assert.Equal(context.State.ExecutionArn, (string?)sent["PipelineExecutionArn"]);
        Assert.Equal("Unchanged", (string?)JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(context.StepDirectory, "response.json")))!["Action"]);
    }

    [Fact]
    public async Task ExecuteAsync_FunctionError_FailsTheStepWithTheErrorTypeAndMessage()
    {
        Assert.Equal(
            $"ClientError: Lambda function {FunctionArn} failed: ValueError: PipelineDeployRequest failed: SageMaker DescribeModelPackage failed",
            await FailureAsync("""{"action": "fail", "message": "PipelineDeployRequest failed: SageMaker DescribeModelPackage failed"}"""));
    }

    [Fact]
    public async Task ExecuteAsync_MissingOutput_FailsNamingItAndWhatCameBack()
    {
        Assert.Equal(
            $"ClientError: Lambda function {FunctionArn} answered no output parameter 'Action' (it answered EndpointName, Count, Ready, Score).",
            await FailureAsync("""{"action": "raw", "answer": {"EndpointName": "ep", "Count": 3, "Ready": true, "Score": 0.75}}"""));
    }

    [Theory]
    [InlineData("Count", "\"3\"", "Integer")]
    [InlineData("Count", "3.5", "Integer")]
    [InlineData("Ready", "\"true\"", "Boolean")]
    [InlineData("Score", "\"high\"", "Float")]
    [InlineData("EndpointName", "7", "String")]
    [InlineData("EndpointName", "null", "String")]
    [InlineData("EndpointName", "{\"a\":1}", "String")]
    public async Task ExecuteAsync_OutputOfTheWrongType_FailsNamingTypeAndValue(string output, string value, string type)
    {
        var answer = JsonNode.Parse(GoodAnswer)!.AsObject();
        answer[output] = JsonNode.Parse(value);

        Assert.Equal(
            $"ClientError: output parameter '{output}' is {value}, not a {type}.",
            await FailureAsync($$"""{"action": "raw", "answer": {{answer.ToJsonString()}} }"""));
    }

    [Fact]
    public async Task ExecuteAsync_AnswerNotAnObject_Fails()
    {
        Assert.Equal(
            $"ClientError: Lambda function {FunctionArn} answered [\"ep\"], not a JSON object with the output parameters.",
            await FailureAsync("""{"action": "raw", "answer": ["ep"]}"""));
    }

    [Fact]
    public async Task ExecuteAsync_FunctionNotInTheStack_FailsNamingIt()
    {
        Assert.Equal(
            "ClientError: Function not found: arn:aws:lambda:us-east-1:000000000000:function:other. Stack Stack has the functions deployer.",
            await FailureAsync("{}", functionArn: "\"arn:aws:lambda:us-east-1:000000000000:function:other\""));
    }

    [Fact]
    public async Task ExecuteAsync_UnknownOutputType_FailsBeforeInvoking()
    {
        Assert.Equal(
            "ValidationException: output parameter EndpointName of step Deploy has OutputType 'Text', not String, Integer, Boolean or Float.",
            await FailureAsync("""{"action": "fail", "message": "must not run"}""", """[{"OutputName": "EndpointName", "OutputType": "Text"}]"""));
        Assert.Empty(_lambda.StartedFunctions);
    }

    [Fact]
    public async Task RunAsync_LambdaOutputs_FeedLaterStepsThroughOutputParameters()
    {
        var definition = PipelineDefinition.Parse(JsonNode.Parse($$"""
            {"Version": "2020-12-01", "Steps": [
              {"Name": "Deploy", "Type": "Lambda", "FunctionArn": "{{FunctionArn}}", "OutputParameters": {{Outputs}},
               "Arguments": {"action": "raw", "answer": {{GoodAnswer}} } },
              {"Name": "Check", "Type": "Condition", "Arguments": {
                "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": {"Get": "Steps.Deploy.OutputParameters['Count']"}, "RightValue": 3}],
                "IfSteps": [{"Name": "Report", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:Join": {"On": " ", "Values": [
                  {"Get": "Steps.Deploy.OutputParameters['EndpointName']"}, {"Get": "Steps.Deploy.OutputParameters['Score']"},
                  {"Get": "Steps.Deploy.OutputParameters['Ready']"}]} } } }],
                "ElseSteps": []} } ]}
            """)!.AsObject());
        var execution = new PipelineExecution(definition, "Pipeline", _unusedStore, new RunnerEnvironment(_work, "/usr/bin/python3"), TextWriter.Null);
        execution.Executors.Register(new LambdaStepExecutor(_lambda));

        var record = await execution.RunAsync(new Dictionary<string, string>());

        Assert.Equal("Step Report failed: ep 0.75 true", record.FailureReason);
        Assert.Equal("Created", (string?)record.Step("Deploy").Metadata!["OutputParameters"]!["Action"]);
    }
}
