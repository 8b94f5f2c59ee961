using System.Text.Json.Nodes;
using System.Threading.Channels;
using CustomerSegmentation.LocalAws.Events;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>
/// Puts a service's events on the bus the way EventBridge receives them from AWS services: asynchronously, one at a
/// time, in the order they happened, and never before the API call that caused them has answered its caller (events
/// raised inside <see cref="HoldUntilDisposed"/> wait for the scope to end). A publisher failure is logged and the
/// next event is delivered; it never reaches the service.
/// </summary>
public sealed class OrderedEventDelivery : IAsyncDisposable
{
    private readonly AsyncLocal<HeldEvents?> _held = new();
    private readonly Channel<PendingEvent> _queue = Channel.CreateUnbounded<PendingEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly IEventPublisher _publisher;
    private readonly TextWriter _log;
    private readonly Task _delivering;
    private int _pending;

    /// <param name="publisher">The bus.</param>
    /// <param name="log">Where failed deliveries are reported.</param>
    public OrderedEventDelivery(IEventPublisher publisher, TextWriter log)
    {
        _publisher = publisher;
        _log = log;
        _delivering = Task.Run(DeliverAsync);
    }

    /// <summary>Events queued and not yet handed to the publisher (or failed).</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Queues an event behind every event queued before it.</summary>
    public void Enqueue(string source, string detailType, JsonObject detail, IReadOnlyList<string> resources)
    {
        var pending = new PendingEvent(source, detailType, detail, resources, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_held.Value is not { } held || !held.Hold(pending.Released))
        {
            pending.Released.TrySetResult();
        }

        Interlocked.Increment(ref _pending);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>
    /// Holds the events the current call raises (on this async flow) until the returned scope is disposed, e.g. after
    /// the HTTP answer was sent. Work the call starts in the background does not inherit the hold once it has ended.
    /// </summary>
    public IDisposable HoldUntilDisposed()
    {
        var held = new HeldEvents();
        _held.Value = held;
        return new Release(this, held);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _delivering.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task DeliverAsync()
    {
        try
        {
            await foreach (var pending in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                await pending.Released.Task.WaitAsync(_stopping.Token).ConfigureAwait(false);
                try
                {
                    await _publisher.PublishAsync(pending.Source, pending.DetailType, pending.Detail, pending.Resources, _stopping.Token).ConfigureAwait(false);
                }
                catch (Exception exception) when (!_stopping.IsCancellationRequested)
                {
                    await _log.WriteLineAsync($"[events] delivering {pending.DetailType} ({pending.Detail.ToJsonString()}) failed: {exception}").ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _pending);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposed: undelivered events are dropped with the service that raised them.
        }
    }

    private sealed record PendingEvent(string Source, string DetailType, JsonObject Detail, IReadOnlyList<string> Resources, TaskCompletionSource Released);

    private sealed class HeldEvents
    {
        private readonly List<TaskCompletionSource> _events = [];
        private bool _released;

        /// <summary>False when the scope has ended already (the caller is background work the call started).</summary>
        public bool Hold(TaskCompletionSource released)
        {
            lock (_events)
            {
                if (_released)
                {
                    return false;
                }

                _events.Add(released);
                return true;
            }
        }

        public void ReleaseAll()
        {
            lock (_events)
            {
                _released = true;
                foreach (var held in _events)
                {
                    held.TrySetResult();
                }
            }
        }
    }

    private sealed class Release(OrderedEventDelivery owner, HeldEvents held) : IDisposable
    {
        public void Dispose()
        {
            held.ReleaseAll();
            if (owner._held.Value == held)
            {
                owner._held.Value = null;
            }
        }
    }
}
