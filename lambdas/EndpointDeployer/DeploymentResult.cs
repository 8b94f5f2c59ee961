using System.Text.Json;

namespace CustomerSegmentation.EndpointDeployer;

/// <summary>What one invocation did (the pipeline step's output parameters are these members).</summary>
public enum DeploymentAction
{
    /// <summary>The endpoint did not exist and is now being created.</summary>
    Created,

    /// <summary>A blue/green update to a new endpoint config started.</summary>
    Updated,

    /// <summary>The endpoint already serves (or is already moving to) this package; nothing new was created.</summary>
    Unchanged,

    /// <summary>The endpoint was busy; the deployment is recorded on it and completed on its next IN_SERVICE event.</summary>
    Deferred,

    /// <summary>Nothing to do (package not approved, another group or endpoint, a state that needs no action).</summary>
    Skipped,
}

/// <summary>The outcome of one invocation; <see cref="Reason"/> says why in a sentence.</summary>
public sealed record DeploymentResult(DeploymentAction Action, string EndpointName, string? EndpointConfigName, string? ModelName,
    string? ModelPackageArn, string Reason)
{
    /// <summary>
    /// The response body: every member always present as a string, empty when not applicable, so each of the pipeline
    /// Lambda step's String output parameters resolves whatever the action.
    /// </summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(nameof(Action), Action.ToString());
            writer.WriteString(nameof(EndpointName), EndpointName);
            writer.WriteString(nameof(EndpointConfigName), EndpointConfigName ?? string.Empty);
            writer.WriteString(nameof(ModelName), ModelName ?? string.Empty);
            writer.WriteString(nameof(ModelPackageArn), ModelPackageArn ?? string.Empty);
            writer.WriteString(nameof(Reason), Reason);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
