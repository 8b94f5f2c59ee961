namespace CustomerSegmentation.Infra.Pipelines.Definition;

/// <summary>
/// The CreateProcessingJob request of a <see cref="ProcessingStep"/>. <paramref name="ProcessingOutputConfig"/> is null
/// for a job whose results go elsewhere (a table, say) and that uploads no folder.
/// </summary>
public sealed record ProcessingArguments(
    ProcessingResources ProcessingResources,
    AppSpecification AppSpecification,
    PipelineValue RoleArn,
    IReadOnlyList<ProcessingInput> ProcessingInputs,
    ProcessingOutputConfig? ProcessingOutputConfig,
    StoppingCondition StoppingCondition);

/// <summary>The instances a processing job runs on.</summary>
public sealed record ProcessingResources(InstanceConfig ClusterConfig);

/// <summary>Instance type, count and volume: a processing job's ClusterConfig or a training job's ResourceConfig.</summary>
public sealed record InstanceConfig(PipelineValue InstanceType, int InstanceCount, int VolumeSizeInGB);

/// <summary>The container of a processing job: image, entrypoint and arguments (default: none).</summary>
public sealed record AppSpecification(
    PipelineValue ImageUri,
    IReadOnlyList<PipelineValue> ContainerEntrypoint,
    IReadOnlyList<PipelineValue>? ContainerArguments = null);

/// <summary>An S3 object or prefix copied into the processing container before the script starts.</summary>
public sealed record ProcessingInput(string InputName, S3Input S3Input);

/// <summary>Where an input comes from and where it lands; SageMaker's defaults for a whole-prefix file copy.</summary>
public sealed record S3Input(PipelineValue S3Uri, string LocalPath)
{
    public string S3DataType { get; init; } = "S3Prefix";

    public string S3InputMode { get; init; } = "File";

    public string S3DataDistributionType { get; init; } = "FullyReplicated";

    public string S3CompressionType { get; init; } = "None";
}

/// <summary>The outputs of a processing job.</summary>
public sealed record ProcessingOutputConfig(IReadOnlyList<ProcessingOutput> Outputs);

/// <summary>A container folder uploaded to S3 when the processing job ends.</summary>
public sealed record ProcessingOutput(string OutputName, S3Output S3Output);

/// <summary>Where an output folder is uploaded.</summary>
public sealed record S3Output(PipelineValue S3Uri, string LocalPath)
{
    public string S3UploadMode { get; init; } = "EndOfJob";
}

/// <summary>The longest a job may run before SageMaker stops it.</summary>
public sealed record StoppingCondition(int MaxRuntimeInSeconds);

/// <summary>The CreateTrainingJob request of a <see cref="TrainingStep"/>.</summary>
public sealed record TrainingArguments(
    AlgorithmSpecification AlgorithmSpecification,
    IReadOnlyDictionary<string, PipelineValue> HyperParameters,
    IReadOnlyList<Channel> InputDataConfig,
    OutputDataConfig OutputDataConfig,
    InstanceConfig ResourceConfig,
    PipelineValue RoleArn,
    StoppingCondition StoppingCondition);

/// <summary>The training image and the metrics SageMaker scrapes from its log.</summary>
public sealed record AlgorithmSpecification(PipelineValue TrainingImage, IReadOnlyList<MetricDefinition> MetricDefinitions)
{
    public string TrainingInputMode { get; init; } = "File";
}

/// <summary>A training metric: the first capture group of <paramref name="Regex"/> in the job's log lines.</summary>
public sealed record MetricDefinition(string Name, string Regex);

/// <summary>A training input channel, mounted at <c>/opt/ml/input/data/&lt;ChannelName&gt;</c>.</summary>
public sealed record Channel(string ChannelName, DataSource DataSource, string ContentType);

/// <summary>The source of a channel.</summary>
public sealed record DataSource(S3DataSource S3DataSource);

/// <summary>An S3 prefix copied into the training container.</summary>
public sealed record S3DataSource(PipelineValue S3Uri)
{
    public string S3DataType { get; init; } = "S3Prefix";

    public string S3DataDistributionType { get; init; } = "FullyReplicated";
}

/// <summary>Where the training job's model.tar.gz goes: <c>&lt;S3OutputPath&gt;/&lt;job name&gt;/output/model.tar.gz</c>.</summary>
public sealed record OutputDataConfig(PipelineValue S3OutputPath);
