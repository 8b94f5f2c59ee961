using System.Text;
using System.Text.Json;

namespace CustomerSegmentation.LocalAws.Lambda;

/// <summary>
/// What Lambda's Invoke answers: the function's response payload, or, when <see cref="IsError"/>, the error document
/// <c>{"errorMessage", "errorType"}</c> (Invoke's <c>X-Amz-Function-Error: Unhandled</c>).
/// </summary>
public sealed record LambdaInvocationResult(string RequestId, byte[] Payload, bool IsError)
{
    public string PayloadText => Encoding.UTF8.GetString(Payload);

    /// <summary>The error document's <c>errorType</c>; null for a successful invocation or a document without one.</summary>
    public string? ErrorType => ErrorMember("errorType");

    /// <summary>The error document's <c>errorMessage</c>; null for a successful invocation or a document without one.</summary>
    public string? ErrorMessage => ErrorMember("errorMessage");

    /// <summary>An error Lambda itself reports (timeout, crash), in the shape Invoke answers it.</summary>
    public static LambdaInvocationResult PlatformError(string requestId, string errorType, string errorMessage) =>
        new(requestId, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["errorMessage"] = errorMessage,
            ["errorType"] = errorType,
        }), IsError: true);

    private string? ErrorMember(string name)
    {
        if (!IsError)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(Payload);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value)
                && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>An asynchronous (<c>Event</c>) invocation and how it ended: its result, or why it could not run at all.</summary>
public sealed record EventInvocation(string Source, LambdaInvocationResult? Result, string? Failure);

/// <summary>
/// The loopback AWS services a local function's clients are pointed at through <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c>.
/// A service left null gets no variable.
/// </summary>
public sealed record LocalServiceEndpoints
{
    public Uri? S3 { get; init; }

    public Uri? SageMaker { get; init; }

    public Uri? SageMakerRuntime { get; init; }

    public Uri? ApplicationAutoScaling { get; init; }

    public Uri? DynamoDb { get; init; }
}
