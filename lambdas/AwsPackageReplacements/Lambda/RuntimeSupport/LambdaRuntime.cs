using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

/// <summary>
/// The Lambda Runtime API loop of a custom-runtime (<c>provided.al2023</c>) native-AOT <c>bootstrap</c>: fetch the next
/// event, run the handler, post its response or error; report start-up failures to <c>/runtime/init/error</c>.
/// Plays the role of <c>Amazon.Lambda.RuntimeSupport.LambdaBootstrap</c>; replace with it when that package is available.
/// </summary>
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
    private readonly HttpClient _http;
    private readonly Uri _baseUri;
    private readonly TimeProvider _time;

    /// <param name="runtimeApi">The Runtime API's <c>host:port</c>, as in <c>AWS_LAMBDA_RUNTIME_API</c>.</param>
    /// <param name="logger">Where the runtime's own lines go. Default: a <see cref="LambdaLogger"/> on standard output.</param>
    /// <param name="time">The clock deadlines are measured with. Default: <see cref="TimeProvider.System"/>.</param>
    public LambdaRuntime(string runtimeApi, LambdaLogger? logger = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runtimeApi);
        _baseUri = new Uri($"http://{runtimeApi}/2018-06-01/");
        _time = time ?? TimeProvider.System;
        Logger = logger ?? new LambdaLogger(time: _time);
        // /invocation/next blocks until an event arrives, which may take arbitrarily long: no client timeout.
        _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
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
    /// Initializes, then serves invocations until <paramref name="stop"/> fires. Returns the process exit code. A broken
    /// Runtime API (an unexpected status or missing header on <c>/next</c>) ends the loop with that exception: Lambda then
    /// replaces the execution environment.
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
            await PostErrorAsync("runtime/init/error", exception, stop).ConfigureAwait(false);
            return InitErrorExitCode;
        }

        try
        {
            while (!stop.IsCancellationRequested)
            {
                await InvokeOnceAsync(handler, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return 0;
    }

    /// <summary>Waits for the next event, runs <paramref name="handler"/> on it and posts the outcome.</summary>
    public async Task InvokeOnceAsync(LambdaHandler handler, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        using var next = await _http.GetAsync(new Uri(_baseUri, "runtime/invocation/next"), HttpCompletionOption.ResponseContentRead, stop)
            .ConfigureAwait(false);
        if (!next.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The Runtime API answered /runtime/invocation/next with HTTP {(int)next.StatusCode}.", null, next.StatusCode);
        }

        var requestId = RequiredHeader(next, "Lambda-Runtime-Aws-Request-Id");
        var deadlineText = RequiredHeader(next, "Lambda-Runtime-Deadline-Ms");
        if (!long.TryParse(deadlineText, NumberStyles.None, CultureInfo.InvariantCulture, out var deadlineMs))
        {
            throw new HttpRequestException($"Lambda-Runtime-Deadline-Ms is '{deadlineText}', not epoch milliseconds.");
        }

        var traceId = OptionalHeader(next, "Lambda-Runtime-Trace-Id");
        // Set (or cleared) for every invocation, so one invocation's trace never leaks into the next.
        Environment.SetEnvironmentVariable(TraceIdVariable, traceId);
        var context = new LambdaInvocationContext(requestId, DateTimeOffset.FromUnixTimeMilliseconds(deadlineMs), traceId,
            OptionalHeader(next, "Lambda-Runtime-Invoked-Function-Arn"), Logger.ForRequest(requestId), _time);

        using var atDeadline = new CancellationTokenSource(ClampDelay(context.RemainingTime), _time);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(atDeadline.Token, stop);
        var input = await next.Content.ReadAsStreamAsync(stop).ConfigureAwait(false);
        Stream output;
        try
        {
            output = await handler(input, context, cancellation.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            context.Logger.Error("The handler failed.", exception);
            await PostErrorAsync($"runtime/invocation/{Uri.EscapeDataString(requestId)}/error", exception, stop).ConfigureAwait(false);
            return;
        }

        await using (output.ConfigureAwait(false))
        {
            using var content = new StreamContent(output);
            using var posted = await _http.PostAsync(new Uri(_baseUri, $"runtime/invocation/{Uri.EscapeDataString(requestId)}/response"), content, stop)
                .ConfigureAwait(false);
            if (!posted.IsSuccessStatusCode)
            {
                context.Logger.Warning("The Runtime API rejected the response.", ("statusCode", (int)posted.StatusCode));
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task PostErrorAsync(string path, Exception exception, CancellationToken stop)
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

        using var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_baseUri, path)) { Content = content };
        request.Headers.TryAddWithoutValidation(ErrorTypeHeader, errorType);
        using var posted = await _http.SendAsync(request, stop).ConfigureAwait(false);
        if (!posted.IsSuccessStatusCode)
        {
            Logger.Warning("The Runtime API rejected the error report.", new("path", path), ("statusCode", (int)posted.StatusCode));
        }
    }

    // Timers count whole milliseconds and truncate: rounding up keeps the token from firing before the deadline.
    private static TimeSpan ClampDelay(TimeSpan remaining) =>
        TimeSpan.FromMilliseconds(Math.Min(Math.Ceiling(remaining.TotalMilliseconds), int.MaxValue - 1));

    private static string? OptionalHeader(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string RequiredHeader(HttpResponseMessage response, string name) =>
        OptionalHeader(response, name) is { Length: > 0 } value
            ? value
            : throw new HttpRequestException($"The Runtime API's /runtime/invocation/next answer has no {name} header.");
}
