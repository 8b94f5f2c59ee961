using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>An endpoint's status changed; <see cref="ToEventDetail"/> is the detail of EventBridge's "SageMaker Endpoint State Change".</summary>
public sealed record EndpointStateChanged(
    string EndpointName,
    string EndpointArn,
    string EndpointConfigName,
    string EndpointStatus,
    string? FailureReason,
    DateTimeOffset CreationTime,
    DateTimeOffset LastModifiedTime,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<ProductionVariantSummary> ProductionVariants)
{
    public const string Source = "aws.sagemaker";
    public const string DetailType = "SageMaker Endpoint State Change";

    /// <summary>
    /// The API's status in the form EventBridge events carry it: <c>InService</c> becomes <c>IN_SERVICE</c>,
    /// <c>RollingBack</c> becomes <c>ROLLING_BACK</c>.
    /// </summary>
    public static string EventStatus(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var upper = new StringBuilder();
        for (var i = 0; i < status.Length; i++)
        {
            if (i > 0 && char.IsUpper(status[i]))
            {
                upper.Append('_');
            }

            upper.Append(char.ToUpperInvariant(status[i]));
        }

        return upper.ToString();
    }

    /// <summary>The event's detail, with times in epoch milliseconds as SageMaker's events have them.</summary>
    public JsonObject ToEventDetail()
    {
        var tags = new JsonObject();
        foreach (var (key, value) in Tags)
        {
            tags[key] = value;
        }

        var detail = new JsonObject
        {
            [nameof(EndpointName)] = EndpointName,
            [nameof(EndpointArn)] = EndpointArn,
            [nameof(EndpointConfigName)] = EndpointConfigName,
            [nameof(ProductionVariants)] = new JsonArray([.. ProductionVariants.Select(variant => (JsonNode)new JsonObject
            {
                ["VariantName"] = variant.VariantName,
                ["CurrentWeight"] = variant.CurrentWeight,
                ["DesiredWeight"] = variant.DesiredWeight,
                ["CurrentInstanceCount"] = variant.CurrentInstanceCount,
                ["DesiredInstanceCount"] = variant.DesiredInstanceCount,
            })]),
            [nameof(EndpointStatus)] = EventStatus(EndpointStatus),
            [nameof(CreationTime)] = CreationTime.ToUnixTimeMilliseconds(),
            [nameof(LastModifiedTime)] = LastModifiedTime.ToUnixTimeMilliseconds(),
            [nameof(Tags)] = tags,
        };
        if (FailureReason is not null)
        {
            detail[nameof(FailureReason)] = FailureReason;
        }

        return detail;
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{EndpointName} {EndpointStatus} ({EndpointConfigName}){(FailureReason is null ? "" : ": " + FailureReason)}");
}
