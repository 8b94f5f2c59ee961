using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Expressions;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Execution;

/// <summary>Runs the steps of one SageMaker step type locally. Register one per type in a <see cref="StepExecutorRegistry"/>.</summary>
public interface IStepExecutor
{
    /// <summary>The definition's step Type this executor runs (Processing, Training, Model, ...).</summary>
    string StepType { get; }

    /// <summary>
    /// Runs the step. A failure the step itself produced (exit code, missing input, Fail step) is a
    /// <see cref="StepFailedException"/> carrying SageMaker's FailureReason.
    /// </summary>
    Task<StepResult> ExecuteAsync(StepContext context, CancellationToken cancellationToken);
}

/// <summary>What a step exposes to later steps (its Describe* properties) and, for Condition steps, the branch taken.</summary>
public sealed record StepResult(JsonObject Properties, bool? Outcome = null);

/// <summary>Everything a step executor may use: the step, the execution, storage and its own directory.</summary>
public sealed record StepContext(
    PipelineStep Step,
    ExecutionState State,
    ExpressionEvaluator Expressions,
    ObjectStore Store,
    RunnerEnvironment Environment,
    string StepDirectory,
    TextWriter Log)
{
    /// <summary>SageMaker's job names are "pipelines-&lt;execution&gt;-&lt;step&gt;" style, at most 63 characters of [a-zA-Z0-9-].</summary>
    public string JobName
    {
        get
        {
            var name = new string($"pipelines-{State.ExecutionId}-{Step.Name}".Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
            return name.Length <= 63 ? name : name[..63];
        }
    }
}

/// <summary>The machine-level settings every step shares.</summary>
public sealed record RunnerEnvironment(string WorkDirectory, string Python)
{
    /// <summary>The local DynamoDB the steps reach through AWS_ENDPOINT_URL_DYNAMODB. Default: none.</summary>
    public Uri? DynamoDbEndpoint { get; init; }

    /// <summary>Local stand-in for the SageMaker model registry: model packages and models as JSON files.</summary>
    public string RegistryDirectory => Path.Combine(WorkDirectory, "model-registry");

    public string ModelsDirectory => Path.Combine(WorkDirectory, "models");
}

/// <summary>The step failed the way a SageMaker job fails; the message is its FailureReason.</summary>
public sealed class StepFailedException : Exception
{
    public StepFailedException(string message)
        : base(message)
    {
    }

    public StepFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StepFailedException()
    {
    }
}
