using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalAws.Events;

/// <summary>
/// Puts an event on the local default event bus, the way an AWS service does (for example SageMaker's
/// "SageMaker Endpoint State Change"); the bus delivers it to the targets of every rule whose pattern matches.
/// </summary>
public interface IEventPublisher
{
    /// <summary>Publishes one event and returns when every matching target has been invoked.</summary>
    /// <param name="source">The event's <c>source</c>, e.g. <c>aws.sagemaker</c>.</param>
    /// <param name="detailType">The event's <c>detail-type</c>.</param>
    /// <param name="detail">The event's <c>detail</c> object.</param>
    /// <param name="resources">The ARNs of the resources the event is about.</param>
    /// <param name="cancellationToken">Stops waiting for the targets.</param>
    Task PublishAsync(string source, string detailType, JsonObject detail, IReadOnlyList<string> resources, CancellationToken cancellationToken);
}
