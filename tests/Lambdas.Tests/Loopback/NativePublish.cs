using System.Diagnostics;

namespace CustomerSegmentation.Lambdas.Tests.Loopback;

/// <summary>The checkout's root folder (the one holding Infra.sln), found from the test binaries' location.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
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

/// <summary>A published native <c>bootstrap</c>, what the publish printed and how long it took.</summary>
public sealed record NativeBootstrap(string BootstrapPath, string PublishOutput, TimeSpan PublishTime);

/// <summary>
/// Publishes a Lambda project native-AOT for linux-x64 as CDK bundling does (<c>dotnet publish -r linux-x64
/// -p:PublishAot=true</c>), under its own artifacts path so publishes of several projects can run side by side. A failed
/// publish, including any trim/AOT warning (TreatWarningsAsErrors makes it an error), fails every test that needs it.
/// </summary>
internal static class NativePublish
{
    public static async Task<NativeBootstrap> PublishAsync(string projectFile)
    {
        var project = Path.GetDirectoryName(Path.Combine(Repository.Root, projectFile))!;
        var output = Path.Combine(project, "bin", "loopback-tests", "linux-x64");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                "publish", Path.Combine(Repository.Root, projectFile), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true",
                "-o", output, "--nologo", "--artifacts-path", Path.Combine(project, "bin", "loopback-tests", "artifacts"),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        await process.WaitForExitAsync(timeout.Token);
        var published = new NativeBootstrap(Path.Combine(output, "bootstrap"), await stdout + await stderr, watch.Elapsed);
        if (process.ExitCode != 0 || !File.Exists(published.BootstrapPath))
        {
            throw new InvalidOperationException($"dotnet publish of {projectFile} failed (exit {process.ExitCode}):\n{published.PublishOutput}");
        }

        return published;
    }
}
