using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace CustomerSegmentation.Lambdas.Tests.Loopback;

/// <summary>A native Lambda <c>bootstrap</c> as a child process with exactly the given environment (nothing AWS-related inherited).</summary>
public sealed class BootstrapProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();

    private BootstrapProcess(Process process)
    {
        _process = process;
    }

    public static BootstrapProcess Start(string path, IEnumerable<(string Name, string Value)> environment)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var name in start.Environment.Keys.Where(name => name.StartsWith("AWS_", StringComparison.Ordinal) || name == "_X_AMZN_TRACE_ID").ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start };
        var wrapper = new BootstrapProcess(process);
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                wrapper._stdout.Enqueue(line.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        return wrapper;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return _process.ExitCode;
    }

    /// <summary>Ends the process (a Lambda runtime never exits by itself) and parses every stdout line as JSON.</summary>
    public List<JsonElement> StopAndReadLog()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
        return LogLines();
    }

    /// <summary>Every stdout line so far, each parsed as JSON (a non-JSON line fails the test).</summary>
    public List<JsonElement> LogLines() => [.. _stdout.Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
