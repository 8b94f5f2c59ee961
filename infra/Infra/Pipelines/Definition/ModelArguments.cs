namespace CustomerSegmentation.Infra.Pipelines.Definition;

/// <summary>The CreateModel request of a <see cref="CreateModelStep"/>.</summary>
public sealed record CreateModelArguments(PipelineValue ExecutionRoleArn, ContainerDefinition PrimaryContainer);

/// <summary>A serving container: image, model artifacts and environment.</summary>
public sealed record ContainerDefinition(
    PipelineValue Image,
    PipelineValue ModelDataUrl,
    IReadOnlyDictionary<string, PipelineValue> Environment);

/// <summary>The CreateModelPackage request of a <see cref="RegisterModelStep"/>.</summary>
public sealed record RegisterModelArguments(
    PipelineValue ModelPackageGroupName,
    PipelineValue ModelApprovalStatus,
    InferenceSpecification InferenceSpecification,
    ModelMetrics ModelMetrics,
    IReadOnlyDictionary<string, PipelineValue> CustomerMetadataProperties);

/// <summary>How the registered model is served.</summary>
public sealed record InferenceSpecification(
    IReadOnlyList<ContainerDefinition> Containers,
    IReadOnlyList<string> SupportedContentTypes,
    IReadOnlyList<string> SupportedResponseMIMETypes,
    IReadOnlyList<PipelineValue> SupportedRealtimeInferenceInstanceTypes,
    IReadOnlyList<PipelineValue> SupportedTransformInstanceTypes);

/// <summary>Quality reports attached to the model package.</summary>
public sealed record ModelMetrics(ModelQuality ModelQuality);

/// <summary>The model-quality report.</summary>
public sealed record ModelQuality(MetricsSource Statistics);

/// <summary>A metrics file in S3.</summary>
public sealed record MetricsSource(string ContentType, PipelineValue S3Uri);
