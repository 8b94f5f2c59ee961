using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>
/// <see cref="ITableClient"/> over the low-level <see cref="IAmazonDynamoDB"/> (the SDK's own retries, credentials,
/// region and endpoint, including <c>AWS_ENDPOINT_URL_DYNAMODB</c>). Service and network failures become
/// <see cref="TableUnavailableException"/>; a cancelled request stays an <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class DynamoDbTableClient(IAmazonDynamoDB client, Func<TimeSpan, CancellationToken, Task>? delay = null) : ITableClient
{
    // BatchGetItem leaves keys unprocessed when the table is throttled; they are asked for again after 50, 100, 200 ms.
    private const int UnprocessedRetries = 3;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay = delay ?? Task.Delay;

    public async Task<IReadOnlyDictionary<string, AttributeValue>?> GetItemAsync(string table, string keyName, string key, CancellationToken cancellationToken)
    {
        var response = await CallAsync(table, "GetItem", () => client.GetItemAsync(new GetItemRequest
        {
            TableName = table,
            Key = new Dictionary<string, AttributeValue> { [keyName] = new() { S = key } },
            ConsistentRead = true,
        }, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Item is { Count: > 0 } item ? item : null;
    }

    public async Task<IReadOnlyList<IReadOnlyDictionary<string, AttributeValue>>> GetItemsAsync(string table, string keyName, IReadOnlyList<string> keys,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var items = new List<IReadOnlyDictionary<string, AttributeValue>>(keys.Count);
        var pending = new KeysAndAttributes
        {
            Keys = [.. keys.Select(key => new Dictionary<string, AttributeValue> { [keyName] = new() { S = key } })],
            ConsistentRead = true,
        };
        for (var attempt = 0; ; attempt++)
        {
            var request = new BatchGetItemRequest { RequestItems = new Dictionary<string, KeysAndAttributes> { [table] = pending } };
            var response = await CallAsync(table, "BatchGetItem", () => client.BatchGetItemAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (response.Responses is { } responses && responses.TryGetValue(table, out var found))
            {
                items.AddRange(found);
            }

            if (response.UnprocessedKeys is not { } unprocessed || !unprocessed.TryGetValue(table, out var left) || left.Keys is not { Count: > 0 })
            {
                return items;
            }

            if (attempt == UnprocessedRetries)
            {
                throw new TableUnavailableException(table, "BatchGetItem", new ProvisionedThroughputExceededException(
                    $"{left.Keys.Count} keys were still unprocessed after {UnprocessedRetries} retries"));
            }

            await _delay(TimeSpan.FromMilliseconds(50 << attempt), cancellationToken).ConfigureAwait(false);
            pending = left;
        }
    }

    public async Task<bool> PutIfAbsentAsync(string table, string keyName, IReadOnlyDictionary<string, AttributeValue> item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        try
        {
            await CallAsync(table, "PutItem", () => client.PutItemAsync(new PutItemRequest
            {
                TableName = table,
                Item = new Dictionary<string, AttributeValue>(item),
                ConditionExpression = $"attribute_not_exists({keyName})",
            }, cancellationToken), cancellationToken, conditionalCheckIsAnswer: true).ConfigureAwait(false);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    private static async Task<T> CallAsync<T>(string table, string operation, Func<Task<T>> call, CancellationToken cancellationToken,
        bool conditionalCheckIsAnswer = false)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException) when (conditionalCheckIsAnswer)
        {
            throw;
        }
        catch (Exception exception) when (exception is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A cancellation nobody asked for is the HTTP client's timeout.
            throw new TableUnavailableException(table, operation, exception);
        }
    }
}
