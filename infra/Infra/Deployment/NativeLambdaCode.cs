using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Amazon.CDK;
using Amazon.CDK.AWS.Lambda;

namespace CustomerSegmentation.Infra.Deployment;

/// <summary>
/// Lambda code for a C# project published native AOT: a <c>bootstrap</c> executable at the zip root for the
/// <c>provided.al2023</c> runtime. Works for any such project (AssemblyName <c>bootstrap</c>, PublishAot-clean).
/// </summary>
/// <remarks>
/// CDK bundles it locally with <c>dotnet publish</c>; Docker is never used. The asset hash is computed from the sources
/// before anything is published, so an unchanged project keeps its hash on every machine, CDK skips the publish when
/// <c>cdk.out</c> already holds that asset, and a synthesis with bundling turned off (context
/// <c>aws:cdk:bundling-stacks</c> = <c>[]</c>, as the tests do) still renders the hash a real publish would deploy.
/// </remarks>
public static class NativeLambdaCode
{
    /// <summary>The code of <paramref name="project"/>, published for <paramref name="architecture"/>.</summary>
    /// <exception cref="FileNotFoundException">The project, or a project it references, does not exist.</exception>
    public static AssetCode FromProject(FileInfo project, LambdaArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(project);
        return Code.FromAsset(project.DirectoryName!, new Amazon.CDK.AWS.S3.Assets.AssetOptions
        {
            AssetHashType = AssetHashType.CUSTOM,
            AssetHash = NativeLambdaSourceHash.Compute(project, architecture),
            Bundling = new BundlingOptions
            {
                // BundlingOptions requires an image, but DotnetAotPublish never returns false, so CDK never starts one: a
                // failed publish fails synthesis instead of falling back to Docker. The name says so if anyone looks.
                Image = DockerImage.FromRegistry("local-dotnet-publish-only"),
                Local = new DotnetAotPublish(project, architecture),
                OutputType = BundlingOutput.NOT_ARCHIVED,
            },
        });
    }

    /// <summary>The Lambda architecture for <paramref name="architecture"/>.</summary>
    public static Architecture LambdaArchitectureOf(LambdaArchitecture architecture) =>
        architecture == LambdaArchitecture.Arm64 ? Architecture.ARM_64 : Architecture.X86_64;

    /// <summary>The .NET runtime identifier of <paramref name="architecture"/> on Amazon Linux.</summary>
    public static string RuntimeIdentifier(LambdaArchitecture architecture) =>
        architecture == LambdaArchitecture.Arm64 ? "linux-arm64" : "linux-x64";
}

/// <summary>
/// The asset hash of a native Lambda: SHA-256 over everything that decides its <c>bootstrap</c> and nothing that
/// depends on the machine. Inputs: the files of the project and of every project it references (transitively; their
/// <c>bin</c>, <c>obj</c> and dot-folders excluded), the nearest <c>Directory.Build.props</c>,
/// <c>Directory.Build.targets</c>, <c>Directory.Packages.props</c> and <c>global.json</c> above each of them, the
/// runtime identifier and the publish recipe. Paths enter relative to the project's folder with <c>/</c>, and CRLF is
/// read as LF, so the checkout location and git's line-ending conversion do not change the hash.
/// </summary>
public static class NativeLambdaSourceHash
{
    // Bump when the publish command changes in a way that changes the binary, so old assets are not reused.
    private const string Recipe = "dotnet publish -c Release -p:PublishAot=true; keep bootstrap; v1";

    private static readonly string[] BuildFiles = ["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json"];

    private static readonly HashSet<string> ExcludedFolders = new(StringComparer.OrdinalIgnoreCase) { "bin", "obj" };

    /// <summary>The hash, 64 lower-case hex digits.</summary>
    /// <exception cref="FileNotFoundException">The project, or a project it references, does not exist.</exception>
    public static string Compute(FileInfo project, LambdaArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(project);
        var root = project.Directory!;
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var projectFile in ProjectClosure(project))
        {
            foreach (var file in SourceFiles(projectFile.Directory!))
            {
                files[Relative(root, file)] = file.FullName;
            }

            foreach (var buildFile in NearestBuildFiles(projectFile.Directory!))
            {
                files[Relative(root, buildFile)] = buildFile.FullName;
            }
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, Recipe);
        Append(hash, NativeLambdaCode.RuntimeIdentifier(architecture));
        foreach (var (name, path) in files)
        {
            Append(hash, name);
            Append(hash, File.ReadAllText(path).ReplaceLineEndings("\n"));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The project and every project it references, directly or not, each once.</summary>
    private static List<FileInfo> ProjectClosure(FileInfo project)
    {
        var seen = new Dictionary<string, FileInfo>(StringComparer.Ordinal);
        var pending = new Stack<(FileInfo Project, FileInfo? ReferencedBy)>([(project, null)]);
        while (pending.Count > 0)
        {
            var (current, referencedBy) = pending.Pop();
            if (!current.Exists)
            {
                throw new FileNotFoundException(referencedBy is null
                    ? $"Lambda project {current.FullName} does not exist."
                    : $"Lambda project {current.FullName}, referenced by {referencedBy.FullName}, does not exist.", current.FullName);
            }

            if (!seen.TryAdd(current.FullName, current))
            {
                continue;
            }

            foreach (var include in XDocument.Load(current.FullName).Descendants()
                .Where(e => e.Name.LocalName == "ProjectReference")
                .Select(e => (string?)e.Attribute("Include"))
                .OfType<string>())
            {
                if (include.Contains("$(", StringComparison.Ordinal))
                {
                    throw new NotSupportedException(
                        $"{current.FullName}: ProjectReference '{include}' uses an MSBuild property; the asset hash needs a literal relative path.");
                }

                pending.Push((new FileInfo(Path.Combine(current.DirectoryName!, include.Replace('\\', '/'))), current));
            }
        }

        return [.. seen.Values];
    }

    private static IEnumerable<FileInfo> SourceFiles(DirectoryInfo folder) =>
        folder.EnumerateFiles()
            .Concat(folder.EnumerateDirectories()
                .Where(d => !ExcludedFolders.Contains(d.Name) && !d.Name.StartsWith('.'))
                .SelectMany(SourceFiles));

    private static IEnumerable<FileInfo> NearestBuildFiles(DirectoryInfo folder) =>
        BuildFiles.Select(name =>
        {
            for (var current = folder; current is not null; current = current.Parent)
            {
                var candidate = new FileInfo(Path.Combine(current.FullName, name));
                if (candidate.Exists)
                {
                    return candidate;
                }
            }

            return null;
        }).OfType<FileInfo>();

    private static string Relative(DirectoryInfo root, FileInfo file) =>
        Path.GetRelativePath(root.FullName, file.FullName).Replace(Path.DirectorySeparatorChar, '/');

    // Length-prefixed, so no two different sequences of names and contents feed the same bytes.
    private static void Append(IncrementalHash hash, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        hash.AppendData(BitConverter.GetBytes((long)bytes.Length));
        hash.AppendData(bytes);
    }
}

/// <summary>
/// CDK local bundling by <c>dotnet publish</c>: publishes the project native AOT for the Lambda's architecture into a
/// scratch folder and copies only <c>bootstrap</c> into the asset. It never declines (declining would make CDK try
/// Docker): a failed publish throws with the publish output, which fails synthesis.
/// </summary>
// DeputyBase makes the jsii runtime create the JavaScript side with TryBundle as an override; a plain class would reach CDK
// without a tryBundle it can call, and CDK would quietly fall back to Docker.
internal sealed class DotnetAotPublish(FileInfo project, LambdaArchitecture architecture) : Amazon.JSII.Runtime.Deputy.DeputyBase, ILocalBundling
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(20);

    public bool TryBundle(string outputDir, IBundlingOptions options)
    {
        var scratch = Directory.CreateTempSubdirectory("native-lambda-");
        try
        {
            var publishDir = Path.Combine(scratch.FullName, "publish");
            var arguments = PublishArguments(publishDir, Path.Combine(scratch.FullName, "artifacts"));
            var (exitCode, output) = Run(arguments);
            var bootstrap = new FileInfo(Path.Combine(publishDir, "bootstrap"));
            if (exitCode != 0 || !bootstrap.Exists)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"dotnet {string.Join(' ', arguments)} failed (exit code {exitCode}{(exitCode == 0 ? ", no bootstrap in the output" : string.Empty)}):{System.Environment.NewLine}{output}"));
            }

            var target = Path.Combine(outputDir, "bootstrap");
            bootstrap.CopyTo(target, overwrite: true);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }

            return true;
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private List<string> PublishArguments(string publishDir, string artifactsDir)
    {
        List<string> arguments =
        [
            "publish", project.FullName, "-c", "Release", "-r", NativeLambdaCode.RuntimeIdentifier(architecture), "-p:PublishAot=true",
            "-o", publishDir,
            // Its own obj and bin folders: a publish during synthesis never races an IDE or test build of the same project.
            "--artifacts-path", artifactsDir,
            "--nologo",
        ];
        if (architecture == LambdaArchitecture.Arm64 && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            // Cross-compiling from x64 Linux: Debian's clang-14 links for aarch64 against libc6-dev-arm64-cross, and the
            // aarch64 binutils strip the symbols (scripts/setup.sh installs all three).
            arguments.AddRange(["-p:CppCompilerAndLinker=clang-14", "-p:ObjCopyName=aarch64-linux-gnu-objcopy"]);
        }

        return arguments;
    }

    private static (int ExitCode, string Output) Run(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)
            ?? throw new InvalidOperationException("dotnet could not be started to publish a Lambda: install the .NET SDK.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish within {Timeout}.");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
