using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>An answer in the AWS JSON 1.1 protocol: the status and the JSON body (an error is <c>{"__type", "message"}</c>).</summary>
internal sealed record JsonAnswer(int StatusCode, byte[] Body)
{
    public static JsonAnswer Error(HttpStatusCode status, string code, string? message)
    {
        var body = new JsonObject { ["__type"] = code };
        if (message is not null)
        {
            body["message"] = message;
        }

        return new JsonAnswer((int)status, Encoding.UTF8.GetBytes(body.ToJsonString()));
    }
}

/// <summary>
/// The operations of one AWS JSON 1.1 service (<c>X-Amz-Target: &lt;prefix&gt;.&lt;Operation&gt;</c>), each bound to a typed
/// handler through the request and response shapes' source-generated JSON metadata. A body that is not a JSON object is
/// a SerializationException, a missing required member a ValidationException in AWS's words, an operation not bound an
/// UnknownOperationException, and an <see cref="AwsServiceException"/> the handler throws is rendered as itself.
/// </summary>
internal sealed class JsonOperationTable(string serviceId, string targetPrefix)
{
    private readonly Dictionary<string, Func<JsonObject, CancellationToken, Task<JsonAnswer>>> _operations = new(StringComparer.Ordinal);

    public string TargetPrefix { get; } = targetPrefix;

    public IReadOnlyCollection<string> Operations => _operations.Keys;

    public void Add<TRequest, TResponse>(string operation, JsonTypeInfo<TRequest> request, JsonTypeInfo<TResponse> response,
        Func<TRequest, CancellationToken, Task<TResponse>> handler) =>
        _operations[operation] = async (body, cancellationToken) =>
            new JsonAnswer(200, JsonSerializer.SerializeToUtf8Bytes(await handler(Read(operation, body, request), cancellationToken).ConfigureAwait(false), response));

    /// <summary>An operation whose output shape is empty: it answers <c>{}</c>.</summary>
    public void Add<TRequest>(string operation, JsonTypeInfo<TRequest> request, Func<TRequest, CancellationToken, Task> handler) =>
        _operations[operation] = async (body, cancellationToken) =>
        {
            await handler(Read(operation, body, request), cancellationToken).ConfigureAwait(false);
            return new JsonAnswer(200, "{}"u8.ToArray());
        };

    /// <summary>Answers one request whose <c>X-Amz-Target</c> starts with <see cref="TargetPrefix"/>.</summary>
    public async Task<JsonAnswer> InvokeAsync(string target, byte[] body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var operation = target[(TargetPrefix.Length + 1)..];
        if (!_operations.TryGetValue(operation, out var handler))
        {
            return JsonAnswer.Error(HttpStatusCode.BadRequest, "UnknownOperationException", $"Unknown operation {target}.");
        }

        JsonObject request;
        try
        {
            request = JsonNode.Parse(body.Length == 0 ? "{}"u8 : body) as JsonObject
                ?? throw new JsonException("the body must be a JSON object");
        }
        catch (JsonException exception)
        {
            return JsonAnswer.Error(HttpStatusCode.BadRequest, "SerializationException", exception.Message);
        }

        try
        {
            return await handler(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException exception)
        {
            return JsonAnswer.Error(exception.StatusCode, exception.ErrorCode, exception.ErrorMessage);
        }
    }

    private T Read<T>(string operation, JsonObject body, JsonTypeInfo<T> shape)
    {
        var errors = new ValidationErrors();
        foreach (var member in shape.Properties.Where(member => member.IsRequired))
        {
            errors.Required(body[member.Name], member.Name);
        }

        errors.ThrowIfAny(serviceId, operation);
        try
        {
            return body.Deserialize(shape)!;
        }
        catch (JsonException exception)
        {
            var code = exception.Message.Contains("missing required properties", StringComparison.Ordinal) ? "ValidationException" : "SerializationException";
            throw new AwsServiceException(serviceId, operation, HttpStatusCode.BadRequest, code, exception.Message, null);
        }
    }
}
