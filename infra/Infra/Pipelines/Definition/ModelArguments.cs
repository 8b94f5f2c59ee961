namespace CustomerSegmentation.Infra.Pipelines.Definition;

/// <summary>The CreateModel request of a <see cref="CreateModelStep"/>.</summary>
public sealed record CreateModelArguments(PipelineValue ExecutionRoleArn, ContainerDefinition PrimaryContainer);

/// <summary>A serving container: image, model artifacts and environment (default: none, the image's own).</summary>
public sealed record ContainerDefinition(
    PipelineValue Image,
    PipelineValue ModelDataUrl,
    IReadOnlyDictionary<string, PipelineValue>? Environment = null);

/// <summary>
/// The CreateModelPackage request of a <see cref="RegisterModelStep"/>. Quality reports and metadata are optional
/// (default: none).
/// </summary>
public sealed record RegisterModelArguments(
    PipelineValue ModelPackageGroupName,
    PipelineValue ModelApprovalStatus,
    InferenceSpecification InferenceSpecification,
    ModelMetrics? ModelMetrics = null,
    IReadOnlyDictionary<string, PipelineValue>? CustomerMetadataProperties = null);

/// <summary>
/// How the registered model is served. The instance types are optional (default: none, any instance type): a model
/// that is only recorded in the registry, never deployed, names none.
/// </summary>
public sealed record InferenceSpecification(
    IReadOnlyList<ContainerDefinition> Containers,
    IReadOnlyList<string> SupportedContentTypes,
    IReadOnlyList<string> SupportedResponseMIMETypes,
    IReadOnlyList<PipelineValue>? SupportedRealtimeInferenceInstanceTypes = null,
    IReadOnlyList<PipelineValue>? SupportedTransformInstanceTypes = null);

/// <summary>Quality reports attached to the model package.</summary>
public sealed record ModelMetrics(ModelQuality ModelQuality);

/// <summary>The model-quality report.</summary>
public sealed record ModelQuality(MetricsSource Statistics);

/// <summary>A metrics file in S3.</summary>
public sealed record MetricsSource(string ContentType, PipelineValue S3Uri);
