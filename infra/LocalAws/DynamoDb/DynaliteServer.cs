using System.Globalization;
using CustomerSegmentation.LocalAws.Node;

namespace CustomerSegmentation.LocalAws.DynamoDb;

/// <summary>
/// An npm dynalite process (a DynamoDB-compatible server on the JSON 1.0 protocol, in memory) on a free loopback port.
/// Disposing it stops the process and everything it started; its data goes with it.
/// </summary>
public sealed class DynaliteServer : IDisposable
{
    private readonly NodeServerProcess _server;

    private DynaliteServer(NodeServerProcess server)
    {
        _server = server;
    }

    /// <summary><c>http://127.0.0.1:&lt;port&gt;</c>: what <c>AWS_ENDPOINT_URL_DYNAMODB</c> is set to for the clients.</summary>
    public Uri Endpoint => _server.Endpoint;

    /// <summary>The node process, so callers can check that nothing outlives the server.</summary>
    public int ProcessId => _server.ProcessId;

    /// <summary>
    /// Finds <c>node_modules/dynalite/cli.js</c> in <paramref name="start"/> or one of its parents (the repository root
    /// holds node_modules).
    /// </summary>
    /// <exception cref="LocalAwsException">No folder on the way up has it.</exception>
    public static string FindEntryPoint(string start) =>
        NodeServerProcess.FindEntryPoint(start, Path.Combine("dynalite", "cli.js"))
        ?? throw new LocalAwsException(
            $"node_modules/dynalite/cli.js was not found in '{start}' or any parent directory; run scripts/setup.sh (it installs dynalite from package-lock.json).");

    /// <summary>Starts dynalite on 127.0.0.1 and returns once it accepts connections.</summary>
    /// <exception cref="LocalAwsException">node is missing, or dynalite exited or did not listen within 30 s.</exception>
    public static async Task<DynaliteServer> StartAsync(string entryPoint, CancellationToken cancellationToken) =>
        new(await NodeServerProcess.StartAsync(
            "dynalite",
            entryPoint,
            // Tables are ACTIVE as soon as they are created: nothing local waits on provisioning.
            port => ["--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--createTableMs", "0"],
            ownedDirectory: null,
            cancellationToken).ConfigureAwait(false));

    public void Dispose() => _server.Dispose();
}
