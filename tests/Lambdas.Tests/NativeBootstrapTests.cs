using System.Text.Json;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using Xunit.Abstractions;

namespace CustomerSegmentation.Lambdas.Tests;

/// <summary>The real native-AOT bootstrap of the echo test function, as a child process, against the loopback Runtime API.</summary>
public sealed class NativeBootstrapTests(NativeBootstrapFixture fixture, ITestOutputHelper output) : IClassFixture<NativeBootstrapFixture>
{
    [Fact]
    public void Publish_EchoFunction_ProducesANativeExecutable()
    {
        var bytes = File.ReadAllBytes(fixture.BootstrapPath);

        output.WriteLine($"bootstrap: {bytes.Length} bytes, publish {fixture.PublishTime.TotalSeconds:F1} s");
        Assert.Equal<byte>([0x7F, (byte)'E', (byte)'L', (byte)'F'], bytes[..4]);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(fixture.BootstrapPath)!, "bootstrap.dll")), "an IL bootstrap.dll was published instead of a native binary");
        Assert.DoesNotMatch(@"warning IL\d{4}", fixture.PublishOutput);
    }

    [Fact]
    public async Task Bootstrap_EventsOfEveryKind_AreAnsweredThroughTheRuntimeApi()
    {
        using var api = new LambdaRuntimeApiServer();
        const string trace = "Root=1-67891233-abcdef012345678912345678;Sampled=1";
        var echo = api.Enqueue("""{"action":"echo","customers":[{"age":34}]}""", traceId: trace);
        var fail = api.Enqueue("""{"action":"fail","message":"age must be a number"}""");
        var untraced = api.Enqueue("""{"action":"echo"}""", omitTraceHeader: true);
        var deadline = api.Enqueue("""{"action":"waitForDeadline"}""", timeout: TimeSpan.FromMilliseconds(700));
        using var bootstrap = BootstrapProcess.Start(fixture.BootstrapPath, [("AWS_LAMBDA_RUNTIME_API", api.RuntimeApi)]);

        var echoed = (await api.WaitForOutcomeAsync(echo, TimeSpan.FromSeconds(60))).BodyJson;
        var failed = await api.WaitForOutcomeAsync(fail);
        var untracedBody = (await api.WaitForOutcomeAsync(untraced)).BodyJson;
        var cancelled = (await api.WaitForOutcomeAsync(deadline)).BodyJson;

        Assert.Equal(echo, echoed.GetProperty("requestId").GetString());
        Assert.Equal(LambdaRuntimeApiServer.DefaultFunctionArn, echoed.GetProperty("invokedFunctionArn").GetString());
        Assert.Equal(trace, echoed.GetProperty("traceIdVariable").GetString());
        Assert.Equal(34, echoed.GetProperty("event").GetProperty("customers")[0].GetProperty("age").GetInt32());
        Assert.True(failed.IsError);
        Assert.Equal("InvalidOperationException", failed.ErrorTypeHeader);
        Assert.Equal("age must be a number", failed.BodyJson.GetProperty("errorMessage").GetString());
        Assert.Equal(JsonValueKind.Null, untracedBody.GetProperty("traceIdVariable").ValueKind);
        Assert.True(cancelled.GetProperty("cancelledAtDeadline").GetBoolean());
        Assert.Equal(0, cancelled.GetProperty("remainingMilliseconds").GetInt64());
        api.ThrowIfProtocolViolated();
        var lines = bootstrap.StopAndReadLog();
        Assert.All(lines, line => Assert.True(line.TryGetProperty("timestamp", out _) && line.TryGetProperty("level", out _) && line.TryGetProperty("message", out _)));
        Assert.Contains(lines, line => line.GetProperty("message").GetString() == "Echo function initialized." && !line.TryGetProperty("requestId", out _));
        Assert.Contains(lines, line => line.GetProperty("message").GetString() == "Echo function invoked."
            && line.GetProperty("requestId").GetString() == fail && line.GetProperty("action").GetString() == "fail");
        Assert.Contains(lines, line => line.GetProperty("level").GetString() == "Error" && line.GetProperty("requestId").GetString() == fail);
    }

    [Fact]
    public async Task Bootstrap_InitFails_ReportsInitErrorAndExitsNonZero()
    {
        using var api = new LambdaRuntimeApiServer();
        using var bootstrap = BootstrapProcess.Start(fixture.BootstrapPath, [("AWS_LAMBDA_RUNTIME_API", api.RuntimeApi), ("ECHO_FUNCTION_FAIL_INIT", "MODEL_BUCKET is not set")]);

        var report = await api.WaitForInitErrorAsync(TimeSpan.FromSeconds(60));
        var exitCode = await bootstrap.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        Assert.Equal("InvalidOperationException", report.ErrorTypeHeader);
        Assert.Equal("MODEL_BUCKET is not set", report.BodyJson.GetProperty("errorMessage").GetString());
        Assert.Equal(0, api.NextRequests);
        api.ThrowIfProtocolViolated();
    }

    [Fact]
    public async Task Bootstrap_WithoutRuntimeApiVariable_ExitsWithCode2AndSaysWhy()
    {
        using var bootstrap = BootstrapProcess.Start(fixture.BootstrapPath, []);

        var exitCode = await bootstrap.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(bootstrap.StopAndReadLog());
        Assert.Equal("AWS_LAMBDA_RUNTIME_API is not set: this bootstrap must run inside Lambda or under a Runtime API emulator.",
            line.GetProperty("message").GetString());
    }
}
