using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.Events;

namespace CustomerSegmentation.LocalAws.Tests;

public class EventPatternTests
{
    /// <summary>A SageMaker Model Package State Change as EventBridge delivers it.</summary>
    private const string ModelPackageEvent = """
        {"version": "0", "id": "7d6bd0f2-0d8e-4d8c-9b1e-000000000000", "detail-type": "SageMaker Model Package State Change",
         "source": "aws.sagemaker", "account": "000000000000", "time": "2026-11-25T13:00:00Z", "region": "us-east-1",
         "resources": ["arn:aws:sagemaker:us-east-1:000000000000:model-package/customer-segmentation-models/3"],
         "detail": {"ModelPackageGroupName": "customer-segmentation-models", "ModelPackageVersion": 3,
                    "ModelApprovalStatus": "Approved", "ModelPackageStatus": "Completed", "Tags": ["team-a", "weekly"],
                    "InferenceSpecification": {"Containers": [{"Image": "sklearn"}]}, "Description": null}}
        """;

    /// <summary>The pattern the ModelDeployment construct synthesizes for approvals.</summary>
    private const string ApprovedRule = """
        {"detail": {"ModelPackageGroupName": ["customer-segmentation-models"], "ModelApprovalStatus": ["Approved"]},
         "detail-type": ["SageMaker Model Package State Change"], "source": ["aws.sagemaker"]}
        """;

    private static bool Matches(string pattern, string? @event = null) =>
        EventPattern.Parse(JsonNode.Parse(pattern)).Matches((JsonObject)JsonNode.Parse(@event ?? ModelPackageEvent)!);

    private static string Invalid(string pattern) => Assert.Throws<LocalAwsException>(() => EventPattern.Parse(JsonNode.Parse(pattern))).Message;

    [Fact]
    public void Matches_TheDeployersApprovalRule_MatchesAnApprovedPackageOfItsGroup()
    {
        Assert.True(Matches(ApprovedRule));
    }

    [Theory]
    [InlineData("ModelApprovalStatus", "PendingManualApproval")]
    [InlineData("ModelApprovalStatus", "approved")]
    [InlineData("ModelPackageGroupName", "other-models")]
    public void Matches_TheDeployersApprovalRule_IgnoresOtherStatusesAndGroups(string field, string value)
    {
        var changed = JsonNode.Parse(ModelPackageEvent)!;
        changed["detail"]![field] = value;

        Assert.False(Matches(ApprovedRule, changed.ToJsonString()));
    }

    [Fact]
    public void Matches_EndpointStateChangeRule_DoesNotMatchAModelPackageEvent()
    {
        Assert.False(Matches("""{"source": ["aws.sagemaker"], "detail-type": ["SageMaker Endpoint State Change"], "detail": {"EndpointName": ["customer-segmentation-endpoint"]}}"""));
    }

    [Theory]
    [InlineData("""{"detail": {"ModelPackageVersion": [3]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageVersion": [3.0]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageVersion": ["3"]}}""", false)]
    [InlineData("""{"detail": {"ModelApprovalStatus": ["Rejected", "Approved"]}}""", true)]
    [InlineData("""{"detail": {"Tags": ["weekly"]}}""", true)]
    [InlineData("""{"detail": {"Tags": ["monthly"]}}""", false)]
    [InlineData("""{"detail": {"Description": [null]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageStatus": [null]}}""", false)]
    [InlineData("""{"detail": {"InferenceSpecification": {"Containers": {"Image": ["sklearn"]}}}}""", true)]
    [InlineData("""{"detail": {"InferenceSpecification": {"Containers": {"Image": ["xgboost"]}}}}""", false)]
    [InlineData("""{"resources": ["arn:aws:sagemaker:us-east-1:000000000000:model-package/customer-segmentation-models/3"]}""", true)]
    [InlineData("""{"account": ["123456789012"]}""", false)]
    public void Matches_LiteralsListsArraysAndNesting_FollowEventBridge(string pattern, bool expected)
    {
        Assert.Equal(expected, Matches(pattern));
    }

    [Theory]
    [InlineData("""{"detail": {"ModelPackageGroupName": [{"prefix": "customer-"}]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageGroupName": [{"prefix": "vendor-"}]}}""", false)]
    [InlineData("""{"detail": {"ModelPackageGroupName": [{"prefix": {"equals-ignore-case": "CUSTOMER-"}}]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageGroupName": [{"suffix": "-models"}]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageGroupName": [{"suffix": "-model"}]}}""", false)]
    [InlineData("""{"detail": {"ModelApprovalStatus": [{"equals-ignore-case": "APPROVED"}]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageGroupName": [{"wildcard": "customer-*-models"}]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageGroupName": [{"wildcard": "vendor-*"}]}}""", false)]
    [InlineData("""{"detail": {"ModelApprovalStatus": [{"anything-but": "Rejected"}]}}""", true)]
    [InlineData("""{"detail": {"ModelApprovalStatus": [{"anything-but": ["Approved", "Rejected"]}]}}""", false)]
    [InlineData("""{"detail": {"ModelApprovalStatus": [{"anything-but": {"prefix": "Pending"}}]}}""", true)]
    [InlineData("""{"detail": {"ModelApprovalStatus": [{"anything-but": {"prefix": "App"}}]}}""", false)]
    [InlineData("""{"detail": {"Missing": [{"anything-but": "x"}]}}""", false)]
    [InlineData("""{"detail": {"ModelPackageVersion": [{"numeric": [">", 2, "<=", 3]}]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageVersion": [{"numeric": ["<", 3]}]}}""", false)]
    [InlineData("""{"detail": {"ModelApprovalStatus": [{"numeric": [">", 0]}]}}""", false)]
    [InlineData("""{"detail": {"ModelPackageStatus": [{"exists": true}]}}""", true)]
    [InlineData("""{"detail": {"Missing": [{"exists": true}]}}""", false)]
    [InlineData("""{"detail": {"Missing": [{"exists": false}]}}""", true)]
    [InlineData("""{"detail": {"ModelPackageStatus": [{"exists": false}]}}""", false)]
    [InlineData("""{"detail": {"InferenceSpecification": [{"exists": true}]}}""", false)]
    [InlineData("""{"detail": {"Missing": ["x", {"exists": false}]}}""", true)]
    public void Matches_ContentFilters_FollowEventBridge(string pattern, bool expected)
    {
        Assert.Equal(expected, Matches(pattern));
    }

    [Theory]
    [InlineData("""{"$or": [{"detail": {"ModelApprovalStatus": ["Rejected"]}}, {"detail": {"ModelPackageVersion": [3]}}]}""", true)]
    [InlineData("""{"$or": [{"detail": {"ModelApprovalStatus": ["Rejected"]}}, {"source": ["aws.events"]}]}""", false)]
    [InlineData("""{"source": ["aws.sagemaker"], "$or": [{"detail-type": ["x"]}, {"detail-type": ["SageMaker Model Package State Change"]}]}""", true)]
    public void Matches_Or_MatchesWhenAnyAlternativeDoes(string pattern, bool expected)
    {
        Assert.Equal(expected, Matches(pattern));
    }

    [Fact]
    public void Parse_PatternAsJsonText_IsReadLikeTheObject()
    {
        Assert.True(EventPattern.Parse(JsonValue.Create(ApprovedRule)).Matches((JsonObject)JsonNode.Parse(ModelPackageEvent)!));
    }

    [Theory]
    [InlineData("""{"source": "aws.sagemaker"}""", "Event pattern is not valid at 'source': a field's value must be a non-empty list or object, got \"aws.sagemaker\".")]
    [InlineData("""{"source": []}""", "Event pattern is not valid at 'source': a field's value must be a non-empty list or object, got [].")]
    [InlineData("""{"detail": {"x": [["nested"]]}}""", "Event pattern is not valid at 'detail.x': a match value cannot be a list.")]
    [InlineData("""{"detail": {"x": [{"prefix": 3}]}}""", "Event pattern is not valid at 'detail.x': 'prefix' has the wrong argument 3.")]
    [InlineData("""{"detail": {"x": [{"exists": "yes"}]}}""", "Event pattern is not valid at 'detail.x': 'exists' has the wrong argument \"yes\".")]
    [InlineData("""{"detail": {"x": [{"numeric": [">>", 1]}]}}""", "Event pattern is not valid at 'detail.x': 'numeric' term \">>\" 1 is not an operator (= < <= > >=) and a number.")]
    [InlineData("""{"detail": {"x": [{"numeric": [">", 1, "<"]}]}}""", "Event pattern is not valid at 'detail.x': 'numeric' takes [operator, number] or [operator, number, operator, number], got [\">\",1,\"<\"].")]
    [InlineData("""{"detail": {"x": [{"anything-but": {"wildcard": "a*"}}]}}""", "Event pattern is not valid at 'detail.x': 'anything-but' takes a value, a list of values, or a prefix/suffix/equals-ignore-case filter, got {\"wildcard\":\"a*\"}.")]
    [InlineData("""{"detail": {"x": [{"prefix": "a", "suffix": "b"}]}}""", "Event pattern is not valid at 'detail.x': a content filter has exactly one member, got {\"prefix\":\"a\",\"suffix\":\"b\"}.")]
    [InlineData("""{"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}""", "Event pattern is not valid at 'detail.ip': the content filter 'cidr' is not evaluated locally (supported: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists).")]
    [InlineData("""{"$or": [{"source": ["a"]}]}""", "Event pattern is not valid at '$or': $or needs a list of at least two non-empty patterns.")]
    [InlineData("""{}""", "Event pattern must be a non-empty JSON object, got {}.")]
    [InlineData("""["aws.sagemaker"]""", "Event pattern must be a non-empty JSON object, got [\"aws.sagemaker\"].")]
    public void Parse_InvalidPattern_FailsNamingWhereAndWhy(string pattern, string expected)
    {
        Assert.Equal(expected, Invalid(pattern));
    }

    [Fact]
    public void Parse_TextThatIsNotJson_Fails()
    {
        var error = Assert.Throws<LocalAwsException>(() => EventPattern.Parse(JsonValue.Create("{source:")));

        Assert.StartsWith("Event pattern is not valid JSON: ", error.Message, StringComparison.Ordinal);
    }
}
