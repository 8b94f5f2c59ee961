using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Execution;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

public class StepGraphTests
{
    private static PipelineDefinition Parse(string steps) =>
        PipelineDefinition.Parse((JsonObject)JsonNode.Parse($$$"""{"Version": "2020-12-01", "Parameters": [], "Steps": {{{steps}}} }""")!);

    private static string OrderOf(string steps) => string.Join(",", StepGraph.Order(Parse(steps).Steps).Select(s => s.Name));

    [Fact]
    public void Order_DataDependencyListedLater_RunsProducerFirst()
    {
        Assert.Equal("Prep,Train", OrderOf("""
            [{"Name": "Train", "Type": "Training", "Arguments": {"X": {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['a'].S3Output.S3Uri"}}},
             {"Name": "Prep", "Type": "Processing", "Arguments": {}}]
            """));
    }

    [Fact]
    public void Order_DependsOn_IsHonoured()
    {
        Assert.Equal("B,A", OrderOf("""[{"Name": "A", "Type": "Fail", "DependsOn": ["B"]}, {"Name": "B", "Type": "Fail"}]"""));
    }

    [Fact]
    public void Order_PropertyFileReadByName_DependsOnDeclaringStep()
    {
        Assert.Equal("Eval,Gate", OrderOf("""
            [{"Name": "Gate", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": {"Std:JsonGet": {"PropertyFile": "Report", "Path": "a"}}, "RightValue": 1}]}},
             {"Name": "Eval", "Type": "Processing", "Arguments": {}, "PropertyFiles": [{"PropertyFileName": "Report", "OutputName": "o", "FilePath": "r.json"}]}]
            """));
    }

    [Fact]
    public void Parse_ConditionBranches_FlattensWithBranchAndOrdersAfterCondition()
    {
        var definition = Parse("""
            [{"Name": "Gate", "Type": "Condition", "Arguments": {"Conditions": [],
               "IfSteps": [{"Name": "Register", "Type": "RegisterModel", "Arguments": {"X": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}}],
               "ElseSteps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "no"}}]}},
             {"Name": "Train", "Type": "Training", "Arguments": {}}]
            """);

        var register = definition.Steps.Single(s => s.Name == "Register");
        var stop = definition.Steps.Single(s => s.Name == "Stop");
        Assert.Equal(("Gate", true), (register.ConditionStep, register.Branch));
        Assert.Equal(("Gate", false), (stop.ConditionStep, stop.Branch));
        Assert.Equal(["Gate", "Train"], StepGraph.Dependencies(definition.Steps)["Register"].Order());
        Assert.Equal("Gate,Stop,Train,Register", string.Join(",", StepGraph.Order(definition.Steps).Select(s => s.Name)));
    }

    [Fact]
    public void Order_UnknownDependency_FailsNamingBoth()
    {
        Assert.Equal("Step A depends on step Ghost, which the definition does not have.",
            Assert.Throws<PipelineRunnerException>(() => OrderOf("""[{"Name": "A", "Type": "Fail", "DependsOn": ["Ghost"]}]""")).Message);
    }

    [Fact]
    public void Order_Cycle_FailsNamingSteps()
    {
        Assert.Equal("Steps A, B depend on each other in a cycle.",
            Assert.Throws<PipelineRunnerException>(() => OrderOf("""[{"Name": "A", "Type": "Fail", "DependsOn": ["B"]}, {"Name": "B", "Type": "Fail", "DependsOn": ["A"]}]""")).Message);
    }

    [Fact]
    public void Order_SelfReference_Fails()
    {
        Assert.Equal("Step A depends on itself.",
            Assert.Throws<PipelineRunnerException>(() => OrderOf("""[{"Name": "A", "Type": "Processing", "Arguments": {"X": {"Get": "Steps.A.ProcessingJobName"}}}]""")).Message);
    }

    [Fact]
    public void Parse_DuplicateStepName_Fails()
    {
        Assert.Equal("Step name A is used more than once.",
            Assert.Throws<PipelineRunnerException>(() => Parse("""[{"Name": "A", "Type": "Fail"}, {"Name": "G", "Type": "Condition", "Arguments": {"IfSteps": [{"Name": "A", "Type": "Fail"}]}}]""")).Message);
    }

    [Fact]
    public void EnsureCanRun_UnsupportedTypes_RefusesEachClearly()
    {
        var definition = Parse("""[{"Name": "Deploy", "Type": "Lambda"}, {"Name": "Score", "Type": "Transform"}, {"Name": "Stop", "Type": "Fail"}]""");

        var error = Assert.Throws<PipelineRunnerException>(() => PipelineExecution.DefaultExecutors().EnsureCanRun(definition.Steps)).Message;

        Assert.Equal(
            "step Deploy of type Lambda cannot run locally: the local runner has no executor for Lambda steps (it runs Condition, Fail, Model, Processing, RegisterModel, Training)." +
            Environment.NewLine +
            "step Score of type Transform cannot run locally: the local runner has no executor for Transform steps (it runs Condition, Fail, Model, Processing, RegisterModel, Training).",
            error);
    }
}
