using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Expressions;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

public class ExpressionEvaluatorTests
{
    private readonly ExecutionState _state;
    private readonly ExpressionEvaluator _evaluator;

    public ExpressionEvaluatorTests()
    {
        _state = new ExecutionState("Training-Pipeline", "abc123def456", new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero),
            new Dictionary<string, JsonNode?> { ["MaxK"] = 10, ["MinSilhouette"] = 0.25, ["DataFile"] = "s3://data/customers.csv" });
        _state.SetStepProperties("Preprocess", (JsonObject)JsonNode.Parse("""
            {"ProcessingOutputConfig": {"Outputs": [
              {"OutputName": "train", "S3Output": {"S3Uri": "s3://models/runs/x/train"}},
              {"OutputName": "validation", "S3Output": {"S3Uri": "s3://models/runs/x/validation"}}]}}
            """)!);
        _state.SetStepProperties("Train", (JsonObject)JsonNode.Parse("""
            {"ModelArtifacts": {"S3ModelArtifacts": "s3://models/model.tar.gz"}, "FinalMetricDataList": [{"MetricName": "silhouette", "Value": 0.61}]}
            """)!);
        _state.SetPropertyFile("Evaluate", "EvaluationReport", JsonNode.Parse("""
            {"metrics": {"silhouette": 0.61, "k": 4, "label_stability_ari": null, "sizes": [10, 20]}, "a.b": {"c": "dotted"}}
            """));
        _evaluator = new ExpressionEvaluator(_state);
    }

    private string Eval(string json) => _evaluator.Evaluate(JsonNode.Parse(json))?.ToJsonString() ?? "null";

    private string EvalError(string json) => Assert.Throws<PipelineRunnerException>(() => _evaluator.Evaluate(JsonNode.Parse(json))).Message;

    [Theory]
    [InlineData("""{"Get": "Parameters.MaxK"}""", "10")]
    [InlineData("""{"Get": "Execution.PipelineExecutionId"}""", "\"abc123def456\"")]
    [InlineData("""{"Get": "Execution.PipelineExecutionArn"}""", "\"arn:aws:sagemaker:us-east-1:000000000000:pipeline/training-pipeline/execution/abc123def456\"")]
    [InlineData("""{"Get": "Execution.StartDateTime"}""", "\"2026-11-25T10:00:00.000Z\"")]
    [InlineData("""{"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri"}""", "\"s3://models/runs/x/validation\"")]
    [InlineData("""{"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri"}""", "\"s3://models/runs/x/train\"")]
    [InlineData("""{"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}""", "\"s3://models/model.tar.gz\"")]
    [InlineData("""{"Get": "Steps.Train.FinalMetricDataList['silhouette'].Value"}""", "0.61")]
    public void Evaluate_Get_ReadsParametersExecutionAndStepProperties(string json, string expected)
    {
        Assert.Equal(expected, Eval(json));
    }

    [Fact]
    public void Evaluate_NestedArguments_ReplacesEveryExpression()
    {
        Assert.Equal(
            """{"Args":["--max-k","10","--data","s3://data/customers.csv"],"Plain":{"x":1}}""",
            Eval("""{"Args": ["--max-k", {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.MaxK"}]}}, "--data", {"Get": "Parameters.DataFile"}], "Plain": {"x": 1}}"""));
    }

    [Fact]
    public void Evaluate_JoinOfMixedValues_RendersNumbersAsJsonLiterals()
    {
        Assert.Equal(
            "\"s3://models/runs/abc123def456/k=10/min=0.25\"",
            Eval("""{"Std:Join": {"On": "/", "Values": ["s3://models/runs", {"Get": "Execution.PipelineExecutionId"}, {"Std:Join": {"On": "=", "Values": ["k", {"Get": "Parameters.MaxK"}]}}, "min=0.25"]}}"""));
    }

    [Theory]
    [InlineData("metrics.silhouette", "0.61")]
    [InlineData("metrics.k", "4")]
    [InlineData("metrics.sizes[1]", "20")]
    [InlineData("metrics['silhouette']", "0.61")]
    [InlineData("['a.b'].c", "\"dotted\"")]
    [InlineData("metrics.label_stability_ari", "null")]
    public void Evaluate_JsonGet_ReadsPropertyFilePaths(string path, string expected)
    {
        Assert.Equal(expected, Eval($$$"""{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}, "Path": "{{{path}}}"}}"""));
    }

    [Fact]
    public void Evaluate_JsonGetByPropertyFileName_FindsProducingStep()
    {
        Assert.Equal("0.61", Eval("""{"Std:JsonGet": {"PropertyFile": "EvaluationReport", "Path": "metrics.silhouette"}}"""));
    }

    [Fact]
    public void Evaluate_JsonGetMissingPath_FailsNamingPathAndFile()
    {
        Assert.Equal(
            "Std:JsonGet: path 'metrics.silhuette' does not exist in property file EvaluationReport of step Evaluate.",
            EvalError("""{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}, "Path": "metrics.silhuette"}}"""));
    }

    [Theory]
    [InlineData("""{"Get": "Parameters.Nope"}""", "Get Parameters.Nope: the pipeline declares no parameter Nope.")]
    [InlineData("""{"Get": "Steps.Deploy.ModelName"}""", "Get Steps.Deploy.ModelName: step Deploy has not run in this execution.")]
    [InlineData("""{"Get": "Steps.Train.ModelArtifacts.Missing"}""", "Get Steps.Train.ModelArtifacts.Missing: step Train has no property ModelArtifacts.Missing.")]
    [InlineData("""{"Get": "Execution.Bogus"}""", "Execution.Bogus is not an execution variable (PipelineExecutionId, PipelineExecutionArn, PipelineName, PipelineArn, StartDateTime, CurrentDateTime).")]
    [InlineData("""{"Get": "Other.X"}""", "Get 'Other.X' is not Parameters.<name>, Execution.<variable> or Steps.<step>.<property>.")]
    [InlineData("""{"Std:Join": {"On": ",", "Values": [{"Get": "Steps.Preprocess.ProcessingOutputConfig"}]}}""", "a Std:Join value must be a primitive value, got {\"Outputs\":[{\"OutputName\":\"train\",\"S3Output\":{\"S3Uri\":\"s3://models/runs/x/train\"}},{\"OutputName\":\"validation\",\"S3Output\":{\"S3Uri\":\"s3://models/runs/x/validation\"}}]}.")]
    public void Evaluate_BadReference_FailsWithClearMessage(string json, string expected)
    {
        Assert.Equal(expected, EvalError(json));
    }

    [Fact]
    public void ReferencedSteps_Arguments_ListsEveryStepRead()
    {
        var node = JsonNode.Parse("""{"a": [{"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}], "b": {"Std:Join": {"Values": [{"Get": "Steps.Preprocess.X"}, {"Get": "Parameters.MaxK"}]}}}""");

        Assert.Equal(["Train", "Preprocess"], ExpressionEvaluator.ReferencedSteps(node));
    }
}
