using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CustomerSegmentation.LocalAws.Node;

/// <summary>
/// A server from an npm package (s3rver, dynalite) run by node on a free loopback port, ready once it accepts TCP
/// connections. Disposing it stops the process and everything it started, and deletes the folder it was given to own.
/// </summary>
public sealed class NodeServerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly string? _ownedDirectory;
    private int _disposed;

    private NodeServerProcess(Process process, Uri endpoint, string? ownedDirectory)
    {
        _process = process;
        Endpoint = endpoint;
        _ownedDirectory = ownedDirectory;
    }

    /// <summary><c>http://127.0.0.1:&lt;port&gt;</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>The node process, so callers can check that nothing outlives the server.</summary>
    public int ProcessId => _process.Id;

    /// <summary>
    /// The full path of <c>node_modules/&lt;relativePath&gt;</c> in <paramref name="start"/> or the nearest parent that has
    /// it (the repository root holds node_modules), or null when none has.
    /// </summary>
    public static string? FindEntryPoint(string start, string relativePath)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "node_modules", relativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Starts <c>node entryPoint arguments(port)</c> and returns once the port accepts connections.</summary>
    /// <param name="name">The server's name in error messages.</param>
    /// <param name="entryPoint">The package's script.</param>
    /// <param name="arguments">The script's arguments for the port chosen.</param>
    /// <param name="ownedDirectory">A folder the server works in, deleted on disposal (also when starting fails). Default: none.</param>
    /// <param name="cancellationToken">Stops waiting (and the process).</param>
    /// <exception cref="LocalAwsException">node is missing, or the server exited or did not listen within 30 s.</exception>
    public static async Task<NodeServerProcess> StartAsync(
        string name, string entryPoint, Func<int, IEnumerable<string>> arguments, string? ownedDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var port = FreeLoopbackPort();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(entryPoint);
        foreach (var argument in arguments(port))
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new LocalAwsException($"node did not start {name}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            DeleteOwned(ownedDirectory);
            throw new LocalAwsException($"Could not start 'node {entryPoint}': {e.Message}. Is Node.js installed?", e);
        }

        var output = new StringBuilder();
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new NodeServerProcess(process, new Uri($"http://127.0.0.1:{port}"), ownedDirectory);
        var clock = Stopwatch.StartNew();
        try
        {
            while (!await server.AcceptsConnectionsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (process.HasExited || clock.Elapsed > StartTimeout)
                {
                    throw new LocalAwsException(string.Create(CultureInfo.InvariantCulture,
                        $"{name} did not start on port {port} within {StartTimeout.TotalSeconds} s: {Snapshot(output)}"));
                }

                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        DeleteOwned(_ownedDirectory);
    }

    private static void DeleteOwned(string? directory)
    {
        if (directory is not null && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.Length == 0 ? "it wrote nothing" : output.ToString().Trim();
        }
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
}
