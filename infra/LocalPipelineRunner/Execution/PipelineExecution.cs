using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Expressions;
using CustomerSegmentation.LocalPipelineRunner.Steps;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Execution;

/// <summary>
/// Executes one parsed pipeline definition against an S3 endpoint. Everything that can be checked before a step runs
/// (parameters, step types, dependencies) is checked first, so a bad definition never half-runs.
/// Steps run one at a time in dependency order; after a failure no new step starts, as in SageMaker.
/// </summary>
public sealed class PipelineExecution(PipelineDefinition definition, string pipelineName, ObjectStore store, RunnerEnvironment environment, TextWriter log)
{
    private readonly TextWriter _log = TextWriter.Synchronized(log);

    /// <summary>The executors a run uses; register more (for example a Lambda executor) before calling RunAsync.</summary>
    public StepExecutorRegistry Executors { get; } = DefaultExecutors();

    public static StepExecutorRegistry DefaultExecutors() => new StepExecutorRegistry()
        .Register(new ProcessingStepExecutor())
        .Register(new TrainingStepExecutor())
        .Register(new ModelStepExecutor())
        .Register(new RegisterModelStepExecutor())
        .Register(new ConditionStepExecutor())
        .Register(new FailStepExecutor());

    public async Task<ExecutionRecord> RunAsync(
        IReadOnlyDictionary<string, string> parameterOverrides, string? executionId = null, CancellationToken cancellationToken = default)
    {
        var parameters = ParameterValues.Resolve(definition.Parameters, parameterOverrides);
        Executors.EnsureCanRun(definition.Steps);
        var order = StepGraph.Order(definition.Steps);
        var dependencies = StepGraph.Dependencies(definition.Steps);

        var state = new ExecutionState(pipelineName, executionId ?? NewExecutionId(), DateTimeOffset.UtcNow, parameters);
        var expressions = new ExpressionEvaluator(state);
        var executionDirectory = Path.Combine(environment.WorkDirectory, state.ExecutionId);
        Directory.CreateDirectory(executionDirectory);
        await _log.WriteLineAsync($"Pipeline {pipelineName}: execution {state.ExecutionId} ({order.Count} steps) in {executionDirectory}").ConfigureAwait(false);

        var records = new Dictionary<string, StepRecord>(StringComparer.Ordinal);
        var outcomes = new Dictionary<string, bool>(StringComparer.Ordinal);
        string? failure = null;
        foreach (var step in order)
        {
            var runnable = failure is null
                && dependencies[step.Name].All(d => records[d].StepStatus == ExecutionRecord.Succeeded)
                && (step.ConditionStep is null || outcomes[step.ConditionStep] == step.Branch);
            if (!runnable)
            {
                records[step.Name] = new StepRecord(step.Name, step.Type, StepRecord.NotExecuted, null, null, null, null, null);
                continue;
            }

            var context = new StepContext(step, state, expressions, store, environment, Path.Combine(executionDirectory, step.Name), _log);
            Directory.CreateDirectory(context.StepDirectory);
            var record = await RunStepAsync(context, cancellationToken).ConfigureAwait(false);
            records[step.Name] = record.Record;
            if (record.Outcome is { } outcome)
            {
                outcomes[step.Name] = outcome;
            }

            failure ??= record.Record.FailureReason is { } reason ? $"Step {step.Name} failed: {reason}" : null;
        }

        var result = new ExecutionRecord(
            pipelineName,
            state.ExecutionArn,
            state.ExecutionId,
            failure is null ? ExecutionRecord.Succeeded : ExecutionRecord.Failed,
            failure,
            state.StartTime,
            DateTimeOffset.UtcNow,
            parameters,
            definition.Steps.Select(s => records[s.Name]).ToList(),
            executionDirectory);
        await File.WriteAllTextAsync(Path.Combine(executionDirectory, "execution.json"), result.ToJson(), cancellationToken).ConfigureAwait(false);
        result.WriteSummary(_log);
        return result;
    }

    private async Task<(StepRecord Record, bool? Outcome)> RunStepAsync(StepContext context, CancellationToken cancellationToken)
    {
        var step = context.Step;
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        await _log.WriteLineAsync($"[{started:HH:mm:ss}] {step.Name} ({step.Type}) started").ConfigureAwait(false);
        string status;
        string? reason = null;
        JsonObject? metadata = null;
        bool? outcome = null;
        try
        {
            var result = await Executors[step.Type].ExecuteAsync(context, cancellationToken).ConfigureAwait(false);
            context.State.SetStepProperties(step.Name, result.Properties);
            metadata = result.Properties;
            outcome = result.Outcome;
            status = ExecutionRecord.Succeeded;
        }
        catch (StepFailedException e)
        {
            (status, reason) = (ExecutionRecord.Failed, e.Message);
        }
        catch (PipelineRunnerException e)
        {
            // An expression that cannot be evaluated (missing property, bad path, mistyped comparison) fails its step.
            (status, reason) = (ExecutionRecord.Failed, e.Message);
        }

        clock.Stop();
        var seconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
        var branch = outcome is { } o ? $", outcome {o}" : string.Empty;
        await _log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"[{DateTimeOffset.UtcNow:HH:mm:ss}] {step.Name} {status} in {seconds:F1} s{branch}")).ConfigureAwait(false);
        if (reason is not null)
        {
            await _log.WriteLineAsync($"    {reason}").ConfigureAwait(false);
        }

        return (new StepRecord(step.Name, step.Type, status, started, DateTimeOffset.UtcNow, seconds, reason, metadata), outcome);
    }

    /// <summary>12 lower-case letters and digits, like SageMaker's execution ids.</summary>
    public static string NewExecutionId() => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 12);
}
