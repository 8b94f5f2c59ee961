using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Expressions;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>A Condition step: all Conditions true takes the IfSteps branch, otherwise the ElseSteps branch.</summary>
public sealed class ConditionStepExecutor : IStepExecutor
{
    public string StepType => "Condition";

    public Task<StepResult> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var conditions = context.Step.Arguments["Conditions"] as JsonArray
            ?? throw new StepFailedException($"ValidationException: Condition step {context.Step.Name} has no Conditions list.");
        var outcome = new ConditionEvaluator(context.Expressions).All(conditions);
        return Task.FromResult(new StepResult(new JsonObject { ["Outcome"] = outcome ? "True" : "False" }, outcome));
    }
}
