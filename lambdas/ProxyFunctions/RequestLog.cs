using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// The one log line per request ("Request served."): method, route, status code, outcome (ok, rejected, unavailable,
/// failed), the field of a rejected request, a detail, the function's own figures, and the total time. A function derives
/// from this class to carry its figures, and times the stages of a request with <see cref="Lap"/>.
/// </summary>
public class RequestLog(TimeProvider time)
{
    private readonly long _start = time.GetTimestamp();
    private long _last = time.GetTimestamp();

    /// <summary>Where a rejected request went wrong (the 4xx answer's field).</summary>
    public string? ErrorField { get; set; }

    /// <summary>Why an answer is not the one asked for (a 503's reason, a fallback's), for the operator.</summary>
    public string? Detail { get; set; }

    /// <summary>The time since the request started.</summary>
    public TimeSpan Total => time.GetElapsedTime(_start);

    /// <summary>The time since the last lap (or the start).</summary>
    public TimeSpan Lap()
    {
        var now = time.GetTimestamp();
        var elapsed = time.GetElapsedTime(_last, now);
        _last = now;
        return elapsed;
    }

    /// <summary>Writes the line; <paramref name="figures"/> go between the detail and <c>totalMs</c>.</summary>
    public void Served(LambdaLogger logger, string method, string route, int statusCode, params ReadOnlySpan<(string Name, object? Value)> figures)
    {
        ArgumentNullException.ThrowIfNull(logger);
        (string Name, object? Value)[] fields =
        [
            ("method", method), ("route", route), ("statusCode", statusCode), ("outcome", Outcome(statusCode)), ("errorField", ErrorField),
            ("detail", Detail), .. figures, ("totalMs", Total),
        ];
        logger.Information("Request served.", fields);
    }

    /// <summary>How a status code is counted: ok (below 400), rejected (4xx), unavailable (503), failed (other 5xx).</summary>
    public static string Outcome(int statusCode) => statusCode switch
    {
        < 400 => "ok",
        < 500 => "rejected",
        503 => "unavailable",
        _ => "failed",
    };
}
