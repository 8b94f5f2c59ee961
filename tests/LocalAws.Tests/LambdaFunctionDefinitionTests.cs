using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalAws.Tests.Support;

namespace CustomerSegmentation.LocalAws.Tests;

public class LambdaFunctionDefinitionTests
{
    private const string Hash = "8de21791d41e303e1adee6de0d050a1b9b051a9d4791b42b999f704f29f2fd08";

    /// <summary>The deployer as the synthesized stack declares it: code by S3 key, found through the asset manifest.</summary>
    private static StackTemplate DeployerStack(string? assetSource = null, string runtime = "provided.al2023")
    {
        var directory = Directory.CreateTempSubdirectory("definition-cdk-out-").FullName;
        var source = assetSource ?? $"asset.{Hash}";
        Directory.CreateDirectory(Path.Combine(directory, source));
        var manifest = Path.Combine(directory, "Stack.assets.json");
        File.WriteAllText(manifest, $$"""
            {"version": "38.0.0", "files": {"{{Hash}}": {"source": {"path": "{{source}}", "packaging": "zip"},
              "destinations": {"current_account-current_region": {"bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}", "objectKey": "{{Hash}}.zip"} } } } }
            """);
        var template = JsonNode.Parse($$"""
            {"Resources": {
              "ModelBucket": {"Type": "AWS::S3::Bucket"},
              "ExecutionRole": {"Type": "AWS::IAM::Role"},
              "Deployer": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "{{runtime}}", "Handler": "bootstrap", "MemorySize": 256, "Timeout": 60,
                "FunctionName": "customer-segmentation-endpoint-deployer",
                "Code": {"S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "{{Hash}}.zip"},
                "Environment": {"Variables": {
                  "MODEL_BUCKET": {"Ref": "ModelBucket"},
                  "EXECUTION_ROLE_ARN": {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
                  "KEEP_VERSIONS": "3"} } } },
              "Defaults": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "provided.al2023",
                "Code": {"S3Bucket": "b", "S3Key": "{{Hash}}.zip"} } },
              "Image": {"Type": "AWS::Lambda::Function", "Properties": {"PackageType": "Image", "Code": {"ImageUri": "x"} } },
              "Inline": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "provided.al2023", "Code": {"ZipFile": "echo"} } },
              "Elsewhere": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "provided.al2023", "Code": {"S3Bucket": "b", "S3Key": "other.zip"} } }
            } }
            """)!.AsObject();
        return new StackTemplate(template, "Stack", directory, manifest);
    }

    [Fact]
    public void FromTemplate_DeployerFunction_ResolvesIdentityLimitsEnvironmentAndAsset()
    {
        var stack = DeployerStack();

        var function = LambdaFunctionDefinition.FromTemplate(stack, "Deployer");

        Assert.Equal("customer-segmentation-endpoint-deployer", function.FunctionName);
        Assert.Equal("arn:aws:lambda:us-east-1:000000000000:function:customer-segmentation-endpoint-deployer", function.FunctionArn);
        Assert.Equal(("provided.al2023", "bootstrap", 256, TimeSpan.FromSeconds(60)), (function.Runtime, function.Handler, function.MemorySize, function.Timeout));
        Assert.Equal(Path.Combine(stack.CloudAssemblyDirectory, $"asset.{Hash}"), function.CodeDirectory);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["MODEL_BUCKET"] = "modelbucket",
                ["EXECUTION_ROLE_ARN"] = "arn:aws:iam::000000000000:role/ExecutionRole",
                ["KEEP_VERSIONS"] = "3",
            },
            function.Environment);
    }

    [Fact]
    public void FromTemplate_NothingButRuntimeAndCode_UsesCloudFormationDefaults()
    {
        var function = LambdaFunctionDefinition.FromTemplate(DeployerStack(), "Defaults");

        Assert.Equal(("Stack-Defaults-local", 128, TimeSpan.FromSeconds(3), string.Empty), (function.FunctionName, function.MemorySize, function.Timeout, function.Handler));
        Assert.Empty(function.Environment);
    }

    [Fact]
    public void FromTemplate_CloudAssemblyGivenRelatively_FindsTheAssetUnderTheCurrentDirectory()
    {
        var stack = DeployerStack();
        var relative = new StackTemplate(stack.Template, "Stack", Path.GetRelativePath(Directory.GetCurrentDirectory(), stack.CloudAssemblyDirectory),
            stack.AssetManifestPath);

        var function = LambdaFunctionDefinition.FromTemplate(relative, "Deployer");

        Assert.Equal(Path.Combine(stack.CloudAssemblyDirectory, $"asset.{Hash}"), function.CodeDirectory);
    }

    [Fact]
    public void FromTemplate_AbsoluteAssetSource_IsUsedAsIs()
    {
        var source = Directory.CreateTempSubdirectory("unbundled-source-").FullName;

        var function = LambdaFunctionDefinition.FromTemplate(DeployerStack(assetSource: source), "Deployer");

        Assert.Equal(source, function.CodeDirectory);
    }

    [Fact]
    public void FromTemplate_ManagedRuntime_IsRefusedNamingTheCustomRuntimes()
    {
        var error = Assert.Throws<LocalAwsException>(() => LambdaFunctionDefinition.FromTemplate(DeployerStack(runtime: "dotnet8"), "Deployer"));

        Assert.Equal(
            "Function customer-segmentation-endpoint-deployer (Deployer) uses runtime 'dotnet8'; only the custom runtimes " +
            "(provided.al2023, provided.al2, provided) run locally, as their bootstrap process.",
            error.Message);
    }

    [Fact]
    public void FromTemplate_ContainerImage_IsRefused()
    {
        var error = Assert.Throws<LocalAwsException>(() => LambdaFunctionDefinition.FromTemplate(DeployerStack(), "Image"));

        Assert.Equal("Function Stack-Image-local (Image) is a container image; only custom-runtime functions with a bootstrap run locally.", error.Message);
    }

    [Fact]
    public void FromTemplate_InlineCode_IsRefused()
    {
        var error = Assert.Throws<LocalAwsException>(() => LambdaFunctionDefinition.FromTemplate(DeployerStack(), "Inline"));

        Assert.Equal("Inline.Code has no S3Key: only code from a CDK asset runs locally.", error.Message);
    }

    [Fact]
    public void FromTemplate_KeyTheManifestDoesNotList_FailsNamingKeyAndManifest()
    {
        var stack = DeployerStack();

        var error = Assert.Throws<LocalAwsException>(() => LambdaFunctionDefinition.FromTemplate(stack, "Elsewhere"));

        Assert.Equal($"Elsewhere.Code is the asset object other.zip, which {stack.AssetManifestPath} does not list.", error.Message);
    }

    [Fact]
    public void FromTemplate_NotAFunction_IsRefused()
    {
        var error = Assert.Throws<LocalAwsException>(() => LambdaFunctionDefinition.FromTemplate(DeployerStack(), "ModelBucket"));

        Assert.Equal("ModelBucket is a AWS::S3::Bucket, not an AWS::Lambda::Function.", error.Message);
    }
}

public class BootstrapExecutableTests
{
    private static LambdaFunctionDefinition Function(byte[]? bootstrap, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserExecute)
    {
        var code = Directory.CreateTempSubdirectory("bootstrap-check-").FullName;
        if (bootstrap is not null)
        {
            File.WriteAllBytes(Path.Combine(code, "bootstrap"), bootstrap);
            File.SetUnixFileMode(Path.Combine(code, "bootstrap"), mode);
        }

        return new LambdaFunctionDefinition
        {
            LogicalId = "Deployer",
            FunctionName = "deployer",
            FunctionArn = TestStack.Arn("deployer"),
            Runtime = "provided.al2023",
            CodeDirectory = code,
        };
    }

    /// <summary>The first 20 bytes of a 64-bit little-endian ELF executable for <paramref name="machine"/>.</summary>
    private static byte[] ElfHeader(ushort machine)
    {
        var header = new byte[64];
        "\u007fELF"u8.CopyTo(header);
        header[4] = 2;
        header[5] = 1;
        header[16] = 2;
        header[18] = (byte)machine;
        header[19] = (byte)(machine >> 8);
        return header;
    }

    private static (ushort Machine, string Name) OtherArchitecture =>
        RuntimeInformation.OSArchitecture == Architecture.Arm64 ? ((ushort)0x3E, "x86_64") : ((ushort)0xB7, "arm64");

    [Fact]
    public void EnsureRunnable_NoBootstrapInTheAsset_NamesTheBundlingContext()
    {
        var function = Function(null);

        var error = Assert.Throws<LocalAwsException>(() => BootstrapExecutable.EnsureRunnable(function));

        Assert.Equal(
            $"Function deployer (Deployer): its code asset {function.CodeDirectory} has no bootstrap. The app was synthesized with Lambda " +
            "bundling skipped (context aws:cdk:bundling-stacks); synthesize it again with bundling for this stack (leave " +
            "aws:cdk:bundling-stacks unset) so cdk.out holds the published bootstrap.",
            error.Message);
    }

    [Fact]
    public void EnsureRunnable_BuiltForTheOtherCpu_NamesTheContextValueForThisHost()
    {
        var function = Function(ElfHeader(OtherArchitecture.Machine));

        var error = Assert.Throws<LocalAwsException>(() => BootstrapExecutable.EnsureRunnable(function));

        Assert.Equal(
            $"Function deployer (Deployer): {function.BootstrapPath} is a {OtherArchitecture.Name} executable, which cannot run on this " +
            $"{BootstrapExecutable.HostArchitecture} host. Synthesize with -c deployment:lambdaArchitecture={BootstrapExecutable.HostArchitecture} " +
            "so the bootstrap is built for this machine.",
            error.Message);
    }

    [Fact]
    public void EnsureRunnable_BuiltForThisCpu_Passes()
    {
        var machine = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? (ushort)0xB7 : (ushort)0x3E;

        BootstrapExecutable.EnsureRunnable(Function(ElfHeader(machine)));
    }

    [Fact]
    public void EnsureRunnable_Script_Passes()
    {
        BootstrapExecutable.EnsureRunnable(Function("#!/bin/sh\nexit 0\n"u8.ToArray()));
    }

    [Fact]
    public void EnsureRunnable_NotExecutable_Fails()
    {
        var function = Function("#!/bin/sh\n"u8.ToArray(), UnixFileMode.UserRead);

        var error = Assert.Throws<LocalAwsException>(() => BootstrapExecutable.EnsureRunnable(function));

        Assert.Equal($"Function deployer (Deployer): {function.BootstrapPath} is not executable; Lambda runs the bootstrap as a program (chmod +x).", error.Message);
    }

    [Theory]
    [InlineData("PK\u0003\u0004 a zip, not a program")]
    [InlineData("")]
    public void EnsureRunnable_NeitherElfNorScript_Fails(string content)
    {
        var function = Function(System.Text.Encoding.UTF8.GetBytes(content));

        var error = Assert.Throws<LocalAwsException>(() => BootstrapExecutable.EnsureRunnable(function));

        Assert.Equal($"Function deployer (Deployer): {function.BootstrapPath} is neither an ELF executable nor a #! script.", error.Message);
    }
}
