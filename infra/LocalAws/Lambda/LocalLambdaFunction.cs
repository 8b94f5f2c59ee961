using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.Lambda;

/// <summary>
/// Runs one Lambda function of the template the way Lambda runs a custom runtime: its real <c>bootstrap</c> as a child
/// process (the execution environment) that pulls invocations from its own loopback Runtime API. Invocations run one
/// at a time in arrival order, synchronous and asynchronous alike (one execution environment, as with reserved
/// concurrency 1). The function's Timeout, counted from when the runtime takes the event, is the deadline: an invocation
/// still running then fails with Lambda's <c>Sandbox.Timedout</c> and the environment is replaced, as is one whose process
/// exits or whose start-up fails.
/// Disposing stops the process.
/// </summary>
public sealed class LocalLambdaFunction : IAsyncDisposable
{
    private const int OutputTailLines = 20;
    private static readonly TimeSpan InitLimit = TimeSpan.FromSeconds(10);
    private static readonly Dictionary<int, string> SignalNames = new() { [6] = "aborted", [9] = "killed", [11] = "segmentation fault", [15] = "terminated" };

    private readonly Func<LocalServiceEndpoints> _endpoints;
    private readonly TextWriter _log;
    private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _disposing = new();
    private readonly Task _pump;
    private readonly List<string> _violations = [];
    private readonly List<EventInvocation> _eventInvocations = [];
    private readonly object _idleLock = new();
    private int _pending;
    private TaskCompletionSource _idle = NewCompletedIdle();
    private ExecutionEnvironment? _environment;
    private int _environmentsStarted;

    /// <param name="definition">The function, read from the template.</param>
    /// <param name="endpoints">The loopback services, read each time an execution environment starts.</param>
    /// <param name="log">Where the function's output and Lambda's REPORT lines go.</param>
    /// <exception cref="LocalAwsException">The bootstrap cannot run here (missing, not executable, another CPU).</exception>
    public LocalLambdaFunction(LambdaFunctionDefinition definition, Func<LocalServiceEndpoints> endpoints, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(definition);
        BootstrapExecutable.EnsureRunnable(definition);
        Definition = definition;
        _endpoints = endpoints;
        _log = TextWriter.Synchronized(log);
        _pump = Task.Run(PumpAsync);
    }

    public LambdaFunctionDefinition Definition { get; }

    /// <summary>How many execution environments (bootstrap processes) have been started: 1 + restarts.</summary>
    public int EnvironmentsStarted => Volatile.Read(ref _environmentsStarted);

    /// <summary>Runtime API protocol violations by any of the function's processes (Lambda would reject those calls).</summary>
    public IReadOnlyList<string> ProtocolViolations
    {
        get
        {
            lock (_violations)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>Every asynchronous invocation so far, with its outcome, oldest first.</summary>
    public IReadOnlyList<EventInvocation> EventInvocations
    {
        get
        {
            lock (_eventInvocations)
            {
                return [.. _eventInvocations];
            }
        }
    }

    /// <summary>The process id of the running execution environment; null when none runs.</summary>
    internal int? ProcessId => _environment?.Process.Id;

    /// <summary>Invokes the function synchronously (<c>RequestResponse</c>) and returns its response or error.</summary>
    /// <param name="payload">The event JSON.</param>
    /// <param name="cancellationToken">Stops waiting; an invocation already running is not interrupted, as in Lambda.</param>
    public Task<LambdaInvocationResult> InvokeAsync(string payload, CancellationToken cancellationToken = default)
    {
        var work = new Work(payload, "RequestResponse", new TaskCompletionSource<LambdaInvocationResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        Enqueue(work);
        return work.Completion!.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Queues an asynchronous (<c>Event</c>) invocation and returns at once, as Lambda accepts an event with HTTP 202. The
    /// outcome is logged and kept in <see cref="EventInvocations"/>.
    /// </summary>
    /// <param name="payload">The event JSON.</param>
    /// <param name="source">Who sent it (for the log), e.g. the EventBridge rule.</param>
    public void InvokeEvent(string payload, string source) => Enqueue(new Work(payload, source, null));

    /// <summary>Completes when no invocation is queued or running.</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        lock (_idleLock)
        {
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposing.IsCancellationRequested)
        {
            return;
        }

        _disposing.Cancel();
        _queue.Writer.TryComplete();
        try
        {
            await _pump.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The pump stops at the cancellation; queued work was cancelled with it.
        }

        while (_queue.Reader.TryRead(out var abandoned))
        {
            abandoned.Completion?.TrySetCanceled(_disposing.Token);
        }

        await StopEnvironmentAsync().ConfigureAwait(false);
        _disposing.Dispose();
    }

    /// <summary>The variables a process of this function starts with (the function's own plus Lambda's reserved ones).</summary>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment(LambdaFunctionDefinition definition, string runtimeApi, LocalServiceEndpoints endpoints)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(endpoints);
        var variables = new Dictionary<string, string>(definition.Environment, StringComparer.Ordinal)
        {
            // Reserved variables: Lambda sets these itself and refuses them in a function's configuration.
            ["AWS_LAMBDA_RUNTIME_API"] = runtimeApi,
            ["AWS_REGION"] = LocalAccount.Region,
            ["AWS_DEFAULT_REGION"] = LocalAccount.Region,
            // The only key s3rver accepts; the other local services accept any.
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
            ["AWS_LAMBDA_FUNCTION_NAME"] = definition.FunctionName,
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = definition.MemorySize.ToString(CultureInfo.InvariantCulture),
            ["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST",
            ["AWS_LAMBDA_LOG_GROUP_NAME"] = $"/aws/lambda/{definition.FunctionName}",
            ["AWS_LAMBDA_LOG_STREAM_NAME"] = "local",
            ["_HANDLER"] = definition.Handler,
            ["LAMBDA_TASK_ROOT"] = definition.CodeDirectory,
            ["TZ"] = ":UTC",
        };
        foreach (var (variable, uri) in new[]
        {
            ("AWS_ENDPOINT_URL_S3", endpoints.S3),
            ("AWS_ENDPOINT_URL_SAGEMAKER", endpoints.SageMaker),
            ("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", endpoints.SageMakerRuntime),
            ("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING", endpoints.ApplicationAutoScaling),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoints.DynamoDb),
        })
        {
            if (uri is not null)
            {
                variables[variable] = uri.ToString().TrimEnd('/');
            }
        }

        return variables;
    }

    private static TaskCompletionSource NewCompletedIdle()
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        idle.SetResult();
        return idle;
    }

    private void Enqueue(Work work)
    {
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        lock (_idleLock)
        {
            if (_pending++ == 0)
            {
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(work), this);
    }

    private async Task PumpAsync()
    {
        await foreach (var work in _queue.Reader.ReadAllAsync(_disposing.Token).ConfigureAwait(false))
        {
            try
            {
                var result = await RunAsync(work.Payload, _disposing.Token).ConfigureAwait(false);
                if (work.Completion is { } completion)
                {
                    completion.TrySetResult(result);
                }
                else
                {
                    Record(new EventInvocation(work.Source, result, null));
                    if (result.IsError)
                    {
                        await _log.WriteLineAsync($"[{Definition.FunctionName}] event from {work.Source} failed: {result.PayloadText}").ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
            {
                work.Completion?.TrySetCanceled(_disposing.Token);
                throw;
            }
            catch (Exception exception)
            {
                // The environment could not even start (for example the binary vanished): the caller gets the reason, and
                // the pump lives on for the next invocation.
                if (!(work.Completion?.TrySetException(exception) ?? false))
                {
                    Record(new EventInvocation(work.Source, null, exception.Message));
                    await _log.WriteLineAsync($"[{Definition.FunctionName}] event from {work.Source} not delivered: {exception.Message}").ConfigureAwait(false);
                }
            }
            finally
            {
                lock (_idleLock)
                {
                    if (--_pending == 0)
                    {
                        _idle.TrySetResult();
                    }
                }
            }
        }
    }

    private void Record(EventInvocation invocation)
    {
        lock (_eventInvocations)
        {
            _eventInvocations.Add(invocation);
        }
    }

    private async Task<LambdaInvocationResult> RunAsync(string payload, CancellationToken cancellationToken)
    {
        if (_environment is { Exited.IsCompleted: true })
        {
            await StopEnvironmentAsync().ConfigureAwait(false);
        }

        var coldStart = _environment is null;
        var environment = _environment ??= StartEnvironment();
        var clock = Stopwatch.StartNew();
        var requestId = environment.Server.Enqueue(payload, Definition.Timeout, functionArn: Definition.FunctionArn, timeoutFromHandOut: true);
        var outcome = environment.Server.WaitForOutcomeAsync(requestId, System.Threading.Timeout.InfiniteTimeSpan);
        var initError = environment.Server.WaitForInitErrorAsync(System.Threading.Timeout.InfiniteTimeSpan);
        var handOut = environment.Server.WaitForHandOutAsync(requestId, System.Threading.Timeout.InfiniteTimeSpan);
        using (var timers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            // Lambda times the invocation from when the runtime takes the event: a cold start gets 10 s of its own, and
            // a longer one carries on under the function's timeout.
            await Task.WhenAny(handOut, initError, environment.Exited, Task.Delay(InitLimit + Definition.Timeout, timers.Token)).ConfigureAwait(false);
            if (handOut.IsCompletedSuccessfully)
            {
                var remaining = handOut.Result - DateTimeOffset.UtcNow;
                await Task.WhenAny(outcome, environment.Exited, Task.Delay(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, timers.Token)).ConfigureAwait(false);
            }

            await timers.CancelAsync().ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();

        LambdaInvocationResult result;
        var replaceEnvironment = true;
        if (outcome.IsCompletedSuccessfully)
        {
            var answer = outcome.Result;
            result = new LambdaInvocationResult(requestId, answer.Body, answer.IsError);
            replaceEnvironment = false;
        }
        else if (initError.IsCompletedSuccessfully)
        {
            result = new LambdaInvocationResult(requestId, initError.Result.Body, IsError: true);
            await _log.WriteLineAsync($"[{Definition.FunctionName}] INIT failed: {result.ErrorType}: {result.ErrorMessage}").ConfigureAwait(false);
        }
        else if (environment.Exited.IsCompleted)
        {
            var status = ExitStatus(environment.Process.ExitCode);
            result = LambdaInvocationResult.PlatformError(requestId, "Runtime.ExitError", $"RequestId: {requestId} Error: Runtime exited with error: {status}");
            await _log.WriteLineAsync(
                $"[{Definition.FunctionName}] the bootstrap process exited ({status}) before answering {requestId}; its last output:{Environment.NewLine}" +
                string.Join(Environment.NewLine, environment.OutputTail())).ConfigureAwait(false);
        }
        else
        {
            result = LambdaInvocationResult.PlatformError(requestId, "Sandbox.Timedout",
                string.Create(CultureInfo.InvariantCulture, $"RequestId: {requestId} Error: Task timed out after {Definition.Timeout.TotalSeconds:F2} seconds"));
        }

        clock.Stop();
        await _log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"[{Definition.FunctionName}] REPORT RequestId: {requestId} Duration: {clock.Elapsed.TotalMilliseconds:F1} ms{(coldStart ? " (cold start)" : string.Empty)}{(result.IsError ? $" Error: {result.ErrorType}" : string.Empty)}"))
            .ConfigureAwait(false);
        CollectViolations(environment);
        if (replaceEnvironment)
        {
            await StopEnvironmentAsync().ConfigureAwait(false);
        }

        return result;
    }

    private static string ExitStatus(int exitCode) =>
        exitCode > 128 ? $"signal: {SignalNames.GetValueOrDefault(exitCode - 128, (exitCode - 128).ToString(CultureInfo.InvariantCulture))}" : $"exit status {exitCode}";

    private ExecutionEnvironment StartEnvironment()
    {
        var server = new LambdaRuntimeApiServer();
        var start = new ProcessStartInfo(Definition.BootstrapPath)
        {
            WorkingDirectory = Definition.CodeDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Only what Lambda's environment has: no developer credentials, profiles or SDK settings leak in.
        var inherited = start.Environment.Where(v => v.Key is "PATH" or "HOME" or "TMPDIR").ToList();
        start.Environment.Clear();
        foreach (var (name, value) in inherited)
        {
            start.Environment[name] = value;
        }

        foreach (var (name, value) in ProcessEnvironment(Definition, server.RuntimeApi, _endpoints()))
        {
            start.Environment[name] = value;
        }

        var environment = new ExecutionEnvironment(new Process { StartInfo = start, EnableRaisingEvents = true }, server);
        environment.Process.OutputDataReceived += (_, line) => environment.Output(line.Data, _log, Definition.FunctionName);
        environment.Process.ErrorDataReceived += (_, line) => environment.Output(line.Data, _log, Definition.FunctionName);
        try
        {
            environment.Process.Start();
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            server.Dispose();
            environment.Process.Dispose();
            throw new LocalAwsException($"Function {Definition.FunctionName}: {Definition.BootstrapPath} could not be started: {exception.Message}", exception);
        }

        environment.Process.BeginOutputReadLine();
        environment.Process.BeginErrorReadLine();
        environment.Exited = environment.Process.WaitForExitAsync();
        Interlocked.Increment(ref _environmentsStarted);
        return environment;
    }

    private async Task StopEnvironmentAsync()
    {
        if (_environment is not { } environment)
        {
            return;
        }

        _environment = null;
        if (!environment.Process.HasExited)
        {
            environment.Process.Kill(entireProcessTree: true);
        }

        await environment.Process.WaitForExitAsync().ConfigureAwait(false);
        CollectViolations(environment);
        environment.Server.Dispose();
        environment.Process.Dispose();
    }

    private void CollectViolations(ExecutionEnvironment environment)
    {
        var found = environment.Server.ProtocolViolations.Concat(environment.Server.ServerFaults).Skip(environment.ViolationsSeen).ToList();
        environment.ViolationsSeen += found.Count;
        lock (_violations)
        {
            _violations.AddRange(found);
        }
    }

    private sealed record Work(string Payload, string Source, TaskCompletionSource<LambdaInvocationResult>? Completion);

    /// <summary>One bootstrap process and the Runtime API it talks to.</summary>
    private sealed class ExecutionEnvironment(Process process, LambdaRuntimeApiServer server)
    {
        private readonly Queue<string> _tail = new();

        public Process Process { get; } = process;

        public LambdaRuntimeApiServer Server { get; } = server;

        public Task Exited { get; set; } = Task.CompletedTask;

        public int ViolationsSeen { get; set; }

        public void Output(string? line, TextWriter log, string functionName)
        {
            if (line is null)
            {
                return;
            }

            lock (_tail)
            {
                _tail.Enqueue(line);
                if (_tail.Count > OutputTailLines)
                {
                    _tail.Dequeue();
                }
            }

            log.WriteLine($"[{functionName}] {line}");
        }

        public IReadOnlyList<string> OutputTail()
        {
            lock (_tail)
            {
                return [.. _tail];
            }
        }
    }
}
