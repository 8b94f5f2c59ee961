namespace CustomerSegmentation.AwsPackageReplacements.Core;

/// <summary>The facts of one service's botocore model <c>metadata</c> that the clients need.</summary>
/// <param name="ServiceId">botocore <c>serviceId</c>; it names the <c>AWS_ENDPOINT_URL_&lt;SERVICE_ID&gt;</c> variable.</param>
/// <param name="SigningName">botocore <c>signingName</c>, the service of the SigV4 credential scope.</param>
/// <param name="EndpointPrefix">botocore <c>endpointPrefix</c>, the first label(s) of the public host name.</param>
/// <param name="TargetPrefix">botocore <c>targetPrefix</c> of a JSON-protocol service; null for REST services.</param>
internal sealed record AwsServiceDescriptor(string ServiceId, string SigningName, string EndpointPrefix, string? TargetPrefix)
{
    public static readonly AwsServiceDescriptor SageMaker = new("SageMaker", "sagemaker", "api.sagemaker", "SageMaker");

    public static readonly AwsServiceDescriptor SageMakerRuntime = new("SageMaker Runtime", "sagemaker", "runtime.sagemaker", null);

    public static readonly AwsServiceDescriptor ApplicationAutoScaling =
        new("Application Auto Scaling", "application-autoscaling", "application-autoscaling", "AnyScaleFrontendService");

    /// <summary>The service-specific endpoint variable, named as the SDKs do: upper case, spaces as underscores.</summary>
    public string EndpointUrlVariable => "AWS_ENDPOINT_URL_" + ServiceId.Replace(' ', '_').ToUpperInvariant();
}
