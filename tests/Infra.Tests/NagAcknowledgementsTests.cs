using Amazon.CDK;
using Amazon.CDK.Assertions;
using Amazon.CDK.AWS.S3;
using Constructs;
using CustomerSegmentation.Infra.Compliance;

namespace CustomerSegmentation.Infra.Tests;

public sealed class NagAcknowledgementsTests
{
    private const string LoggingReason = "Test bucket: nothing reads its access logs.";
    private const string WildcardReason = "Test role: reads every object under one bucket prefix.";

    // cdk-nag finding ids contain < and >, which the default encoder would write as \u003C and \u003E.
    private static readonly System.Text.Json.JsonSerializerOptions ReadableJson = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    [Fact]
    public void Add_L2Bucket_WritesRuleAndReasonAsCdkNagMetadataOnItsResource()
    {
        var (stack, bucket) = StackWithBucket();

        NagAcknowledgements.Add(bucket, "AwsSolutions-S1", LoggingReason);

        Template.FromStack(stack).HasResource("AWS::S3::Bucket", new Dictionary<string, object>
        {
            ["Metadata"] = Match.ObjectEquals(new Dictionary<string, object>
            {
                ["cdk_nag"] = new Dictionary<string, object>
                {
                    ["rules_to_suppress"] = new object[]
                    {
                        new Dictionary<string, object> { ["id"] = "AwsSolutions-S1", ["reason"] = LoggingReason },
                    },
                },
            }),
        });
    }

    [Fact]
    public void Add_L1Resource_WritesMetadataOnThatResource()
    {
        var stack = new Stack(new App(), "Test");
        var bucket = new CfnBucket(stack, "Raw");

        NagAcknowledgements.Add(bucket, "AwsSolutions-S1", LoggingReason);

        Assert.Equal(
            """[{"id":"AwsSolutions-S1","reason":"Test bucket: nothing reads its access logs."}]""",
            RulesToSuppressJson(stack, "AWS::S3::Bucket"));
    }

    [Fact]
    public void Add_WithAppliesTo_WritesEachFindingInOrder()
    {
        var (stack, bucket) = StackWithBucket();

        NagAcknowledgements.Add(bucket, "AwsSolutions-IAM5", WildcardReason, "Resource::<Raw.Arn>/data/*", "Action::s3:GetObject*");

        Assert.Equal(
            """[{"id":"AwsSolutions-IAM5","reason":"Test role: reads every object under one bucket prefix.","applies_to":["Resource::<Raw.Arn>/data/*","Action::s3:GetObject*"]}]""",
            RulesToSuppressJson(stack, "AWS::S3::Bucket"));
    }

    [Fact]
    public void Add_CalledTwice_KeepsBothAcknowledgementsInCallOrder()
    {
        var (stack, bucket) = StackWithBucket();

        NagAcknowledgements.Add(bucket, "AwsSolutions-S1", LoggingReason);
        NagAcknowledgements.Add(bucket, "AwsSolutions-IAM5", WildcardReason, "Resource::*");

        Assert.Equal(
            """[{"id":"AwsSolutions-S1","reason":"Test bucket: nothing reads its access logs."},{"id":"AwsSolutions-IAM5","reason":"Test role: reads every object under one bucket prefix.","applies_to":["Resource::*"]}]""",
            RulesToSuppressJson(stack, "AWS::S3::Bucket"));
    }

    [Fact]
    public void Add_ResourceWithOtherMetadata_KeepsTheOtherMetadata()
    {
        var (stack, bucket) = StackWithBucket();
        ((CfnResource)bucket.Node.DefaultChild!).AddMetadata("cfn_nag", new Dictionary<string, object> { ["rules_to_suppress"] = Array.Empty<object>() });

        NagAcknowledgements.Add(bucket, "AwsSolutions-S1", LoggingReason);

        var metadata = System.Text.Json.JsonSerializer.SerializeToElement(
            Template.FromStack(stack).FindResources("AWS::S3::Bucket").Single().Value["Metadata"]);
        Assert.Equal(["cfn_nag", "cdk_nag"], metadata.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Add_OnTwoResources_KeepsEachResourcesAcknowledgementsApart()
    {
        var (stack, bucket) = StackWithBucket();
        var other = new Bucket(stack, "Other");

        NagAcknowledgements.Add(bucket, "AwsSolutions-S1", LoggingReason);
        NagAcknowledgements.Add(other, "AwsSolutions-S10", "Test bucket: TLS is enforced by the VPC endpoint policy.");

        var template = Template.FromStack(stack);
        var byId = template.FindResources("AWS::S3::Bucket").ToDictionary(
            pair => pair.Key,
            pair => System.Text.Json.JsonSerializer.Serialize(pair.Value["Metadata"]));
        Assert.Equal(2, byId.Count);
        Assert.Contains("\"AwsSolutions-S1\"", byId.Single(p => p.Key.StartsWith("Raw", StringComparison.Ordinal)).Value, StringComparison.Ordinal);
        Assert.DoesNotContain("\"AwsSolutions-S10\"", byId.Single(p => p.Key.StartsWith("Raw", StringComparison.Ordinal)).Value, StringComparison.Ordinal);
        Assert.Contains("\"AwsSolutions-S10\"", byId.Single(p => p.Key.StartsWith("Other", StringComparison.Ordinal)).Value, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("too short")]
    [InlineData("   short   ")]
    [InlineData("")]
    [InlineData("          ")]
    public void Add_ReasonUnderTenCharacters_ThrowsNamingTheRule(string reason)
    {
        var (_, bucket) = StackWithBucket();

        var error = Assert.Throws<ArgumentException>(() => NagAcknowledgements.Add(bucket, "AwsSolutions-S1", reason));

        Assert.Equal("The reason for acknowledging AwsSolutions-S1 must say why in at least 10 characters. (Parameter 'reason')", error.Message);
    }

    [Fact]
    public void Add_ReasonOfExactlyTenCharacters_IsAccepted()
    {
        var (stack, bucket) = StackWithBucket();

        NagAcknowledgements.Add(bucket, "AwsSolutions-S1", "0123456789");

        Assert.Equal("""[{"id":"AwsSolutions-S1","reason":"0123456789"}]""", RulesToSuppressJson(stack, "AWS::S3::Bucket"));
    }

    [Fact]
    public void Add_ShortReason_WritesNothing()
    {
        var (stack, bucket) = StackWithBucket();

        _ = Assert.Throws<ArgumentException>(() => NagAcknowledgements.Add(bucket, "AwsSolutions-S1", "short"));

        Assert.False(Template.FromStack(stack).FindResources("AWS::S3::Bucket").Single().Value.ContainsKey("Metadata"));
    }

    [Fact]
    public void Add_PlainConstruct_ThrowsNamingItsPath()
    {
        var stack = new Stack(new App(), "Test");
        var plain = new Construct(stack, "Plain");

        var error = Assert.Throws<ArgumentException>(() => NagAcknowledgements.Add(plain, "AwsSolutions-S1", LoggingReason));

        Assert.Equal("Test/Plain is not a CloudFormation resource and has none as its default child. (Parameter 'construct')", error.Message);
    }

    [Fact]
    public void Add_Stack_ThrowsBecauseAcknowledgementsBelongOnResources()
    {
        var stack = new Stack(new App(), "Test");

        var error = Assert.Throws<ArgumentException>(() => NagAcknowledgements.Add(stack, "AwsSolutions-S1", LoggingReason));

        Assert.Equal("Test is not a CloudFormation resource and has none as its default child. (Parameter 'construct')", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Add_BlankRuleId_Throws(string ruleId)
    {
        var (_, bucket) = StackWithBucket();

        var error = Assert.Throws<ArgumentException>(() => NagAcknowledgements.Add(bucket, ruleId, LoggingReason));

        Assert.Equal("ruleId", error.ParamName);
    }

    [Theory]
    [InlineData("AwsSolutions-IAM5[Resource::*]")]
    [InlineData("AwsSolutions::AwsSolutions-S1")]
    [InlineData("S1")]
    public void Add_RuleIdThatIsNotOneRule_ThrowsPointingToAppliesTo(string ruleId)
    {
        var (_, bucket) = StackWithBucket();

        var error = Assert.Throws<ArgumentException>(() => NagAcknowledgements.Add(bucket, ruleId, LoggingReason));

        Assert.Equal(
            $"'{ruleId}' is not a rule id such as AwsSolutions-S1: name the rule here and pass findings such as Resource::* as appliesTo. (Parameter 'ruleId')",
            error.Message);
    }

    [Fact]
    public void Add_BlankFinding_ThrowsNamingTheRule()
    {
        var (_, bucket) = StackWithBucket();

        var error = Assert.Throws<ArgumentException>(() => NagAcknowledgements.Add(bucket, "AwsSolutions-IAM5", WildcardReason, "Resource::*", " "));

        Assert.Equal("The findings acknowledged for AwsSolutions-IAM5 include an empty one. (Parameter 'appliesTo')", error.Message);
    }

    private static (Stack Stack, Bucket Bucket) StackWithBucket()
    {
        var stack = new Stack(new App(), "Test");
        return (stack, new Bucket(stack, "Raw"));
    }

    private static System.Text.Json.JsonElement RulesToSuppress(Stack stack, string type)
    {
        var resource = Template.FromStack(stack).FindResources(type).Single().Value;
        var json = System.Text.Json.JsonSerializer.SerializeToElement(resource["Metadata"]);
        return json.GetProperty("cdk_nag").GetProperty("rules_to_suppress");
    }

    // Serializing keeps the template's key order, so the expected strings also pin what CloudFormation receives.
    private static string RulesToSuppressJson(Stack stack, string type) =>
        System.Text.Json.JsonSerializer.Serialize(RulesToSuppress(stack, type), ReadableJson);
}
