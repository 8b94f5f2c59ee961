using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.Events;
using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalAws.Tests.Support;

namespace CustomerSegmentation.LocalAws.Tests;

public sealed class LocalEventBusTests : IAsyncDisposable
{
    private const string PackageArn = "arn:aws:sagemaker:us-east-1:000000000000:model-package/customer-segmentation-models/1";
    private readonly StringWriter _log = new();
    private readonly LocalLambdaService _lambda;
    private readonly LocalEventBus _bus;

    public LocalEventBusTests()
    {
        var stack = Stack().Build();
        _lambda = new LocalLambdaService(stack, _log);
        _bus = new LocalEventBus(stack, _lambda, _log);
    }

    /// <summary>
    /// The ModelDeployment construct's two rules as synthesized (a dead-letter queue the local bus has no use for
    /// included), plus rules the local bus must leave out or shape.
    /// </summary>
    private static TestStack Stack() => new TestStack()
        .Function("Deployer", TestPaths.PythonFunction, "deployer")
        .Function("Auditor", TestPaths.PythonFunction, "auditor")
        .Resource("ModelApprovedRule", """
            {"Type": "AWS::Events::Rule", "Properties": {"State": "ENABLED",
              "EventPattern": {"detail": {"ModelPackageGroupName": ["customer-segmentation-models"], "ModelApprovalStatus": ["Approved"]},
                               "detail-type": ["SageMaker Model Package State Change"], "source": ["aws.sagemaker"]},
              "Targets": [{"Arn": {"Fn::GetAtt": ["Deployer", "Arn"]}, "Id": "Target0", "RetryPolicy": {"MaximumRetryAttempts": 4},
                           "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}}]}}
            """)
        .Resource("DeadLetterQueue", """{"Type": "AWS::SQS::Queue"}""")
        .Resource("EndpointStateChangeRule", """
            {"Type": "AWS::Events::Rule", "Properties": {"State": "ENABLED",
              "EventPattern": {"detail": {"EndpointName": ["customer-segmentation-endpoint"]},
                               "detail-type": ["SageMaker Endpoint State Change"], "source": ["aws.sagemaker"]},
              "Targets": [
                {"Arn": {"Fn::GetAtt": ["Deployer", "Arn"]}, "Id": "Target0"},
                {"Arn": {"Fn::GetAtt": ["Auditor", "Arn"]}, "Id": "Status", "InputPath": "$.detail.EndpointStatus"},
                {"Arn": {"Fn::GetAtt": ["Auditor", "Arn"]}, "Id": "Constant", "Input": "{\"audit\":\"endpoint\"}"},
                {"Arn": "arn:aws:sqs:us-east-1:000000000000:audit-queue", "Id": "Queue"}]}}
            """)
        .Resource("RetrainingScheduleRule", """
            {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "cron(0 3 ? * MON *)", "State": "ENABLED",
              "Targets": [{"Arn": {"Fn::GetAtt": ["Deployer", "Arn"]}, "Id": "Pipeline"}]}}
            """)
        .Resource("DisabledRule", """
            {"Type": "AWS::Events::Rule", "Properties": {"State": "DISABLED", "Name": "paused",
              "EventPattern": {"source": ["aws.sagemaker"]}, "Targets": [{"Arn": {"Fn::GetAtt": ["Deployer", "Arn"]}, "Id": "T"}]}}
            """);

    public async ValueTask DisposeAsync()
    {
        await _lambda.DisposeAsync();
        await _log.DisposeAsync();
    }

    private static JsonObject Detail(string json) => (JsonObject)JsonNode.Parse(json)!;

    private static JsonElement Received(EventInvocation invocation) =>
        JsonDocument.Parse(invocation.Result!.Payload).RootElement.GetProperty("event");

    [Fact]
    public void Rules_SynthesizedTemplate_KeepsEnabledPatternRulesAndTheirLambdaTargets()
    {
        Assert.Equal(["ModelApprovedRule", "EndpointStateChangeRule"], _bus.Rules.Select(r => r.LogicalId));
        Assert.Equal(["TestStack-ModelApprovedRule-local", "TestStack-EndpointStateChangeRule-local"], _bus.Rules.Select(r => r.Name));
        Assert.Equal(
            [new EventTarget("Target0", TestStack.Arn("deployer"), null, null), new EventTarget("Status", TestStack.Arn("auditor"), null, "$.detail.EndpointStatus"),
                new EventTarget("Constant", TestStack.Arn("auditor"), """{"audit":"endpoint"}""", null)],
            _bus.Rules[1].Targets);
        var log = _log.ToString();
        Assert.Contains("[events] rule TestStack-RetrainingScheduleRule-local has no EventPattern (a schedule): the local bus does not run schedules.", log, StringComparison.Ordinal);
        Assert.Contains("[events] rule paused is DISABLED: it delivers nothing.", log, StringComparison.Ordinal);
        Assert.Contains("[events] rule TestStack-EndpointStateChangeRule-local target Queue (arn:aws:sqs:us-east-1:000000000000:audit-queue) is not a Lambda function: the local bus does not deliver to it.", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_ApprovedPackage_InvokesTheDeployerWithTheEventBridgeEnvelope()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        await _bus.PublishAsync("aws.sagemaker", "SageMaker Model Package State Change",
            Detail($$"""{"ModelPackageGroupName": "customer-segmentation-models", "ModelApprovalStatus": "Approved", "ModelPackageArn": "{{PackageArn}}"}"""),
            [PackageArn], CancellationToken.None);
        await _lambda.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var invocation = Assert.Single(_lambda.Function("deployer").EventInvocations);
        Assert.Equal("rule TestStack-ModelApprovedRule-local", invocation.Source);
        var received = Received(invocation);
        Assert.Equal(
            ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"],
            received.EnumerateObject().Select(p => p.Name));
        Assert.Equal("0", received.GetProperty("version").GetString());
        Assert.True(Guid.TryParse(received.GetProperty("id").GetString(), out _));
        Assert.Equal("SageMaker Model Package State Change", received.GetProperty("detail-type").GetString());
        Assert.Equal(("aws.sagemaker", "000000000000", "us-east-1"),
            (received.GetProperty("source").GetString(), received.GetProperty("account").GetString(), received.GetProperty("region").GetString()));
        Assert.InRange(DateTimeOffset.Parse(received.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture), before, DateTimeOffset.UtcNow);
        Assert.Equal(PackageArn, received.GetProperty("resources")[0].GetString());
        Assert.Equal("Approved", received.GetProperty("detail").GetProperty("ModelApprovalStatus").GetString());
        var delivery = Assert.Single(_bus.Deliveries);
        Assert.Equal((received.GetProperty("id").GetString(), "TestStack-ModelApprovedRule-local", "Target0", (string?)null),
            (delivery.EventId, delivery.RuleName, delivery.TargetId, delivery.Failure));
    }

    [Fact]
    public async Task PublishAsync_PendingPackage_MatchesNoRuleAndInvokesNothing()
    {
        await _bus.PublishAsync("aws.sagemaker", "SageMaker Model Package State Change",
            Detail("""{"ModelPackageGroupName": "customer-segmentation-models", "ModelApprovalStatus": "PendingManualApproval"}"""), [], CancellationToken.None);

        Assert.Empty(_bus.Deliveries);
        Assert.Empty(_lambda.StartedFunctions);
        Assert.Contains("[events] SageMaker Model Package State Change from aws.sagemaker {\"ModelPackageGroupName\":\"customer-segmentation-models\",\"ModelApprovalStatus\":\"PendingManualApproval\"} -> no rule", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishAsync_EndpointStateChange_SendsEachTargetItsInput()
    {
        await _bus.PublishAsync("aws.sagemaker", "SageMaker Endpoint State Change",
            Detail("""{"EndpointName": "customer-segmentation-endpoint", "EndpointStatus": "IN_SERVICE"}"""), [], CancellationToken.None);
        await _lambda.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("IN_SERVICE", Received(Assert.Single(_lambda.Function("deployer").EventInvocations)).GetProperty("detail").GetProperty("EndpointStatus").GetString());
        var audits = _lambda.Function("auditor").EventInvocations;
        Assert.Equal(2, audits.Count);
        Assert.Equal("IN_SERVICE", Received(audits[0]).GetString());
        Assert.Equal("endpoint", Received(audits[1]).GetProperty("audit").GetString());
        Assert.Equal(["Target0", "Status", "Constant"], _bus.Deliveries.Select(d => d.TargetId));
    }

    [Fact]
    public async Task PublishAsync_TargetThatCannotRun_IsRecordedAndLoggedNotThrown()
    {
        var stack = new TestStack().Resource("Rule", """
            {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["aws.sagemaker"]},
              "Targets": [{"Arn": "arn:aws:lambda:us-east-1:000000000000:function:gone", "Id": "Gone"}]}}
            """).Build();
        await using var lambda = new LocalLambdaService(stack, _log);
        var bus = new LocalEventBus(stack, lambda, _log);

        await bus.PublishAsync("aws.sagemaker", "SageMaker Endpoint State Change", Detail("{}"), [], CancellationToken.None);

        var delivery = Assert.Single(bus.Deliveries);
        Assert.Equal("Function not found: arn:aws:lambda:us-east-1:000000000000:function:gone. Stack TestStack has no functions.", delivery.Failure);
        Assert.Contains("[events] rule TestStack-Rule-local target Gone: not delivered: Function not found", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_InvalidPattern_FailsNamingTheRule()
    {
        var stack = new TestStack().Resource("Broken", """
            {"Type": "AWS::Events::Rule", "Properties": {"Name": "broken", "EventPattern": {"source": "aws.sagemaker"}, "Targets": []}}
            """).Build();

        var error = Assert.Throws<LocalAwsException>(() => new LocalEventBus(stack, _lambda, _log));

        Assert.Equal("Rule broken (Broken): Event pattern is not valid at 'source': a field's value must be a non-empty list or object, got \"aws.sagemaker\".", error.Message);
    }

    [Theory]
    [InlineData("""{"InputTransformer": {"InputTemplate": "<x>"}}""", "Rule r target T: InputTransformer is not evaluated locally; use Input, InputPath or the whole event.")]
    [InlineData("""{"InputPath": "$.detail[0]"}""", "Rule r target T: InputPath '$.detail[0]' is not evaluated locally; only $ and $.member.member paths are.")]
    public void Constructor_TargetShapeNotEmulated_IsRefused(string extra, string expected)
    {
        var target = JsonNode.Parse(extra)!.AsObject();
        target["Arn"] = TestStack.Arn("deployer");
        target["Id"] = "T";
        var stack = new TestStack().Resource("R", $$"""
            {"Type": "AWS::Events::Rule", "Properties": {"Name": "r", "EventPattern": {"source": ["a"]}, "Targets": [{{target.ToJsonString()}}]} }
            """).Build();

        Assert.Equal(expected, Assert.Throws<LocalAwsException>(() => new LocalEventBus(stack, _lambda, _log)).Message);
    }
}
