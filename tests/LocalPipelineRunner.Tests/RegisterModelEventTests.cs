using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.Events;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Expressions;
using CustomerSegmentation.LocalPipelineRunner.Steps;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

[Collection(S3Collection.Name)]
public class RegisterModelEventTests(S3Fixture s3)
{
    private sealed class RecordingBus : IEventPublisher
    {
        public List<(string Source, string DetailType, JsonObject Detail, IReadOnlyList<string> Resources)> Published { get; } = [];

        public Task PublishAsync(string source, string detailType, JsonObject detail, IReadOnlyList<string> resources, CancellationToken cancellationToken)
        {
            Published.Add((source, detailType, detail, resources));
            return Task.CompletedTask;
        }
    }

    private async Task<StepContext> RegisterContextAsync(string approvalStatus)
    {
        var models = await s3.NewBucketAsync("register");
        await s3.PutTextAsync(models, "runs/r1/model.tar.gz", "model");
        var raw = JsonNode.Parse($$"""
            {"Name": "RegisterModel", "Type": "RegisterModel", "Arguments": {
              "ModelPackageGroupName": "customer-segmentation-models", "ModelApprovalStatus": "{{approvalStatus}}",
              "InferenceSpecification": {"Containers": [{"Image": "sklearn", "ModelDataUrl": "s3://{{models}}/runs/r1/model.tar.gz"}],
                "SupportedContentTypes": ["application/json"], "SupportedResponseMIMETypes": ["application/json"]},
              "CustomerMetadataProperties": {"PreprocessingSpecUri": "s3://{{models}}/runs/r1/spec.json"} } }
            """)!.AsObject();
        var step = PipelineDefinition.Parse(new JsonObject { ["Steps"] = new JsonArray(raw) }).Steps[0];
        var state = new ExecutionState("Pipeline", "exec00000001", DateTimeOffset.UtcNow, new Dictionary<string, JsonNode?>());
        var work = Directory.CreateTempSubdirectory("register-event-").FullName;
        return new StepContext(step, state, new ExpressionEvaluator(state), s3.Store, new RunnerEnvironment(work, S3Fixture.Python), work, TextWriter.Null);
    }

    [Theory]
    [InlineData("Approved")]
    [InlineData("PendingManualApproval")]
    public async Task ExecuteAsync_NewVersion_PublishesTheModelPackageStateChange(string approvalStatus)
    {
        var bus = new RecordingBus();
        var context = await RegisterContextAsync(approvalStatus);

        var result = await new RegisterModelStepExecutor(bus).ExecuteAsync(context, CancellationToken.None);

        var (source, detailType, detail, resources) = Assert.Single(bus.Published);
        var arn = (string)result.Properties["ModelPackageArn"]!;
        Assert.Equal(("aws.sagemaker", "SageMaker Model Package State Change"), (source, detailType));
        Assert.Equal([arn], resources);
        Assert.Equal(
            ["ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn", "InferenceSpecification", "ModelPackageStatus", "ModelApprovalStatus",
                "CustomerMetadataProperties", "CreationTime", "CertifyForMarketplace"],
            detail.Select(m => m.Key));
        Assert.Equal(("customer-segmentation-models", 1, arn), ((string?)detail["ModelPackageGroupName"], (int)detail["ModelPackageVersion"]!, (string?)detail["ModelPackageArn"]));
        Assert.Equal((approvalStatus, "Completed"), ((string?)detail["ModelApprovalStatus"], (string?)detail["ModelPackageStatus"]));
        Assert.Equal(
            DateTimeOffset.Parse((string)result.Properties["CreationTime"]!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(),
            (long)detail["CreationTime"]!);
        Assert.Equal(result.Properties["CustomerMetadataProperties"]!.ToJsonString(), detail["CustomerMetadataProperties"]!.ToJsonString());
    }

    [Fact]
    public async Task ExecuteAsync_RejectedStatusValue_FailsAndPublishesNothing()
    {
        var bus = new RecordingBus();
        var context = await RegisterContextAsync("Maybe");

        await Assert.ThrowsAsync<StepFailedException>(() => new RegisterModelStepExecutor(bus).ExecuteAsync(context, CancellationToken.None));

        Assert.Empty(bus.Published);
    }
}
