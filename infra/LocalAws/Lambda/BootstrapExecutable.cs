using System.Runtime.InteropServices;

namespace CustomerSegmentation.LocalAws.Lambda;

/// <summary>
/// Checks, before anything starts, that a function's <c>bootstrap</c> can run on this machine: it exists (the asset
/// was bundled), it is executable, and a native one was built for this CPU.
/// </summary>
public static class BootstrapExecutable
{
    private const ushort MachineX64 = 0x3E;
    private const ushort MachineArm64 = 0xB7;

    /// <summary>The Lambda architecture name (<c>x86_64</c>, <c>arm64</c>) of this machine's CPU, or null when Lambda has none.</summary>
    public static string? HostArchitecture => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "arm64",
        _ => null,
    };

    /// <exception cref="LocalAwsException">The bootstrap is missing, not executable, or built for another CPU.</exception>
    public static void EnsureRunnable(LambdaFunctionDefinition function)
    {
        ArgumentNullException.ThrowIfNull(function);
        var who = $"Function {function.FunctionName} ({function.LogicalId})";
        if (!File.Exists(function.BootstrapPath))
        {
            throw new LocalAwsException(
                $"{who}: its code asset {function.CodeDirectory} has no bootstrap. The app was synthesized with Lambda bundling " +
                "skipped (context aws:cdk:bundling-stacks); synthesize it again with bundling for this stack (leave " +
                "aws:cdk:bundling-stacks unset) so cdk.out holds the published bootstrap.");
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(function.BootstrapPath) & UnixFileMode.UserExecute) == 0)
        {
            throw new LocalAwsException($"{who}: {function.BootstrapPath} is not executable; Lambda runs the bootstrap as a program (chmod +x).");
        }

        var header = new byte[20];
        int read;
        using (var file = File.OpenRead(function.BootstrapPath))
        {
            read = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        }

        if (read >= 2 && header[0] == '#' && header[1] == '!')
        {
            return;
        }

        if (read < header.Length || header[0] != 0x7F || header[1] != 'E' || header[2] != 'L' || header[3] != 'F')
        {
            throw new LocalAwsException($"{who}: {function.BootstrapPath} is neither an ELF executable nor a #! script.");
        }

        // e_machine, in the byte order EI_DATA declares (1 = little endian).
        var machine = header[5] == 1 ? (ushort)(header[18] | (header[19] << 8)) : (ushort)((header[18] << 8) | header[19]);
        var built = machine switch
        {
            MachineX64 => "x86_64",
            MachineArm64 => "arm64",
            _ => $"ELF machine 0x{machine:X}",
        };
        var host = HostArchitecture;
        if (built != host)
        {
            throw new LocalAwsException(host is null
                ? $"{who}: {function.BootstrapPath} is a {built} executable; this host's CPU ({RuntimeInformation.OSArchitecture}) runs neither Lambda architecture."
                : $"{who}: {function.BootstrapPath} is a {built} executable, which cannot run on this {host} host. Synthesize with " +
                  $"-c deployment:lambdaArchitecture={host} so the bootstrap is built for this machine.");
        }
    }
}
