using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Expressions;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

public class ConditionEvaluatorTests
{
    private readonly ConditionEvaluator _conditions;

    public ConditionEvaluatorTests()
    {
        var state = new ExecutionState("P", "id", DateTimeOffset.UnixEpoch,
            new Dictionary<string, JsonNode?> { ["MinSilhouette"] = 0.25, ["K"] = 4, ["Status"] = "Approved", ["Flag"] = true });
        state.SetPropertyFile("Evaluate", "Report", JsonNode.Parse("""{"metrics": {"silhouette": 0.3, "k": 4.0, "ari": null, "name": "x"}}"""));
        _conditions = new ConditionEvaluator(new ExpressionEvaluator(state));
    }

    private static string Silhouette => """{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "metrics.silhouette"}}""";

    private bool Evaluate(string type, string left, string right) =>
        _conditions.Evaluate(JsonNode.Parse($$$"""{"Type": "{{{type}}}", "LeftValue": {{{left}}}, "RightValue": {{{right}}} }"""));

    [Theory]
    [InlineData("GreaterThanOrEqualTo", true)]
    [InlineData("GreaterThan", true)]
    [InlineData("LessThan", false)]
    [InlineData("LessThanOrEqualTo", false)]
    [InlineData("Equals", false)]
    public void Evaluate_JsonGetAgainstFloatParameter_ComparesNumerically(string type, bool expected)
    {
        Assert.Equal(expected, Evaluate(type, Silhouette, """{"Get": "Parameters.MinSilhouette"}"""));
    }

    [Fact]
    public void Evaluate_EqualsIntegerParameterAndFloatJson_IsTrue()
    {
        Assert.True(Evaluate("Equals", """{"Get": "Parameters.K"}""", """{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "metrics.k"}}"""));
    }

    [Fact]
    public void Evaluate_EqualsStringsAndBooleans_ComparesExactly()
    {
        Assert.True(Evaluate("Equals", """{"Get": "Parameters.Status"}""", "\"Approved\""));
        Assert.False(Evaluate("Equals", """{"Get": "Parameters.Status"}""", "\"approved\""));
        Assert.True(Evaluate("Equals", """{"Get": "Parameters.Flag"}""", "true"));
    }

    [Fact]
    public void Evaluate_In_MatchesAnyValue()
    {
        Assert.True(_conditions.Evaluate(JsonNode.Parse("""{"Type": "In", "QueryValue": {"Get": "Parameters.Status"}, "Values": ["Rejected", "Approved"]}""")));
        Assert.False(_conditions.Evaluate(JsonNode.Parse("""{"Type": "In", "QueryValue": {"Get": "Parameters.Status"}, "Values": ["Rejected"]}""")));
    }

    [Fact]
    public void Evaluate_NotEqualsAndNotIn_NegateTheirCounterparts()
    {
        Assert.True(Evaluate("NotEquals", """{"Get": "Parameters.Status"}""", "\"Rejected\""));
        Assert.True(_conditions.Evaluate(JsonNode.Parse("""{"Type": "NotIn", "QueryValue": {"Get": "Parameters.K"}, "Values": [1, 2]}""")));
    }

    [Fact]
    public void Evaluate_InWithSchemaSpelling_AcceptsValueAndIn()
    {
        Assert.True(_conditions.Evaluate(JsonNode.Parse("""{"Type": "In", "Value": {"Get": "Parameters.K"}, "In": [3, 4]}""")));
    }

    [Fact]
    public void Evaluate_ComparisonWithoutRightValue_FailsShowingTheCondition()
    {
        Assert.Equal(
            "Condition GreaterThan needs LeftValue and RightValue: {\"Type\":\"GreaterThan\",\"LeftValue\":1}.",
            Assert.Throws<PipelineRunnerException>(() => _conditions.Evaluate(JsonNode.Parse("""{"Type": "GreaterThan", "LeftValue": 1}"""))).Message);
    }

    [Fact]
    public void Evaluate_NotAndOr_Combine()
    {
        var below = $$$"""{"Type": "LessThan", "LeftValue": {{{Silhouette}}}, "RightValue": 0.1}""";
        var above = $$$"""{"Type": "GreaterThan", "LeftValue": {{{Silhouette}}}, "RightValue": 0.1}""";

        Assert.True(_conditions.Evaluate(JsonNode.Parse($$$"""{"Type": "Not", "Expression": {{{below}}} }""")));
        Assert.True(_conditions.Evaluate(JsonNode.Parse($$$"""{"Type": "Or", "Conditions": [{{{below}}}, {{{above}}}]}""")));
        Assert.False(_conditions.Evaluate(JsonNode.Parse($$$"""{"Type": "Or", "Conditions": [{{{below}}}]}""")));
    }

    [Fact]
    public void All_OneFalse_IsFalse()
    {
        var conditions = (JsonArray)JsonNode.Parse($$$"""
            [{"Type": "GreaterThanOrEqualTo", "LeftValue": {{{Silhouette}}}, "RightValue": 0.25},
             {"Type": "GreaterThanOrEqualTo", "LeftValue": {{{Silhouette}}}, "RightValue": 0.5}]
            """)!;

        Assert.False(_conditions.All(conditions));
    }

    [Theory]
    [InlineData("\"0.5\"", "Condition GreaterThan cannot compare Number 0.3 with String \"0.5\": both sides must be numbers, strings or booleans of the same kind.")]
    [InlineData("null", "Condition GreaterThan cannot compare Number 0.3 with null: both sides must be numbers, strings or booleans of the same kind.")]
    [InlineData("true", "Condition GreaterThan cannot compare Number 0.3 with Boolean true: both sides must be numbers, strings or booleans of the same kind.")]
    public void Evaluate_MixedKinds_FailsInsteadOfGuessing(string right, string expected)
    {
        Assert.Equal(expected, Assert.Throws<PipelineRunnerException>(() => Evaluate("GreaterThan", Silhouette, right)).Message);
    }

    [Fact]
    public void Evaluate_NullFromPropertyFile_Fails()
    {
        var ari = """{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "metrics.ari"}}""";

        Assert.Equal(
            "Condition GreaterThanOrEqualTo cannot compare null with Number 0.5: both sides must be numbers, strings or booleans of the same kind.",
            Assert.Throws<PipelineRunnerException>(() => Evaluate("GreaterThanOrEqualTo", ari, "0.5")).Message);
    }

    [Fact]
    public void Evaluate_OrderingBooleans_Fails()
    {
        Assert.Equal("Condition LessThan cannot order booleans (Boolean true, Boolean false).",
            Assert.Throws<PipelineRunnerException>(() => Evaluate("LessThan", "true", "false")).Message);
    }

    [Fact]
    public void Evaluate_UnknownType_FailsListingSupported()
    {
        Assert.Equal(
            "Condition type And is not supported (Equals, NotEquals, GreaterThan, GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo, In, NotIn, Not, Or).",
            Assert.Throws<PipelineRunnerException>(() => _conditions.Evaluate(JsonNode.Parse("""{"Type": "And"}"""))).Message);
    }
}
