using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws;
using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Expressions;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>
/// A Lambda step: the function the step's FunctionArn names (a function of the stack, run by the local Lambda service)
/// is invoked synchronously with the evaluated Arguments as its event; each declared output parameter is read from the
/// top level of its JSON response, checked against its OutputType (String, Integer, Boolean, Float) and exposed as
/// <c>Steps.&lt;step&gt;.OutputParameters['&lt;name&gt;']</c>. A function error, a response that is not a JSON object or an
/// output that is missing or of the wrong type fails the step. The event and the response are kept in the step directory.
/// </summary>
public sealed class LambdaStepExecutor(LocalLambdaService lambda) : IStepExecutor
{
    public string StepType => "Lambda";

    /// <summary>The FunctionArn of a Lambda step, as written in the definition (before evaluation).</summary>
    public static JsonNode? FunctionArnOf(PipelineStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return step.Raw["FunctionArn"];
    }

    public async Task<StepResult> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var step = context.Step;
        var functionArn = ExpressionEvaluator.ToText(context.Expressions.Evaluate(FunctionArnOf(step)), $"Step {step.Name} FunctionArn");
        var outputs = Outputs(step);
        var payload = (JsonObject)context.Expressions.Evaluate(step.Arguments)!;
        await File.WriteAllTextAsync(Path.Combine(context.StepDirectory, "event.json"), payload.ToJsonString(), cancellationToken).ConfigureAwait(false);

        LambdaInvocationResult result;
        try
        {
            result = await lambda.Function(functionArn).InvokeAsync(payload.ToJsonString(), cancellationToken).ConfigureAwait(false);
        }
        catch (LocalAwsException exception)
        {
            throw new StepFailedException($"ClientError: {exception.Message}", exception);
        }

        await File.WriteAllBytesAsync(Path.Combine(context.StepDirectory, "response.json"), result.Payload, cancellationToken).ConfigureAwait(false);
        if (result.IsError)
        {
            throw new StepFailedException($"ClientError: Lambda function {functionArn} failed: {result.ErrorType}: {result.ErrorMessage}");
        }

        JsonObject response;
        try
        {
            response = JsonNode.Parse(result.Payload) as JsonObject
                ?? throw new StepFailedException($"ClientError: Lambda function {functionArn} answered {result.PayloadText}, not a JSON object with the output parameters.");
        }
        catch (JsonException exception)
        {
            throw new StepFailedException($"ClientError: Lambda function {functionArn} answered something that is not JSON: {exception.Message}", exception);
        }

        var values = new JsonObject();
        foreach (var (name, type) in outputs)
        {
            if (!response.TryGetPropertyValue(name, out var value))
            {
                throw new StepFailedException($"ClientError: Lambda function {functionArn} answered no output parameter '{name}' (it answered {string.Join(", ", response.Select(m => m.Key))}).");
            }

            values[name] = Typed(value, type)
                ?? throw new StepFailedException($"ClientError: output parameter '{name}' is {value?.ToJsonString() ?? "null"}, not a {type}.");
        }

        return new StepResult(new JsonObject { ["FunctionArn"] = functionArn, ["OutputParameters"] = values });
    }

    private static List<(string Name, string Type)> Outputs(PipelineStep step)
    {
        var outputs = new List<(string, string)>();
        foreach (var output in step.Raw["OutputParameters"] as JsonArray ?? [])
        {
            var name = (string?)output?["OutputName"] ?? throw new StepFailedException($"ValidationException: step {step.Name} has an output parameter without OutputName.");
            var type = (string?)output?["OutputType"] ?? "String";
            if (type is not ("String" or "Integer" or "Boolean" or "Float"))
            {
                throw new StepFailedException($"ValidationException: output parameter {name} of step {step.Name} has OutputType '{type}', not String, Integer, Boolean or Float.");
            }

            outputs.Add((name, type));
        }

        return outputs;
    }

    private static JsonNode? Typed(JsonNode? value, string type)
    {
        if (value is not JsonValue scalar)
        {
            return null;
        }

        return (type, scalar.GetValueKind()) switch
        {
            ("String", JsonValueKind.String) => scalar.DeepClone(),
            ("Integer", JsonValueKind.Number) when scalar.TryGetValue<long>(out var whole) => whole,
            ("Float", JsonValueKind.Number) => scalar.GetValue<double>(),
            ("Boolean", JsonValueKind.True or JsonValueKind.False) => scalar.DeepClone(),
            _ => null,
        };
    }
}
