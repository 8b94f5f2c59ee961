using System.Text.Json.Serialization;
using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.AwsPackageReplacements.SageMaker;

/// <summary>Source-generated (AOT-safe) JSON metadata for the SageMaker shapes; member names as in botocore, nulls omitted.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(EpochSecondsConverter)])]
[JsonSerializable(typeof(DescribeModelPackageRequest))]
[JsonSerializable(typeof(DescribeModelPackageResponse))]
[JsonSerializable(typeof(CreateModelRequest))]
[JsonSerializable(typeof(CreateModelResponse))]
[JsonSerializable(typeof(DescribeModelRequest))]
[JsonSerializable(typeof(DescribeModelResponse))]
[JsonSerializable(typeof(DeleteModelRequest))]
[JsonSerializable(typeof(ListModelsRequest))]
[JsonSerializable(typeof(ListModelsResponse))]
[JsonSerializable(typeof(CreateEndpointConfigRequest))]
[JsonSerializable(typeof(CreateEndpointConfigResponse))]
[JsonSerializable(typeof(DescribeEndpointConfigRequest))]
[JsonSerializable(typeof(DescribeEndpointConfigResponse))]
[JsonSerializable(typeof(DeleteEndpointConfigRequest))]
[JsonSerializable(typeof(ListEndpointConfigsRequest))]
[JsonSerializable(typeof(ListEndpointConfigsResponse))]
[JsonSerializable(typeof(CreateEndpointRequest))]
[JsonSerializable(typeof(CreateEndpointResponse))]
[JsonSerializable(typeof(UpdateEndpointRequest))]
[JsonSerializable(typeof(UpdateEndpointResponse))]
[JsonSerializable(typeof(DescribeEndpointRequest))]
[JsonSerializable(typeof(DescribeEndpointResponse))]
[JsonSerializable(typeof(ListTagsRequest))]
[JsonSerializable(typeof(ListTagsResponse))]
[JsonSerializable(typeof(AddTagsRequest))]
[JsonSerializable(typeof(AddTagsResponse))]
[JsonSerializable(typeof(DeleteEndpointRequest))]
[JsonSerializable(typeof(DeleteTagsRequest))]
[JsonSerializable(typeof(DeleteTagsResponse))]
public sealed partial class SageMakerJsonContext : JsonSerializerContext;
