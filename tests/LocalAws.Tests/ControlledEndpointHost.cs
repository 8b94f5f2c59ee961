using System.Collections.Concurrent;
using System.Text;
using CustomerSegmentation.LocalAws.SageMaker;

namespace CustomerSegmentation.LocalAws.Tests;

/// <summary>
/// An endpoint host for the control plane's rules: variants start at once (asynchronously, after the API call) or
/// when the test says so, answer with what the test says, and record their requests and whether they were stopped.
/// </summary>
internal sealed class ControlledEndpointHost : IEndpointHost
{
    private readonly ConcurrentQueue<(VariantDeployment Deployment, TaskCompletionSource<IServingVariant> Start)> _waiting = new();
    private readonly ConcurrentQueue<ControlledVariant> _variants = new();
    private readonly ConcurrentQueue<string> _released = new();

    /// <summary>True: every start succeeds on its own. False: starts wait for <see cref="CompleteNextAsync"/> or <see cref="FailNextAsync"/>.</summary>
    public bool StartsOnItsOwn { get; set; } = true;

    /// <summary>How variants answer; by default 200 with <c>{"config":"&lt;endpoint config&gt;"}</c>.</summary>
    public Func<VariantDeployment, VariantInvocation, Task<VariantAnswer>> Answer { get; set; } = (deployment, _) =>
        Task.FromResult(new VariantAnswer(200, Encoding.UTF8.GetBytes($$"""{"config":"{{deployment.EndpointConfigName}}"}"""), "application/json"));

    /// <summary>Every variant started, in order.</summary>
    public IReadOnlyList<ControlledVariant> Variants => [.. _variants];

    public async Task<IServingVariant> StartAsync(VariantDeployment deployment, CancellationToken cancellationToken)
    {
        if (StartsOnItsOwn)
        {
            await Task.Yield();
            return Started(deployment);
        }

        var start = new TaskCompletionSource<IServingVariant>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting.Enqueue((deployment, start));
        await using (cancellationToken.Register(() => start.TrySetCanceled(cancellationToken)))
        {
            return await start.Task;
        }
    }

    /// <summary>The endpoints released after their deletion, in order.</summary>
    public IReadOnlyList<string> Released => [.. _released];

    public Task ReleaseEndpointAsync(string endpointName, CancellationToken cancellationToken)
    {
        _released.Enqueue(endpointName);
        return Task.CompletedTask;
    }

    /// <summary>The oldest start (waiting now or within 5 s, as starts begin in the background) becomes healthy.</summary>
    public async Task CompleteNextAsync()
    {
        var (deployment, start) = await NextWaitingAsync();
        start.TrySetResult(Started(deployment));
    }

    /// <summary>The oldest start (waiting now or within 5 s) fails with the FailureReason <paramref name="reason"/>.</summary>
    public async Task FailNextAsync(string reason) => (await NextWaitingAsync()).Start.TrySetException(new EndpointStartException(reason));

    private async Task<(VariantDeployment Deployment, TaskCompletionSource<IServingVariant> Start)> NextWaitingAsync()
    {
        for (var waited = 0; waited < 200; waited++)
        {
            if (_waiting.TryDequeue(out var waiting))
            {
                return waiting;
            }

            await Task.Delay(25);
        }

        Assert.Fail("no variant start began within 5 s");
        return default;
    }

    private ControlledVariant Started(VariantDeployment deployment)
    {
        var variant = new ControlledVariant(deployment, this);
        _variants.Enqueue(variant);
        return variant;
    }
}

internal sealed class ControlledVariant(VariantDeployment deployment, ControlledEndpointHost host) : IServingVariant
{
    private readonly ConcurrentQueue<VariantInvocation> _invocations = new();
    private int _stopped;

    public VariantDeployment Deployment => deployment;

    public IReadOnlyList<VariantInvocation> Invocations => [.. _invocations];

    public bool Stopped => Volatile.Read(ref _stopped) == 1;

    public Task<VariantAnswer> InvokeAsync(VariantInvocation invocation, CancellationToken cancellationToken)
    {
        Assert.False(Stopped, $"variant of {deployment.EndpointConfigName} invoked after it was stopped");
        _invocations.Enqueue(invocation);
        return host.Answer(deployment, invocation);
    }

    public ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _stopped, 1);
        return ValueTask.CompletedTask;
    }
}
