using Amazon.CDK;
using Amazon.CDK.Assertions;
using Amazon.CDK.AWS.Lambda;
using CustomerSegmentation.Infra.Deployment;
using CustomerSegmentation.Infra.Pipelines;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>
/// NativeLambdaCode: the source hash (what goes in, what does not, stable across folders) on small project trees, and
/// one real native-AOT bundle of tests/RuntimeLoopTestFunction for linux-x64 (the only AOT publish of this suite).
/// </summary>
public sealed class NativeLambdaBundlingTests : IDisposable
{
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("native-lambda-tests-");

    public void Dispose() => scratch.Delete(recursive: true);

    [Fact]
    public void SourceHash_SameProjectInTwoFolders_IsEqual()
    {
        var first = WriteProjectTree("first");
        var second = WriteProjectTree(Path.Combine("elsewhere", "second"));

        var firstHash = NativeLambdaSourceHash.Compute(first, LambdaArchitecture.Arm64);
        var secondHash = NativeLambdaSourceHash.Compute(second, LambdaArchitecture.Arm64);

        Assert.Matches("^[0-9a-f]{64}$", firstHash);
        Assert.Equal(firstHash, secondHash);
    }

    [Theory]
    [InlineData("lambdas/Fn/Function.cs")]
    [InlineData("lambdas/Fn/Handlers/Handler.cs")]
    [InlineData("lambdas/Fn/Fn.csproj")]
    [InlineData("lambdas/Shared/Client.cs")]
    [InlineData("lambdas/Shared/Shared.csproj")]
    [InlineData("lambdas/Core/Core.cs")]
    [InlineData("Directory.Build.props")]
    [InlineData("Directory.Packages.props")]
    public void SourceHash_ChangedInput_ChangesTheHash(string relativePath)
    {
        var project = WriteProjectTree("tree");
        var before = NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64);

        File.AppendAllText(Path.Combine(scratch.FullName, "tree", relativePath), "<!-- changed -->");

        Assert.NotEqual(before, NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64));
    }

    [Fact]
    public void SourceHash_AddedOrRenamedSourceFile_ChangesTheHash()
    {
        var project = WriteProjectTree("tree");
        var folder = project.DirectoryName!;
        var original = NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64);

        File.Move(Path.Combine(folder, "Function.cs"), Path.Combine(folder, "Renamed.cs"));
        var renamed = NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64);
        File.WriteAllText(Path.Combine(folder, "Extra.cs"), "class Extra { }");
        var added = NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64);

        Assert.Equal(3, new[] { original, renamed, added }.Distinct().Count());
    }

    [Fact]
    public void SourceHash_Architecture_ChangesTheHash()
    {
        var project = WriteProjectTree("tree");

        Assert.NotEqual(
            NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64),
            NativeLambdaSourceHash.Compute(project, LambdaArchitecture.X64));
    }

    [Fact]
    public void SourceHash_BuildOutputIdeFoldersAndUnreferencedProjects_AreIgnored()
    {
        var project = WriteProjectTree("tree");
        var before = NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64);
        var root = Path.Combine(scratch.FullName, "tree");

        foreach (var file in new[] { "lambdas/Fn/bin/Release/bootstrap", "lambdas/Fn/obj/project.assets.json", "lambdas/Shared/obj/x.cs",
            "lambdas/Fn/.vs/state.json", "lambdas/Unreferenced/Other.cs", "README.md" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, file))!);
            File.WriteAllText(Path.Combine(root, file), "noise " + file);
        }

        Assert.Equal(before, NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64));
    }

    [Fact]
    public void SourceHash_CrlfCheckout_EqualsLfCheckout()
    {
        var lf = WriteProjectTree("lf");
        var crlf = WriteProjectTree("crlf");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(scratch.FullName, "crlf"), "*", SearchOption.AllDirectories))
        {
            File.WriteAllText(file, File.ReadAllText(file).ReplaceLineEndings("\r\n"));
        }

        Assert.Equal(NativeLambdaSourceHash.Compute(lf, LambdaArchitecture.X64), NativeLambdaSourceHash.Compute(crlf, LambdaArchitecture.X64));
    }

    [Fact]
    public void SourceHash_MissingProject_ThrowsNamingIt()
    {
        var missing = new FileInfo(Path.Combine(scratch.FullName, "lambdas", "Nope", "Nope.csproj"));

        var error = Assert.Throws<FileNotFoundException>(() => NativeLambdaSourceHash.Compute(missing, LambdaArchitecture.Arm64));

        Assert.Equal($"Lambda project {missing.FullName} does not exist.", error.Message);
    }

    [Fact]
    public void SourceHash_MissingProjectReference_ThrowsNamingItAndTheReferrer()
    {
        var project = WriteProjectTree("tree");
        var shared = Path.Combine(scratch.FullName, "tree", "lambdas", "Shared", "Shared.csproj");
        File.Delete(shared);

        var error = Assert.Throws<FileNotFoundException>(() => NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64));

        Assert.Equal($"Lambda project {shared}, referenced by {project.FullName}, does not exist.", error.Message);
    }

    [Fact]
    public void SourceHash_ProjectReferenceThroughAProperty_IsRefused()
    {
        var project = WriteProjectTree("tree");
        File.WriteAllText(project.FullName, Project("$(SharedRoot)/Shared.csproj"));

        var error = Assert.Throws<NotSupportedException>(() => NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64));

        Assert.Equal(
            $"{project.FullName}: ProjectReference '$(SharedRoot)/Shared.csproj' uses an MSBuild property; the asset hash needs a literal relative path.",
            error.Message);
    }

    [Fact]
    public void SourceHash_EndpointDeployer_IsTheSameForEveryStackAndArchitectureSpecific()
    {
        var project = new FileInfo(Path.Combine(RepositoryLayout.Root().FullName, "lambdas", "EndpointDeployer", "EndpointDeployer.csproj"));

        var arm = NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64);

        Assert.Equal(arm, NativeLambdaSourceHash.Compute(project, LambdaArchitecture.Arm64));
        Assert.NotEqual(arm, NativeLambdaSourceHash.Compute(project, LambdaArchitecture.X64));
    }

    [Fact]
    public void Bundle_EchoFunctionForX64_AssetIsOnlyAnExecutableElfBootstrapWithTheSourceHashAndIsNotRepublished()
    {
        var echo = new FileInfo(Path.Combine(RepositoryLayout.Root().FullName, "tests", "RuntimeLoopTestFunction", "RuntimeLoopTestFunction.csproj"));
        var outdir = Path.Combine(scratch.FullName, "cdk.out");

        var bundled = Synthesize(outdir, echo, bundle: true);
        var asset = new DirectoryInfo(Path.Combine(outdir, "asset." + bundled));
        var bootstrap = Path.Combine(asset.FullName, "bootstrap");
        var header = new byte[20];
        using (var stream = File.OpenRead(bootstrap))
        {
            stream.ReadExactly(header);
        }

        Assert.Equal(["bootstrap"], asset.EnumerateFileSystemInfos().Select(f => f.Name));
        Assert.Equal("\u007fELF"u8.ToArray(), header[..4]);
        Assert.Equal((ushort)0x3E, BitConverter.ToUInt16(header, 18)); // e_machine EM_X86_64
        Assert.True(OperatingSystem.IsLinux() && File.GetUnixFileMode(bootstrap).HasFlag(UnixFileMode.UserExecute | UnixFileMode.OtherExecute),
            "bootstrap is not executable by everyone");

        var skipped = Synthesize(Path.Combine(scratch.FullName, "skipped.out"), echo, bundle: false);
        Assert.Equal(bundled, skipped);

        var earlier = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(bootstrap, earlier);
        var again = Synthesize(outdir, echo, bundle: true);
        Assert.Equal(bundled, again);
        Assert.Equal(earlier, File.GetLastWriteTimeUtc(bootstrap));
    }

    [Fact]
    public void Bundle_ProjectThatDoesNotCompile_FailsSynthesisWithThePublishOutputInsteadOfTryingDocker()
    {
        var folder = Directory.CreateDirectory(Path.Combine(scratch.FullName, "broken"));
        var project = new FileInfo(Path.Combine(folder.FullName, "Broken.csproj"));
        File.WriteAllText(project.FullName, """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <AssemblyName>bootstrap</AssemblyName>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder.FullName, "Program.cs"), "var answer = ;");

        var error = Assert.ThrowsAny<Exception>(() => Synthesize(Path.Combine(scratch.FullName, "broken.out"), project, bundle: true));

        Assert.Contains($"dotnet publish {project.FullName} -c Release -r linux-x64 -p:PublishAot=true -o ", error.Message, StringComparison.Ordinal);
        Assert.Contains("failed (exit code 1):", error.Message, StringComparison.Ordinal);
        Assert.Contains("error CS1525", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("docker", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    // Synthesizes one function from the project and returns its asset hash (the S3 key without ".zip").
    private static string Synthesize(string outdir, FileInfo project, bool bundle)
    {
        var context = new Dictionary<string, object>();
        if (!bundle)
        {
            context[TestStacks.BundlingStacks] = Array.Empty<string>();
        }

        // CDK caches staged assets per process; clearing it makes each synthesis decide from cdk.out alone, as a new
        // `cdk synth` process would.
        AssetStaging.ClearAssetHashCache();
        var app = new App(new AppProps { Outdir = outdir, Context = context });
        var stack = new Stack(app, "Bundling");
        _ = new Function(stack, "Echo", new FunctionProps
        {
            Runtime = Runtime.PROVIDED_AL2023,
            Handler = "bootstrap",
            Architecture = Amazon.CDK.AWS.Lambda.Architecture.X86_64,
            Code = NativeLambdaCode.FromProject(project, LambdaArchitecture.X64),
        });
        _ = app.Synth();
        var key = (string)((IDictionary<string, object>)((IDictionary<string, object>)Template.FromStack(stack)
            .FindResources("AWS::Lambda::Function").Single().Value["Properties"])["Code"])["S3Key"];
        return key[..^".zip".Length];
    }

    // A function project referencing a shared library that references a core library, under shared build files.
    private FileInfo WriteProjectTree(string name)
    {
        var root = Path.Combine(scratch.FullName, name);
        var files = new Dictionary<string, string>
        {
            ["Directory.Build.props"] = "<Project><PropertyGroup><Nullable>enable</Nullable></PropertyGroup></Project>\n",
            ["Directory.Packages.props"] = "<Project><ItemGroup><PackageVersion Include=\"AWSSDK.Core\" Version=\"4.1.0\" /></ItemGroup></Project>\n",
            ["lambdas/Fn/Fn.csproj"] = Project("../Shared/Shared.csproj"),
            ["lambdas/Fn/Function.cs"] = "class Function\n{\n}\n",
            ["lambdas/Fn/Handlers/Handler.cs"] = "class Handler\n{\n}\n",
            ["lambdas/Shared/Shared.csproj"] = Project("..\\Core\\Core.csproj"),
            ["lambdas/Shared/Client.cs"] = "class Client\n{\n}\n",
            ["lambdas/Core/Core.csproj"] = Project(null),
            ["lambdas/Core/Core.cs"] = "class Core\n{\n}\n",
        };
        foreach (var (path, text) in files)
        {
            var full = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
        }

        return new FileInfo(Path.Combine(root, "lambdas", "Fn", "Fn.csproj"));
    }

    private static string Project(string? reference) =>
        "<Project Sdk=\"Microsoft.NET.Sdk\">\n"
        + (reference is null ? string.Empty : $"  <ItemGroup>\n    <ProjectReference Include=\"{reference}\" />\n  </ItemGroup>\n")
        + "</Project>\n";
}
