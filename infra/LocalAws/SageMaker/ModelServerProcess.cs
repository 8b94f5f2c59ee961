using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>How to launch one model server (scripts/local/model_server.py) for a variant.</summary>
internal sealed record ModelServerLaunch(
    string Python,
    string Script,
    string ModelDirectory,
    string CodeDirectory,
    string? Program,
    IReadOnlyDictionary<string, string> Environment,
    string WorkDirectory,
    string Label,
    string VariantName);

/// <summary>
/// One model server process serving a variant: started with <c>--port 0</c>, ready when it printed
/// <c>LISTENING http://127.0.0.1:&lt;port&gt;</c> and its /ping answers 200. Its stderr goes to the log, and the last lines
/// into the FailureReason when it does not become healthy. Disposing kills it (and anything it started) and deletes
/// its working directory.
/// </summary>
internal sealed class ModelServerProcess : IServingVariant
{
    private const string ListeningPrefix = "LISTENING ";
    private const int StderrLinesKept = 12;

    // SageMaker gives a container 60 s to answer an invocation.
    private static readonly TimeSpan InvocationTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PingInterval = TimeSpan.FromMilliseconds(100);

    private readonly Process _process;
    private readonly ModelServerLaunch _launch;
    private readonly TextWriter _log;
    private readonly Queue<string> _stderrTail = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _stdout;
    private readonly Task _stderr;
    private HttpClient? _http;
    private int _disposed;

    private ModelServerProcess(Process process, ModelServerLaunch launch, TextWriter log)
    {
        _process = process;
        _launch = launch;
        _log = log;
        ProcessId = process.Id;
        _stdout = Task.Run(PumpStdoutAsync);
        _stderr = Task.Run(PumpStderrAsync);
    }

    public int ProcessId { get; }

    /// <summary>Starts the server and returns once it is healthy.</summary>
    /// <exception cref="EndpointStartException">It could not start, exited, or was not healthy within <paramref name="healthCheckTimeout"/>.</exception>
    public static async Task<ModelServerProcess> StartAsync(ModelServerLaunch launch, TimeSpan healthCheckTimeout, TextWriter log, CancellationToken cancellationToken)
    {
        if (!File.Exists(launch.Script))
        {
            throw new EndpointStartException($"The model server script {launch.Script} does not exist.");
        }

        var start = new ProcessStartInfo(launch.Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = launch.WorkDirectory,
        };
        foreach (var argument in Arguments(launch))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in launch.Environment)
        {
            start.Environment[name] = value;
        }

        // Line by line on the log as it happens, not when a buffer fills.
        start.Environment["PYTHONUNBUFFERED"] = "1";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new EndpointStartException($"{launch.Python} did not start.");
        }
        catch (Win32Exception exception)
        {
            throw new EndpointStartException(
                $"The model server could not be started with '{launch.Python}': {exception.Message}. Set SEGMENTATION_PYTHON to a Python with scikit-learn (scripts/setup.sh installs Debian's /usr/bin/python3 with it).",
                exception);
        }

        var server = new ModelServerProcess(process, launch, log);
        try
        {
            await server.WaitUntilHealthyAsync(healthCheckTimeout, cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<VariantAnswer> InvokeAsync(VariantInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        using var request = new HttpRequestMessage(HttpMethod.Post, "invocations") { Content = new ReadOnlyMemoryContent(invocation.Body) };
        if (invocation.ContentType is { } contentType)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        if (invocation.Accept is { } accept)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await _http!.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return new VariantAnswer((int)response.StatusCode, body, response.Content.Headers.ContentType?.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Kill();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                await Task.WhenAll(_stdout, _stderr).WaitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await _log.WriteLineAsync($"[{_launch.Label}] model server {ProcessId} did not stop within 10 s.").ConfigureAwait(false);
            }
        }

        _http?.Dispose();
        _process.Dispose();
        try
        {
            Directory.Delete(_launch.WorkDirectory, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            await _log.WriteLineAsync($"[{_launch.Label}] could not delete {_launch.WorkDirectory}: {exception.Message}").ConfigureAwait(false);
        }
    }

    /// <summary>Kills the server and its children at once; safe to call more than once and from any thread.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or Win32Exception)
        {
            // It exited meanwhile.
        }
    }

    private static List<string> Arguments(ModelServerLaunch launch)
    {
        var arguments = new List<string> { launch.Script, "--model-dir", launch.ModelDirectory, "--code-dir", launch.CodeDirectory };
        if (launch.Program is { } program)
        {
            arguments.AddRange(["--program", program]);
        }

        arguments.AddRange(["--host", "127.0.0.1", "--port", "0"]);
        return arguments;
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var exited = _process.WaitForExitAsync(CancellationToken.None);
        try
        {
            var listening = await Task.WhenAny(_listening.Task, exited).WaitAsync(deadline.Token).ConfigureAwait(false);
            if (listening != _listening.Task)
            {
                throw await ExitedAsync().ConfigureAwait(false);
            }

            _http = new HttpClient { BaseAddress = await _listening.Task.ConfigureAwait(false), Timeout = InvocationTimeout };
            while (!await PingsAsync(deadline.Token).ConfigureAwait(false))
            {
                if (exited.IsCompleted)
                {
                    throw await ExitedAsync().ConfigureAwait(false);
                }

                await Task.Delay(PingInterval, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failure(
                $"The primary container for production variant {_launch.VariantName} did not pass the ping health check within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds.");
        }
    }

    private async Task<bool> PingsAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http!.GetAsync(new Uri("ping", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private async Task<EndpointStartException> ExitedAsync()
    {
        try
        {
            // The last stderr lines are what explain the exit: read them to the end first.
            await _stderr.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A child still holds stderr open: report the lines read so far.
        }

        return Failure(
            $"The primary container for production variant {_launch.VariantName} did not pass the ping health check: the model server exited with code {_process.ExitCode.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <summary>The reason with the last stderr lines, within SageMaker's 1024 characters of FailureReason (the newest lines kept).</summary>
    private EndpointStartException Failure(string reason)
    {
        const int MaxFailureReason = 1024;
        string tail;
        lock (_stderrTail)
        {
            tail = string.Join(" | ", _stderrTail);
        }

        if (tail.Length == 0)
        {
            return new EndpointStartException(reason);
        }

        const string Lead = " Last lines of its stderr: ";
        var room = MaxFailureReason - reason.Length - Lead.Length;
        return new EndpointStartException(reason + Lead + (tail.Length <= room ? tail : "..." + tail[^(room - 3)..]));
    }

    private async Task PumpStdoutAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (!_listening.Task.IsCompleted && line.StartsWith(ListeningPrefix, StringComparison.Ordinal)
                && Uri.TryCreate(line[ListeningPrefix.Length..].Trim().TrimEnd('/') + "/", UriKind.Absolute, out var uri))
            {
                _listening.TrySetResult(uri);
            }

            await _log.WriteLineAsync($"[{_launch.Label}] {line}").ConfigureAwait(false);
        }
    }

    private async Task PumpStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (_stderrTail)
            {
                _stderrTail.Enqueue(line);
                if (_stderrTail.Count > StderrLinesKept)
                {
                    _stderrTail.Dequeue();
                }
            }

            await _log.WriteLineAsync($"[{_launch.Label}] {line}").ConfigureAwait(false);
        }
    }
}
