using System.Diagnostics;
using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// Runs repository Python scripts under Debian's <c>/usr/bin/python3</c>, the interpreter with scikit-learn 1.2.1 (the
/// serving container's version). A missing interpreter or a failing script fails the test with its output.
/// </summary>
internal static class DebianPython
{
    public const string Interpreter = "/usr/bin/python3";

    /// <summary>A start for <paramref name="arguments"/>, one OpenMP thread (the test host is shared), in the repository root.</summary>
    public static ProcessStartInfo StartInfo(params string[] arguments)
    {
        if (!File.Exists(Interpreter))
        {
            throw new InvalidOperationException($"{Interpreter} is missing: run scripts/setup.sh (it installs python3-sklearn).");
        }

        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        return start;
    }

    /// <summary>Runs a script to completion; returns stdout; throws with stdout and stderr when the exit code is not 0.</summary>
    public static Task<string> RunAsync(params string[] arguments) => RunAsync(StartInfo(arguments));

    /// <summary>Runs <c>python3 -m module</c> from scripts/, where the scripts' own packages (sample_data) live.</summary>
    public static Task<string> RunModuleAsync(string module, params string[] arguments)
    {
        var start = StartInfo(["-m", module, .. arguments]);
        start.WorkingDirectory = Path.Combine(Repository.Root, "scripts");
        return RunAsync(start);
    }

    private static async Task<string> RunAsync(ProcessStartInfo start)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"python3 {string.Join(' ', start.ArgumentList)} failed (exit {process.ExitCode}):\n{await stdout}{await stderr}");
        }

        return await stdout;
    }
}
