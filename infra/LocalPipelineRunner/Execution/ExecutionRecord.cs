using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace CustomerSegmentation.LocalPipelineRunner.Execution;

/// <summary>
/// The outcome of one execution, shaped like DescribePipelineExecution + ListPipelineExecutionSteps, written as
/// execution.json next to the step directories.
/// </summary>
public sealed record ExecutionRecord(
    string PipelineName,
    string PipelineExecutionArn,
    string PipelineExecutionId,
    string PipelineExecutionStatus,
    string? FailureReason,
    DateTimeOffset StartTime,
    DateTimeOffset EndTime,
    IReadOnlyDictionary<string, JsonNode?> Parameters,
    IReadOnlyList<StepRecord> Steps,
    string ExecutionDirectory)
{
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";

    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public StepRecord Step(string name) => Steps.Single(s => s.StepName == name);

    public string ToJson() => JsonSerializer.Serialize(this, WriteOptions);

    public static ExecutionRecord FromJson(string json) =>
        JsonSerializer.Deserialize<ExecutionRecord>(json) ?? throw new PipelineRunnerException("The execution record is empty.");

    public void WriteSummary(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var total = (EndTime - StartTime).TotalSeconds;
        writer.WriteLine();
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Pipeline {PipelineName} execution {PipelineExecutionId}: {PipelineExecutionStatus} in {total:F1} s"));
        var width = Steps.Select(s => s.StepName.Length).DefaultIfEmpty(4).Max();
        foreach (var step in Steps)
        {
            var duration = step.DurationSeconds is { } d ? string.Create(CultureInfo.InvariantCulture, $"{d,7:F1} s") : "        -";
            writer.WriteLine($"  {step.StepName.PadRight(width)}  {step.StepType,-13} {step.StepStatus,-12} {duration}");
        }

        if (FailureReason is not null)
        {
            writer.WriteLine($"Failure reason: {FailureReason}");
        }

        writer.WriteLine($"Record: {Path.Combine(ExecutionDirectory, "execution.json")}");
    }
}

/// <summary>One step's outcome. StepStatus is Succeeded, Failed or NotExecuted (not reached, or its branch not taken).</summary>
public sealed record StepRecord(
    string StepName,
    string StepType,
    string StepStatus,
    DateTimeOffset? StartTime,
    DateTimeOffset? EndTime,
    double? DurationSeconds,
    string? FailureReason,
    JsonObject? Metadata)
{
    public const string NotExecuted = "NotExecuted";
}
