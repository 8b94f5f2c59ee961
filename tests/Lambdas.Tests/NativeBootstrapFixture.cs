using System.Diagnostics;

namespace CustomerSegmentation.Lambdas.Tests;

/// <summary>
/// Publishes tests/RuntimeLoopTestFunction native-AOT for linux-x64 once per test run, as CDK bundling publishes a real
/// Lambda: a failed publish (including any trim/AOT warning, which TreatWarningsAsErrors turns into an error) fails every
/// test that uses the binary.
/// </summary>
public sealed class NativeBootstrapFixture : IAsyncLifetime
{
    public string BootstrapPath { get; private set; } = "";

    public TimeSpan PublishTime { get; private set; }

    public string PublishOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var root = RepositoryRoot();
        var output = Path.Combine(root, "tests", "RuntimeLoopTestFunction", "bin", "loopback-tests", "linux-x64");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                "publish", Path.Combine(root, "tests", "RuntimeLoopTestFunction", "RuntimeLoopTestFunction.csproj"),
                "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", output, "--nologo",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        await process.WaitForExitAsync(timeout.Token);
        PublishTime = watch.Elapsed;
        PublishOutput = await stdout + await stderr;
        BootstrapPath = Path.Combine(output, "bootstrap");
        if (process.ExitCode != 0 || !File.Exists(BootstrapPath))
        {
            throw new InvalidOperationException($"dotnet publish of the AOT test function failed (exit {process.ExitCode}):\n{PublishOutput}");
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Infra.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Infra.sln above {AppContext.BaseDirectory}.");
    }
}
