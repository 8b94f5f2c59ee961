using System.Diagnostics;
using System.Text.Json;
using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalAws.Tests.Support;

namespace CustomerSegmentation.LocalAws.Tests;

[Collection(RuntimeLoopFunctionCollection.Name)]
public sealed class LocalLambdaFunctionTests(RuntimeLoopFunctionBootstrap runtimeLoopFunction) : IAsyncLifetime, IDisposable
{
    private static readonly LocalServiceEndpoints Endpoints = new()
    {
        S3 = new Uri("http://127.0.0.1:4568/"),
        SageMaker = new Uri("http://127.0.0.1:4570/"),
        SageMakerRuntime = new Uri("http://127.0.0.1:4571/"),
        ApplicationAutoScaling = new Uri("http://127.0.0.1:4572/"),
        DynamoDb = new Uri("http://127.0.0.1:4573/"),
    };

    private readonly StringWriter _log = new();
    private readonly List<LocalLambdaFunction> _functions = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public void Dispose() => _log.Dispose();

    public async Task DisposeAsync()
    {
        foreach (var function in _functions)
        {
            await function.DisposeAsync();
        }
    }

    private LocalLambdaFunction Start(string bootstrap, int timeoutSeconds = 10, IReadOnlyDictionary<string, string>? environment = null)
    {
        var stack = new TestStack().Function("Echo", bootstrap, "echo", timeoutSeconds, environment).Build();
        var function = new LocalLambdaFunction(LambdaFunctionDefinition.FromTemplate(stack, "Echo"), () => Endpoints, _log);
        _functions.Add(function);
        return function;
    }

    private static bool ProcessRuns(int pid) => Directory.Exists($"/proc/{pid}");

    [Fact]
    public async Task InvokeAsync_NativeBootstrap_AnswersThroughTheRuntimeApiWithDeadlineArnAndTrace()
    {
        var function = Start(runtimeLoopFunction.Path, timeoutSeconds: 30);

        var result = await function.InvokeAsync("""{"greeting":"hello"}""");

        Assert.False(result.IsError, result.PayloadText);
        using var answer = JsonDocument.Parse(result.Payload);
        Assert.Equal(result.RequestId, answer.RootElement.GetProperty("requestId").GetString());
        Assert.Equal(TestStack.Arn("echo"), answer.RootElement.GetProperty("invokedFunctionArn").GetString());
        Assert.StartsWith("Root=1-", answer.RootElement.GetProperty("traceIdVariable").GetString(), StringComparison.Ordinal);
        Assert.InRange(answer.RootElement.GetProperty("remainingMilliseconds").GetInt64(), 20_000, 30_000);
        Assert.Equal("hello", answer.RootElement.GetProperty("event").GetProperty("greeting").GetString());
        Assert.Empty(function.ProtocolViolations);
        Assert.Contains($"[echo] REPORT RequestId: {result.RequestId} Duration: ", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeAsync_SeveralAtOnce_RunOneAfterAnotherInOneEnvironment()
    {
        var function = Start(TestPaths.PythonFunction);

        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => function.InvokeAsync($$"""{"n":{{i}}}""")));

        Assert.All(results, r => Assert.False(r.IsError, r.PayloadText));
        Assert.Equal([0, 1, 2, 3, 4], results.Select(r => JsonDocument.Parse(r.Payload).RootElement.GetProperty("event").GetProperty("n").GetInt32()));
        Assert.Single(results.Select(r => JsonDocument.Parse(r.Payload).RootElement.GetProperty("pid").GetInt32()).Distinct());
        Assert.Equal(1, function.EnvironmentsStarted);
    }

    [Fact]
    public async Task InvokeAsync_Process_GetsTheContractEnvironmentAndNothingElseFromTheHost()
    {
        Environment.SetEnvironmentVariable("AWS_PROFILE_LEAK_CHECK", "developer");
        var function = Start(TestPaths.PythonFunction, environment: new Dictionary<string, string> { ["MODEL_BUCKET"] = "models" });

        var result = await function.InvokeAsync("{}");

        var answer = JsonDocument.Parse(result.Payload).RootElement;
        var environment = answer.GetProperty("environment").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal("models", environment["MODEL_BUCKET"]);
        Assert.Equal("us-east-1", environment["AWS_REGION"]);
        Assert.Equal("us-east-1", environment["AWS_DEFAULT_REGION"]);
        Assert.Equal(("S3RVER", "S3RVER"), (environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"]));
        Assert.Equal(("echo", "256", "bootstrap"), (environment["AWS_LAMBDA_FUNCTION_NAME"], environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], environment["_HANDLER"]));
        Assert.Equal(function.Definition.CodeDirectory, environment["LAMBDA_TASK_ROOT"]);
        Assert.Equal(function.Definition.CodeDirectory, answer.GetProperty("cwd").GetString());
        Assert.Equal("http://127.0.0.1:4568", environment["AWS_ENDPOINT_URL_S3"]);
        Assert.Equal("http://127.0.0.1:4570", environment["AWS_ENDPOINT_URL_SAGEMAKER"]);
        Assert.Equal("http://127.0.0.1:4571", environment["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"]);
        Assert.Equal("http://127.0.0.1:4572", environment["AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING"]);
        Assert.Equal("http://127.0.0.1:4573", environment["AWS_ENDPOINT_URL_DYNAMODB"]);
        Assert.StartsWith("127.0.0.1:", environment["AWS_LAMBDA_RUNTIME_API"], StringComparison.Ordinal);
        Assert.DoesNotContain("AWS_PROFILE_LEAK_CHECK", environment.Keys);
        Assert.DoesNotContain("AWS_SESSION_TOKEN", environment.Keys);
    }

    [Fact]
    public async Task InvokeAsync_HandlerThrows_AnswersTheUnhandledErrorDocumentAndKeepsTheProcess()
    {
        var function = Start(runtimeLoopFunction.Path);
        await function.InvokeAsync("{}");
        var pid = function.ProcessId;

        var result = await function.InvokeAsync("""{"action":"fail","message":"model package not found"}""");

        Assert.True(result.IsError);
        Assert.Equal("model package not found", result.ErrorMessage);
        Assert.Equal("InvalidOperationException", result.ErrorType);
        Assert.Equal(pid, function.ProcessId);
        Assert.Equal(1, function.EnvironmentsStarted);
        Assert.Empty(function.ProtocolViolations);
    }

    [Fact]
    public async Task InvokeAsync_StartUpFails_AnswersTheInitErrorAndStartsAFreshProcessNextTime()
    {
        var function = Start(runtimeLoopFunction.Path, environment: new Dictionary<string, string> { ["ECHO_FUNCTION_FAIL_INIT"] = "ENDPOINT_NAME is missing" });

        var first = await function.InvokeAsync("{}");
        var second = await function.InvokeAsync("{}");

        Assert.True(first.IsError);
        Assert.Equal("ENDPOINT_NAME is missing", first.ErrorMessage);
        Assert.Equal("InvalidOperationException", first.ErrorType);
        Assert.Equal("ENDPOINT_NAME is missing", second.ErrorMessage);
        Assert.Equal(2, function.EnvironmentsStarted);
        Assert.Contains("[echo] INIT failed: InvalidOperationException: ENDPOINT_NAME is missing", _log.ToString(), StringComparison.Ordinal);
        Assert.Empty(function.ProtocolViolations);
    }

    [Fact]
    public async Task InvokeAsync_ExitsBeforeTheFirstEvent_AnswersExitErrorAndLogsItsOutput()
    {
        var function = Start(TestPaths.PythonFunction, environment: new Dictionary<string, string> { ["TEST_FUNCTION_INIT"] = "exit" });

        var result = await function.InvokeAsync("{}");

        Assert.True(result.IsError);
        Assert.Equal("Runtime.ExitError", result.ErrorType);
        Assert.Equal($"RequestId: {result.RequestId} Error: Runtime exited with error: exit status 3", result.ErrorMessage);
        Assert.Contains($"[echo] the bootstrap process exited (exit status 3) before answering {result.RequestId}; its last output:", _log.ToString(), StringComparison.Ordinal);
        Assert.Contains("giving up before the first event", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeAsync_PastTheTimeout_FailsAsSandboxTimedoutAndReplacesTheProcess()
    {
        var function = Start(TestPaths.PythonFunction, timeoutSeconds: 1);
        var warm = await function.InvokeAsync("{}");
        var stuck = function.ProcessId!.Value;
        var clock = Stopwatch.StartNew();

        var result = await function.InvokeAsync("""{"action":"sleep","seconds":30}""");

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
        Assert.True(result.IsError);
        Assert.Equal("Sandbox.Timedout", result.ErrorType);
        Assert.Equal($"RequestId: {result.RequestId} Error: Task timed out after 1.00 seconds", result.ErrorMessage);
        Assert.False(ProcessRuns(stuck));
        var after = await function.InvokeAsync("""{"again":true}""");
        Assert.False(after.IsError, after.PayloadText);
        Assert.NotEqual(JsonDocument.Parse(warm.Payload).RootElement.GetProperty("pid").GetInt32(), JsonDocument.Parse(after.Payload).RootElement.GetProperty("pid").GetInt32());
        Assert.Equal(2, function.EnvironmentsStarted);
    }

    [Fact]
    public async Task InvokeAsync_ColdStartLongerThanTheTimeout_IsNotTimedAndTheDeadlineStartsAtTheEvent()
    {
        var function = Start(TestPaths.PythonFunction, timeoutSeconds: 1, environment: new Dictionary<string, string> { ["TEST_FUNCTION_INIT"] = "slow" });
        var invoked = DateTimeOffset.UtcNow;

        var result = await function.InvokeAsync("{}");

        Assert.False(result.IsError, result.PayloadText);
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(JsonDocument.Parse(result.Payload).RootElement.GetProperty("deadlineMs").GetInt64());
        Assert.InRange(deadline - invoked, TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task InvokeAsync_ProcessKilledMidInvocation_FailsAsExitErrorAndTheNextInvocationRestartsIt()
    {
        var function = Start(runtimeLoopFunction.Path, timeoutSeconds: 60);
        await function.InvokeAsync("{}");
        var crashed = function.ProcessId!.Value;

        var waiting = function.InvokeAsync("""{"action":"waitForDeadline"}""");
        await Task.Delay(300);
        Process.GetProcessById(crashed).Kill();
        var result = await waiting;
        var next = await function.InvokeAsync("""{"after":"crash"}""");

        Assert.True(result.IsError);
        Assert.Equal("Runtime.ExitError", result.ErrorType);
        Assert.Equal($"RequestId: {result.RequestId} Error: Runtime exited with error: signal: killed", result.ErrorMessage);
        Assert.False(next.IsError, next.PayloadText);
        Assert.NotEqual(crashed, function.ProcessId);
        Assert.Equal(2, function.EnvironmentsStarted);
    }

    [Fact]
    public async Task InvokeEvent_FailingEvent_IsRecordedAndLoggedWithoutDisturbingTheCaller()
    {
        var function = Start(TestPaths.PythonFunction);

        function.InvokeEvent("""{"action":"fail","message":"no such endpoint"}""", "rule EndpointStateChange");
        function.InvokeEvent("""{"ok":true}""", "rule EndpointStateChange");
        await function.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, function.EventInvocations.Count);
        Assert.Equal("no such endpoint", function.EventInvocations[0].Result!.ErrorMessage);
        Assert.False(function.EventInvocations[1].Result!.IsError);
        Assert.Contains("[echo] event from rule EndpointStateChange failed: {\"errorMessage\": \"no such endpoint\"", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_WarmFunction_LeavesNoProcessBehind()
    {
        var function = Start(runtimeLoopFunction.Path);
        await function.InvokeAsync("{}");
        var pid = function.ProcessId!.Value;
        Assert.True(ProcessRuns(pid));

        await function.DisposeAsync();

        Assert.False(ProcessRuns(pid));
        Assert.Null(function.ProcessId);
    }

    [Fact]
    public async Task DisposeAsync_DuringAnInvocation_CancelsItAndStopsTheProcess()
    {
        var function = Start(TestPaths.PythonFunction, timeoutSeconds: 60);
        await function.InvokeAsync("{}");
        var pid = function.ProcessId!.Value;
        var running = function.InvokeAsync("""{"action":"sleep","seconds":60}""");
        var queued = function.InvokeAsync("{}");

        await function.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.False(ProcessRuns(pid));
        Assert.Throws<ObjectDisposedException>(() => function.InvokeEvent("{}", "test"));
    }
}
