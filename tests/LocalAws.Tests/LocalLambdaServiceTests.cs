using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalAws.Tests.Support;

namespace CustomerSegmentation.LocalAws.Tests;

public sealed class LocalLambdaServiceTests : IAsyncDisposable
{
    private readonly LocalLambdaService _service;
    private readonly string _unbundled = Directory.CreateTempSubdirectory("unbundled-").FullName;

    public LocalLambdaServiceTests()
    {
        var stack = new TestStack()
            .Function("Deployer", TestPaths.PythonFunction, "deployer")
            .Function("Unnamed", TestPaths.PythonFunction);
        stack.Resource("Proxy", $$"""
            {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "provided.al2023", "FunctionName": "proxy", "Code": {"S3Key": "p.zip"} },
             "Metadata": {"aws:asset:path": "{{_unbundled}}", "aws:asset:property": "Code"} }
            """);
        _service = new LocalLambdaService(stack.Build(), TextWriter.Null);
    }

    public ValueTask DisposeAsync() => _service.DisposeAsync();

    [Fact]
    public void Function_ByNameOrArn_IsOneAndTheSameFunction()
    {
        var byName = _service.Function("deployer");

        Assert.Same(byName, _service.Function(TestStack.Arn("deployer")));
        Assert.Same(byName, _service.Function(TestStack.Arn("deployer") + ":$LATEST"));
        Assert.Equal("Deployer", byName.Definition.LogicalId);
    }

    [Fact]
    public void Function_WithoutFunctionName_IsFoundByItsLocalPhysicalName()
    {
        Assert.Equal("Unnamed", _service.Function("TestStack-Unnamed-local").Definition.LogicalId);
    }

    [Fact]
    public void Function_Unknown_ListsTheStacksFunctions()
    {
        var error = Assert.Throws<LocalAwsException>(() => _service.Function(TestStack.Arn("ghost")));

        Assert.Equal(
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:ghost. Stack TestStack has the functions TestStack-Unnamed-local, deployer, proxy.",
            error.Message);
    }

    [Theory]
    [InlineData("arn:aws:lambda:us-east-1:000000000000:function:deployer:live", "Function arn:aws:lambda:us-east-1:000000000000:function:deployer:live: versions and aliases do not exist locally; invoke $LATEST (no qualifier).")]
    [InlineData("arn:aws:lambda:eu-west-1:123456789012:function:deployer", "Function arn:aws:lambda:eu-west-1:123456789012:function:deployer is not in the local account and region (000000000000, us-east-1).")]
    [InlineData("arn:aws:sqs:us-east-1:000000000000:queue", "'arn:aws:sqs:us-east-1:000000000000:queue' is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>).")]
    public void Function_ArnThatCannotBeLocal_IsRefused(string arn, string expected)
    {
        Assert.Equal(expected, Assert.Throws<LocalAwsException>(() => _service.Function(arn)).Message);
    }

    [Fact]
    public void Function_UnbundledAsset_FailsOnEveryUse()
    {
        var first = Assert.Throws<LocalAwsException>(() => _service.Function("proxy"));
        var second = Assert.Throws<LocalAwsException>(() => _service.Function("proxy"));

        Assert.StartsWith($"Function proxy (Proxy): its code asset {_unbundled} has no bootstrap.", first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
        Assert.DoesNotContain(_service.StartedFunctions, f => f.Definition.LogicalId == "Proxy");
    }

    [Fact]
    public async Task Endpoints_SetBeforeTheFirstInvocation_ReachTheProcess()
    {
        _service.Endpoints = new LocalServiceEndpoints { SageMaker = new Uri("http://127.0.0.1:9999/") };

        var result = await _service.Function("deployer").InvokeAsync("{}");

        Assert.Contains("\"AWS_ENDPOINT_URL_SAGEMAKER\": \"http://127.0.0.1:9999\"", result.PayloadText, StringComparison.Ordinal);
        Assert.DoesNotContain("AWS_ENDPOINT_URL_S3", result.PayloadText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_StartedFunctions_StopsEveryProcessAndRefusesNewUse()
    {
        await _service.Function("deployer").InvokeAsync("{}");
        await _service.Function("TestStack-Unnamed-local").InvokeAsync("{}");
        var pids = _service.StartedFunctions.Select(f => f.ProcessId!.Value).ToList();

        await _service.DisposeAsync();

        Assert.Equal(2, pids.Count);
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}")));
        Assert.Throws<ObjectDisposedException>(() => _service.Function("deployer"));
    }
}
