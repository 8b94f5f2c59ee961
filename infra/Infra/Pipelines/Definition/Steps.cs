using System.Globalization;
using System.Text.Json.Serialization;

namespace CustomerSegmentation.Infra.Pipelines.Definition;

/// <summary>
/// A step of the pipeline. Each concrete step fixes its <c>Type</c> and carries typed <c>Arguments</c> shaped like the
/// SageMaker API request the step makes (CreateProcessingJob, CreateTrainingJob, CreateModel, CreateModelPackage).
/// </summary>
[JsonPolymorphic]
[JsonDerivedType(typeof(ProcessingStep))]
[JsonDerivedType(typeof(TrainingStep))]
[JsonDerivedType(typeof(CreateModelStep))]
[JsonDerivedType(typeof(RegisterModelStep))]
[JsonDerivedType(typeof(ConditionStep))]
[JsonDerivedType(typeof(FailStep))]
[JsonDerivedType(typeof(LambdaStep))]
public abstract record PipelineStep(
    [property: JsonPropertyOrder(-3)] string Name,
    [property: JsonPropertyOrder(-2)] string Type)
{
    /// <summary>Steps that must finish first although no argument references them. Default: none.</summary>
    [JsonPropertyOrder(-1)]
    public IReadOnlyList<string>? DependsOn { get; init; }
}

/// <summary>Step caching: reuse a previous successful run of the step whose arguments were identical.</summary>
/// <param name="Enabled">Whether the step may be answered from the cache.</param>
/// <param name="ExpireAfter">ISO 8601 duration after which a cached run is no longer reused, e.g. <c>P30D</c>.</param>
public sealed record CacheConfig(bool Enabled, string ExpireAfter);

/// <summary>A JSON file a processing step writes to one of its outputs, readable by <see cref="JsonGet"/>.</summary>
public sealed record PropertyFile(string PropertyFileName, string OutputName, string FilePath);

/// <summary><c>Type: Processing</c>: a CreateProcessingJob call.</summary>
public sealed record ProcessingStep(string Name, ProcessingArguments Arguments) : PipelineStep(Name, "Processing")
{
    /// <summary>Caching of this step. Default: none (never cached).</summary>
    public CacheConfig? CacheConfig { get; init; }

    /// <summary>JSON outputs later steps read with <see cref="JsonGet"/>. Default: none.</summary>
    public IReadOnlyList<PropertyFile>? PropertyFiles { get; init; }

    /// <summary><c>Steps.&lt;Name&gt;.ProcessingOutputConfig.Outputs['&lt;output&gt;'].S3Output.S3Uri</c>.</summary>
    public Reference OutputUri(string outputName)
    {
        if (Arguments.ProcessingOutputConfig?.Outputs.Any(o => o.OutputName == outputName) != true)
        {
            throw new ArgumentException($"Step {Name} has no output named '{outputName}'.", nameof(outputName));
        }

        return new Reference(string.Create(CultureInfo.InvariantCulture,
            $"Steps.{Name}.ProcessingOutputConfig.Outputs['{outputName}'].S3Output.S3Uri"));
    }

    /// <summary>The property file <paramref name="propertyFileName"/> of this step, for <see cref="JsonGet"/>.</summary>
    public PropertyFileReference PropertyFile(string propertyFileName) =>
        PropertyFiles?.Any(f => f.PropertyFileName == propertyFileName) == true
            ? new PropertyFileReference(Name, propertyFileName)
            : throw new ArgumentException($"Step {Name} has no property file named '{propertyFileName}'.", nameof(propertyFileName));
}

/// <summary><c>Type: Training</c>: a CreateTrainingJob call.</summary>
public sealed record TrainingStep(string Name, TrainingArguments Arguments) : PipelineStep(Name, "Training")
{
    /// <summary><c>Steps.&lt;Name&gt;.ModelArtifacts.S3ModelArtifacts</c>: the S3 URI of the job's model.tar.gz.</summary>
    [JsonIgnore]
    public Reference ModelArtifacts => new("Steps." + Name + ".ModelArtifacts.S3ModelArtifacts");
}

/// <summary><c>Type: Model</c>: a CreateModel call.</summary>
public sealed record CreateModelStep(string Name, CreateModelArguments Arguments) : PipelineStep(Name, "Model");

/// <summary><c>Type: RegisterModel</c>: a CreateModelPackage call (a new version in a model package group).</summary>
public sealed record RegisterModelStep(string Name, RegisterModelArguments Arguments) : PipelineStep(Name, "RegisterModel")
{
    /// <summary><c>Steps.&lt;Name&gt;.ModelPackageArn</c>: the ARN of the version this step registered.</summary>
    [JsonIgnore]
    public Reference ModelPackageArn => new("Steps." + Name + ".ModelPackageArn");
}

/// <summary><c>Type: Condition</c>: runs <c>IfSteps</c> when every condition holds, otherwise <c>ElseSteps</c>.</summary>
public sealed record ConditionStep(string Name, ConditionArguments Arguments) : PipelineStep(Name, "Condition");

/// <summary>The arguments of a <see cref="ConditionStep"/>; all conditions must hold (a logical AND).</summary>
public sealed record ConditionArguments(IReadOnlyList<Comparison> Conditions, IReadOnlyList<PipelineStep> IfSteps, IReadOnlyList<PipelineStep> ElseSteps);

/// <summary><c>Type: Fail</c>: ends the execution as failed with a message.</summary>
public sealed record FailStep(string Name, FailArguments Arguments) : PipelineStep(Name, "Fail");

/// <summary>The arguments of a <see cref="FailStep"/>.</summary>
public sealed record FailArguments(PipelineValue ErrorMessage);

/// <summary>
/// <c>Type: Lambda</c>: invokes a function synchronously with <paramref name="Arguments"/> as the event; the function's
/// JSON response must carry every output parameter as a top-level member.
/// </summary>
public sealed record LambdaStep(
    string Name,
    IReadOnlyDictionary<string, PipelineValue> Arguments,
    PipelineValue FunctionArn,
    IReadOnlyList<LambdaOutput> OutputParameters) : PipelineStep(Name, "Lambda")
{
    /// <summary><c>Steps.&lt;Name&gt;.OutputParameters['&lt;output&gt;']</c>: a value the function returned.</summary>
    public Reference Output(string outputName) =>
        OutputParameters.Any(o => o.OutputName == outputName)
            ? new Reference(string.Create(CultureInfo.InvariantCulture, $"Steps.{Name}.OutputParameters['{outputName}']"))
            : throw new ArgumentException($"Step {Name} has no output parameter named '{outputName}'.", nameof(outputName));
}

/// <summary>The type of a <see cref="LambdaOutput"/>, as the function returns it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LambdaOutputType>))]
public enum LambdaOutputType
{
    [JsonStringEnumMemberName("String")]
    Text,

    [JsonStringEnumMemberName("Integer")]
    WholeNumber,

    [JsonStringEnumMemberName("Boolean")]
    TrueOrFalse,

    [JsonStringEnumMemberName("Float")]
    Number,
}

/// <summary>A member of a Lambda step's response that later steps may read.</summary>
public sealed record LambdaOutput(string OutputName, LambdaOutputType OutputType = LambdaOutputType.Text);
