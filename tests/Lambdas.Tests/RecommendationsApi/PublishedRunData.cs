using System.Globalization;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.RecommendationsApi;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>One customer of a published run: its segment and its recommendations (possibly none).</summary>
public sealed record CustomerData(string CustomerId, string Region, string EndUse, IReadOnlyList<RecommendationData> Recommendations)
{
    public string Segment => Region + "_" + EndUse;
}

/// <summary>
/// One recommendation as the pipeline's final recommendations.csv has it. Null fields are left out of the stored JSON, as
/// publish.py leaves out a NaN (a fallback's confidence and lift).
/// </summary>
public sealed record RecommendationData(string Product, double Score, string Trigger, double? Confidence, double? Lift, string L2, string L3, int Quantity,
    string Reason);

/// <summary>One popular product of a segment, as the Publish step stores it.</summary>
public sealed record PopularProduct(string ProductId, string L2, string L3, int Buyers, int Quantity);

/// <summary>A segment of a published run: its customer count and its popular in-stock products in order.</summary>
public sealed record SegmentData(string Region, string EndUse, int Customers, IReadOnlyList<PopularProduct> Popular)
{
    public string Segment => Region + "_" + EndUse;
}

/// <summary>
/// A published run in the serving table's item format (see the contract of issue 9 and publish.py): a customer item per
/// customer (JSON recommendations in rank order, segment, region, end_use), a segment item per segment, the summary item,
/// and the pointer that names the run. <see cref="Items"/> are written first, <see cref="PointerItem"/> last.
/// </summary>
public sealed record PublishedRunData(string RunId, string PublishedAt, string? PreviousRunId, IReadOnlyList<CustomerData> Customers,
    IReadOnlyList<SegmentData> Segments, string? FeedbackSummaryJson)
{
    public const long ExpiresAt = 4_102_444_800; // 2100-01-01: nothing expires during a test.

    /// <summary>Every item of the run except the pointer.</summary>
    public IEnumerable<Dictionary<string, AttributeValue>> Items()
    {
        foreach (var customer in Customers)
        {
            var recommendations = new JsonArray();
            for (var index = 0; index < customer.Recommendations.Count; index++)
            {
                var recommendation = customer.Recommendations[index];
                var entry = new JsonObject
                {
                    ["rank"] = index + 1,
                    ["recommended_product"] = recommendation.Product,
                    ["score"] = recommendation.Score,
                    ["reason"] = recommendation.Reason,
                    ["trigger_product"] = recommendation.Trigger,
                };
                if (recommendation.Confidence is { } confidence)
                {
                    entry["confidence"] = confidence;
                }

                if (recommendation.Lift is { } lift)
                {
                    entry["lift"] = lift;
                }

                entry["support"] = 0.05;
                entry["weighted_support"] = 0.04;
                entry["l2_category"] = recommendation.L2;
                entry["l3_category"] = recommendation.L3;
                // pandas writes a whole number as 4.0 when the column also has gaps; the API answers 4.
                entry["recommended_qty"] = (double)recommendation.Quantity;
                entry["cluster_id"] = customer.Segment + "_0";
                entry["segment"] = customer.Segment;
                entry["feedback_weight"] = 1.0;
                recommendations.Add(entry);
            }

            yield return Item(ServingTable.CustomerKey(RunId, customer.CustomerId), ("run_id", RunId), ("customer_id", customer.CustomerId),
                ("recommendations", recommendations.ToJsonString()), ("segment", customer.Segment), ("region", customer.Region), ("end_use", customer.EndUse));
        }

        foreach (var segment in Segments)
        {
            var popular = new JsonArray([.. segment.Popular.Select(product => (JsonNode)new JsonObject
            {
                ["product_id"] = product.ProductId,
                ["l2_category"] = product.L2,
                ["l3_category"] = product.L3,
                ["buyers"] = product.Buyers,
                ["share"] = Math.Round((double)product.Buyers / segment.Customers, 6),
                ["recommended_qty"] = product.Quantity,
            })]);
            var item = Item(ServingTable.SegmentKey(RunId, segment.Segment), ("run_id", RunId), ("segment", segment.Segment), ("region", segment.Region),
                ("end_use", segment.EndUse), ("popular", popular.ToJsonString()));
            item["customers"] = new AttributeValue { N = segment.Customers.ToString(CultureInfo.InvariantCulture) };
            yield return item;
        }

        yield return Item(ServingTable.SummaryKey(RunId), ("summary", SummaryJson()));
    }

    /// <summary>The pointer naming this run.</summary>
    public Dictionary<string, AttributeValue> PointerItem()
    {
        var pointer = new Dictionary<string, AttributeValue>
        {
            [ServingTable.KeyName] = new() { S = ServingTable.PointerKey },
            ["run_id"] = new() { S = RunId },
            ["published_at"] = new() { S = PublishedAt },
            ["customers"] = new() { N = Customers.Count.ToString(CultureInfo.InvariantCulture) },
            ["recommendations"] = new() { N = Customers.Sum(customer => customer.Recommendations.Count).ToString(CultureInfo.InvariantCulture) },
        };
        if (PreviousRunId is not null)
        {
            pointer["previous_run_id"] = new() { S = PreviousRunId };
        }

        return pointer;
    }

    /// <summary>The run's summary document as the Publish step writes it.</summary>
    public string SummaryJson()
    {
        var covered = Customers.Count(customer => customer.Recommendations.Count > 0);
        var summary = new JsonObject
        {
            ["run_id"] = RunId,
            ["published_at"] = PublishedAt,
            ["coverage"] = new JsonObject
            {
                ["customers"] = Customers.Count,
                ["customers_covered"] = covered,
                ["coverage"] = Math.Round((double)covered / Customers.Count, 4),
                ["recommendations"] = Customers.Sum(customer => customer.Recommendations.Count),
                ["customers_via_association"] = Customers.Count(customer => customer.Recommendations.Any(r => r.Trigger != "fallback")),
                ["customers_via_fallback"] = Customers.Count(customer => customer.Recommendations.Any(r => r.Trigger == "fallback")),
                ["customers_with_fewer_than_top_k"] = Customers.Count(customer => customer.Recommendations.Count < 3),
            },
            ["feedback_summary"] = FeedbackSummaryJson is null ? null : JsonNode.Parse(FeedbackSummaryJson),
        };
        return summary.ToJsonString();
    }

    private static Dictionary<string, AttributeValue> Item(string key, params (string Name, string Value)[] attributes)
    {
        var item = new Dictionary<string, AttributeValue>
        {
            [ServingTable.KeyName] = new() { S = key },
            ["expires_at"] = new() { N = ExpiresAt.ToString(CultureInfo.InvariantCulture) },
        };
        foreach (var (name, value) in attributes)
        {
            item[name] = new() { S = value };
        }

        return item;
    }
}

/// <summary>
/// Two published runs with nothing in common but their customers' ids, so an answer that mixed them would show: run A's
/// products are PA*, run B's PB*. Run B replaced run A. C001 is in both; C002 and C003 only in A; C005 only in B; C004 is
/// known to both runs with no recommendation in A.
/// </summary>
public static class TwoRuns
{
    public const string RunA = "pipelines-run-a";
    public const string RunB = "pipelines-run-b";

    public const string FeedbackSummary = """
        {"generated_at":"2026-11-20T06:10:02Z","overall":{"feedback":4,"acceptance_rate":0.5,"high_rate":0.25,"medium_positive_rate":0.25,
         "medium_negative_rate":0.25,"medium_no_signal_rate":0.0,"low_rate":0.25},"by_segment":{},"by_l2_category":{},
         "reason_code_distribution":{"good_fit":1,"price_too_high":1},
         "threshold_suggestions":{"MinConfidence":0.05,"ScoreCutoff":0.08,"rationale":"Acceptance rate=0.50. Holding thresholds."}}
        """;

    public static PublishedRunData A { get; } = new(RunA, "2026-11-16T06:12:40Z", null,
    [
        new("C001", "West", "Plumbing",
        [
            new("PA100", 0.91, "PA900", 0.667, 8.67, "Plumbing", "Valves", 4, "PA900 \u2192 PA100 (support=0.077, confidence=0.667, lift=8.67)"),
            new("PA101", 0.52, "PA901", 0.4, 2.5, "Plumbing", "Pipes", 10, "PA901 \u2192 PA101 (support=0.05, confidence=0.400, lift=2.50)"),
            new("PA102", 0.2, "fallback", null, null, "Fasteners", "Screws", 1, "Popular in your segment: Fasteners"),
        ]),
        new("C002", "East", "HVAC",
        [
            new("PA200", 0.8, "PA902", 0.5, 3.1, "HVAC", "Filters", 2, "PA902 \u2192 PA200 (support=0.060, confidence=0.500, lift=3.10)"),
        ]),
        new("C003", "East", "HVAC",
        [
            new("PA201", 0.7, "fallback", null, null, "HVAC", "Ducts", 3, "Popular in your segment: HVAC"),
        ]),
        new("C004", "West", "Plumbing", []),
    ],
    [
        new("West", "Plumbing", 120,
        [
            new("PA300", "Plumbing", "Pipes", 60, 10), new("PA301", "Plumbing", "Valves", 48, 2), new("PA302", "Fasteners", "Screws", 30, 50),
            new("PA303", "Tools", "Wrenches", 12, 1), new("PA304", "Plumbing", "Fittings", 6, 8), new("PA305", "Plumbing", "Seals", 3, 4),
        ]),
        new("East", "HVAC", 40, [new("PA310", "HVAC", "Filters", 20, 6)]),
    ], null);

    public static PublishedRunData B { get; } = new(RunB, "2026-11-23T06:12:40Z", RunA,
    [
        new("C001", "West", "Plumbing",
        [
            new("PB100", 0.88, "PB900", 0.6, 5.0, "Plumbing", "Valves", 6, "PB900 \u2192 PB100 (support=0.070, confidence=0.600, lift=5.00)"),
            new("PB101", 0.3, "fallback", null, null, "Tools", "Wrenches", 1, "Popular in your segment: Tools"),
        ]),
        new("C004", "West", "Plumbing", [new("PB102", 0.4, "PB901", 0.3, 1.9, "Plumbing", "Seals", 2, "PB901 \u2192 PB102 (support=0.030, confidence=0.300, lift=1.90)")]),
        new("C005", "North", "Mining", [new("PB200", 0.65, "PB902", 0.55, 4.4, "Mining", "Drills", 1, "PB902 \u2192 PB200 (support=0.040, confidence=0.550, lift=4.40)")]),
    ],
    [
        new("West", "Plumbing", 130, [new("PB300", "Plumbing", "Pipes", 65, 12), new("PB301", "Plumbing", "Valves", 1, 2)]),
        new("North", "Mining", 10, [new("PB310", "Mining", "Drills", 4, 1)]),
    ], FeedbackSummary);

    /// <summary>Every product id of <paramref name="run"/> (recommended or popular): an answer's products must all be of its run.</summary>
    public static IReadOnlySet<string> ProductsOf(PublishedRunData run) =>
        run.Customers.SelectMany(customer => customer.Recommendations.Select(r => r.Product))
            .Concat(run.Segments.SelectMany(segment => segment.Popular.Select(p => p.ProductId))).ToHashSet(StringComparer.Ordinal);

    /// <summary>Writes <paramref name="run"/> into <paramref name="tables"/> as the Publish step does: items first, pointer last.</summary>
    internal static void Publish(InMemoryTables tables, string table, PublishedRunData run)
    {
        foreach (var item in run.Items())
        {
            tables.Put(table, item);
        }

        tables.Put(table, run.PointerItem());
    }
}
