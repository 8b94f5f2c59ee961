namespace CustomerSegmentation.RecommendationsApi;

/// <summary>
/// The current run, from the serving table's pointer, reused for a bounded time: a pointer read at t is used until
/// t + <c>cacheFor</c>, so an answer never comes from a run replaced longer ago than that, and a warm function answers
/// with one table request. A missing pointer is not remembered: the first publish is seen by the next request.
/// </summary>
public sealed class PublishedRuns(ITableClient table, string tableName, TimeSpan cacheFor, TimeProvider time)
{
    private Reading? _last;

    /// <summary>The current run, and whether it came from the cache (no table request).</summary>
    /// <exception cref="NothingPublishedException">No run is published yet.</exception>
    /// <exception cref="ServingDataException">The pointer has no run_id or published_at.</exception>
    /// <exception cref="TableUnavailableException">The table could not be read.</exception>
    public async Task<(PublishedRun Run, bool Cached)> CurrentAsync(CancellationToken cancellationToken)
    {
        var last = Volatile.Read(ref _last);
        if (last is not null && time.GetElapsedTime(last.StartedAt) < cacheFor)
        {
            return (last.Run, true);
        }

        // Timed from before the read: the table may have moved on while it was in flight.
        var startedAt = time.GetTimestamp();
        var pointer = await table.GetItemAsync(tableName, ServingTable.KeyName, ServingTable.PointerKey, cancellationToken).ConfigureAwait(false)
            ?? throw new NothingPublishedException();
        var run = new PublishedRun(
            ItemAttributes.RequiredText(pointer, "run_id"),
            ItemAttributes.RequiredText(pointer, "published_at"),
            ItemAttributes.Text(pointer, "previous_run_id"));
        Volatile.Write(ref _last, new Reading(run, startedAt));
        return (run, false);
    }

    private sealed record Reading(PublishedRun Run, long StartedAt);
}
