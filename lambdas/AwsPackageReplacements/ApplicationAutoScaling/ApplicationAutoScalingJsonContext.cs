using System.Text.Json.Serialization;
using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;

/// <summary>Source-generated (AOT-safe) JSON metadata for the Application Auto Scaling shapes; nulls omitted.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(EpochSecondsConverter)])]
[JsonSerializable(typeof(RegisterScalableTargetRequest))]
[JsonSerializable(typeof(RegisterScalableTargetResponse))]
[JsonSerializable(typeof(DeregisterScalableTargetRequest))]
[JsonSerializable(typeof(DeregisterScalableTargetResponse))]
[JsonSerializable(typeof(DescribeScalableTargetsRequest))]
[JsonSerializable(typeof(DescribeScalableTargetsResponse))]
[JsonSerializable(typeof(PutScalingPolicyRequest))]
[JsonSerializable(typeof(PutScalingPolicyResponse))]
[JsonSerializable(typeof(DeleteScalingPolicyRequest))]
[JsonSerializable(typeof(DeleteScalingPolicyResponse))]
public sealed partial class ApplicationAutoScalingJsonContext : JsonSerializerContext;
