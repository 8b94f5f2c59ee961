using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

// An echo function whose event can ask for each behaviour of the runtime loop the tests check:
// {"action":"fail","message":"..."} throws, {"action":"waitForDeadline"} waits until the deadline token fires,
// anything else is echoed back with the invocation's context. ECHO_FUNCTION_FAIL_INIT makes start-up fail.
return await LambdaRuntime.RunFromEnvironmentAsync(Initialize);

static Task<LambdaHandler> Initialize(LambdaLogger logger, CancellationToken cancellationToken)
{
    if (Environment.GetEnvironmentVariable("ECHO_FUNCTION_FAIL_INIT") is { Length: > 0 } reason)
    {
        throw new InvalidOperationException(reason);
    }

    logger.Information("Echo function initialized.");
    return Task.FromResult<LambdaHandler>(HandleAsync);
}

static async Task<Stream> HandleAsync(Stream input, LambdaInvocationContext context, CancellationToken cancellationToken)
{
    using var buffer = new MemoryStream();
    await input.CopyToAsync(buffer, cancellationToken);
    var payload = buffer.ToArray();
    using var document = JsonDocument.Parse(payload);
    var action = document.RootElement.TryGetProperty("action", out var value) ? value.GetString() : null;
    context.Logger.Information("Echo function invoked.", ("action", action));
    var cancelledAtDeadline = false;
    switch (action)
    {
        case "fail":
            throw new InvalidOperationException(document.RootElement.GetProperty("message").GetString());
        case "waitForDeadline":
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                cancelledAtDeadline = true;
            }

            break;
    }

    var output = new MemoryStream();
    using (var writer = new Utf8JsonWriter(output))
    {
        writer.WriteStartObject();
        writer.WriteString("requestId", context.AwsRequestId);
        writer.WriteString("invokedFunctionArn", context.InvokedFunctionArn);
        writer.WriteString("traceIdVariable", Environment.GetEnvironmentVariable(LambdaRuntime.TraceIdVariable));
        writer.WriteBoolean("cancelledAtDeadline", cancelledAtDeadline);
        writer.WriteNumber("remainingMilliseconds", (long)context.RemainingTime.TotalMilliseconds);
        writer.WritePropertyName("event");
        writer.WriteRawValue(payload);
        writer.WriteEndObject();
    }

    output.Position = 0;
    return output;
}
