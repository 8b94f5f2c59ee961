using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.Tests;

public class IntrinsicResolverTests
{
    private static readonly JsonObject Template = (JsonObject)JsonNode.Parse("""
        {
          "Parameters": { "BootstrapVersion": { "Type": "String", "Default": "/cdk-bootstrap/version" }, "NoDefault": { "Type": "String" } },
          "Mappings": { "ImageAccounts": { "us-east-1": { "Account": "683313688378" } } },
          "Resources": {
            "DataBucketE3889A50": { "Type": "AWS::S3::Bucket" },
            "NamedBucket": { "Type": "AWS::S3::Bucket", "Properties": { "BucketName": { "Fn::Sub": "named-${AWS::AccountId}" } } },
            "PipelineRoleDCFDBB91": { "Type": "AWS::IAM::Role" },
            "Key961B73FD": { "Type": "AWS::KMS::Key" },
            "NamedFunction": { "Type": "AWS::Lambda::Function", "Properties": { "FunctionName": { "Fn::Sub": "${AWS::StackName}-deployer" } } },
            "UnnamedFunction": { "Type": "AWS::Lambda::Function", "Properties": {} },
            "LatencyAlarm": { "Type": "AWS::CloudWatch::Alarm", "Properties": { "AlarmName": "latency-p99" } },
            "ApprovedRule": { "Type": "AWS::Events::Rule", "Properties": {} },
            "Api": { "Type": "AWS::ApiGateway::RestApi" }
          }
        }
        """)!;

    private static JsonNode? Resolve(string json) => new IntrinsicResolver(Template, "SegmentationStack").Resolve(JsonNode.Parse(json));

    private static string ResolveError(string json) => Assert.Throws<LocalAwsException>(() => Resolve(json)).Message;

    [Theory]
    [InlineData("AWS::Region", "us-east-1")]
    [InlineData("AWS::AccountId", "000000000000")]
    [InlineData("AWS::Partition", "aws")]
    [InlineData("AWS::URLSuffix", "amazonaws.com")]
    [InlineData("AWS::StackName", "SegmentationStack")]
    [InlineData("DataBucketE3889A50", "databuckete3889a50")]
    [InlineData("NamedBucket", "named-000000000000")]
    [InlineData("Key961B73FD", "SegmentationStack-Key961B73FD-local")]
    [InlineData("BootstrapVersion", "/cdk-bootstrap/version")]
    [InlineData("NamedFunction", "SegmentationStack-deployer")]
    [InlineData("UnnamedFunction", "SegmentationStack-UnnamedFunction-local")]
    [InlineData("LatencyAlarm", "latency-p99")]
    public void Ref_KnownTarget_ResolvesToLocalValue(string target, string expected)
    {
        Assert.Equal(expected, (string?)Resolve($$"""{"Ref": "{{target}}"}"""));
    }

    [Fact]
    public void Ref_UnknownLogicalId_FailsNamingIt()
    {
        Assert.Equal("Ref Missing: the template has no resource or parameter 'Missing'.", ResolveError("""{"Ref": "Missing"}"""));
    }

    [Fact]
    public void Ref_ParameterWithoutDefault_Fails()
    {
        Assert.Equal("Ref NoDefault: the template parameter has no Default to use locally.", ResolveError("""{"Ref": "NoDefault"}"""));
    }

    [Fact]
    public void Ref_UnsupportedPseudoParameter_Fails()
    {
        Assert.Equal("Ref AWS::NotificationARNs is not supported locally.", ResolveError("""{"Ref": "AWS::NotificationARNs"}"""));
    }

    [Fact]
    public void Ref_NoValue_RemovesTheProperty()
    {
        Assert.Equal("""{"Keep":1,"List":[2]}""", Resolve("""{"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}, "List": [2, {"Ref": "AWS::NoValue"}]}""")!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"Fn::GetAtt": ["PipelineRoleDCFDBB91", "Arn"]}""", "arn:aws:iam::000000000000:role/PipelineRoleDCFDBB91")]
    [InlineData("""{"Fn::GetAtt": "PipelineRoleDCFDBB91.Arn"}""", "arn:aws:iam::000000000000:role/PipelineRoleDCFDBB91")]
    [InlineData("""{"Fn::GetAtt": ["DataBucketE3889A50", "Arn"]}""", "arn:aws:s3:::databuckete3889a50")]
    [InlineData("""{"Fn::GetAtt": ["DataBucketE3889A50", "RegionalDomainName"]}""", "databuckete3889a50.s3.us-east-1.amazonaws.com")]
    [InlineData("""{"Fn::GetAtt": ["NamedFunction", "Arn"]}""", "arn:aws:lambda:us-east-1:000000000000:function:SegmentationStack-deployer")]
    [InlineData("""{"Fn::GetAtt": ["UnnamedFunction", "Arn"]}""", "arn:aws:lambda:us-east-1:000000000000:function:SegmentationStack-UnnamedFunction-local")]
    [InlineData("""{"Fn::GetAtt": ["ApprovedRule", "Arn"]}""", "arn:aws:events:us-east-1:000000000000:rule/SegmentationStack-ApprovedRule-local")]
    [InlineData("""{"Fn::GetAtt": ["Api", "RootResourceId"]}""", "SegmentationStack-Api-local-root")]
    public void GetAtt_SupportedAttribute_ResolvesToLocalArn(string json, string expected)
    {
        Assert.Equal(expected, (string?)Resolve(json));
    }

    [Fact]
    public void GetAtt_UnsupportedAttribute_FailsNamingAttributeAndType()
    {
        Assert.Equal(
            "Fn::GetAtt Key961B73FD.Arn (AWS::KMS::Key) is not supported locally " +
            "(supported: AWS::IAM::Role Arn; AWS::S3::Bucket Arn, DomainName, RegionalDomainName; AWS::Lambda::Function Arn; " +
            "AWS::Events::Rule Arn; AWS::ApiGateway::RestApi RootResourceId).",
            ResolveError("""{"Fn::GetAtt": ["Key961B73FD", "Arn"]}"""));
    }

    [Fact]
    public void Join_NestedIntrinsics_JoinsResolvedValues()
    {
        Assert.Equal(
            "s3://databuckete3889a50/data/customers.csv",
            (string?)Resolve("""{"Fn::Join": ["", ["s3://", {"Ref": "DataBucketE3889A50"}, "/data/customers.csv"]]}"""));
    }

    [Fact]
    public void Sub_StringForm_ResolvesPseudoRefsAttributesAndEscapes()
    {
        Assert.Equal(
            "cdk-hnb659fds-assets-000000000000-us-east-1 databuckete3889a50 arn:aws:iam::000000000000:role/PipelineRoleDCFDBB91 ${Literal}",
            (string?)Resolve("""{"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region} ${DataBucketE3889A50} ${PipelineRoleDCFDBB91.Arn} ${!Literal}"}"""));
    }

    [Fact]
    public void Sub_VariableMapForm_UsesVariablesFirst()
    {
        Assert.Equal(
            "683313688378.dkr.ecr.us-east-1.amazonaws.com",
            (string?)Resolve("""{"Fn::Sub": ["${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}", {"Account": {"Fn::FindInMap": ["ImageAccounts", {"Ref": "AWS::Region"}, "Account"]}}]}"""));
    }

    [Fact]
    public void FindInMap_MissingEntry_FailsNamingKeys()
    {
        Assert.Equal(
            "Fn::FindInMap: mapping ImageAccounts has no entry [eu-west-9][Account].",
            ResolveError("""{"Fn::FindInMap": ["ImageAccounts", "eu-west-9", "Account"]}"""));
    }

    [Fact]
    public void SelectAndSplit_Combined_PickTheElement()
    {
        Assert.Equal("b", (string?)Resolve("""{"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}"""));
    }

    [Fact]
    public void Select_IndexOutOfRange_Fails()
    {
        Assert.Equal("Fn::Select index 3 is out of range for a list of 2.", ResolveError("""{"Fn::Select": ["3", ["a", "b"]]}"""));
    }

    [Fact]
    public void Resolve_UnsupportedFunction_FailsNamingIt()
    {
        Assert.Equal(
            "Fn::If is not supported locally (supported: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::FindInMap, Fn::Select, Fn::Split).",
            ResolveError("""{"Fn::If": ["Cond", "a", "b"]}"""));
    }

    [Fact]
    public void BucketLogicalIds_Template_ListsEveryBucket()
    {
        Assert.Equal(["DataBucketE3889A50", "NamedBucket"], new IntrinsicResolver(Template, "S").BucketLogicalIds);
    }

    [Fact]
    public void LogicalIdsOfType_Functions_ListsThemInTemplateOrder()
    {
        Assert.Equal(["NamedFunction", "UnnamedFunction"], new IntrinsicResolver(Template, "S").LogicalIdsOfType("AWS::Lambda::Function"));
    }

    [Fact]
    public void PhysicalName_MissingResource_FailsNamingIt()
    {
        Assert.Equal(
            "Resource Ghost: the template has no resource or parameter 'Ghost'.",
            Assert.Throws<LocalAwsException>(() => new IntrinsicResolver(Template, "S").PhysicalName("Ghost")).Message);
    }
}
