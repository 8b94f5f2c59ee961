using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace CustomerSegmentation.AwsPackageReplacements.Core;

/// <summary>
/// The AWS JSON 1.1 protocol (botocore <c>protocol: json</c>): <c>POST /</c> with <c>X-Amz-Target: &lt;targetPrefix&gt;.&lt;Operation&gt;</c>
/// and <c>Content-Type: application/x-amz-json-1.1</c>; bodies serialized with source-generated metadata only.
/// </summary>
internal sealed class AwsJsonProtocolClient(AwsServiceDescriptor service, AwsRequestSender sender)
{
    public const string ContentType = "application/x-amz-json-1.1";

    public async Task<TResponse> InvokeAsync<TRequest, TResponse>(string operation, TRequest request,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        var response = await SendAsync(operation, request, requestType, cancellationToken).ConfigureAwait(false);
        using (response.Message)
        {
            var body = response.Body.Length == 0 ? "{}"u8.ToArray() : response.Body;
            return JsonSerializer.Deserialize(body, responseType)
                ?? throw new JsonException($"{service.ServiceId} {operation} answered 'null' instead of a {typeof(TResponse).Name}.");
        }
    }

    /// <summary>For operations whose botocore model has no output shape.</summary>
    public async Task InvokeAsync<TRequest>(string operation, TRequest request, JsonTypeInfo<TRequest> requestType,
        CancellationToken cancellationToken)
    {
        var response = await SendAsync(operation, request, requestType, cancellationToken).ConfigureAwait(false);
        response.Message.Dispose();
    }

    private Task<AwsHttpResponse> SendAsync<TRequest>(string operation, TRequest request, JsonTypeInfo<TRequest> requestType,
        CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>
        {
            ["Content-Type"] = ContentType,
            ["X-Amz-Target"] = $"{service.TargetPrefix}.{operation}",
        };
        return sender.SendAsync(
            new AwsHttpRequest(operation, HttpMethod.Post, "/", headers, JsonSerializer.SerializeToUtf8Bytes(request, requestType)),
            cancellationToken);
    }
}
