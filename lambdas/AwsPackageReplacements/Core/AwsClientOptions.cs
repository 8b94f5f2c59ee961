using Amazon.Runtime;

namespace CustomerSegmentation.AwsPackageReplacements.Core;

/// <summary>
/// Settings every service client of this library shares, mirroring the parts of the official SDK's
/// <c>ClientConfig</c> the Lambdas need. Replace with the official <c>AWSSDK.*</c> client configs when those packages are
/// available.
/// </summary>
public sealed record AwsClientOptions
{
    /// <summary>The signing and endpoint region. Default: <c>AWS_REGION</c>, then <c>AWS_DEFAULT_REGION</c>.</summary>
    public string? Region { get; init; }

    /// <summary>
    /// The credentials to sign with. Default: the SDK's default chain
    /// (<see cref="Amazon.Runtime.Credentials.DefaultAWSCredentialsIdentityResolver"/>), which reads the variables Lambda sets.
    /// </summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>
    /// An explicit endpoint that wins over every environment variable, like the official SDK's <c>ServiceURL</c>.
    /// Default: none (<c>AWS_ENDPOINT_URL_&lt;SERVICE_ID&gt;</c>, then <c>AWS_ENDPOINT_URL</c>, then the public endpoint).
    /// </summary>
    public Uri? ServiceUrl { get; init; }

    /// <summary>How throttling, 5xx and transient network errors are retried. Default: <see cref="RetryOptions"/> defaults.</summary>
    public RetryOptions Retry { get; init; } = new();

    /// <summary>The HTTP client requests go through. Default: one process-wide client with a 100 s timeout.</summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>Where settings are read from. Default: the process environment.</summary>
    public Func<string, string?> EnvironmentVariables { get; init; } = Environment.GetEnvironmentVariable;
}

/// <summary>Retry behaviour for throttling, HTTP 5xx and transient network errors (never for other 4xx errors).</summary>
public sealed class RetryOptions
{
    /// <summary>Total attempts including the first one; 1 turns retries off. Default: 3, as the SDKs' standard mode.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The backoff ceiling of the first retry; it doubles per retry. Default: 100 ms.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The largest backoff ceiling of any retry. Default: 20 s, as the SDKs' standard mode.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Waits between attempts. Default: <see cref="Task.Delay(TimeSpan, CancellationToken)"/>.</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;

    /// <summary>The jitter source, a value in [0, 1). Default: <see cref="Random.Shared"/>.</summary>
    public Func<double> Jitter { get; init; } = Random.Shared.NextDouble;

    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (1-based): full jitter over an exponential ceiling,
    /// <c>jitter * min(MaxDelay, BaseDelay * 2^(retry-1))</c>, so concurrent callers spread out instead of retrying together.
    /// </summary>
    public TimeSpan BackoffBefore(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var ceiling = BaseDelay.TotalMilliseconds * Math.Pow(2, retry - 1);
        return TimeSpan.FromMilliseconds(Jitter() * Math.Min(MaxDelay.TotalMilliseconds, ceiling));
    }
}
