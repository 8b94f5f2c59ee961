using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

/// <summary>The SageMaker records added for the deployer (DeleteEndpoint, DeleteTags, DataCaptureConfig) against botocore.</summary>
public sealed class AddedSageMakerShapesTests
{
    private static readonly BotocoreShapeValidator Validator = new(BotocoreServiceModel.SageMaker);
    private static readonly SageMakerJsonContext Json = SageMakerJsonContext.Default;

    [Fact]
    public void DeleteEndpointRequest_Serialized_IsValidInput()
    {
        Assert.Empty(Validate("DeleteEndpoint", JsonSerializer.SerializeToUtf8Bytes(new DeleteEndpointRequest { EndpointName = "segmentation-endpoint" }, Json.DeleteEndpointRequest)));
    }

    [Fact]
    public void DeleteTagsRequest_Serialized_IsValidInput()
    {
        var request = new DeleteTagsRequest { ResourceArn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/segmentation-endpoint", TagKeys = ["segmentation:pending-model-package-arn"] };

        Assert.Empty(Validate("DeleteTags", JsonSerializer.SerializeToUtf8Bytes(request, Json.DeleteTagsRequest)));
    }

    [Fact]
    public void CreateEndpointConfigRequest_WithDataCapture_IsValidInput()
    {
        var request = new CreateEndpointConfigRequest
        {
            EndpointConfigName = "segmentation-c-7-20261125110100000",
            ProductionVariants = [new() { VariantName = "AllTraffic", ModelName = "segmentation-m-7-20261125110100000", InstanceType = "ml.m5.large", InitialInstanceCount = 1 }],
            DataCaptureConfig = new()
            {
                EnableCapture = true,
                InitialSamplingPercentage = 20,
                DestinationS3Uri = "s3://segmentation-capture/endpoint",
                CaptureOptions = [new() { CaptureMode = "Input" }, new() { CaptureMode = "Output" }],
            },
        };

        Assert.Empty(Validate("CreateEndpointConfig", JsonSerializer.SerializeToUtf8Bytes(request, Json.CreateEndpointConfigRequest)));
    }

    [Fact]
    public void Validate_DataCaptureWithoutItsRequiredMembers_IsReported()
    {
        var problems = Validate("CreateEndpointConfig", """
            {"EndpointConfigName":"c","ProductionVariants":[{"VariantName":"AllTraffic","ModelName":"m"}],"DataCaptureConfig":{"EnableCapture":true}}
            """u8.ToArray());

        Assert.Equal([
            "CreateEndpointConfig.DataCaptureConfig: missing required member 'InitialSamplingPercentage' of DataCaptureConfig",
            "CreateEndpointConfig.DataCaptureConfig: missing required member 'DestinationS3Uri' of DataCaptureConfig",
            "CreateEndpointConfig.DataCaptureConfig: missing required member 'CaptureOptions' of DataCaptureConfig",
        ], problems);
    }

    private static List<string> Validate(string operation, byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return [.. Validator.ValidateInput(operation, document.RootElement)];
    }
}
