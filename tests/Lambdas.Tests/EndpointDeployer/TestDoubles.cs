using System.Collections.Concurrent;
using System.Text;
using CustomerSegmentation.EndpointDeployer;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

/// <summary>A clock tests move by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>S3 as a dictionary of "bucket/key" to bytes; a missing object reads as null, as S3's 404.</summary>
public sealed class InMemoryObjectStore : IObjectStore
{
    private readonly ConcurrentDictionary<string, (byte[] Content, string ContentType)> _objects = new(StringComparer.Ordinal);

    public List<string> Puts { get; } = [];

    public Task<byte[]?> GetAsync(string bucket, string key, CancellationToken cancellationToken) =>
        Task.FromResult(_objects.TryGetValue($"{bucket}/{key}", out var entry) ? entry.Content : null);

    public Task PutAsync(string bucket, string key, byte[] content, string contentType, CancellationToken cancellationToken)
    {
        lock (Puts)
        {
            Puts.Add($"{bucket}/{key}");
        }

        _objects[$"{bucket}/{key}"] = (content, contentType);
        return Task.CompletedTask;
    }

    public void PutText(string bucket, string key, string content) => _objects[$"{bucket}/{key}"] = (Encoding.UTF8.GetBytes(content), "application/json");

    public string? Text(string bucket, string key) => _objects.TryGetValue($"{bucket}/{key}", out var entry) ? Encoding.UTF8.GetString(entry.Content) : null;
}
