using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalPipelineRunner.Definition;

/// <summary>A SageMaker pipeline definition (schema version 2020-12-01): its parameters and all steps, branches flattened.</summary>
public sealed class PipelineDefinition
{
    private PipelineDefinition(IReadOnlyList<PipelineParameter> parameters, IReadOnlyList<PipelineStep> steps)
    {
        Parameters = parameters;
        Steps = steps;
    }

    public IReadOnlyList<PipelineParameter> Parameters { get; }

    /// <summary>Top-level steps in definition order, each condition's branch steps right after it.</summary>
    public IReadOnlyList<PipelineStep> Steps { get; }

    public static PipelineDefinition Parse(JsonObject definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var parameters = (definition[nameof(Parameters)] as JsonArray ?? []).Select(PipelineParameter.FromJson).ToList();
        var duplicateParameter = parameters.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicateParameter is not null)
        {
            throw new PipelineRunnerException($"Pipeline parameter {duplicateParameter.Key} is declared more than once.");
        }

        var steps = new List<PipelineStep>();
        foreach (var step in definition[nameof(Steps)] as JsonArray ?? [])
        {
            AddStep(step, null, null, steps);
        }

        if (steps.Count == 0)
        {
            throw new PipelineRunnerException("The pipeline definition has no Steps.");
        }

        var duplicateStep = steps.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicateStep is not null)
        {
            throw new PipelineRunnerException($"Step name {duplicateStep.Key} is used more than once.");
        }

        return new PipelineDefinition(parameters, steps);
    }

    private static void AddStep(JsonNode? node, string? condition, bool? branch, List<PipelineStep> steps)
    {
        if (node is not JsonObject raw || (string?)raw["Name"] is not { } name || (string?)raw["Type"] is not { } type)
        {
            throw new PipelineRunnerException($"A step has no Name or Type: {node?.ToJsonString()}.");
        }

        var arguments = raw["Arguments"] as JsonObject ?? [];
        var dependsOn = (raw["DependsOn"] as JsonArray ?? []).Select(d => (string?)d ?? string.Empty).ToList();
        var propertyFiles = (raw["PropertyFiles"] as JsonArray ?? [])
            .Select(p => new PropertyFileDeclaration(
                (string?)p?["PropertyFileName"] ?? throw new PipelineRunnerException($"Step {name}: a PropertyFile has no PropertyFileName."),
                (string?)p?["OutputName"] ?? throw new PipelineRunnerException($"Step {name}: PropertyFile has no OutputName."),
                (string?)p?["FilePath"] ?? throw new PipelineRunnerException($"Step {name}: PropertyFile has no FilePath.")))
            .ToList();
        steps.Add(new PipelineStep(name, type, arguments, dependsOn, raw, condition, branch) { PropertyFiles = propertyFiles });
        if (type != "Condition")
        {
            return;
        }

        foreach (var child in arguments["IfSteps"] as JsonArray ?? [])
        {
            AddStep(child, name, true, steps);
        }

        foreach (var child in arguments["ElseSteps"] as JsonArray ?? [])
        {
            AddStep(child, name, false, steps);
        }
    }
}
