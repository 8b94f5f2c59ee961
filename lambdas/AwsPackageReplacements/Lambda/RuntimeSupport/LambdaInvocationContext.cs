namespace CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

/// <summary>
/// What the Runtime API says about one invocation (the <c>Lambda-Runtime-*</c> headers of <c>/invocation/next</c>).
/// Plays the role of <c>Amazon.Lambda.Core.ILambdaContext</c>; replace with it when that package is available.
/// </summary>
public sealed class LambdaInvocationContext
{
    private readonly TimeProvider _time;

    internal LambdaInvocationContext(string awsRequestId, DateTimeOffset deadline, string? traceId, string? invokedFunctionArn,
        LambdaLogger logger, TimeProvider time)
    {
        AwsRequestId = awsRequestId;
        Deadline = deadline;
        TraceId = traceId;
        InvokedFunctionArn = invokedFunctionArn;
        Logger = logger;
        _time = time;
    }

    /// <summary><c>Lambda-Runtime-Aws-Request-Id</c>.</summary>
    public string AwsRequestId { get; }

    /// <summary><c>Lambda-Runtime-Deadline-Ms</c>: when Lambda stops the invocation.</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary><c>Lambda-Runtime-Trace-Id</c>, also set as the <c>_X_AMZN_TRACE_ID</c> variable for the invocation.</summary>
    public string? TraceId { get; }

    /// <summary><c>Lambda-Runtime-Invoked-Function-Arn</c>.</summary>
    public string? InvokedFunctionArn { get; }

    /// <summary>A logger whose lines carry this invocation's request id.</summary>
    public LambdaLogger Logger { get; }

    /// <summary>Time left until <see cref="Deadline"/>; zero once it has passed.</summary>
    public TimeSpan RemainingTime
    {
        get
        {
            var remaining = Deadline - _time.GetUtcNow();
            return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
        }
    }
}

/// <summary>
/// A function's handler: the raw event in, the raw response out. The cancellation token fires at the invocation's
/// deadline (or when the runtime is stopped).
/// </summary>
public delegate Task<Stream> LambdaHandler(Stream input, LambdaInvocationContext context, CancellationToken cancellationToken);
