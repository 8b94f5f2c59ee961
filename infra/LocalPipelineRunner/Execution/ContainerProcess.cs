using System.Diagnostics;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Execution;

/// <summary>
/// Runs a container's command as a local process under the SageMaker path contract: every <c>/opt/ml/</c> in the
/// command, arguments and environment points into the step's directory, <c>python3</c> is the configured Python, and
/// the AWS variables reach the local S3 (and DynamoDB, when the run has one). Output goes to stdout.log/stderr.log in the step directory and is echoed.
/// </summary>
public sealed class ContainerProcess(StepContext context)
{
    private const string ContainerRoot = "/opt/ml/";
    private const int FailureTailLines = 10;

    /// <summary>The log lines (stdout and stderr) of the last run, which metric definitions are matched against.</summary>
    public IReadOnlyList<string> LogLines { get; private set; } = [];

    public string MapPaths(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace(ContainerRoot, Path.Combine(context.StepDirectory, "opt", "ml") + "/", StringComparison.Ordinal);
    }

    /// <summary>The local path of a container path such as <c>/opt/ml/model</c>.</summary>
    public string LocalPath(string containerPath) => MapPaths(containerPath.EndsWith('/') ? containerPath : containerPath + "/").TrimEnd('/');

    /// <summary>Runs to completion; a non-zero exit code is a <see cref="StepFailedException"/> with SageMaker's reason.</summary>
    public async Task RunAsync(
        IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string workingDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(environment);
        if (command.Count == 0)
        {
            throw new StepFailedException($"ClientError: step {context.Step.Name} has no command to run.");
        }

        var bin = PythonBinDirectory();
        var executable = MapPaths(command[0]);
        // Process.Start searches the runner's PATH, not the child's: resolve the linked interpreters explicitly.
        if (!executable.Contains('/', StringComparison.Ordinal) && File.Exists(Path.Combine(bin, executable)))
        {
            executable = Path.Combine(bin, executable);
        }

        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(MapPaths(argument));
        }

        start.Environment["PATH"] = bin + Path.PathSeparator + System.Environment.GetEnvironmentVariable("PATH");
        start.Environment.Remove("AWS_SESSION_TOKEN");
        start.Environment.Remove("AWS_PROFILE");
        start.Environment["AWS_ENDPOINT_URL_S3"] = context.Store.Endpoint.ToString().TrimEnd('/');
        if (context.Environment.DynamoDbEndpoint is { } dynamoDb)
        {
            start.Environment["AWS_ENDPOINT_URL_DYNAMODB"] = dynamoDb.ToString().TrimEnd('/');
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = ObjectStore.AccessKey;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = ObjectStore.SecretKey;
        start.Environment["AWS_DEFAULT_REGION"] = LocalAccount.Region;
        start.Environment["AWS_REGION"] = LocalAccount.Region;
        start.Environment["PYTHONUNBUFFERED"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = MapPaths(value);
        }

        var stdoutPath = Path.Combine(context.StepDirectory, "stdout.log");
        var stderrPath = Path.Combine(context.StepDirectory, "stderr.log");
        var all = new List<string>();
        var errors = new List<string>();
        using var process = StartProcess(start);
        // A cancelled run (Ctrl+C) must not leave the step's process tree running.
        await using var killOnCancel = cancellationToken.Register(() => process.Kill(entireProcessTree: true)).ConfigureAwait(false);
        using (var stdoutLog = new StreamWriter(stdoutPath))
        using (var stderrLog = new StreamWriter(stderrPath))
        {
            await Task.WhenAll(
                PumpAsync(process.StandardOutput, stdoutLog, all, null, cancellationToken),
                PumpAsync(process.StandardError, stderrLog, all, errors, cancellationToken),
                process.WaitForExitAsync(cancellationToken)).ConfigureAwait(false);
        }

        LogLines = all;
        if (process.ExitCode != 0)
        {
            throw new StepFailedException(FailureReason(process.ExitCode, errors));
        }
    }

    private static Process StartProcess(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new StepFailedException($"ClientError: could not start {start.FileName}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new StepFailedException($"ClientError: could not start {start.FileName}: {e.Message}", e);
        }
    }

    private string FailureReason(int exitCode, List<string> errors)
    {
        var failureFile = LocalPath("/opt/ml/output/failure");
        if (File.Exists(failureFile) && File.ReadAllText(failureFile).Trim() is { Length: > 0 } message)
        {
            return $"AlgorithmError: {message}";
        }

        var tail = errors.Where(l => l.Trim().Length > 0).TakeLast(FailureTailLines).ToList();
        return tail.Count == 0
            ? $"AlgorithmError: process exited with code {exitCode} and wrote nothing to stderr."
            : $"AlgorithmError: process exited with code {exitCode}. Last lines of stderr:{System.Environment.NewLine}{string.Join(System.Environment.NewLine, tail)}";
    }

    /// <summary>A directory holding <c>python3</c> and <c>python</c> links to the configured interpreter, first on PATH.</summary>
    private string PythonBinDirectory()
    {
        var bin = Path.Combine(context.StepDirectory, "bin");
        Directory.CreateDirectory(bin);
        foreach (var name in new[] { "python3", "python" })
        {
            var link = Path.Combine(bin, name);
            if (!File.Exists(link))
            {
                File.CreateSymbolicLink(link, context.Environment.Python);
            }
        }

        return bin;
    }

    private async Task PumpAsync(
        StreamReader reader, StreamWriter file, List<string> all, List<string>? own, CancellationToken cancellationToken)
    {
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lock (all)
            {
                all.Add(line);
            }

            own?.Add(line);
            await file.WriteLineAsync(line).ConfigureAwait(false);
            await context.Log.WriteLineAsync($"    [{context.Step.Name}] {line}").ConfigureAwait(false);
        }
    }
}
