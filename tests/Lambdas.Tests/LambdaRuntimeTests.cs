using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

namespace CustomerSegmentation.Lambdas.Tests;

/// <summary>
/// The runtime loop in-process against the loopback Runtime API. One class, so its tests run one at a time: the trace
/// id is a process-wide environment variable.
/// </summary>
public sealed class LambdaRuntimeTests : IDisposable
{
    private readonly LambdaRuntimeApiServer _api = new();
    private readonly StringWriter _log = new();
    private readonly LambdaRuntime _runtime;

    public LambdaRuntimeTests()
    {
        _runtime = new LambdaRuntime(_api.RuntimeApi, new LambdaLogger(_log));
    }

    public void Dispose()
    {
        _runtime.Dispose();
        _api.Dispose();
        _log.Dispose();
    }

    [Fact]
    public async Task RunAsync_HandlerAnswers_PostsResponseWithInvocationContext()
    {
        using var stop = new CancellationTokenSource();
        var loop = _runtime.RunAsync((_, _) => Task.FromResult<LambdaHandler>(async (input, context, cancellationToken) =>
        {
            var text = await new StreamReader(input).ReadToEndAsync(cancellationToken);
            return new MemoryStream(Encoding.UTF8.GetBytes($"{context.AwsRequestId}|{context.InvokedFunctionArn}|{text.ToUpperInvariant()}"));
        }), stop.Token);
        var requestId = _api.Enqueue("""{"customer":"a"}""");

        var outcome = await _api.WaitForOutcomeAsync(requestId);
        await stop.CancelAsync();

        Assert.False(outcome.IsError);
        Assert.Equal($"{requestId}|{LambdaRuntimeApiServer.DefaultFunctionArn}|{{\"CUSTOMER\":\"A\"}}", outcome.BodyText);
        Assert.Equal(0, await loop.WaitAsync(TimeSpan.FromSeconds(10)));
        _api.ThrowIfProtocolViolated();
    }

    [Fact]
    public async Task RunAsync_HandlerThrows_PostsTypedErrorAndKeepsServing()
    {
        using var stop = new CancellationTokenSource();
        var loop = _runtime.RunAsync((_, _) => Task.FromResult<LambdaHandler>((input, _, _) =>
            input.ReadByte() == '1' ? throw new InvalidOperationException("Income must be a number.") : Task.FromResult<Stream>(new MemoryStream("ok"u8.ToArray()))), stop.Token);
        var failing = _api.Enqueue("1");
        var succeeding = _api.Enqueue("2");

        var error = await _api.WaitForOutcomeAsync(failing);
        var success = await _api.WaitForOutcomeAsync(succeeding);
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(error.IsError);
        Assert.Equal("InvalidOperationException", error.ErrorTypeHeader);
        Assert.Equal("Income must be a number.", error.BodyJson.GetProperty("errorMessage").GetString());
        Assert.Equal("InvalidOperationException", error.BodyJson.GetProperty("errorType").GetString());
        Assert.Equal(JsonValueKind.Array, error.BodyJson.GetProperty("stackTrace").ValueKind);
        Assert.Equal("ok", success.BodyText);
        var logLine = LogLines().Single(line => line.GetProperty("level").GetString() == "Error");
        Assert.Equal(failing, logLine.GetProperty("requestId").GetString());
        Assert.Equal("The handler failed.", logLine.GetProperty("message").GetString());
        Assert.Equal("Income must be a number.", logLine.GetProperty("errorMessage").GetString());
        _api.ThrowIfProtocolViolated();
    }

    [Fact]
    public async Task RunAsync_InitializerThrows_PostsInitErrorAndReturnsInitExitCode()
    {
        var exitCode = await _runtime.RunAsync((_, _) => throw new InvalidOperationException("MODEL_BUCKET is not set."));

        var report = await _api.WaitForInitErrorAsync();
        Assert.Equal(LambdaRuntime.InitErrorExitCode, exitCode);
        Assert.Equal("InvalidOperationException", report.ErrorTypeHeader);
        Assert.Equal("MODEL_BUCKET is not set.", report.BodyJson.GetProperty("errorMessage").GetString());
        Assert.Equal(0, _api.NextRequests);
        _api.ThrowIfProtocolViolated();
    }

    [Fact]
    public async Task InvokeOnce_DeadlinePasses_CancelsTheHandlerTokenAtTheDeadline()
    {
        TimeSpan? remainingAtStart = null;
        var watch = new Stopwatch();
        var requestId = _api.Enqueue("{}", timeout: TimeSpan.FromMilliseconds(800));

        _runtime.InvokeOnce(async (_, context, cancellationToken) =>
        {
            remainingAtStart = context.RemainingTime;
            watch.Start();
            var cancelled = false;
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                cancelled = true;
            }

            watch.Stop();
            return new MemoryStream(Encoding.UTF8.GetBytes($"{cancelled}|{context.RemainingTime.TotalMilliseconds}"));
        });

        var outcome = await _api.WaitForOutcomeAsync(requestId);
        Assert.Equal("True|0", outcome.BodyText);
        Assert.InRange(remainingAtStart!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(800));
        Assert.InRange(watch.Elapsed, remainingAtStart.Value - TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10));
        _api.ThrowIfProtocolViolated();
    }

    [Fact]
    public async Task InvokeOnce_TraceHeaders_SetTheTraceVariablePerInvocation()
    {
        LambdaHandler handler = (_, context, _) => Task.FromResult<Stream>(new MemoryStream(Encoding.UTF8.GetBytes(
            $"{Environment.GetEnvironmentVariable(LambdaRuntime.TraceIdVariable)}|{context.TraceId}")));
        var first = _api.Enqueue("{}", traceId: "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1");
        var untraced = _api.Enqueue("{}", omitTraceHeader: true);
        var second = _api.Enqueue("{}", traceId: "Root=1-67891234-000000000000000000000001;Sampled=0");

        for (var i = 0; i < 3; i++)
        {
            _runtime.InvokeOnce(handler);
        }

        Assert.Equal("Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1|Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1",
            (await _api.WaitForOutcomeAsync(first)).BodyText);
        Assert.Equal("|", (await _api.WaitForOutcomeAsync(untraced)).BodyText);
        Assert.Equal("Root=1-67891234-000000000000000000000001;Sampled=0|Root=1-67891234-000000000000000000000001;Sampled=0",
            (await _api.WaitForOutcomeAsync(second)).BodyText);
        _api.ThrowIfProtocolViolated();
    }

    [Fact]
    public async Task ThrowIfProtocolViolated_ErrorPostedTwice_Fails()
    {
        // The stand-in itself must catch a runtime that answers one invocation twice.
        var requestId = _api.Enqueue("{}");
        using var http = new HttpClient();
        using var next = await http.GetAsync(new Uri(_api.BaseUri, "2018-06-01/runtime/invocation/next"));
        var url = new Uri(_api.BaseUri, $"2018-06-01/runtime/invocation/{requestId}/response");

        using var first = await http.PostAsync(url, new StringContent("a"));
        using var second = await http.PostAsync(url, new StringContent("b"));

        Assert.Equal(202, (int)first.StatusCode);
        Assert.Equal(403, (int)second.StatusCode);
        Assert.Equal([$"response posted for request id '{requestId}', which was already answered"], _api.ProtocolViolations);
    }

    [Fact]
    public async Task InvokeOnce_LargeEvent_IsHandedOverWholeWithItsBufferAndTheAnswersBufferIsPosted()
    {
        var payload = "{\"data\":\"" + new string('x', 3 * 1024 * 1024) + "\"}";
        var requestId = _api.Enqueue(payload);
        var sawBuffer = false;

        _runtime.InvokeOnce((input, _, _) =>
        {
            sawBuffer = input is MemoryStream memory && memory.TryGetBuffer(out var buffer) && buffer.Count == payload.Length;
            var answer = new MemoryStream();
            answer.Write("prefix-to-skip|"u8);
            answer.Write(Encoding.UTF8.GetBytes($"{input.Length}"));
            answer.Position = "prefix-to-skip|".Length;
            return Task.FromResult<Stream>(answer);
        });

        var outcome = await _api.WaitForOutcomeAsync(requestId);
        Assert.True(sawBuffer, "the handler's input did not expose the whole event as one buffer");
        Assert.Equal(payload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), outcome.BodyText);
        _api.ThrowIfProtocolViolated();
    }

    [Fact]
    public async Task InvokeOnce_AnswerInAStreamOfAnotherKind_IsPostedWhole()
    {
        var requestId = _api.Enqueue("{}");

        _runtime.InvokeOnce((_, _, _) => Task.FromResult<Stream>(new BufferedStream(new MemoryStream("answered"u8.ToArray()))));

        Assert.Equal("answered", (await _api.WaitForOutcomeAsync(requestId)).BodyText);
        _api.ThrowIfProtocolViolated();
    }

    [Fact]
    public async Task RunAsync_ManyEvents_AreAnsweredInOrderOverTheSameLoop()
    {
        using var stop = new CancellationTokenSource();
        var ids = Enumerable.Range(0, 50).Select(index => _api.Enqueue($"{{\"n\":{index}}}")).ToList();
        var loop = _runtime.RunAsync((_, _) => Task.FromResult<LambdaHandler>((input, _, _) =>
            Task.FromResult<Stream>(new MemoryStream(Encoding.UTF8.GetBytes(new StreamReader(input).ReadToEnd())))), stop.Token);

        var answers = new List<string>();
        foreach (var id in ids)
        {
            answers.Add((await _api.WaitForOutcomeAsync(id)).BodyText);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await loop.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(Enumerable.Range(0, 50).Select(index => $"{{\"n\":{index}}}"), answers);
        _api.ThrowIfProtocolViolated();
    }

    private List<JsonElement> LogLines() =>
        [.. _log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];
}
