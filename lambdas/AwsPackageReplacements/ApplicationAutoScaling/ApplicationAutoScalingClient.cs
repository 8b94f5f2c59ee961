using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;

/// <summary>
/// The Application Auto Scaling operations the EndpointDeployer uses, over the JSON 1.1 protocol
/// (<c>X-Amz-Target: AnyScaleFrontendService.&lt;Operation&gt;</c>, signing name <c>application-autoscaling</c>).
/// Replace with <c>AWSSDK.ApplicationAutoScaling</c>'s <c>AmazonApplicationAutoScalingClient</c> when that package is
/// available: method and member names are the same.
/// </summary>
public sealed class ApplicationAutoScalingClient
{
    private static readonly ApplicationAutoScalingJsonContext Json = ApplicationAutoScalingJsonContext.Default;
    private readonly AwsJsonProtocolClient _protocol;

    /// <param name="options">Region, credentials, endpoint and retries. Default: everything from the environment.</param>
    public ApplicationAutoScalingClient(AwsClientOptions? options = null)
    {
        var sender = new AwsRequestSender(AwsServiceDescriptor.ApplicationAutoScaling, options ?? new AwsClientOptions());
        Endpoint = sender.Endpoint;
        _protocol = new AwsJsonProtocolClient(AwsServiceDescriptor.ApplicationAutoScaling, sender);
    }

    /// <summary>The base URL requests go to, after endpoint resolution.</summary>
    public Uri Endpoint { get; }

    public Task<RegisterScalableTargetResponse> RegisterScalableTargetAsync(RegisterScalableTargetRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("RegisterScalableTarget", request, Json.RegisterScalableTargetRequest, Json.RegisterScalableTargetResponse, cancellationToken);

    public Task<DeregisterScalableTargetResponse> DeregisterScalableTargetAsync(DeregisterScalableTargetRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DeregisterScalableTarget", request, Json.DeregisterScalableTargetRequest, Json.DeregisterScalableTargetResponse, cancellationToken);

    public Task<DescribeScalableTargetsResponse> DescribeScalableTargetsAsync(DescribeScalableTargetsRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DescribeScalableTargets", request, Json.DescribeScalableTargetsRequest, Json.DescribeScalableTargetsResponse, cancellationToken);

    public Task<PutScalingPolicyResponse> PutScalingPolicyAsync(PutScalingPolicyRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("PutScalingPolicy", request, Json.PutScalingPolicyRequest, Json.PutScalingPolicyResponse, cancellationToken);

    public Task<DeleteScalingPolicyResponse> DeleteScalingPolicyAsync(DeleteScalingPolicyRequest request, CancellationToken cancellationToken = default) =>
        _protocol.InvokeAsync("DeleteScalingPolicy", request, Json.DeleteScalingPolicyRequest, Json.DeleteScalingPolicyResponse, cancellationToken);
}
