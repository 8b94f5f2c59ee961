using System.Diagnostics;

namespace CustomerSegmentation.LocalAws.Tests.Support;

/// <summary>
/// A real native bootstrap the local services are tested with, published once per test run as CDK bundling publishes it
/// (<c>dotnet publish -r linux-x64 -p:PublishAot=true</c>). Output and intermediate files stay under this project's bin
/// folder, apart from every other project's publishes, so parallel test projects never share them and an unchanged
/// project republishes incrementally in seconds.
/// </summary>
public abstract class NativeBootstrap(string projectFile) : IAsyncLifetime
{
    /// <summary>The published <c>bootstrap</c>.</summary>
    public string Path { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var name = System.IO.Path.GetFileNameWithoutExtension(projectFile);
        var root = System.IO.Path.Combine(TestPaths.ProjectBin, "native", name);
        var output = System.IO.Path.Combine(root, "linux-x64");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                "publish", System.IO.Path.Combine(TestPaths.RepositoryRoot, projectFile), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true",
                "-o", output, "--artifacts-path", System.IO.Path.Combine(root, "artifacts"), "--nologo",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.RepositoryRoot,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        await process.WaitForExitAsync(timeout.Token);
        var bootstrap = System.IO.Path.Combine(output, "bootstrap");
        if (process.ExitCode != 0 || !File.Exists(bootstrap))
        {
            throw new InvalidOperationException($"dotnet publish of {projectFile} failed (exit {process.ExitCode}):\n{await stdout}{await stderr}");
        }

        Path = bootstrap;
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>tests/RuntimeLoopTestFunction: the shared runtime loop as an echo function.</summary>
public sealed class RuntimeLoopFunctionBootstrap() : NativeBootstrap("tests/RuntimeLoopTestFunction/RuntimeLoopTestFunction.csproj");

/// <summary>lambdas/SegmentProxy, the function behind the API.</summary>
public sealed class SegmentProxyBootstrap() : NativeBootstrap("lambdas/SegmentProxy/SegmentProxy.csproj");

[CollectionDefinition(Name)]
public sealed class RuntimeLoopFunctionCollection : ICollectionFixture<RuntimeLoopFunctionBootstrap>
{
    public const string Name = "runtime loop function bootstrap";
}

[CollectionDefinition(Name)]
public sealed class SegmentProxyCollection : ICollectionFixture<SegmentProxyBootstrap>
{
    public const string Name = "segment proxy bootstrap";
}
