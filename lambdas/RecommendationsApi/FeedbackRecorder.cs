using System.Globalization;
using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>What POST /feedback answers: whether this request stored it, under which key, for which run, and what.</summary>
public sealed record FeedbackResult(bool Stored, string IdempotencyKey, string RunId, Feedback Feedback);

/// <summary>
/// Stores feedback once per idempotency key in the feedback table (partition key <c>idempotency_key</c>), where the
/// next FeedbackCalibration step reads it. Only feedback on a product the current or the previous run recommended to the
/// customer is stored; a retry (same key, same content) is answered as stored before; the same key with other content
/// is refused (409).
/// </summary>
public sealed class FeedbackRecorder(ITableClient table, string tableName, RecommendationReader reader, TimeProvider time)
{
    public const string KeyName = "idempotency_key";

    /// <summary>Stores <paramref name="submission"/> unless its key holds feedback already.</summary>
    /// <exception cref="RequestException">The product was not recommended to the customer (400), or the key holds other feedback (409).</exception>
    /// <exception cref="NothingPublishedException">No run is published yet.</exception>
    /// <exception cref="ServingDataException">A stored item is not as this function writes it.</exception>
    /// <exception cref="TableUnavailableException">A table could not be read or written.</exception>
    public async Task<FeedbackResult> RecordAsync(FeedbackSubmission submission, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(submission);
        var feedback = submission.Feedback;
        var check = await reader.CheckAsync(feedback.CustomerId, feedback.ProductId, cancellationToken).ConfigureAwait(false);
        if (check.RecommendedIn is not { } runId)
        {
            // A retry may arrive after the runs have moved on from the one that recommended the product.
            return await ExistingAsync(submission, cancellationToken).ConfigureAwait(false) ?? throw NotRecommended(feedback, check);
        }

        var stored = await table.PutIfAbsentAsync(tableName, KeyName, Item(submission, runId), cancellationToken).ConfigureAwait(false);
        if (stored)
        {
            return new FeedbackResult(true, submission.IdempotencyKey, runId, feedback);
        }

        return await ExistingAsync(submission, cancellationToken).ConfigureAwait(false)
            ?? throw new TableUnavailableException(tableName, "PutItem", new InvalidOperationException(
                $"the item {submission.IdempotencyKey} was there for the conditional put and gone when read back"));
    }

    /// <summary>The item stored for <paramref name="submission"/>: the same key and content, written by this function.</summary>
    public static Dictionary<string, AttributeValue> Item(FeedbackSubmission submission, string runId, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(submission);
        var feedback = submission.Feedback;
        var item = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            [KeyName] = new() { S = submission.IdempotencyKey },
            ["customer_id"] = new() { S = feedback.CustomerId },
            ["product_id"] = new() { S = feedback.ProductId },
            ["rating"] = new() { S = feedback.Rating },
            ["feedback_date"] = new() { S = feedback.FeedbackDateText },
            ["received_at"] = new() { S = receivedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) },
            ["run_id"] = new() { S = runId },
            ["request_sha256"] = new() { S = submission.RequestSha256 },
        };
        if (feedback.ReasonCode is { } reasonCode)
        {
            item["reason_code"] = new() { S = reasonCode };
        }

        if (feedback.Sentiment is { } sentiment)
        {
            item["sentiment"] = new() { S = sentiment };
        }

        return item;
    }

    private Dictionary<string, AttributeValue> Item(FeedbackSubmission submission, string runId) => Item(submission, runId, time.GetUtcNow());

    /// <summary>The feedback stored under the submission's key: a replay when its content is the same, a 409 when not; null when none.</summary>
    private async Task<FeedbackResult?> ExistingAsync(FeedbackSubmission submission, CancellationToken cancellationToken)
    {
        var existing = await table.GetItemAsync(tableName, KeyName, submission.IdempotencyKey, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return null;
        }

        if (ItemAttributes.Text(existing, "request_sha256") != submission.RequestSha256)
        {
            throw new RequestException(FeedbackRequest.IdempotencyKeyHeader,
                $"{FeedbackRequest.IdempotencyKeyHeader} {submission.IdempotencyKey} was used for different feedback", 409);
        }

        return new FeedbackResult(false, submission.IdempotencyKey, ItemAttributes.RequiredText(existing, "run_id"), Stored(existing));
    }

    private static Feedback Stored(IReadOnlyDictionary<string, AttributeValue> item)
    {
        var date = ItemAttributes.RequiredText(item, "feedback_date");
        return new Feedback(
            ItemAttributes.RequiredText(item, "customer_id"),
            ItemAttributes.RequiredText(item, "product_id"),
            ItemAttributes.RequiredText(item, "rating"),
            ItemAttributes.Text(item, "reason_code"),
            ItemAttributes.Text(item, "sentiment"),
            DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
                ? parsed
                : throw new ServingDataException($"the feedback item {ItemAttributes.Describe(item)} has feedback_date {date}, not YYYY-MM-DD"));
    }

    private static RequestException NotRecommended(Feedback feedback, RecommendationCheck check)
    {
        var runs = check.Current.PreviousRunId is { } previous ? $"run {check.Current.RunId} or the previous run {previous}" : $"run {check.Current.RunId}";
        return check.CustomerKnown
            ? new RequestException(FeedbackRequest.ProductId,
                $"product {feedback.ProductId} was not recommended to customer {feedback.CustomerId} in {runs}: only a recommendation made can be rated")
            : new RequestException(FeedbackRequest.CustomerId,
                $"customer {feedback.CustomerId} is not in {runs}: only a recommendation made to a customer of a published run can be rated");
    }
}
