using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CustomerSegmentation.LocalAws.DynamoDb;

/// <summary>
/// An npm dynalite process (a DynamoDB-compatible server on the JSON 1.0 protocol, in memory) on a free loopback port.
/// Disposing it stops the process and everything it started; its data goes with it.
/// </summary>
public sealed class DynaliteServer : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private int _disposed;

    private DynaliteServer(Process process, Uri endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    /// <summary><c>http://127.0.0.1:&lt;port&gt;</c>: what <c>AWS_ENDPOINT_URL_DYNAMODB</c> is set to for the clients.</summary>
    public Uri Endpoint { get; }

    /// <summary>The node process, so callers can check that nothing outlives the server.</summary>
    public int ProcessId => _process.Id;

    /// <summary>
    /// Finds <c>node_modules/dynalite/cli.js</c> in <paramref name="start"/> or one of its parents (the repository root
    /// holds node_modules).
    /// </summary>
    /// <exception cref="LocalAwsException">No folder on the way up has it.</exception>
    public static string FindEntryPoint(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "node_modules", "dynalite", "cli.js");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new LocalAwsException(
            $"node_modules/dynalite/cli.js was not found in '{start}' or any parent directory; run scripts/setup.sh (it installs dynalite from package-lock.json).");
    }

    /// <summary>Starts dynalite on 127.0.0.1 and returns once it accepts connections.</summary>
    /// <exception cref="LocalAwsException">node is missing, or dynalite exited or did not listen within 30 s.</exception>
    public static async Task<DynaliteServer> StartAsync(string entryPoint, CancellationToken cancellationToken)
    {
        var port = FreeLoopbackPort();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Tables are ACTIVE as soon as they are created: nothing local waits on provisioning.
        foreach (var argument in new[] { entryPoint, "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--createTableMs", "0" })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new LocalAwsException("node did not start dynalite.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new LocalAwsException($"Could not start 'node {entryPoint}': {e.Message}. Is Node.js installed?", e);
        }

        var output = new StringBuilder();
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new DynaliteServer(process, new Uri($"http://127.0.0.1:{port}"));
        var clock = Stopwatch.StartNew();
        try
        {
            while (!await server.AcceptsConnectionsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (process.HasExited || clock.Elapsed > StartTimeout)
                {
                    throw new LocalAwsException(string.Create(CultureInfo.InvariantCulture,
                        $"dynalite did not start on port {port} within {StartTimeout.TotalSeconds} s: {Snapshot(output)}"));
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
