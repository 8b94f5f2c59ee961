using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Definition;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

public class ParameterValuesTests
{
    private static readonly PipelineParameter[] Declared = new[]
    {
        """{"Name": "DataFile", "Type": "String", "DefaultValue": "s3://data/customers.csv"}""",
        """{"Name": "MaxK", "Type": "Integer", "DefaultValue": 10}""",
        """{"Name": "MinSilhouette", "Type": "Float", "DefaultValue": 0.25}""",
        """{"Name": "UsePca", "Type": "Boolean", "DefaultValue": false}""",
        """{"Name": "ModelApprovalStatus", "Type": "String", "DefaultValue": "PendingManualApproval", "EnumValues": ["Approved", "PendingManualApproval", "Rejected"]}""",
    }.Select(j => PipelineParameter.FromJson(JsonNode.Parse(j))).ToArray();

    private static string Error(params (string Name, string Value)[] overrides) =>
        Assert.Throws<PipelineRunnerException>(() => ParameterValues.Resolve(Declared, overrides.ToDictionary(o => o.Name, o => o.Value))).Message;

    [Fact]
    public void Resolve_NoOverrides_UsesDefaults()
    {
        var values = ParameterValues.Resolve(Declared, new Dictionary<string, string>());

        Assert.Equal("""{"DataFile":"s3://data/customers.csv","MaxK":10,"MinSilhouette":0.25,"UsePca":false,"ModelApprovalStatus":"PendingManualApproval"}""",
            new JsonObject(values.Select(v => KeyValuePair.Create(v.Key, v.Value?.DeepClone()))).ToJsonString());
    }

    [Fact]
    public void Resolve_TypedOverrides_ConvertToDeclaredTypes()
    {
        var values = ParameterValues.Resolve(Declared, new Dictionary<string, string>
        {
            ["MaxK"] = "4",
            ["MinSilhouette"] = "0.5",
            ["UsePca"] = "true",
            ["ModelApprovalStatus"] = "Approved",
            ["DataFile"] = "s3://b/k.csv",
        });

        Assert.Equal("4", values["MaxK"]!.ToJsonString());
        Assert.Equal("0.5", values["MinSilhouette"]!.ToJsonString());
        Assert.Equal("true", values["UsePca"]!.ToJsonString());
        Assert.Equal("\"Approved\"", values["ModelApprovalStatus"]!.ToJsonString());
        Assert.Equal("\"s3://b/k.csv\"", values["DataFile"]!.ToJsonString());
    }

    [Fact]
    public void Resolve_UnknownName_FailsListingDeclaredParameters()
    {
        Assert.Equal("Unknown parameter MaxKK; the pipeline declares: DataFile, MaxK, MinSilhouette, UsePca, ModelApprovalStatus.", Error(("MaxKK", "3")));
    }

    [Theory]
    [InlineData("MaxK", "3.5", "Parameter MaxK is Integer: '3.5' is not an integer such as 42.")]
    [InlineData("MaxK", "ten", "Parameter MaxK is Integer: 'ten' is not an integer such as 42.")]
    [InlineData("MinSilhouette", "high", "Parameter MinSilhouette is Float: 'high' is not a number such as 0.25.")]
    [InlineData("MinSilhouette", "NaN", "Parameter MinSilhouette is Float: 'NaN' is not a number such as 0.25.")]
    [InlineData("UsePca", "yes", "Parameter UsePca is Boolean: 'yes' is not true or false.")]
    [InlineData("ModelApprovalStatus", "approved", "Parameter ModelApprovalStatus: 'approved' is not one of Approved, PendingManualApproval, Rejected.")]
    public void Resolve_WrongType_FailsNamingParameterAndValue(string name, string value, string expected)
    {
        Assert.Equal(expected, Error((name, value)));
    }

    [Fact]
    public void Resolve_SeveralProblems_ReportsAllAtOnce()
    {
        Assert.Equal(
            "Parameter MaxK is Integer: 'x' is not an integer such as 42." + Environment.NewLine + "Unknown parameter Nope; the pipeline declares: DataFile, MaxK, MinSilhouette, UsePca, ModelApprovalStatus.",
            Error(("Nope", "1"), ("MaxK", "x")));
    }

    [Fact]
    public void Resolve_ParameterWithoutDefault_RequiresOverride()
    {
        var declared = new[] { PipelineParameter.FromJson(JsonNode.Parse("""{"Name": "Input", "Type": "String"}""")) };

        var error = Assert.Throws<PipelineRunnerException>(() => ParameterValues.Resolve(declared, new Dictionary<string, string>())).Message;

        Assert.Equal("Parameter Input has no default value; pass --param Input=<String>.", error);
    }

    [Fact]
    public void FromJson_UnknownType_Fails()
    {
        var error = Assert.Throws<PipelineRunnerException>(() => PipelineParameter.FromJson(JsonNode.Parse("""{"Name": "X", "Type": "Double"}"""))).Message;

        Assert.Equal("Pipeline parameter X has Type 'Double'; expected one of String, Integer, Float, Boolean.", error);
    }

    [Fact]
    public void ParseAssignments_ValueWithEqualsAndEmptyValue_KeepsThem()
    {
        var parsed = ParameterValues.ParseAssignments(["Features=a=b", "Baseline="]);

        Assert.Equal("a=b", parsed["Features"]);
        Assert.Equal(string.Empty, parsed["Baseline"]);
    }

    [Theory]
    [InlineData("NoEquals", "--param 'NoEquals' is not Name=Value.")]
    [InlineData("=value", "--param '=value' is not Name=Value.")]
    public void ParseAssignments_Malformed_Fails(string assignment, string expected)
    {
        Assert.Equal(expected, Assert.Throws<PipelineRunnerException>(() => ParameterValues.ParseAssignments([assignment])).Message);
    }

    [Fact]
    public void ParseAssignments_Duplicate_Fails()
    {
        Assert.Equal("--param MaxK is given more than once.", Assert.Throws<PipelineRunnerException>(() => ParameterValues.ParseAssignments(["MaxK=1", "MaxK=2"])).Message);
    }
}
