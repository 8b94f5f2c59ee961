using Amazon.DynamoDBv2.Model;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>
/// The three DynamoDB calls the function makes, on tables with a single string partition key. Every read is strongly
/// consistent: the Publish step writes a run's items and then switches the pointer, and a reader that has just seen the
/// new pointer must see those items. Implemented over AWSSDK.DynamoDBv2 by <see cref="DynamoDbTableClient"/>.
/// </summary>
public interface ITableClient
{
    /// <summary>GetItem: the item whose <paramref name="keyName"/> is <paramref name="key"/>, or null.</summary>
    /// <exception cref="TableUnavailableException">The table could not be read.</exception>
    Task<IReadOnlyDictionary<string, AttributeValue>?> GetItemAsync(string table, string keyName, string key, CancellationToken cancellationToken);

    /// <summary>
    /// BatchGetItem in one request (keys the table leaves unprocessed are asked for again): the items that exist, in no
    /// particular order. <paramref name="keys"/> are distinct, at most 100.
    /// </summary>
    /// <exception cref="TableUnavailableException">The table could not be read.</exception>
    Task<IReadOnlyList<IReadOnlyDictionary<string, AttributeValue>>> GetItemsAsync(string table, string keyName, IReadOnlyList<string> keys,
        CancellationToken cancellationToken);

    /// <summary>
    /// PutItem with <c>attribute_not_exists(keyName)</c>: true when <paramref name="item"/> was stored, false when an item
    /// with its key exists (which is left as it is).
    /// </summary>
    /// <exception cref="TableUnavailableException">The table could not be written.</exception>
    Task<bool> PutIfAbsentAsync(string table, string keyName, IReadOnlyDictionary<string, AttributeValue> item, CancellationToken cancellationToken);
}

/// <summary>A table could not be read or written (throttled beyond the retries, unreachable, missing, access denied).</summary>
public sealed class TableUnavailableException(string table, string operation, Exception inner)
    : Exception($"{operation} on table {table} failed: {inner?.GetType().Name}: {inner?.Message}", inner)
{
    public string Table { get; } = table;
}
