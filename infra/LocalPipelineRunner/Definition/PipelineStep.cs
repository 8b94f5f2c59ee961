using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalPipelineRunner.Definition;

/// <summary>
/// One step of a definition. Steps nested in a Condition step's IfSteps/ElseSteps carry the condition's name and the
/// branch, so the runner executes them only when that branch is taken.
/// </summary>
public sealed record PipelineStep(
    string Name,
    string Type,
    JsonObject Arguments,
    IReadOnlyList<string> DependsOn,
    JsonObject Raw,
    string? ConditionStep = null,
    bool? Branch = null)
{
    /// <summary>The step's PropertyFiles (Processing steps), keyed by PropertyFileName.</summary>
    public IReadOnlyList<PropertyFileDeclaration> PropertyFiles { get; init; } = [];
}

/// <summary>A JSON file from one of a step's outputs whose values later steps read with Std:JsonGet.</summary>
public sealed record PropertyFileDeclaration(string Name, string OutputName, string FilePath);
