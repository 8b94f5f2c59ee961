using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using static CustomerSegmentation.LocalPipelineRunner.Steps.ArgumentReader;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>A Model step (CreateModel arguments): the model is recorded as JSON in the work directory's models folder.</summary>
public sealed class ModelStepExecutor : IStepExecutor
{
    public string StepType => "Model";

    public async Task<StepResult> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = (JsonObject)context.Expressions.Evaluate(context.Step.Arguments)!;
        var containers = arguments["PrimaryContainer"] is JsonObject primary ? [primary] : Array(arguments["Containers"], "Containers").ToList();
        if (containers.Count == 0)
        {
            throw new StepFailedException("ValidationException: a model needs PrimaryContainer or Containers.");
        }

        foreach (var container in containers)
        {
            RequiredString(container?["Image"], "PrimaryContainer.Image");
            StringMap(container?["Environment"], "PrimaryContainer.Environment");
        }

        await ModelData.EnsureExistsAsync(context, containers, cancellationToken).ConfigureAwait(false);
        var name = context.JobName;
        arguments["ModelName"] = name;
        arguments["ModelArn"] = $"arn:aws:sagemaker:{LocalAccount.Region}:{LocalAccount.AccountId}:model/{name.ToLowerInvariant()}";
        arguments["CreationTime"] = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        arguments["PipelineExecutionArn"] = context.State.ExecutionArn;
        await ModelData.WriteJsonAsync(Path.Combine(context.Environment.ModelsDirectory, $"{name}.json"), arguments, cancellationToken).ConfigureAwait(false);
        return new StepResult(arguments);
    }
}
