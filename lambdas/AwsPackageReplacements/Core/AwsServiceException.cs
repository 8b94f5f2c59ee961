using System.Net;

namespace CustomerSegmentation.AwsPackageReplacements.Core;

/// <summary>
/// An error answer from an AWS service, after retries. Plays the role of the official SDK's
/// <c>AmazonServiceException</c>; replace with it when the official packages are available.
/// </summary>
public sealed class AwsServiceException : Exception
{
    public AwsServiceException(string serviceId, string operation, HttpStatusCode statusCode, string errorCode,
        string errorMessage, string? requestId)
        : base($"{serviceId} {operation} failed: HTTP {(int)statusCode} {errorCode}: {errorMessage}")
    {
        ServiceId = serviceId;
        Operation = operation;
        StatusCode = statusCode;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
        RequestId = requestId;
    }

    /// <summary>The botocore <c>serviceId</c>, e.g. <c>SageMaker</c>.</summary>
    public string ServiceId { get; }

    /// <summary>The API operation, e.g. <c>CreateEndpoint</c>.</summary>
    public string Operation { get; }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The error code without its namespace (the part of <c>__type</c> after '#'), e.g. <c>ValidationException</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>The service's message, as sent.</summary>
    public string ErrorMessage { get; }

    /// <summary>The <c>x-amzn-RequestId</c> the service answered with, when it sent one.</summary>
    public string? RequestId { get; }
}

/// <summary>The client cannot be set up from the given options and environment (no region, no credentials, bad endpoint URL).</summary>
public sealed class AwsClientConfigurationException(string message, Exception? innerException = null)
    : Exception(message, innerException);
