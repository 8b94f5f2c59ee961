using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

using CustomerSegmentation.LocalAws.Http;

namespace CustomerSegmentation.LocalAws.Lambda;

/// <summary>
/// One event waiting for the function. A null <see cref="TraceId"/> sends no <c>Lambda-Runtime-Trace-Id</c> header. With a
/// <see cref="TimeoutFromHandOut"/> the deadline is set when the function takes the event, as Lambda times only the
/// invocation, not the runtime's start-up; otherwise it is <see cref="Deadline"/>.
/// </summary>
public sealed record QueuedInvocation(string RequestId, byte[] Payload, DateTimeOffset Deadline, string? TraceId, string FunctionArn, TimeSpan? TimeoutFromHandOut = null);

/// <summary>What the function posted for one invocation: its response, or its error report.</summary>
public sealed record InvocationOutcome(string RequestId, bool IsError, byte[] Body, string? ErrorTypeHeader)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public JsonElement BodyJson => JsonDocument.Parse(Body).RootElement.Clone();
}

/// <summary>What the function posted to <c>/runtime/init/error</c>.</summary>
public sealed record InitErrorReport(byte[] Body, string? ErrorTypeHeader)
{
    public JsonElement BodyJson => JsonDocument.Parse(Body).RootElement.Clone();
}

/// <summary>
/// A strict stand-in for the Lambda Runtime API (version 2018-06-01): hands queued events out on
/// <c>GET /runtime/invocation/next</c> with the <c>Lambda-Runtime-*</c> headers, and records responses, invocation errors
/// and init errors. Anything Lambda would reject (unknown path, unknown or already-answered request id, an error report
/// without the error-type header or without <c>errorMessage</c>/<c>errorType</c>, asking for the next event before answering
/// the current one) is answered as Lambda would and recorded as a protocol violation.
/// </summary>
public sealed class LambdaRuntimeApiServer : LoopbackHttpServer
{
    public const string DefaultFunctionArn = "arn:aws:lambda:us-east-1:123456789012:function:echo";
    private const string Prefix = "/2018-06-01/runtime/";

    private readonly Channel<QueuedInvocation> _queue = Channel.CreateUnbounded<QueuedInvocation>();
    private readonly ConcurrentDictionary<string, QueuedInvocation> _handedOut = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<InvocationOutcome>> _outcomes = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<DateTimeOffset>> _handOuts = new();
    private readonly TaskCompletionSource<InitErrorReport> _initError = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _violations = [];
    private int _nextRequests;

    /// <summary>The value of <c>AWS_LAMBDA_RUNTIME_API</c> for a function using this server.</summary>
    public string RuntimeApi => $"127.0.0.1:{Port}";

    /// <summary>How many times <c>/runtime/invocation/next</c> was called.</summary>
    public int NextRequests => _nextRequests;

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

    /// <summary>Queues an event; returns its request id.</summary>
    /// <param name="payload">The event JSON.</param>
    /// <param name="timeout">Time until the deadline. Default: 30 s.</param>
    /// <param name="traceId">The <c>Lambda-Runtime-Trace-Id</c> header. Default: a fresh X-Ray-style id.</param>
    /// <param name="omitTraceHeader">Send no <c>Lambda-Runtime-Trace-Id</c> header at all. Default: false.</param>
    /// <param name="functionArn">The <c>Lambda-Runtime-Invoked-Function-Arn</c> header. Default: <see cref="DefaultFunctionArn"/>.</param>
    /// <param name="timeoutFromHandOut">Count <paramref name="timeout"/> from when the function takes the event (see
    /// <see cref="WaitForHandOutAsync"/>) rather than from now. Default: false.</param>
    public string Enqueue(string payload, TimeSpan? timeout = null, string? traceId = null, bool omitTraceHeader = false,
        string functionArn = DefaultFunctionArn, bool timeoutFromHandOut = false)
    {
        var requestId = Guid.NewGuid().ToString();
        var trace = omitTraceHeader
            ? null
            : traceId ?? $"Root=1-{DateTimeOffset.UtcNow.ToUnixTimeSeconds():x8}-{Guid.NewGuid().ToString("N")[..24]};Sampled=0";
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        _outcomes[requestId] = new TaskCompletionSource<InvocationOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _handOuts[requestId] = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Writer.TryWrite(new QueuedInvocation(requestId, Encoding.UTF8.GetBytes(payload),
            DateTimeOffset.UtcNow + limit, trace, functionArn, timeoutFromHandOut ? limit : null));
        return requestId;
    }

    /// <summary>Completes with the deadline the function was given when it takes the event from <c>/runtime/invocation/next</c>.</summary>
    public async Task<DateTimeOffset> WaitForHandOutAsync(string requestId, TimeSpan? timeout = null) =>
        await _handOuts[requestId].Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));

    public async Task<InvocationOutcome> WaitForOutcomeAsync(string requestId, TimeSpan? timeout = null) =>
        await _outcomes[requestId].Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));

    public async Task<InitErrorReport> WaitForInitErrorAsync(TimeSpan? timeout = null) =>
        await _initError.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));

    /// <summary>Throws when the function broke the Runtime API protocol or the server itself faulted.</summary>
    public void ThrowIfProtocolViolated()
    {
        var problems = ProtocolViolations.Concat(ServerFaults).ToList();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("Runtime API protocol violations:\n" + string.Join("\n", problems));
        }
    }

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var path = request.Url!.AbsolutePath;
        var body = await ReadBodyAsync(request);
        var route = path.StartsWith(Prefix, StringComparison.Ordinal) ? path[Prefix.Length..] : null;
        var segments = route?.Split('/') ?? [];
        switch (request.HttpMethod, segments)
        {
            case ("GET", ["invocation", "next"]):
                await HandOutNextAsync(context.Response);
                break;
            case ("POST", ["invocation", var id, "response"]):
                await CompleteAsync(context, Uri.UnescapeDataString(id), isError: false, body);
                break;
            case ("POST", ["invocation", var id, "error"]):
                await CompleteAsync(context, Uri.UnescapeDataString(id), isError: true, body);
                break;
            case ("POST", ["init", "error"]):
                CheckErrorReport("init error", request, body);
                if (!_initError.TrySetResult(new InitErrorReport(body, request.Headers["Lambda-Runtime-Function-Error-Type"])))
                {
                    Violation("init error reported twice");
                }

                await RespondAsync(context.Response, 202, """{"status":"OK"}"""u8.ToArray());
                break;
            default:
                Violation($"unknown Runtime API call {request.HttpMethod} {path}");
                await RespondAsync(context.Response, 404, """{"errorMessage":"not found","errorType":"InvalidRequest"}"""u8.ToArray());
                break;
        }
    }

    private async Task HandOutNextAsync(HttpListenerResponse response)
    {
        Interlocked.Increment(ref _nextRequests);
        var unanswered = _handedOut.Keys.Where(id => !_outcomes[id].Task.IsCompleted).ToList();
        if (unanswered.Count > 0)
        {
            Violation($"/next requested while invocation {string.Join(",", unanswered)} was still unanswered");
        }

        var invocation = await _queue.Reader.ReadAsync(Stopping);
        if (invocation.TimeoutFromHandOut is { } timeout)
        {
            invocation = invocation with { Deadline = DateTimeOffset.UtcNow + timeout };
        }

        _handedOut[invocation.RequestId] = invocation;
        var headers = new Dictionary<string, string>
        {
            ["Lambda-Runtime-Aws-Request-Id"] = invocation.RequestId,
            ["Lambda-Runtime-Deadline-Ms"] = invocation.Deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["Lambda-Runtime-Invoked-Function-Arn"] = invocation.FunctionArn,
        };
        if (invocation.TraceId is not null)
        {
            headers["Lambda-Runtime-Trace-Id"] = invocation.TraceId;
        }

        await RespondAsync(response, 200, invocation.Payload, headers: headers);
        _handOuts[invocation.RequestId].TrySetResult(invocation.Deadline);
    }

    private async Task CompleteAsync(HttpListenerContext context, string requestId, bool isError, byte[] body)
    {
        var kind = isError ? "error" : "response";
        if (!_handedOut.ContainsKey(requestId))
        {
            Violation($"{kind} posted for request id '{requestId}', which was never handed out");
            await RespondAsync(context.Response, 400, """{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}"""u8.ToArray());
            return;
        }

        if (isError)
        {
            CheckErrorReport($"invocation error of {requestId}", context.Request, body);
        }

        if (!_outcomes[requestId].TrySetResult(new InvocationOutcome(requestId, isError, body, context.Request.Headers["Lambda-Runtime-Function-Error-Type"])))
        {
            Violation($"{kind} posted for request id '{requestId}', which was already answered");
            await RespondAsync(context.Response, 403, """{"errorMessage":"already answered","errorType":"InvalidStateTransition"}"""u8.ToArray());
            return;
        }

        await RespondAsync(context.Response, 202, """{"status":"OK"}"""u8.ToArray());
    }

    private void CheckErrorReport(string what, HttpListenerRequest request, byte[] body)
    {
        if (string.IsNullOrEmpty(request.Headers["Lambda-Runtime-Function-Error-Type"]))
        {
            Violation($"{what}: no Lambda-Runtime-Function-Error-Type header");
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            foreach (var member in new[] { "errorMessage", "errorType" })
            {
                if (!document.RootElement.TryGetProperty(member, out var value) || value.ValueKind != JsonValueKind.String)
                {
                    Violation($"{what}: body has no string '{member}'");
                }
            }
        }
        catch (JsonException exception)
        {
            Violation($"{what}: body is not JSON ({exception.Message})");
        }
    }

    private void Violation(string message)
    {
        lock (_violations)
        {
            _violations.Add(message);
        }
    }
}
