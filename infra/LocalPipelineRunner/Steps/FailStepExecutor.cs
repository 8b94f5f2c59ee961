using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Expressions;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>A Fail step: stops the execution as Failed with its evaluated ErrorMessage as the reason.</summary>
public sealed class FailStepExecutor : IStepExecutor
{
    public string StepType => "Fail";

    public Task<StepResult> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Step.Arguments["ErrorMessage"] is { } error
            ? ExpressionEvaluator.ToText(context.Expressions.Evaluate(error), $"Step {context.Step.Name} ErrorMessage")
            : string.Empty;
        throw new StepFailedException(message);
    }
}
