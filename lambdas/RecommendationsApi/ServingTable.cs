using System.Globalization;
using Amazon.DynamoDBv2.Model;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>
/// The serving table's items as the Publish step (<c>scripts/recommendations/publish.py</c>) writes them, under the
/// string partition key <c>pk</c>: <c>pointer</c> names the current run; a run's customers, segments and summary are
/// <c>run#&lt;run&gt;#customer#&lt;id&gt;</c>, <c>run#&lt;run&gt;#segment#&lt;region&gt;_&lt;end_use&gt;</c> and
/// <c>run#&lt;run&gt;#summary</c>, all written before the pointer moves to the run.
/// </summary>
public static class ServingTable
{
    public const string KeyName = "pk";
    public const string PointerKey = "pointer";

    public static string CustomerKey(string runId, string customerId) => $"run#{runId}#customer#{customerId}";

    public static string SegmentKey(string runId, string segment) => $"run#{runId}#segment#{segment}";

    public static string SummaryKey(string runId) => $"run#{runId}#summary";

    /// <summary>The item's key (<c>pk</c>).</summary>
    public static string? Key(IReadOnlyDictionary<string, AttributeValue> item) => ItemAttributes.Text(item, KeyName);
}

/// <summary>The attributes of a table item, read as the function's items have them.</summary>
public static class ItemAttributes
{
    private static readonly string[] KeyNames = [ServingTable.KeyName, FeedbackRecorder.KeyName];

    /// <summary>A string attribute, or null when absent (or of another type).</summary>
    public static string? Text(IReadOnlyDictionary<string, AttributeValue> item, string name)
    {
        ArgumentNullException.ThrowIfNull(item);
        return item.TryGetValue(name, out var value) ? value.S : null;
    }

    /// <summary>A string attribute the item must have.</summary>
    /// <exception cref="ServingDataException">It has none.</exception>
    public static string RequiredText(IReadOnlyDictionary<string, AttributeValue> item, string name) =>
        Text(item, name) ?? throw new ServingDataException($"the item {Describe(item)} has no string attribute {name}");

    /// <summary>A whole-number attribute, or null when absent.</summary>
    /// <exception cref="ServingDataException">It is there but not a whole number.</exception>
    public static long? WholeNumber(IReadOnlyDictionary<string, AttributeValue> item, string name)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (!item.TryGetValue(name, out var value) || value.N is not { } number)
        {
            return null;
        }

        return long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new ServingDataException($"the item {Describe(item)} has {name} = {number}, not a whole number");
    }

    /// <summary>The item's key value, for messages.</summary>
    public static string Describe(IReadOnlyDictionary<string, AttributeValue> item) =>
        KeyNames.Select(key => Text(item, key)).FirstOrDefault(value => value is not null) ?? "(without a key)";
}

/// <summary>The run the pointer names: the one every answer comes from until the pointer moves.</summary>
/// <param name="RunId">The pipeline execution that published it.</param>
/// <param name="PublishedAt">When (ISO-8601, as the Publish step wrote it).</param>
/// <param name="PreviousRunId">The run it replaced; null for the first one published.</param>
public sealed record PublishedRun(string RunId, string PublishedAt, string? PreviousRunId);

/// <summary>
/// Nothing (of what was asked for) is published yet: the table has no pointer, or the current run lacks an item a later
/// publish writes (answered 503 with Retry-After).
/// </summary>
public sealed class NothingPublishedException(string message = "no recommendations are published yet") : Exception(message);

/// <summary>A published item is not as the Publish step writes it: the table is damaged, not the request (answered 500).</summary>
public sealed class ServingDataException(string message) : Exception(message);
