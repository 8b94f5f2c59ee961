using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.SageMaker;

namespace CustomerSegmentation.LocalAws.Tests;

public sealed class OrderedEventDeliveryTests
{
    [Fact]
    public async Task Enqueue_ManyEvents_DeliveredOneAtATimeInOrder()
    {
        var concurrent = 0;
        var maxConcurrent = 0;
        var bus = new RecordingEventPublisher
        {
            Before = async (_, cancellationToken) =>
            {
                maxConcurrent = Math.Max(maxConcurrent, Interlocked.Increment(ref concurrent));
                await Task.Delay(1, cancellationToken);
                Interlocked.Decrement(ref concurrent);
            },
        };
        var delivery = new OrderedEventDelivery(bus, TextWriter.Null);

        for (var i = 0; i < 50; i++)
        {
            delivery.Enqueue("aws.sagemaker", "Test", Detail(i), []);
        }

        await WaitForAsync(() => bus.Events.Count == 50);
        await delivery.DisposeAsync();
        Assert.Equal(Enumerable.Range(0, 50), bus.Events.Select(e => (int)e.Detail["N"]!));
        Assert.Equal(1, maxConcurrent);
    }

    [Fact]
    public async Task Enqueue_InsideAHold_WaitsUntilTheHoldEndsAndKeepsLaterEventsBehindIt()
    {
        var bus = new RecordingEventPublisher();
        var delivery = new OrderedEventDelivery(bus, TextWriter.Null);
        var hold = delivery.HoldUntilDisposed();
        delivery.Enqueue("aws.sagemaker", "Test", Detail(1), []);
        await Task.Run(() => delivery.Enqueue("aws.sagemaker", "Test", Detail(2), []));

        await Task.Delay(300);
        var whileHeld = bus.Events.Count;
        hold.Dispose();
        await WaitForAsync(() => bus.Events.Count == 2);

        Assert.Equal(0, whileHeld);
        Assert.Equal([1, 2], bus.Events.Select(e => (int)e.Detail["N"]!));
        await delivery.DisposeAsync();
    }

    [Fact]
    public async Task Enqueue_FromWorkStartedInAHoldThatEnded_DeliveredWithoutWaiting()
    {
        var bus = new RecordingEventPublisher();
        var delivery = new OrderedEventDelivery(bus, TextWriter.Null);
        var started = new TaskCompletionSource();
        Task background;
        using (delivery.HoldUntilDisposed())
        {
            background = Task.Run(async () =>
            {
                await started.Task;
                delivery.Enqueue("aws.sagemaker", "Test", Detail(7), []);
            });
        }

        started.SetResult();
        await background;

        await WaitForAsync(() => bus.Events.Count == 1);
        await delivery.DisposeAsync();
    }

    [Fact]
    public async Task Publish_Throws_LoggedWithTheEventAndTheNextOneIsDelivered()
    {
        var bus = new RecordingEventPublisher { Before = (e, _) => (int)e.Detail["N"]! == 1 ? throw new InvalidOperationException("target unreachable") : Task.CompletedTask };
        var log = new StringWriter();
        var delivery = new OrderedEventDelivery(bus, log);

        delivery.Enqueue("aws.sagemaker", "Test", Detail(1), []);
        delivery.Enqueue("aws.sagemaker", "Test", Detail(2), []);

        await WaitForAsync(() => bus.Events.Count == 1 && delivery.Pending == 0);
        await delivery.DisposeAsync();
        Assert.Equal(2, (int)bus.Events[0].Detail["N"]!);
        Assert.StartsWith("[events] delivering Test ({\"N\":1}) failed: System.InvalidOperationException: target unreachable", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_TargetNeverReturns_CancelsItAndReturns()
    {
        var bus = new RecordingEventPublisher { Before = (_, cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken) };
        var delivery = new OrderedEventDelivery(bus, TextWriter.Null);
        delivery.Enqueue("aws.sagemaker", "Test", Detail(1), []);
        await WaitForAsync(() => delivery.Pending == 1);

        await delivery.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Empty(bus.Events);
    }

    private static JsonObject Detail(int n) => new() { ["N"] = n };

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 400 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition(), "the condition did not become true within 10 s");
    }
}
