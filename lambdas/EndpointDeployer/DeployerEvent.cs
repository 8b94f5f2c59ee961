using System.Globalization;
using System.Text.Json;

namespace CustomerSegmentation.EndpointDeployer;

/// <summary>One of the three events the function is invoked with.</summary>
public abstract record DeployerEvent
{
    /// <summary>
    /// Tells the three events apart: an EventBridge event by its <c>detail-type</c>, anything else with a
    /// <c>ModelPackageArn</c> is the pipeline's Lambda step.
    /// </summary>
    /// <exception cref="DeployerEventException">The payload is none of the three, or a member is missing or mistyped.</exception>
    public static DeployerEvent Parse(ReadOnlySpan<byte> payload)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(payload.ToArray());
            root = document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw new DeployerEventException($"The event is not JSON: {exception.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new DeployerEventException($"The event must be a JSON object, not {root.ValueKind}.");
        }

        if (root.TryGetProperty("detail-type", out var detailType))
        {
            var detail = root.TryGetProperty("detail", out var value) && value.ValueKind == JsonValueKind.Object
                ? value
                : throw new DeployerEventException("The EventBridge event has no 'detail' object.");
            return detailType.GetString() switch
            {
                ModelPackageStateChange.DetailType => new ModelPackageStateChange(
                    RequiredString(detail, "ModelPackageArn", "detail."),
                    RequiredString(detail, "ModelPackageGroupName", "detail."),
                    RequiredString(detail, "ModelApprovalStatus", "detail.")),
                EndpointStateChange.DetailType => new EndpointStateChange(
                    RequiredString(detail, "EndpointName", "detail."),
                    RequiredString(detail, "EndpointStatus", "detail.")),
                var other => throw new DeployerEventException(
                    $"detail-type '{other}' is not handled: expected '{ModelPackageStateChange.DetailType}' or '{EndpointStateChange.DetailType}'."),
            };
        }

        if (root.TryGetProperty("ModelPackageArn", out _))
        {
            return new PipelineDeployRequest(
                RequiredString(root, "ModelPackageArn", ""),
                OptionalString(root, "InstanceType"),
                OptionalCount(root, "InitialInstanceCount"),
                OptionalString(root, "PipelineExecutionArn"));
        }

        throw new DeployerEventException(
            "The event is neither the pipeline's deploy step (no 'ModelPackageArn') nor an EventBridge event (no 'detail-type').");
    }

    private static string RequiredString(JsonElement element, string name, string path) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new DeployerEventException($"'{path}{name}' must be a non-empty string.");

    private static string? OptionalString(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? (value.GetString() is { Length: > 0 } text ? text : null)
            : throw new DeployerEventException($"'{name}' must be a string, not {value.GetRawText()}.");
    }

    // Pipeline Lambda-step inputs arrive as strings when they come from pipeline parameters: accept both forms.
    private static int? OptionalCount(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null
            || (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: 0 }))
        {
            return null;
        }

        var number = value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetInt32(out var parsed) ? parsed : (int?)null,
            JsonValueKind.String => int.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null,
            _ => null,
        };
        return number is >= 1 and <= 100
            ? number
            : throw new DeployerEventException($"'{name}' must be a whole number from 1 to 100, not {value.GetRawText()}.");
    }
}

/// <summary>The pipeline's Deploy step (a Lambda step); optional members fall back to the function's settings.</summary>
public sealed record PipelineDeployRequest(string ModelPackageArn, string? InstanceType, int? InitialInstanceCount, string? PipelineExecutionArn)
    : DeployerEvent;

/// <summary>EventBridge "SageMaker Model Package State Change".</summary>
public sealed record ModelPackageStateChange(string ModelPackageArn, string ModelPackageGroupName, string ModelApprovalStatus) : DeployerEvent
{
    public const string DetailType = "SageMaker Model Package State Change";
}

/// <summary>EventBridge "SageMaker Endpoint State Change" (<c>EndpointStatus</c> upper case, e.g. <c>IN_SERVICE</c>).</summary>
public sealed record EndpointStateChange(string EndpointName, string EndpointStatus) : DeployerEvent
{
    public const string DetailType = "SageMaker Endpoint State Change";
}

/// <summary>The event cannot be understood; the message says which member is wrong.</summary>
public sealed class DeployerEventException(string message) : Exception(message);
