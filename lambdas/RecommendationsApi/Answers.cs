using System.Text.Json;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>The JSON bodies of the API's answers (the OpenAPI document's RecommendationsAnswer, RecommendationsSummary and FeedbackStored).</summary>
public static class Answers
{
    private static readonly string[] SummaryParts = ["coverage", "feedback_summary"];

    /// <summary>
    /// <c>{"customer_id","run_id","published_at","segment","cold_start","recommendations":[{"product_id","rank","score",
    /// "confidence","lift","l2_category","l3_category","trigger_product","recommended_qty","reason"}]}</c>.
    /// </summary>
    public static byte[] Customer(CustomerRecommendations answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("customer_id", answer.CustomerId);
            writer.WriteString("run_id", answer.Run.RunId);
            writer.WriteString("published_at", answer.Run.PublishedAt);
            writer.WriteString("segment", answer.Segment);
            writer.WriteBoolean("cold_start", answer.Standing == CustomerStanding.ColdStart);
            writer.WriteStartArray("recommendations");
            foreach (var recommendation in answer.Recommendations)
            {
                writer.WriteStartObject();
                writer.WriteString("product_id", recommendation.ProductId);
                writer.WriteNumber("rank", recommendation.Rank);
                writer.WriteNumber("score", recommendation.Score);
                WriteNumber(writer, "confidence", recommendation.Confidence);
                WriteNumber(writer, "lift", recommendation.Lift);
                writer.WriteString("l2_category", recommendation.L2Category);
                writer.WriteString("l3_category", recommendation.L3Category);
                writer.WriteString("trigger_product", recommendation.TriggerProduct);
                if (recommendation.RecommendedQty is { } quantity)
                {
                    writer.WriteNumber("recommended_qty", quantity);
                }
                else
                {
                    writer.WriteNull("recommended_qty");
                }

                writer.WriteString("reason", recommendation.Reason);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary>
    /// <c>{"run_id","published_at","coverage","feedback_summary"}</c>: the run from the pointer, the figures as the
    /// Publish step stored them in the run's summary (null when it has none).
    /// </summary>
    public static byte[] Summary(PublishedRun run, JsonElement summary)
    {
        ArgumentNullException.ThrowIfNull(run);
        return Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("run_id", run.RunId);
            writer.WriteString("published_at", run.PublishedAt);
            foreach (var name in SummaryParts)
            {
                writer.WritePropertyName(name);
                if (summary.TryGetProperty(name, out var value))
                {
                    value.WriteTo(writer);
                }
                else
                {
                    writer.WriteNullValue();
                }
            }

            writer.WriteEndObject();
        });
    }

    /// <summary><c>{"stored","idempotency_key","run_id","feedback":{the canonical fields}}</c>.</summary>
    public static byte[] Feedback(FeedbackResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Write(writer =>
        {
            var feedback = result.Feedback;
            writer.WriteStartObject();
            writer.WriteBoolean("stored", result.Stored);
            writer.WriteString("idempotency_key", result.IdempotencyKey);
            writer.WriteString("run_id", result.RunId);
            writer.WriteStartObject("feedback");
            writer.WriteString(FeedbackRequest.CustomerId, feedback.CustomerId);
            writer.WriteString(FeedbackRequest.ProductId, feedback.ProductId);
            writer.WriteString(FeedbackRequest.Rating, feedback.Rating);
            writer.WriteString(FeedbackRequest.ReasonCode, feedback.ReasonCode);
            writer.WriteString(FeedbackRequest.Sentiment, feedback.Sentiment);
            writer.WriteString(FeedbackRequest.FeedbackDate, feedback.FeedbackDateText);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    private static void WriteNumber(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.ToArray();
    }
}
