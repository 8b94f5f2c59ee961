using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

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

/// <summary>The deployer bootstrap as a child process with exactly the given environment (nothing AWS-related inherited).</summary>
public sealed class DeployerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();

    private DeployerProcess(Process process)
    {
        _process = process;
    }

    public static DeployerProcess Start(string path, IEnumerable<(string Name, string Value)> environment)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var name in start.Environment.Keys.Where(name => name.StartsWith("AWS_", StringComparison.Ordinal) || name == "_X_AMZN_TRACE_ID").ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        var wrapper = new DeployerProcess(process);
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                wrapper._stdout.Enqueue(line.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        return wrapper;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return _process.ExitCode;
    }

    /// <summary>Every stdout line so far, each parsed as JSON (a non-JSON line fails the test).</summary>
    public List<JsonElement> LogLines() => [.. _stdout.Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
