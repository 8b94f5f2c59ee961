using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.EndpointDeployer;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

public sealed class DeployerFunctionTests
{
    private readonly DeployerHarness _harness = new();

    [Fact]
    public async Task HandleAsync_PipelineStep_AnswersEveryOutputMember()
    {
        var package = _harness.ApprovedPackage(7);

        var response = await InvokeAsync($$"""{"ModelPackageArn":"{{package}}","InstanceType":"ml.c5.large","InitialInstanceCount":"2"}""");

        Assert.Equal(["Action", "EndpointName", "EndpointConfigName", "ModelName", "ModelPackageArn", "Reason"],
            response.EnumerateObject().Select(member => member.Name));
        Assert.Equal("Created", response.GetProperty("Action").GetString());
        Assert.Equal("segmentation-endpoint", response.GetProperty("EndpointName").GetString());
        Assert.Equal(package, response.GetProperty("ModelPackageArn").GetString());
        var config = _harness.SageMaker.Config(response.GetProperty("EndpointConfigName").GetString()!).Request.ProductionVariants[0];
        Assert.Equal(("ml.c5.large", 2, response.GetProperty("ModelName").GetString()), (config.InstanceType, config.InitialInstanceCount, config.ModelName));
    }

    [Fact]
    public async Task HandleAsync_SkippedEvent_AnswersEmptyStringsForWhatWasNotDeployed()
    {
        var response = await InvokeAsync("""{"detail-type":"SageMaker Endpoint State Change","detail":{"EndpointName":"x","EndpointStatus":"IN_SERVICE"}}""");

        Assert.Equal("Skipped", response.GetProperty("Action").GetString());
        Assert.Equal(("", "", ""), (response.GetProperty("EndpointConfigName").GetString(), response.GetProperty("ModelName").GetString(),
            response.GetProperty("ModelPackageArn").GetString()));
        Assert.Equal("Endpoint 'x' is not 'segmentation-endpoint'.", response.GetProperty("Reason").GetString());
    }

    [Fact]
    public async Task HandleAsync_UnreadableEvent_FailsNamingTheProblem()
    {
        var error = await Assert.ThrowsAsync<EndpointDeploymentException>(() => InvokeAsync("""{"ModelPackageArn":7}"""));

        Assert.Equal("Unreadable event: 'ModelPackageArn' must be a non-empty string.", error.Message);
    }

    [Fact]
    public async Task HandleAsync_AwsCallFails_FailsNamingTheEventAndTheCall()
    {
        var error = await Assert.ThrowsAsync<EndpointDeploymentException>(() =>
            InvokeAsync("""{"ModelPackageArn":"arn:aws:sagemaker:us-east-1:123456789012:model-package/segmentation-models/99"}"""));

        Assert.Equal("PipelineDeployRequest failed: SageMaker DescribeModelPackage failed: HTTP 400 ValidationException: "
            + "Model Package arn:aws:sagemaker:us-east-1:123456789012:model-package/segmentation-models/99 does not exist.", error.Message);
        Assert.IsType<AwsServiceException>(error.InnerException);
    }

    private async Task<JsonElement> InvokeAsync(string payload)
    {
        var function = new DeployerFunction(_harness.Service);
        var logger = new LambdaLogger(new StringWriter());
        var context = new LambdaInvocationContext("request-1", DateTimeOffset.UtcNow.AddMinutes(5), null, null, logger, TimeProvider.System);
        await using var output = await function.HandleAsync(new MemoryStream(Encoding.UTF8.GetBytes(payload)), context, CancellationToken.None);
        using var reader = new StreamReader(output);
        return TestSupport.Json(await reader.ReadToEndAsync());
    }
}
