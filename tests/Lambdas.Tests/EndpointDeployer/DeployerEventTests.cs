using System.Text;
using CustomerSegmentation.EndpointDeployer;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

public sealed class DeployerEventTests
{
    private const string PackageArn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/segmentation-models/7";

    [Fact]
    public void Parse_PipelineStepWithStringInputs_ReadsEveryMember()
    {
        var parsed = Parse($$"""
            {"ModelPackageArn":"{{PackageArn}}","InstanceType":"ml.c5.large","InitialInstanceCount":"2",
             "PipelineExecutionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/segmentation/execution/abc"}
            """);

        Assert.Equal(new PipelineDeployRequest(PackageArn, "ml.c5.large", 2, "arn:aws:sagemaker:us-east-1:123456789012:pipeline/segmentation/execution/abc"), parsed);
    }

    [Fact]
    public void Parse_PipelineStepWithNumberCountAndEmptyOptionals_FallsBackForTheEmptyOnes()
    {
        Assert.Equal(new PipelineDeployRequest(PackageArn, null, 3, null),
            Parse($$"""{"ModelPackageArn":"{{PackageArn}}","InstanceType":"","InitialInstanceCount":3,"PipelineExecutionArn":null}"""));
    }

    [Fact]
    public void Parse_ModelPackageStateChange_ReadsTheDetail()
    {
        var parsed = Parse($$$"""
            {"version":"0","id":"5f1b","detail-type":"SageMaker Model Package State Change","source":"aws.sagemaker","account":"123456789012",
             "time":"2026-11-25T11:00:00Z","region":"us-east-1","resources":["{{{PackageArn}}}"],
             "detail":{"ModelPackageGroupName":"segmentation-models","ModelPackageVersion":7,"ModelPackageArn":"{{{PackageArn}}}",
                       "ModelApprovalStatus":"Approved","ModelPackageStatus":"Completed"}}
            """);

        Assert.Equal(new ModelPackageStateChange(PackageArn, "segmentation-models", "Approved"), parsed);
    }

    [Fact]
    public void Parse_EndpointStateChange_ReadsTheDetail()
    {
        var parsed = Parse("""
            {"version":"0","detail-type":"SageMaker Endpoint State Change","source":"aws.sagemaker",
             "detail":{"EndpointName":"segmentation-endpoint","EndpointStatus":"IN_SERVICE","EndpointConfigName":"segmentation-c-7-1"}}
            """);

        Assert.Equal(new EndpointStateChange("segmentation-endpoint", "IN_SERVICE"), parsed);
    }

    [Theory]
    [InlineData("not json", "The event is not JSON: 'not json' is an invalid JSON literal. Expected the literal 'null'. LineNumber: 0 | BytePositionInLine: 1.")]
    [InlineData("[1]", "The event must be a JSON object, not Array.")]
    [InlineData("""{"customers":[]}""", "The event is neither the pipeline's deploy step (no 'ModelPackageArn') nor an EventBridge event (no 'detail-type').")]
    [InlineData("""{"ModelPackageArn":""}""", "'ModelPackageArn' must be a non-empty string.")]
    [InlineData("""{"ModelPackageArn":"arn","InstanceType":5}""", "'InstanceType' must be a string, not 5.")]
    [InlineData("""{"ModelPackageArn":"arn","InitialInstanceCount":"two"}""", "'InitialInstanceCount' must be a whole number from 1 to 100, not \"two\".")]
    [InlineData("""{"ModelPackageArn":"arn","InitialInstanceCount":0}""", "'InitialInstanceCount' must be a whole number from 1 to 100, not 0.")]
    [InlineData("""{"detail-type":"SageMaker Training Job State Change","detail":{}}""",
        "detail-type 'SageMaker Training Job State Change' is not handled: expected 'SageMaker Model Package State Change' or 'SageMaker Endpoint State Change'.")]
    [InlineData("""{"detail-type":"SageMaker Endpoint State Change"}""", "The EventBridge event has no 'detail' object.")]
    [InlineData("""{"detail-type":"SageMaker Endpoint State Change","detail":{"EndpointName":"e"}}""", "'detail.EndpointStatus' must be a non-empty string.")]
    [InlineData("""{"detail-type":"SageMaker Model Package State Change","detail":{"ModelPackageArn":"a","ModelPackageGroupName":"g","ModelApprovalStatus":7}}""",
        "'detail.ModelApprovalStatus' must be a non-empty string.")]
    public void Parse_BadEvent_SaysWhatIsWrong(string payload, string expected)
    {
        var error = Assert.Throws<DeployerEventException>(() => Parse(payload));

        Assert.Equal(expected, error.Message);
    }

    private static DeployerEvent Parse(string json) => DeployerEvent.Parse(Encoding.UTF8.GetBytes(json));
}
