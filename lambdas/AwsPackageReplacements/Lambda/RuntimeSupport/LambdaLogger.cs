using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

/// <summary>Severity of a log line, written as <c>level</c>.</summary>
public enum LambdaLogLevel
{
    Debug,
    Information,
    Warning,
    Error,
}

/// <summary>
/// Writes one JSON object per line (<c>timestamp</c>, <c>level</c>, <c>message</c>, <c>requestId</c> when inside an
/// invocation, then the caller's fields), the shape CloudWatch Logs Insights parses without configuration. Uses
/// <see cref="Utf8JsonWriter"/> directly, so it needs no reflection and is native-AOT safe. Plays the role of
/// <c>Amazon.Lambda.Core.ILambdaLogger</c> with JSON log format; replace with it when that package is available.
/// </summary>
public sealed class LambdaLogger
{
    private readonly TextWriter _output;
    private readonly TimeProvider _time;
    private readonly object _gate;

    /// <param name="output">Where lines go. Default: standard output, which Lambda ships to CloudWatch Logs.</param>
    /// <param name="time">The clock of the timestamps. Default: <see cref="TimeProvider.System"/>.</param>
    public LambdaLogger(TextWriter? output = null, TimeProvider? time = null)
        : this(output ?? Console.Out, time ?? TimeProvider.System, null, new object())
    {
    }

    private LambdaLogger(TextWriter output, TimeProvider time, string? requestId, object gate)
    {
        _output = output;
        _time = time;
        RequestId = requestId;
        _gate = gate;
    }

    /// <summary>The invocation every line of this logger belongs to; null outside an invocation.</summary>
    public string? RequestId { get; }

    /// <summary>A logger writing to the same output whose lines carry <paramref name="requestId"/>.</summary>
    public LambdaLogger ForRequest(string requestId) => new(_output, _time, requestId, _gate);

    public void Debug(string message, params ReadOnlySpan<(string Name, object? Value)> fields) => Log(LambdaLogLevel.Debug, message, null, fields);

    public void Information(string message, params ReadOnlySpan<(string Name, object? Value)> fields) => Log(LambdaLogLevel.Information, message, null, fields);

    public void Warning(string message, params ReadOnlySpan<(string Name, object? Value)> fields) => Log(LambdaLogLevel.Warning, message, null, fields);

    public void Error(string message, Exception? exception, params ReadOnlySpan<(string Name, object? Value)> fields) =>
        Log(LambdaLogLevel.Error, message, exception, fields);

    /// <summary>
    /// Writes one line. Field values are written as JSON strings, numbers, booleans or null; any other value as its
    /// invariant-culture string.
    /// </summary>
    public void Log(LambdaLogLevel level, string message, Exception? exception, ReadOnlySpan<(string Name, object? Value)> fields)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("timestamp", _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            writer.WriteString("level", level.ToString());
            writer.WriteString("message", message);
            if (RequestId is not null)
            {
                writer.WriteString("requestId", RequestId);
            }

            if (exception is not null)
            {
                writer.WriteString("errorType", exception.GetType().Name);
                writer.WriteString("errorMessage", exception.Message);
                writer.WriteString("stackTrace", exception.ToString());
            }

            foreach (var (name, value) in fields)
            {
                writer.WritePropertyName(name);
                WriteValue(writer, value);
            }

            writer.WriteEndObject();
        }

        var line = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        lock (_gate)
        {
            _output.WriteLine(line);
            _output.Flush();
        }
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string text: writer.WriteStringValue(text); break;
            case bool flag: writer.WriteBooleanValue(flag); break;
            case int number: writer.WriteNumberValue(number); break;
            case long number: writer.WriteNumberValue(number); break;
            case double number when double.IsFinite(number): writer.WriteNumberValue(number); break;
            case decimal number: writer.WriteNumberValue(number); break;
            case TimeSpan duration: writer.WriteNumberValue(Math.Round(duration.TotalMilliseconds, 3)); break;
            case IFormattable formattable: writer.WriteStringValue(formattable.ToString(null, CultureInfo.InvariantCulture)); break;
            default: writer.WriteStringValue(value.ToString()); break;
        }
    }
}
