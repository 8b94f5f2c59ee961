using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

/// <summary>
/// The Lambda Runtime API loop of a custom-runtime (<c>provided.al2023</c>) native-AOT <c>bootstrap</c>: fetch the next
/// event, run the handler, post its response or error; report start-up failures to <c>/runtime/init/error</c>.
/// Plays the role of <c>Amazon.Lambda.RuntimeSupport.LambdaBootstrap</c>; replace with it when that package is available.
/// </summary>
/// <remarks>
/// The loop owns one thread and talks to the Runtime API over one keep-alive connection with blocking socket calls
/// (<see cref="RuntimeApiConnection"/>). An execution environment serves one invocation at a time, so nothing else could
/// use the thread meanwhile; an asynchronous HTTP client would hand every socket completion from the socket engine's thread
/// to the thread pool and back, and on a busy or small CPU those wake-ups were most of a small invocation's overhead.
/// </remarks>
public sealed class LambdaRuntime : IDisposable
{
    /// <summary>The variable Lambda sets to the Runtime API's <c>host:port</c>.</summary>
    public const string RuntimeApiVariable = "AWS_LAMBDA_RUNTIME_API";

    /// <summary>The variable the X-Ray SDKs read the current trace header from.</summary>
    public const string TraceIdVariable = "_X_AMZN_TRACE_ID";

    /// <summary>The exit code after a start-up failure (reported to <c>/runtime/init/error</c> first).</summary>
    public const int InitErrorExitCode = 1;

    /// <summary>The exit code when <c>AWS_LAMBDA_RUNTIME_API</c> is missing: the process is not running inside Lambda.</summary>
    public const int NoRuntimeApiExitCode = 2;

    private const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";
    private const string BasePath = "/2018-06-01/runtime/";
    private readonly RuntimeApiConnection _connection;
    private readonly TimeProvider _time;

    /// <param name="runtimeApi">The Runtime API's <c>host:port</c>, as in <c>AWS_LAMBDA_RUNTIME_API</c>.</param>
    /// <param name="logger">Where the runtime's own lines go. Default: a <see cref="LambdaLogger"/> on standard output.</param>
    /// <param name="time">The clock deadlines are measured with. Default: <see cref="TimeProvider.System"/>.</param>
    public LambdaRuntime(string runtimeApi, LambdaLogger? logger = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runtimeApi);
        // Straight to the Runtime API, which is local to the execution environment (no proxy of the function's own calls
        // applies), and without a timeout: /invocation/next blocks until an event arrives, which may take arbitrarily long.
        _connection = new RuntimeApiConnection(runtimeApi);
        _time = time ?? TimeProvider.System;
        Logger = logger ?? new LambdaLogger(time: _time);
    }

    /// <summary>The runtime's logger; handlers get a per-invocation one from <see cref="LambdaInvocationContext.Logger"/>.</summary>
    public LambdaLogger Logger { get; }

    /// <summary>
    /// The whole life of a <c>bootstrap</c>: read <c>AWS_LAMBDA_RUNTIME_API</c>, initialize, then serve invocations until
    /// <paramref name="stop"/> fires. Returns the process exit code.
    /// </summary>
    /// <param name="initialize">Builds the handler once per execution environment (clients, configuration).</param>
    /// <param name="stop">Ends the loop. Default: never (Lambda freezes or kills the process).</param>
    public static async Task<int> RunFromEnvironmentAsync(Func<LambdaLogger, CancellationToken, Task<LambdaHandler>> initialize, CancellationToken stop = default)
    {
        var runtimeApi = Environment.GetEnvironmentVariable(RuntimeApiVariable);
        if (string.IsNullOrWhiteSpace(runtimeApi))
        {
            new LambdaLogger().Error($"{RuntimeApiVariable} is not set: this bootstrap must run inside Lambda or under a Runtime API emulator.", null);
            return NoRuntimeApiExitCode;
        }

        using var runtime = new LambdaRuntime(runtimeApi);
        return await runtime.RunAsync(initialize, stop).ConfigureAwait(false);
    }

    /// <summary>
    /// Initializes, then serves invocations on a thread of its own until <paramref name="stop"/> fires. Returns the process
    /// exit code. A broken Runtime API (an unexpected status or missing header on <c>/next</c>) ends the loop with that
    /// exception: Lambda then replaces the execution environment.
    /// </summary>
    public async Task<int> RunAsync(Func<LambdaLogger, CancellationToken, Task<LambdaHandler>> initialize, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(initialize);
        LambdaHandler handler;
        try
        {
            handler = await initialize(Logger, stop).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Logger.Error("Function initialization failed.", exception);
            PostError("init/error", exception, stop);
            return InitErrorExitCode;
        }

        return await Task.Factory.StartNew(() => Serve(handler, stop), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the next event (blocking the calling thread), runs <paramref name="handler"/> on it, waits for its answer
    /// and posts the outcome. The handler's input stream is valid until its task completes.
    /// </summary>
    public void InvokeOnce(LambdaHandler handler, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var (payload, length, context) = NextInvocation(stop);
        try
        {
            using var atDeadline = new CancellationTokenSource(ClampDelay(context.RemainingTime), _time);
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(atDeadline.Token, stop);
            using var input = new MemoryStream(payload, 0, length, writable: false, publiclyVisible: true);
            Stream output;
            var callersContext = SynchronizationContext.Current;
            try
            {
                // Waited for on this thread: without a synchronization context the handler's continuations cannot need it.
                SynchronizationContext.SetSynchronizationContext(null);
                output = handler(input, context, cancellation.Token).GetAwaiter().GetResult();
            }
            catch (Exception exception)
            {
                context.Logger.Error("The handler failed.", exception);
                PostError($"invocation/{Uri.EscapeDataString(context.AwsRequestId)}/error", exception, stop);
                return;
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(callersContext);
            }

            using (output)
            {
                PostResponse(context, output, stop);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    public void Dispose() => _connection.Dispose();

    private int Serve(LambdaHandler handler, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                InvokeOnce(handler, stop);
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopping aborts the long poll on /next; however the abort surfaces, the loop is over.
        }

        return 0;
    }

    /// <summary>GET /next: the event in a pooled buffer (the caller returns it) and the invocation's context.</summary>
    private (byte[] Payload, int Length, LambdaInvocationContext Context) NextInvocation(CancellationToken stop)
    {
        var next = _connection.Send("GET", BasePath + "invocation/next", [], ReadOnlyMemory<byte>.Empty, stop);
        try
        {
            if (next.StatusCode is < 200 or > 299)
            {
                throw new HttpRequestException($"The Runtime API answered /runtime/invocation/next with HTTP {next.StatusCode}.", null, (HttpStatusCode)next.StatusCode);
            }

            var requestId = RequiredHeader(next, "Lambda-Runtime-Aws-Request-Id");
            var deadlineText = RequiredHeader(next, "Lambda-Runtime-Deadline-Ms");
            if (!long.TryParse(deadlineText, NumberStyles.None, CultureInfo.InvariantCulture, out var deadlineMs))
            {
                throw new HttpRequestException($"Lambda-Runtime-Deadline-Ms is '{deadlineText}', not epoch milliseconds.");
            }

            var traceId = next.Header("Lambda-Runtime-Trace-Id");
            // Set (or cleared) for every invocation, so one invocation's trace never leaks into the next.
            Environment.SetEnvironmentVariable(TraceIdVariable, traceId);
            var context = new LambdaInvocationContext(requestId, DateTimeOffset.FromUnixTimeMilliseconds(deadlineMs), traceId,
                next.Header("Lambda-Runtime-Invoked-Function-Arn"), Logger.ForRequest(requestId), _time);
            return (next.Body, next.BodyLength, context);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(next.Body);
            throw;
        }
    }

    private void PostResponse(LambdaInvocationContext context, Stream output, CancellationToken stop)
    {
        // A handler's memory stream goes out as it is; any other stream is read into memory first.
        ReadOnlyMemory<byte> body;
        if (output is MemoryStream memory && memory.TryGetBuffer(out var written))
        {
            body = written.AsMemory((int)memory.Position);
        }
        else
        {
            using var copy = new MemoryStream();
            output.CopyTo(copy);
            body = copy.GetBuffer().AsMemory(0, (int)copy.Length);
        }

        var statusCode = Post($"invocation/{Uri.EscapeDataString(context.AwsRequestId)}/response", body, [], stop);
        if (statusCode is < 200 or > 299)
        {
            context.Logger.Warning("The Runtime API rejected the response.", ("statusCode", statusCode));
        }
    }

    private void PostError(string path, Exception exception, CancellationToken stop)
    {
        var errorType = exception.GetType().Name;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("errorMessage", exception.Message);
            writer.WriteString("errorType", errorType);
            writer.WriteStartArray("stackTrace");
            foreach (var line in (exception.StackTrace ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                writer.WriteStringValue(line);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var statusCode = Post(path, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), [("Content-Type", "application/json"), (ErrorTypeHeader, errorType)], stop);
        if (statusCode is < 200 or > 299)
        {
            Logger.Warning("The Runtime API rejected the error report.", new("path", "runtime/" + path), ("statusCode", statusCode));
        }
    }

    /// <summary>POSTs <paramref name="body"/> under the Runtime API's base path; returns the status code.</summary>
    private int Post(string path, ReadOnlyMemory<byte> body, ReadOnlySpan<(string Name, string Value)> headers, CancellationToken stop)
    {
        var response = _connection.Send("POST", BasePath + path, headers, body, stop);
        ArrayPool<byte>.Shared.Return(response.Body);
        return response.StatusCode;
    }

    // Timers count whole milliseconds of a tick count that need not turn over with the clock's milliseconds, so one may fire
    // up to a millisecond early: rounding up and one more millisecond keep the token from firing before the deadline.
    private static TimeSpan ClampDelay(TimeSpan remaining) =>
        TimeSpan.FromMilliseconds(Math.Min(Math.Ceiling(remaining.TotalMilliseconds) + 1, int.MaxValue - 1));

    private static string RequiredHeader(RuntimeApiResponse response, string name) =>
        response.Header(name) is { Length: > 0 } value
            ? value
            : throw new HttpRequestException($"The Runtime API's /runtime/invocation/next answer has no {name} header.");
}
