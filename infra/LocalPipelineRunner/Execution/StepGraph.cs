using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Expressions;

namespace CustomerSegmentation.LocalPipelineRunner.Execution;

/// <summary>
/// The order steps run in: after everything they name in DependsOn, every step whose properties or property files
/// they read, and (for branch steps) their Condition step. Ties keep definition order, so runs are reproducible.
/// </summary>
public static class StepGraph
{
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> Dependencies(IReadOnlyList<PipelineStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var names = steps.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var propertyFileOwners = steps
            .SelectMany(s => s.PropertyFiles.Select(p => (p.Name, Step: s.Name)))
            .GroupBy(p => p.Name)
            .ToDictionary(g => g.Key, g => g.First().Step, StringComparer.Ordinal);
        var result = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            var ownArguments = step.Type == "Condition" ? WithoutBranches(step.Arguments) : step.Arguments;
            var dependencies = new HashSet<string>(step.DependsOn, StringComparer.Ordinal);
            dependencies.UnionWith(ExpressionEvaluator.ReferencedSteps(ownArguments));
            dependencies.UnionWith(PropertyFileNames(ownArguments).Select(
                name => propertyFileOwners.TryGetValue(name, out var owner)
                    ? owner
                    : throw new PipelineRunnerException($"Step {step.Name} reads property file {name}, which no step declares.")));
            if (step.ConditionStep is not null)
            {
                dependencies.Add(step.ConditionStep);
            }

            var unknown = dependencies.FirstOrDefault(d => !names.Contains(d));
            if (unknown is not null)
            {
                throw new PipelineRunnerException($"Step {step.Name} depends on step {unknown}, which the definition does not have.");
            }

            if (dependencies.Contains(step.Name))
            {
                throw new PipelineRunnerException($"Step {step.Name} depends on itself.");
            }

            result[step.Name] = dependencies;
        }

        return result;
    }

    /// <summary>Topological order; a cycle is an error naming the steps in it.</summary>
    public static IReadOnlyList<PipelineStep> Order(IReadOnlyList<PipelineStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var dependencies = Dependencies(steps);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var ordered = new List<PipelineStep>();
        while (ordered.Count < steps.Count)
        {
            var next = steps.FirstOrDefault(s => !done.Contains(s.Name) && dependencies[s.Name].All(done.Contains))
                ?? throw new PipelineRunnerException(
                    $"Steps {string.Join(", ", steps.Where(s => !done.Contains(s.Name)).Select(s => s.Name))} depend on each other in a cycle.");
            done.Add(next.Name);
            ordered.Add(next);
        }

        return ordered;
    }

    private static JsonObject WithoutBranches(JsonObject arguments)
    {
        var copy = (JsonObject)arguments.DeepClone();
        copy.Remove("IfSteps");
        copy.Remove("ElseSteps");
        return copy;
    }

    private static IEnumerable<string> PropertyFileNames(JsonNode? node) => node switch
    {
        JsonObject obj when obj["Std:JsonGet"]?["PropertyFile"] is JsonValue v && v.TryGetValue<string>(out var name) => [name],
        JsonObject obj => obj.SelectMany(p => PropertyFileNames(p.Value)),
        JsonArray array => array.SelectMany(PropertyFileNames),
        _ => [],
    };
}
