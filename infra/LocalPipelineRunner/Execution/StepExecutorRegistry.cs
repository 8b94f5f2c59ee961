using CustomerSegmentation.LocalPipelineRunner.Definition;

namespace CustomerSegmentation.LocalPipelineRunner.Execution;

/// <summary>The step types the runner can execute; a step of any other type is refused before anything runs.</summary>
public sealed class StepExecutorRegistry
{
    private readonly Dictionary<string, IStepExecutor> _executors = new(StringComparer.Ordinal);

    public StepExecutorRegistry Register(IStepExecutor executor)
    {
        ArgumentNullException.ThrowIfNull(executor);
        _executors[executor.StepType] = executor;
        return this;
    }

    public IEnumerable<string> StepTypes => _executors.Keys.Order(StringComparer.Ordinal);

    public IStepExecutor this[string stepType] => _executors[stepType];

    /// <summary>Fails with one line per step whose type has no executor.</summary>
    public void EnsureCanRun(IEnumerable<PipelineStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var refused = steps
            .Where(s => !_executors.ContainsKey(s.Type))
            .Select(s => $"step {s.Name} of type {s.Type} cannot run locally: the local runner has no executor for {s.Type} steps " +
                $"(it runs {string.Join(", ", StepTypes)}).")
            .ToList();
        if (refused.Count > 0)
        {
            throw new PipelineRunnerException(string.Join(Environment.NewLine, refused));
        }
    }
}
