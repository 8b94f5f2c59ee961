using System.Globalization;
using System.Text.Json;
using Amazon.DynamoDBv2.Model;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>One recommendation as the API answers it (the seed's format); fields the run did not produce are null.</summary>
public sealed record Recommendation(string ProductId, long Rank, double Score, double? Confidence, double? Lift, string? L2Category, string? L3Category,
    string? TriggerProduct, long? RecommendedQty, string? Reason);

/// <summary>A segment asked for by a caller: <c>region</c> and <c>end_use</c> as in customers.csv.</summary>
public sealed record SegmentQuery(string Region, string EndUse)
{
    /// <summary><c>region_end_use</c>, exactly as market_basket.segment_names names it.</summary>
    public string Name => Region + "_" + EndUse;
}

/// <summary>What the run says about a customer.</summary>
public enum CustomerStanding
{
    /// <summary>The run knows the customer: its own recommendations (possibly none).</summary>
    Known,

    /// <summary>The run has never seen the customer, but knows the segment asked for: its popular products.</summary>
    ColdStart,

    /// <summary>The run has never seen the customer and no segment was asked for.</summary>
    UnknownCustomer,

    /// <summary>The run has never seen the customer and has no such segment.</summary>
    UnknownSegment,
}

/// <summary>The answer about one customer, all from <see cref="Run"/>.</summary>
public sealed record CustomerRecommendations(CustomerStanding Standing, PublishedRun Run, string CustomerId, string? Segment,
    IReadOnlyList<Recommendation> Recommendations);

/// <summary>Where a product was recommended to a customer, for feedback on it.</summary>
/// <param name="Current">The current run.</param>
/// <param name="RecommendedIn">The run (current first, then previous) that recommended the product; null when neither did.</param>
/// <param name="CustomerKnown">Whether the current or the previous run knows the customer at all.</param>
public sealed record RecommendationCheck(PublishedRun Current, string? RecommendedIn, bool CustomerKnown);

/// <summary>
/// Reads answers from the current run: every answer takes the pointer once (<see cref="PublishedRuns"/>) and then reads
/// that run's items in one BatchGetItem, so it is never a mix of two runs, and costs one table request when the pointer
/// is cached.
/// </summary>
public sealed class RecommendationReader(ITableClient table, string tableName, PublishedRuns runs)
{
    /// <summary>How many popular products a cold-start answer gives: the seed's answer size.</summary>
    public const int ColdStartSize = 5;

    /// <summary>
    /// The customer's recommendations; for a customer the run has never seen, the popular products of
    /// <paramref name="segment"/> when it is given.
    /// </summary>
    /// <exception cref="NothingPublishedException">No run is published yet.</exception>
    /// <exception cref="ServingDataException">An item is not as the Publish step writes it.</exception>
    /// <exception cref="TableUnavailableException">The table could not be read.</exception>
    public async Task<CustomerRecommendations> ForCustomerAsync(string customerId, SegmentQuery? segment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customerId);
        var (run, _) = await runs.CurrentAsync(cancellationToken).ConfigureAwait(false);
        var customerKey = ServingTable.CustomerKey(run.RunId, customerId);
        var segmentKey = segment is null ? null : ServingTable.SegmentKey(run.RunId, segment.Name);
        var items = await table.GetItemsAsync(tableName, ServingTable.KeyName, segmentKey is null ? [customerKey] : [customerKey, segmentKey], cancellationToken)
            .ConfigureAwait(false);
        if (Find(items, customerKey) is { } customer)
        {
            var recommendations = Recommendations(customer);
            var segmentName = ItemAttributes.Text(customer, "segment") ?? FirstSegment(customer);
            return new CustomerRecommendations(CustomerStanding.Known, run, customerId, segmentName, recommendations);
        }

        if (segment is null)
        {
            return new CustomerRecommendations(CustomerStanding.UnknownCustomer, run, customerId, null, []);
        }

        return Find(items, segmentKey!) is { } segmentItem
            ? new CustomerRecommendations(CustomerStanding.ColdStart, run, customerId, segment.Name, Popular(segmentItem, segment.Name))
            : new CustomerRecommendations(CustomerStanding.UnknownSegment, run, customerId, segment.Name, []);
    }

    /// <summary>The current run's summary document (<c>{"run_id","published_at","coverage","feedback_summary"}</c>).</summary>
    /// <exception cref="NothingPublishedException">No run is published yet, or the current run has no summary item.</exception>
    /// <exception cref="ServingDataException">The summary is not a JSON object.</exception>
    /// <exception cref="TableUnavailableException">The table could not be read.</exception>
    public async Task<(PublishedRun Run, JsonElement Summary)> SummaryAsync(CancellationToken cancellationToken)
    {
        var (run, _) = await runs.CurrentAsync(cancellationToken).ConfigureAwait(false);
        var key = ServingTable.SummaryKey(run.RunId);
        var items = await table.GetItemsAsync(tableName, ServingTable.KeyName, [key], cancellationToken).ConfigureAwait(false);
        var item = Find(items, key)
            ?? throw new NothingPublishedException($"run {run.RunId} was published without a summary; the next published run has one");
        var summary = ParseJson(item, "summary");
        return summary.ValueKind == JsonValueKind.Object
            ? (run, summary)
            : throw new ServingDataException($"the item {key} has a summary that is {summary.ValueKind}, not a JSON object");
    }

    /// <summary>Whether the current or the previous run recommended <paramref name="productId"/> to <paramref name="customerId"/>.</summary>
    /// <inheritdoc cref="ForCustomerAsync" path="/exception"/>
    public async Task<RecommendationCheck> CheckAsync(string customerId, string productId, CancellationToken cancellationToken)
    {
        var (run, _) = await runs.CurrentAsync(cancellationToken).ConfigureAwait(false);
        string[] runIds = run.PreviousRunId is { } previous && previous != run.RunId ? [run.RunId, previous] : [run.RunId];
        var keys = runIds.Select(runId => ServingTable.CustomerKey(runId, customerId)).ToList();
        var items = await table.GetItemsAsync(tableName, ServingTable.KeyName, keys, cancellationToken).ConfigureAwait(false);
        var known = false;
        for (var index = 0; index < runIds.Length; index++)
        {
            if (Find(items, keys[index]) is not { } customer)
            {
                continue;
            }

            known = true;
            if (Recommendations(customer).Any(recommendation => recommendation.ProductId == productId))
            {
                return new RecommendationCheck(run, runIds[index], true);
            }
        }

        return new RecommendationCheck(run, null, known);
    }

    private static IReadOnlyDictionary<string, AttributeValue>? Find(IReadOnlyList<IReadOnlyDictionary<string, AttributeValue>> items, string key) =>
        items.FirstOrDefault(item => ServingTable.Key(item) == key);

    /// <summary>The customer's recommendations, in the stored (rank) order.</summary>
    private static List<Recommendation> Recommendations(IReadOnlyDictionary<string, AttributeValue> customer)
    {
        var list = ParseJson(customer, "recommendations");
        var key = ServingTable.Key(customer);
        return [.. Elements(list, key, "recommendations").Select(entry => new Recommendation(
            RequiredString(entry, "recommended_product", key),
            RequiredWhole(entry, "rank", key),
            RequiredNumber(entry, "score", key),
            Number(entry, "confidence", key),
            Number(entry, "lift", key),
            String(entry, "l2_category", key),
            String(entry, "l3_category", key),
            String(entry, "trigger_product", key),
            Whole(entry, "recommended_qty", key),
            String(entry, "reason", key)))];
    }

    private static string? FirstSegment(IReadOnlyDictionary<string, AttributeValue> customer)
    {
        var list = ParseJson(customer, "recommendations");
        return list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0 ? String(list[0], "segment", ServingTable.Key(customer)) : null;
    }

    /// <summary>The segment's first <see cref="ColdStartSize"/> popular (in-stock) products, scored by their share of buyers.</summary>
    private static List<Recommendation> Popular(IReadOnlyDictionary<string, AttributeValue> segmentItem, string segment)
    {
        var key = ServingTable.Key(segmentItem);
        var customers = ItemAttributes.WholeNumber(segmentItem, "customers");
        return [.. Elements(ParseJson(segmentItem, "popular"), key, "popular").Take(ColdStartSize).Select((entry, index) =>
        {
            var share = RequiredNumber(entry, "share", key);
            var buyers = Whole(entry, "buyers", key);
            var percent = Math.Round(share * 100, MidpointRounding.AwayFromZero);
            var shareText = percent < 1 && share > 0 ? "under 1%" : string.Create(CultureInfo.InvariantCulture, $"{percent:0}%");
            var counts = buyers is not null && customers is not null ? string.Create(CultureInfo.InvariantCulture, $" ({buyers} of {customers})") : "";
            return new Recommendation(RequiredString(entry, "product_id", key), index + 1, share, null, null, String(entry, "l2_category", key),
                String(entry, "l3_category", key), null, Whole(entry, "recommended_qty", key),
                $"Popular in segment {segment}: bought by {shareText} of its customers{counts}");
        })];
    }

    private static JsonElement ParseJson(IReadOnlyDictionary<string, AttributeValue> item, string attribute)
    {
        var text = ItemAttributes.RequiredText(item, attribute);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw new ServingDataException($"the item {ServingTable.Key(item)} has a {attribute} attribute that is not JSON: {exception.Message}");
        }
    }

    private static JsonElement.ArrayEnumerator Elements(JsonElement list, string? key, string attribute) =>
        list.ValueKind == JsonValueKind.Array && list.EnumerateArray().All(entry => entry.ValueKind == JsonValueKind.Object)
            ? list.EnumerateArray()
            : throw new ServingDataException($"the item {key} has a {attribute} attribute that is not a JSON list of objects");

    private static string? String(JsonElement entry, string name, string? key) =>
        entry.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => null,
            // pandas may write an id that looks like a number as one.
            JsonValueKind.Number => value.GetRawText(),
            _ => throw new ServingDataException($"the item {key} has {name} = {value.GetRawText()}, not a string"),
        } : null;

    private static string RequiredString(JsonElement entry, string name, string? key) =>
        String(entry, name, key) ?? throw new ServingDataException($"the item {key} has an entry without {name}");

    private static double? Number(JsonElement entry, string name, string? key) =>
        entry.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetDouble(out var number) && double.IsFinite(number) => number,
            JsonValueKind.Null => null,
            _ => throw new ServingDataException($"the item {key} has {name} = {value.GetRawText()}, not a finite number"),
        } : null;

    private static double RequiredNumber(JsonElement entry, string name, string? key) =>
        Number(entry, name, key) ?? throw new ServingDataException($"the item {key} has an entry without {name}");

    /// <summary>A whole number; pandas writes one as 4.0 when its column also has gaps.</summary>
    private static long? Whole(JsonElement entry, string name, string? key) =>
        Number(entry, name, key) is not { } number ? null
        : number == Math.Floor(number) && Math.Abs(number) < 1e15 ? (long)number
        : throw new ServingDataException($"the item {key} has {name} = {number.ToString(CultureInfo.InvariantCulture)}, not a whole number");

    private static long RequiredWhole(JsonElement entry, string name, string? key) =>
        Whole(entry, name, key) ?? throw new ServingDataException($"the item {key} has an entry without {name}");
}
