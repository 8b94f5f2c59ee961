using Amazon.DynamoDBv2.Model;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>The table requests of one API request and the time they took, for its log line.</summary>
public sealed class TableUsage
{
    private static readonly AsyncLocal<TableUsage?> Current = new();
    private long _ticks;
    private int _requests;

    /// <summary>How many table requests were made.</summary>
    public int Requests => _requests;

    /// <summary>How long they took, together.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    /// <summary>Starts counting for the calling flow (and everything it awaits); returns the counter.</summary>
    public static TableUsage Begin() => Current.Value = new TableUsage();

    internal static void Record(TimeSpan elapsed)
    {
        if (Current.Value is { } usage)
        {
            Interlocked.Increment(ref usage._requests);
            Interlocked.Add(ref usage._ticks, elapsed.Ticks);
        }
    }
}

/// <summary>An <see cref="ITableClient"/> that counts and times every request into the caller's <see cref="TableUsage"/>.</summary>
public sealed class MeasuredTableClient(ITableClient inner, TimeProvider time) : ITableClient
{
    public Task<IReadOnlyDictionary<string, AttributeValue>?> GetItemAsync(string table, string keyName, string key, CancellationToken cancellationToken) =>
        MeasureAsync(() => inner.GetItemAsync(table, keyName, key, cancellationToken));

    public Task<IReadOnlyList<IReadOnlyDictionary<string, AttributeValue>>> GetItemsAsync(string table, string keyName, IReadOnlyList<string> keys,
        CancellationToken cancellationToken) =>
        MeasureAsync(() => inner.GetItemsAsync(table, keyName, keys, cancellationToken));

    public Task<bool> PutIfAbsentAsync(string table, string keyName, IReadOnlyDictionary<string, AttributeValue> item, CancellationToken cancellationToken) =>
        MeasureAsync(() => inner.PutIfAbsentAsync(table, keyName, item, cancellationToken));

    private async Task<T> MeasureAsync<T>(Func<Task<T>> call)
    {
        var start = time.GetTimestamp();
        try
        {
            return await call().ConfigureAwait(false);
        }
        finally
        {
            TableUsage.Record(time.GetElapsedTime(start));
        }
    }
}
