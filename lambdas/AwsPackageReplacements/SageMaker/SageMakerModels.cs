namespace CustomerSegmentation.AwsPackageReplacements.SageMaker;

// Request and response shapes of the SageMaker operations the EndpointDeployer calls, named member for member after
// botocore's sagemaker/2017-07-24/service-2.json (a test checks every name against that model). Only the members the
// platform uses are present; enums are plain strings, as the official SDK's ConstantClass values are on the wire.
// botocore-required request members are C# required members.

public sealed record Tag
{
    public required string Key { get; init; }
    public required string Value { get; init; }
}

public sealed record ContainerDefinition
{
    public string? ContainerHostname { get; init; }
    public string? Image { get; init; }
    public string? Mode { get; init; }
    public string? ModelDataUrl { get; init; }
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public string? ModelPackageName { get; init; }
}

public sealed record VpcConfig
{
    public required IReadOnlyList<string> SecurityGroupIds { get; init; }
    public required IReadOnlyList<string> Subnets { get; init; }
}

public sealed record DescribeModelPackageRequest
{
    public required string ModelPackageName { get; init; }
}

public sealed record ModelPackageContainerDefinition
{
    public string? ContainerHostname { get; init; }
    public string? Image { get; init; }
    public string? ImageDigest { get; init; }
    public string? ModelDataUrl { get; init; }
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public string? Framework { get; init; }
    public string? FrameworkVersion { get; init; }
}

public sealed record InferenceSpecification
{
    public IReadOnlyList<ModelPackageContainerDefinition>? Containers { get; init; }
    public IReadOnlyList<string>? SupportedTransformInstanceTypes { get; init; }
    public IReadOnlyList<string>? SupportedRealtimeInferenceInstanceTypes { get; init; }
    public IReadOnlyList<string>? SupportedContentTypes { get; init; }
    public IReadOnlyList<string>? SupportedResponseMIMETypes { get; init; }
}

public sealed record MetricsSource
{
    public string? ContentType { get; init; }
    public string? ContentDigest { get; init; }
    public string? S3Uri { get; init; }
}

public sealed record ModelQuality
{
    public MetricsSource? Statistics { get; init; }
    public MetricsSource? Constraints { get; init; }
}

public sealed record ModelMetrics
{
    public ModelQuality? ModelQuality { get; init; }
}

public sealed record DescribeModelPackageResponse
{
    public string? ModelPackageName { get; init; }
    public string? ModelPackageGroupName { get; init; }
    public int? ModelPackageVersion { get; init; }
    public string? ModelPackageArn { get; init; }
    public string? ModelPackageDescription { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public InferenceSpecification? InferenceSpecification { get; init; }
    public string? ModelPackageStatus { get; init; }
    public string? ModelApprovalStatus { get; init; }
    public string? ApprovalDescription { get; init; }
    public ModelMetrics? ModelMetrics { get; init; }
    public DateTimeOffset? LastModifiedTime { get; init; }
    public IReadOnlyDictionary<string, string>? CustomerMetadataProperties { get; init; }
}

public sealed record CreateModelRequest
{
    public required string ModelName { get; init; }
    public ContainerDefinition? PrimaryContainer { get; init; }
    public IReadOnlyList<ContainerDefinition>? Containers { get; init; }
    public required string ExecutionRoleArn { get; init; }
    public IReadOnlyList<Tag>? Tags { get; init; }
    public VpcConfig? VpcConfig { get; init; }
    public bool? EnableNetworkIsolation { get; init; }
}

public sealed record CreateModelResponse
{
    public string? ModelArn { get; init; }
}

public sealed record DescribeModelRequest
{
    public required string ModelName { get; init; }
}

public sealed record DescribeModelResponse
{
    public string? ModelName { get; init; }
    public ContainerDefinition? PrimaryContainer { get; init; }
    public IReadOnlyList<ContainerDefinition>? Containers { get; init; }
    public string? ExecutionRoleArn { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public string? ModelArn { get; init; }
    public bool? EnableNetworkIsolation { get; init; }
}

public sealed record DeleteModelRequest
{
    public required string ModelName { get; init; }
}

public sealed record ListModelsRequest
{
    public string? SortBy { get; init; }
    public string? SortOrder { get; init; }
    public string? NextToken { get; init; }
    public int? MaxResults { get; init; }
    public string? NameContains { get; init; }
    public DateTimeOffset? CreationTimeBefore { get; init; }
    public DateTimeOffset? CreationTimeAfter { get; init; }
}

public sealed record ModelSummary
{
    public string? ModelName { get; init; }
    public string? ModelArn { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
}

public sealed record ListModelsResponse
{
    public IReadOnlyList<ModelSummary>? Models { get; init; }
    public string? NextToken { get; init; }
}

public sealed record ProductionVariant
{
    public required string VariantName { get; init; }
    public required string ModelName { get; init; }
    public int? InitialInstanceCount { get; init; }
    public string? InstanceType { get; init; }
    public float? InitialVariantWeight { get; init; }
    public int? VolumeSizeInGB { get; init; }
    public int? ModelDataDownloadTimeoutInSeconds { get; init; }
    public int? ContainerStartupHealthCheckTimeoutInSeconds { get; init; }
}

public sealed record CreateEndpointConfigRequest
{
    public required string EndpointConfigName { get; init; }
    public required IReadOnlyList<ProductionVariant> ProductionVariants { get; init; }
    public IReadOnlyList<Tag>? Tags { get; init; }
    public string? KmsKeyId { get; init; }
    public DataCaptureConfig? DataCaptureConfig { get; init; }
}

public sealed record CaptureOption
{
    public required string CaptureMode { get; init; }
}

public sealed record DataCaptureConfig
{
    public bool? EnableCapture { get; init; }
    public required int InitialSamplingPercentage { get; init; }
    public required string DestinationS3Uri { get; init; }
    public required IReadOnlyList<CaptureOption> CaptureOptions { get; init; }
}

public sealed record CreateEndpointConfigResponse
{
    public string? EndpointConfigArn { get; init; }
}

public sealed record DescribeEndpointConfigRequest
{
    public required string EndpointConfigName { get; init; }
}

public sealed record DescribeEndpointConfigResponse
{
    public string? EndpointConfigName { get; init; }
    public string? EndpointConfigArn { get; init; }
    public IReadOnlyList<ProductionVariant>? ProductionVariants { get; init; }
    public string? KmsKeyId { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
}

public sealed record DeleteEndpointConfigRequest
{
    public required string EndpointConfigName { get; init; }
}

public sealed record ListEndpointConfigsRequest
{
    public string? SortBy { get; init; }
    public string? SortOrder { get; init; }
    public string? NextToken { get; init; }
    public int? MaxResults { get; init; }
    public string? NameContains { get; init; }
    public DateTimeOffset? CreationTimeBefore { get; init; }
    public DateTimeOffset? CreationTimeAfter { get; init; }
}

public sealed record EndpointConfigSummary
{
    public string? EndpointConfigName { get; init; }
    public string? EndpointConfigArn { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
}

public sealed record ListEndpointConfigsResponse
{
    public IReadOnlyList<EndpointConfigSummary>? EndpointConfigs { get; init; }
    public string? NextToken { get; init; }
}

public sealed record CapacitySize
{
    public required string Type { get; init; }
    public required int Value { get; init; }
}

public sealed record TrafficRoutingConfig
{
    public required string Type { get; init; }
    public required int WaitIntervalInSeconds { get; init; }
    public CapacitySize? CanarySize { get; init; }
    public CapacitySize? LinearStepSize { get; init; }
}

public sealed record BlueGreenUpdatePolicy
{
    public required TrafficRoutingConfig TrafficRoutingConfiguration { get; init; }
    public int? TerminationWaitInSeconds { get; init; }
    public int? MaximumExecutionTimeoutInSeconds { get; init; }
}

public sealed record Alarm
{
    public string? AlarmName { get; init; }
}

public sealed record AutoRollbackConfig
{
    public IReadOnlyList<Alarm>? Alarms { get; init; }
}

public sealed record DeploymentConfig
{
    public required BlueGreenUpdatePolicy BlueGreenUpdatePolicy { get; init; }
    public AutoRollbackConfig? AutoRollbackConfiguration { get; init; }
}

public sealed record CreateEndpointRequest
{
    public required string EndpointName { get; init; }
    public required string EndpointConfigName { get; init; }
    public DeploymentConfig? DeploymentConfig { get; init; }
    public IReadOnlyList<Tag>? Tags { get; init; }
}

public sealed record CreateEndpointResponse
{
    public string? EndpointArn { get; init; }
}

public sealed record UpdateEndpointRequest
{
    public required string EndpointName { get; init; }
    public required string EndpointConfigName { get; init; }
    public bool? RetainAllVariantProperties { get; init; }
    public DeploymentConfig? DeploymentConfig { get; init; }
    public bool? RetainDeploymentConfig { get; init; }
}

public sealed record UpdateEndpointResponse
{
    public string? EndpointArn { get; init; }
}

public sealed record DescribeEndpointRequest
{
    public required string EndpointName { get; init; }
}

public sealed record ProductionVariantStatus
{
    public string? Status { get; init; }
    public string? StatusMessage { get; init; }
    public DateTimeOffset? StartTime { get; init; }
}

public sealed record DeployedImage
{
    public string? SpecifiedImage { get; init; }
    public string? ResolvedImage { get; init; }
    public DateTimeOffset? ResolutionTime { get; init; }
}

public sealed record ProductionVariantSummary
{
    public string? VariantName { get; init; }
    public IReadOnlyList<DeployedImage>? DeployedImages { get; init; }
    public float? CurrentWeight { get; init; }
    public float? DesiredWeight { get; init; }
    public int? CurrentInstanceCount { get; init; }
    public int? DesiredInstanceCount { get; init; }
    public IReadOnlyList<ProductionVariantStatus>? VariantStatus { get; init; }
}

public sealed record PendingDeploymentSummary
{
    public string? EndpointConfigName { get; init; }
    public DateTimeOffset? StartTime { get; init; }
}

public sealed record DescribeEndpointResponse
{
    public string? EndpointName { get; init; }
    public string? EndpointArn { get; init; }
    public string? EndpointConfigName { get; init; }
    public IReadOnlyList<ProductionVariantSummary>? ProductionVariants { get; init; }
    public string? EndpointStatus { get; init; }
    public string? FailureReason { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? LastModifiedTime { get; init; }
    public DeploymentConfig? LastDeploymentConfig { get; init; }
    public PendingDeploymentSummary? PendingDeploymentSummary { get; init; }
}

public sealed record DeleteEndpointRequest
{
    public required string EndpointName { get; init; }
}

public sealed record ListTagsRequest
{
    public required string ResourceArn { get; init; }
    public string? NextToken { get; init; }
    public int? MaxResults { get; init; }
}

public sealed record ListTagsResponse
{
    public IReadOnlyList<Tag>? Tags { get; init; }
    public string? NextToken { get; init; }
}

public sealed record AddTagsRequest
{
    public required string ResourceArn { get; init; }
    public required IReadOnlyList<Tag> Tags { get; init; }
}

public sealed record AddTagsResponse
{
    public IReadOnlyList<Tag>? Tags { get; init; }
}

public sealed record DeleteTagsRequest
{
    public required string ResourceArn { get; init; }
    public required IReadOnlyList<string> TagKeys { get; init; }
}

public sealed record DeleteTagsResponse;
