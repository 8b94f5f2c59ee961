using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CustomerSegmentation.LocalPipelineRunner.Storage;

/// <summary>
/// An npm s3rver process on a free loopback port with its own temporary data directory; disposing stops it and
/// deletes the directory.
/// </summary>
public sealed class S3rverServer : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly string _directory;

    private S3rverServer(Process process, string directory, Uri endpoint)
    {
        _process = process;
        _directory = directory;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    /// <summary>
    /// Finds <c>node_modules/s3rver/bin/s3rver.js</c> in <paramref name="start"/> or one of its parents (the repository
    /// root holds node_modules).
    /// </summary>
    public static string FindEntryPoint(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "node_modules", "s3rver", "bin", "s3rver.js");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new PipelineRunnerException(
            $"node_modules/s3rver/bin/s3rver.js was not found in '{start}' or any parent directory; run scripts/setup.sh " +
            "(it installs s3rver from package-lock.json) or pass --s3-endpoint.");
    }

    public static async Task<S3rverServer> StartAsync(string entryPoint, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("s3rver-").FullName;
        var port = FreeLoopbackPort();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { entryPoint, "--directory", directory, "--address", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent" })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new PipelineRunnerException("node did not start s3rver.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PipelineRunnerException($"Could not start 'node {entryPoint}': {e.Message}. Is Node.js installed?", e);
        }

        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => errors.AppendLine(e.Data);
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new S3rverServer(process, directory, new Uri($"http://127.0.0.1:{port}"));
        var deadline = Stopwatch.StartNew();
        while (!await server.AcceptsConnectionsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (process.HasExited || deadline.Elapsed > StartTimeout)
            {
                server.Dispose();
                throw new PipelineRunnerException($"s3rver did not start on port {port} within {StartTimeout.TotalSeconds} s: {errors}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        return server;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<bool> AcceptsConnectionsAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(Endpoint.Host, Endpoint.Port, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
