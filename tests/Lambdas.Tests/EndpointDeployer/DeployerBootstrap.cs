using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

/// <summary>
/// Publishes lambdas/EndpointDeployer native-AOT for linux-x64 once per test run, exactly as the CDK bundling does
/// (<c>dotnet publish -r linux-x64 -p:PublishAot=true</c>). Its own artifacts path keeps it apart from any other publish
/// running at the same time. A failed publish (any trim/AOT warning is an error) fails every test using the binary.
/// </summary>
public sealed class DeployerBootstrapFixture : IAsyncLifetime
{
    public string BootstrapPath { get; private set; } = "";

    public string PublishOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var published = await NativePublish.PublishAsync("lambdas/EndpointDeployer/EndpointDeployer.csproj");
        (BootstrapPath, PublishOutput) = (published.BootstrapPath, published.PublishOutput);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
