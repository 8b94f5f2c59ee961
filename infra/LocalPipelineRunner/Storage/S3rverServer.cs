using System.Globalization;
using CustomerSegmentation.LocalAws.Node;

namespace CustomerSegmentation.LocalPipelineRunner.Storage;

/// <summary>
/// An npm s3rver process on a free loopback port with its own temporary data directory; disposing stops it and
/// deletes the directory.
/// </summary>
public sealed class S3rverServer : IDisposable
{
    private readonly NodeServerProcess _server;

    private S3rverServer(NodeServerProcess server)
    {
        _server = server;
    }

    public Uri Endpoint => _server.Endpoint;

    /// <summary>
    /// Finds <c>node_modules/s3rver/bin/s3rver.js</c> in <paramref name="start"/> or one of its parents (the repository
    /// root holds node_modules).
    /// </summary>
    public static string FindEntryPoint(string start) =>
        NodeServerProcess.FindEntryPoint(start, Path.Combine("s3rver", "bin", "s3rver.js"))
        ?? throw new PipelineRunnerException(
            $"node_modules/s3rver/bin/s3rver.js was not found in '{start}' or any parent directory; run scripts/setup.sh " +
            "(it installs s3rver from package-lock.json) or pass --s3-endpoint.");

    /// <exception cref="CustomerSegmentation.LocalAws.LocalAwsException">node is missing, or s3rver exited or did not listen within 30 s.</exception>
    public static async Task<S3rverServer> StartAsync(string entryPoint, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("s3rver-").FullName;
        return new(await NodeServerProcess.StartAsync(
            "s3rver",
            entryPoint,
            port => ["--directory", directory, "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--silent"],
            directory,
            cancellationToken).ConfigureAwait(false));
    }

    public void Dispose() => _server.Dispose();
}
