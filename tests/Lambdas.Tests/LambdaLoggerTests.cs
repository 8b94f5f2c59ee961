using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

namespace CustomerSegmentation.Lambdas.Tests;

public class LambdaLoggerTests
{
    private sealed class FixedTime : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 11, 25, 11, 5, 0, 123, TimeSpan.Zero);
    }

    [Fact]
    public void Information_WithFieldsInsideAnInvocation_WritesOneJsonLine()
    {
        using var output = new StringWriter();
        var logger = new LambdaLogger(output, new FixedTime()).ForRequest("req-1");

        logger.Information("Segmented customers.", ("count", 3), ("endpoint", "segments"), ("latency", TimeSpan.FromMilliseconds(12.5)),
            ("cached", true), ("ratio", 0.5), ("missing", null));

        Assert.Equal(
            """{"timestamp":"2026-11-25T11:05:00.123Z","level":"Information","message":"Segmented customers.","requestId":"req-1","count":3,"endpoint":"segments","latency":12.5,"cached":true,"ratio":0.5,"missing":null}"""
            + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void Error_WithExceptionOutsideAnInvocation_HasErrorFieldsAndNoRequestId()
    {
        using var output = new StringWriter();
        var logger = new LambdaLogger(output, new FixedTime());

        logger.Error("Init failed.", new InvalidOperationException("line one\nline two"));

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        var line = JsonDocument.Parse(Assert.Single(lines)).RootElement;
        Assert.Equal("Error", line.GetProperty("level").GetString());
        Assert.Equal("InvalidOperationException", line.GetProperty("errorType").GetString());
        Assert.Equal("line one\nline two", line.GetProperty("errorMessage").GetString());
        Assert.False(line.TryGetProperty("requestId", out _));
    }
}
