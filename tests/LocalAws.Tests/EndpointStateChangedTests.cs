using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.LocalAws.SageMaker;

namespace CustomerSegmentation.LocalAws.Tests;

public sealed class EndpointStateChangedTests
{
    [Theory]
    [InlineData("InService", "IN_SERVICE")]
    [InlineData("Creating", "CREATING")]
    [InlineData("Updating", "UPDATING")]
    [InlineData("RollingBack", "ROLLING_BACK")]
    [InlineData("SystemUpdating", "SYSTEM_UPDATING")]
    [InlineData("OutOfService", "OUT_OF_SERVICE")]
    [InlineData("Failed", "FAILED")]
    [InlineData("Deleting", "DELETING")]
    public void EventStatus_ApiStatus_EventBridgeForm(string status, string expected) =>
        Assert.Equal(expected, EndpointStateChanged.EventStatus(status));

    [Fact]
    public void ToEventDetail_FailedEndpoint_MembersAsSageMakerSendsThem()
    {
        var created = new DateTimeOffset(2026, 11, 25, 11, 0, 0, TimeSpan.Zero);
        var change = new EndpointStateChanged("segments", "arn:aws:sagemaker:us-east-1:000000000000:endpoint/segments", "c-1", "Failed", "ping failed",
            created, created.AddSeconds(90), new Dictionary<string, string> { ["team"] = "ml" },
            [new ProductionVariantSummary { VariantName = "AllTraffic", CurrentWeight = 1, DesiredWeight = 1, CurrentInstanceCount = 0, DesiredInstanceCount = 2 }]);

        var detail = change.ToEventDetail();

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"EndpointName":"segments","EndpointArn":"arn:aws:sagemaker:us-east-1:000000000000:endpoint/segments","EndpointConfigName":"c-1",
             "ProductionVariants":[{"VariantName":"AllTraffic","CurrentWeight":1,"DesiredWeight":1,"CurrentInstanceCount":0,"DesiredInstanceCount":2}],
             "EndpointStatus":"FAILED","CreationTime":1795604400000,"LastModifiedTime":1795604490000,"Tags":{"team":"ml"},"FailureReason":"ping failed"}
            """), detail), detail.ToJsonString());
    }

    [Fact]
    public void ToEventDetail_InService_NoFailureReasonMember()
    {
        var change = new EndpointStateChanged("segments", "arn", "c-1", "InService", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch,
            new Dictionary<string, string>(), []);

        Assert.False(change.ToEventDetail().ContainsKey("FailureReason"));
    }
}
