using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests;

/// <summary>
/// Publishes tests/RuntimeLoopTestFunction native-AOT once per test run, as CDK bundling publishes a real Lambda, so the
/// runtime loop is exercised as a native binary.
/// </summary>
public sealed class NativeBootstrapFixture : IAsyncLifetime
{
    public string BootstrapPath { get; private set; } = "";

    public string PublishOutput { get; private set; } = "";

    public TimeSpan PublishTime { get; private set; }

    public async Task InitializeAsync()
    {
        var published = await NativePublish.PublishAsync("tests/RuntimeLoopTestFunction/RuntimeLoopTestFunction.csproj");
        (BootstrapPath, PublishOutput, PublishTime) = (published.BootstrapPath, published.PublishOutput, published.PublishTime);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
