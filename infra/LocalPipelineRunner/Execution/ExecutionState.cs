using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalPipelineRunner.Execution;

/// <summary>What later steps of one execution can read: parameters, execution variables, step properties, property files.</summary>
public sealed class ExecutionState
{
    private readonly Dictionary<string, JsonObject> _stepProperties = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonNode?> _propertyFiles = new(StringComparer.Ordinal);

    public ExecutionState(string pipelineName, string executionId, DateTimeOffset startTime, IReadOnlyDictionary<string, JsonNode?> parameters)
    {
        PipelineName = pipelineName;
        ExecutionId = executionId;
        StartTime = startTime;
        Parameters = parameters;
    }

    public string PipelineName { get; }

    public string ExecutionId { get; }

    public DateTimeOffset StartTime { get; }

    public IReadOnlyDictionary<string, JsonNode?> Parameters { get; }

    public string PipelineArn => $"arn:aws:sagemaker:{LocalAccount.Region}:{LocalAccount.AccountId}:pipeline/{PipelineName.ToLowerInvariant()}";

    public string ExecutionArn => $"{PipelineArn}/execution/{ExecutionId}";

    /// <summary>SageMaker's execution variables, as <c>{"Get": "Execution.&lt;name&gt;"}</c> reads them.</summary>
    public JsonNode? ExecutionVariable(string name) => name switch
    {
        "PipelineExecutionId" => ExecutionId,
        "PipelineExecutionArn" => ExecutionArn,
        "PipelineName" => PipelineName,
        "PipelineArn" => PipelineArn,
        "StartDateTime" => StartTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
        "CurrentDateTime" => DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new PipelineRunnerException(
            $"Execution.{name} is not an execution variable (PipelineExecutionId, PipelineExecutionArn, PipelineName, PipelineArn, StartDateTime, CurrentDateTime)."),
    };

    public void SetStepProperties(string step, JsonObject properties) => _stepProperties[step] = properties;

    public JsonObject? StepProperties(string step) => _stepProperties.GetValueOrDefault(step);

    public void SetPropertyFile(string step, string name, JsonNode? content) => _propertyFiles[$"{step}/{name}"] = content;

    public bool TryGetPropertyFile(string step, string name, out JsonNode? content) =>
        _propertyFiles.TryGetValue($"{step}/{name}", out content);

    /// <summary>The step that produced the property file <paramref name="name"/>, for the older name-only reference form.</summary>
    public string? PropertyFileOwner(string name) =>
        _propertyFiles.Keys.Select(k => k.Split('/', 2)).Where(p => p[1] == name).Select(p => p[0]).FirstOrDefault();
}
