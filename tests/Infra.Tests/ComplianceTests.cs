using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.CDK.Assertions;
using CustomerSegmentation.Infra.Pipelines;
using Match = Amazon.CDK.Assertions.Match;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>
/// Every synthesized template passes AWS's own validators (cdk-nag AwsSolutions, cfn-lint) and the platform's
/// rules on wildcards, public access and secrets, for the default app and each configuration variant that changes
/// resources. <see cref="ComplianceCheckTests"/> proves each check catches what it is meant to catch.
/// </summary>
public sealed class ComplianceTests(SynthesizedVariants synthesized) : IClassFixture<SynthesizedVariants>
{
    public static TheoryData<string> Variants => [.. SynthesizedVariants.Contexts.Keys];

    [Theory]
    [MemberData(nameof(Variants))]
    public void CdkNag_Variant_LeavesNoUnacknowledgedFinding(string variant)
    {
        var result = synthesized.Get(variant).Nag;

        Assert.True(result.FindingsAfter.Count == 0,
            $"cdk-nag AwsSolutions findings nobody acknowledged in the {variant} template:{Environment.NewLine}"
            + string.Join(Environment.NewLine, result.FindingsAfter));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void CdkNag_Variant_EveryAcknowledgementIsValidAndStillNeeded(string variant)
    {
        var result = synthesized.Get(variant).Nag;

        Assert.True(result.Stale.Count == 0 && result.Invalid.Count == 0,
            $"Acknowledgements in the {variant} template that match no cdk-nag finding (stale: delete them) or are malformed:"
            + Environment.NewLine + string.Join(Environment.NewLine, result.Stale.Concat(result.Invalid)));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Acknowledgements_Variant_EachGivesAReasonOfAtLeastTenCharacters(string variant)
    {
        var template = synthesized.Get(variant).Template;

        var tooShort = TemplateAudit.Acknowledgements(template)
            .Where(a => a.Reason.Trim().Length < 10)
            .Select(a => $"{a.LogicalId}: {a.RuleId} '{a.Reason}'")
            .ToList();

        Assert.True(tooShort.Count == 0, "Acknowledgements without a real reason:" + Environment.NewLine + string.Join(Environment.NewLine, tooShort));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void CfnLint_Variant_ReportsNoErrorOrWarning(string variant)
    {
        var matches = CfnLint.Run(synthesized.Get(variant).TemplatePath);

        Assert.True(matches.Count == 0,
            $"cfn-lint on the {variant} template:{Environment.NewLine}" + string.Join(Environment.NewLine, matches));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void IamPolicies_Variant_HaveNoUnacknowledgedWildcardResource(string variant)
    {
        var wildcards = TemplateAudit.UnacknowledgedWildcardResources(synthesized.Get(variant).Template);

        Assert.True(wildcards.Count == 0,
            "Wildcard resources in IAM policies without an AwsSolutions-IAM5 acknowledgement naming them:"
            + Environment.NewLine + string.Join(Environment.NewLine, wildcards));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ResourcePolicies_Variant_AllowNothingToEveryone(string variant)
    {
        var statements = TemplateAudit.PublicAllowStatements(synthesized.Get(variant).Template);

        Assert.True(statements.Count == 0, "Allow statements open to any principal:" + Environment.NewLine + string.Join(Environment.NewLine, statements));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Template_Variant_ContainsNoSecretValue(string variant)
    {
        var synthesis = synthesized.Get(variant);

        var secrets = TemplateAudit.SecretValues(synthesis.Template, File.ReadAllText(synthesis.TemplatePath));

        Assert.True(secrets.Count == 0, "Secret values in the template:" + Environment.NewLine + string.Join(Environment.NewLine, secrets));
    }

    [Fact]
    public void Program_RunTwiceInSeparateProcesses_WritesByteIdenticalTemplatesAndAssets()
    {
        using var first = new TemporaryDirectory();
        using var second = new TemporaryDirectory();

        RunProgram(first.Path);
        RunProgram(second.Path);

        var firstFiles = AssemblyFiles(first.Path);
        var secondFiles = AssemblyFiles(second.Path);
        Assert.Contains("CustomerSegmentation.template.json", firstFiles.Keys);
        Assert.Equal(firstFiles.Keys, secondFiles.Keys);
        Assert.All(firstFiles, file => Assert.True(
            file.Value.AsSpan().SequenceEqual(secondFiles[file.Key]),
            $"{file.Key} differs between two runs of Program.cs."));
    }

    [Fact]
    public void Synth_RemovalPolicyDestroy_WarnsThatEveryObjectWillBeDeleted()
    {
        var stack = synthesized.Get("destroy").Stack;

        var warnings = Annotations.FromStack(stack).FindWarning("*", Match.AnyValue());

        var warning = Assert.Single(warnings);
        Assert.Equal("/CustomerSegmentation/Storage", warning.Id);
        Assert.Equal(
            "storage:removalPolicy is 'destroy': cdk destroy will delete the data, model and access-log buckets and every object in them. Use only for throw-away development stacks. [ack: segmentation:storage-destroy]",
            warning.Entry.Data);
    }

    [Fact]
    public void Synth_Default_WarnsAboutNothing()
    {
        var warnings = Annotations.FromStack(synthesized.Get("default").Stack).FindWarning("*", Match.AnyValue());

        Assert.Empty(warnings.Select(w => $"{w.Id}: {w.Entry.Data}"));
    }

    [Fact]
    public void Synth_RemovalPolicyDestroy_RunsAutoDeleteOnACurrentNodeRuntime()
    {
        var template = synthesized.Get("destroy").Template;

        var handler = Assert.Single(template["Resources"]!.AsObject(),
            r => r.Key.StartsWith("CustomS3AutoDeleteObjectsCustomResourceProviderHandler", StringComparison.Ordinal));

        Assert.Equal("nodejs24.x", (string?)handler.Value!["Properties"]!["Runtime"]);
        Assert.Null(template["Mappings"]?["LatestNodeRuntimeMap"]);
    }

    [Fact]
    public void Synth_KmsKeyArn_EncryptsDataAndModelBucketsWithTheKeyAndLogsWithS3Keys()
    {
        var template = Template.FromStack(synthesized.Get("kms").Stack);

        var kms = new Dictionary<string, object>
        {
            ["BucketEncryption"] = new Dictionary<string, object>
            {
                ["ServerSideEncryptionConfiguration"] = new object[]
                {
                    new Dictionary<string, object>
                    {
                        ["BucketKeyEnabled"] = true,
                        ["ServerSideEncryptionByDefault"] = new Dictionary<string, object>
                        {
                            ["SSEAlgorithm"] = "aws:kms",
                            ["KMSMasterKeyID"] = SynthesizedVariants.KmsKeyArn,
                        },
                    },
                },
            },
        };
        Assert.Equal(2, template.FindResources("AWS::S3::Bucket", new Dictionary<string, object> { ["Properties"] = kms }).Count);
        template.HasResourceProperties("AWS::S3::Bucket", new Dictionary<string, object>
        {
            ["BucketEncryption"] = new Dictionary<string, object>
            {
                ["ServerSideEncryptionConfiguration"] = new object[]
                {
                    new Dictionary<string, object>
                    {
                        ["ServerSideEncryptionByDefault"] = new Dictionary<string, object> { ["SSEAlgorithm"] = "AES256" },
                    },
                },
            },
        });
    }

    // The test binaries folder holds Infra.dll and its runtimeconfig, so this runs Program.cs itself, as cdk synth would.
    // Lambda bundling is off (the same switch as TestStacks): the asset hashes in the template come from the sources
    // either way, and NativeLambdaBundlingTests publishes one function for real.
    private static void RunProgram(string outdir)
    {
        var run = ExternalTool.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "Infra.dll")], "install the .NET SDK",
            new Dictionary<string, string>
            {
                ["CDK_OUTDIR"] = outdir,
                ["CDK_CONTEXT_JSON"] = $$"""{"{{TestStacks.BundlingStacks}}":[]}""",
            });
        Assert.True(run.ExitCode == 0, $"Program.cs failed (exit code {run.ExitCode}): {run.Stderr}");
    }

    private static SortedDictionary<string, byte[]> AssemblyFiles(string directory) =>
        new(Directory.EnumerateFiles(directory)
                .Where(f => f.EndsWith(".template.json", StringComparison.Ordinal) || f.EndsWith(".assets.json", StringComparison.Ordinal))
                .Concat(Directory.EnumerateDirectories(directory, "asset.*").SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories)))
                .ToDictionary(f => Path.GetRelativePath(directory, f), File.ReadAllBytes),
            StringComparer.Ordinal);
}

/// <summary>The checks of <see cref="ComplianceTests"/> against small templates that break (or keep) one rule each.</summary>
public sealed class ComplianceCheckTests(CdkNagSamples samples) : IClassFixture<CdkNagSamples>
{
    [Fact]
    public void CdkNagCheck_TemplateWithFindings_ReportsEachWithRuleAndLogicalIdAndFails()
    {
        var result = samples.Result(CdkNagSamples.Unacknowledged);

        Assert.Equal(
            [
                "AwsSolutions-S1 on Bucket",
                "AwsSolutions-S10 on Bucket",
                "AwsSolutions-IAM5[Action::s3:*] on Role",
                "AwsSolutions-IAM5[Resource::*] on Role",
            ],
            result.FindingsAfter.Select(f => $"{f.RuleId} on {f.LogicalId}"));
        Assert.Equal("The S3 Bucket has server access logs disabled.", result.FindingsAfter[0].Message);
        Assert.Equal(result.FindingsBefore, result.FindingsAfter);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public void CdkNagCheck_AcknowledgementWithAppliesTo_HidesOnlyThatFinding()
    {
        var result = samples.Result(CdkNagSamples.AppliesTo);

        Assert.Equal(4, result.FindingsBefore.Count);
        Assert.Equal(
            ["AwsSolutions-S1 on Bucket", "AwsSolutions-S10 on Bucket", "AwsSolutions-IAM5[Action::s3:*] on Role"],
            result.FindingsAfter.Select(f => $"{f.RuleId} on {f.LogicalId}"));
        Assert.Empty(result.Stale);
    }

    [Fact]
    public void CdkNagCheck_RuleWideAcknowledgementOfAFindingRule_IsStaleAndHidesNothing()
    {
        var result = samples.Result(CdkNagSamples.RuleWide);

        Assert.Equal(4, result.FindingsAfter.Count);
        Assert.Equal(["AwsSolutions-IAM5 on Role"], result.Stale);
    }

    [Fact]
    public void CdkNagCheck_AcknowledgementOfARuleThatDoesNotFire_IsStale()
    {
        var result = samples.Result(CdkNagSamples.Stale);

        Assert.Equal(["AwsSolutions-S2 on Bucket"], result.Stale);
    }

    [Fact]
    public void CdkNagCheck_ShortReason_IsInvalidAndHidesNothing()
    {
        var result = samples.Result(CdkNagSamples.ShortReason);

        Assert.Equal(["Bucket: AwsSolutions-S1: reason must say why in at least 10 characters"], result.Invalid);
        Assert.Contains(result.FindingsAfter, f => f.RuleId == "AwsSolutions-S1");
    }

    [Fact]
    public void CdkNagCheck_EveryFindingAcknowledged_PassesWithExitCodeZeroAndCountsFindingsBefore()
    {
        using var folder = new TemporaryDirectory();
        var file = folder.WriteTemplate(CdkNagSamples.AllAcknowledged());

        var result = CdkNag.Run(file);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(4, result.FindingsBefore.Count);
        Assert.Empty(result.FindingsAfter);
        Assert.Empty(result.Stale);
    }

    [Fact]
    public void CdkNagCheck_MissingPath_FailsAsAToolErrorNamingIt()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-cdk-out-" + Guid.NewGuid().ToString("N"));

        var run = CdkNag.Invoke(missing);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"cdk-nag check: {missing} does not exist: pass a cdk.out folder or a *.template.json file.", run.Stderr.Trim());
    }

    [Fact]
    public void CfnLint_InvalidTemplate_ReportsTheError()
    {
        using var folder = new TemporaryDirectory();
        var file = folder.WriteTemplate(JsonNode.Parse("""
            {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "Sometimes"}}}}}
            """)!.AsObject());

        var matches = CfnLint.Run(file);

        var match = Assert.Single(matches);
        Assert.StartsWith("E3030 Error ", match, StringComparison.Ordinal);
    }

    [Fact]
    public void CfnLint_LambdaRuntimeNoLongerCreatable_ReportsTheError()
    {
        using var folder = new TemporaryDirectory();
        var file = folder.WriteTemplate(JsonNode.Parse("""
            {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
              "Runtime": "nodejs20.x", "Handler": "index.handler", "Role": "arn:aws:iam::123456789012:role/r",
              "Code": {"ZipFile": "exports.handler = async () => 1;"}}}}}
            """)!.AsObject());

        var matches = CfnLint.Run(file);

        var match = Assert.Single(matches);
        Assert.StartsWith("E2533 Error ", match, StringComparison.Ordinal);
    }

    [Fact]
    public void CfnLint_UnusedMapping_ReportsTheWarning()
    {
        using var folder = new TemporaryDirectory();
        var file = folder.WriteTemplate(JsonNode.Parse("""
            {"Mappings": {"Unused": {"us-east-1": {"value": "x"}}}, "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}
            """)!.AsObject());

        var matches = CfnLint.Run(file);

        var match = Assert.Single(matches);
        Assert.StartsWith("W7001 Warning ", match, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"*\"", "Role: Resource::*")]
    [InlineData("\"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*\"", "Role: Resource::arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*")]
    [InlineData("{\"Fn::Join\": [\"\", [{\"Fn::GetAtt\": [\"Table\", \"Arn\"]}, \"/index/*\"]]}", "Role: Resource::<Table.Arn>/index/*")]
    [InlineData("{\"Fn::Sub\": \"arn:${AWS::Partition}:sagemaker:*:*:endpoint/*\"}", "Role: Resource::arn:<AWS::Partition>:sagemaker:*:*:endpoint/*")]
    public void WildcardAudit_WildcardWithoutAcknowledgement_IsReported(string resource, string expected)
    {
        var template = PolicyTemplate("\"dynamodb:Query\"", resource, roleMetadata: null);

        Assert.Equal([expected], TemplateAudit.UnacknowledgedWildcardResources(template));
    }

    [Fact]
    public void WildcardAudit_WildcardAcknowledgedForThatResource_IsAccepted()
    {
        var template = PolicyTemplate("\"dynamodb:Query\"", "\"*\"", Acknowledge("AwsSolutions-IAM5", "Query needs no resource here.", "Resource::*"));

        Assert.Empty(TemplateAudit.UnacknowledgedWildcardResources(template));
    }

    [Fact]
    public void WildcardAudit_AcknowledgementOfAnotherFinding_DoesNotCoverTheWildcard()
    {
        var template = PolicyTemplate("\"dynamodb:Query\"", "\"*\"", Acknowledge("AwsSolutions-IAM5", "Query needs no resource here.", "Action::dynamodb:*"));

        Assert.Equal(["Role: Resource::*"], TemplateAudit.UnacknowledgedWildcardResources(template));
    }

    [Fact]
    public void WildcardAudit_ObjectPathOfABucketForS3Actions_IsAccepted()
    {
        var template = PolicyTemplate("[\"s3:GetObject\", \"s3:PutObject\"]", "{\"Fn::Join\": [\"\", [{\"Fn::GetAtt\": [\"Bucket\", \"Arn\"]}, \"/*\"]]}", roleMetadata: null);

        Assert.Empty(TemplateAudit.UnacknowledgedWildcardResources(template));
    }

    [Fact]
    public void WildcardAudit_ObjectPathWithNonS3Action_IsReported()
    {
        var template = PolicyTemplate("[\"s3:GetObject\", \"kms:Decrypt\"]", "{\"Fn::Join\": [\"\", [{\"Fn::GetAtt\": [\"Bucket\", \"Arn\"]}, \"/*\"]]}", roleMetadata: null);

        Assert.Equal(["Role: Resource::<Bucket.Arn>/*"], TemplateAudit.UnacknowledgedWildcardResources(template));
    }

    [Fact]
    public void WildcardAudit_DenyStatement_IsNotAGrant()
    {
        var template = PolicyTemplate("\"s3:*\"", "\"*\"", roleMetadata: null);
        template["Resources"]!["Role"]!["Properties"]!["Policies"]![0]!["PolicyDocument"]!["Statement"]![0]!["Effect"] = "Deny";

        Assert.Empty(TemplateAudit.UnacknowledgedWildcardResources(template));
    }

    [Fact]
    public void WildcardAudit_StandalonePolicyResource_IsChecked()
    {
        var template = JsonNode.Parse("""
            {"Resources": {"Policy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "p", "Roles": ["r"],
              "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]}}}}}
            """)!.AsObject();

        Assert.Equal(["Policy: Resource::*"], TemplateAudit.UnacknowledgedWildcardResources(template));
    }

    [Theory]
    [InlineData("\"*\"")]
    [InlineData("{\"AWS\": \"*\"}")]
    [InlineData("{\"AWS\": [\"arn:aws:iam::123456789012:root\", \"*\"]}")]
    public void PublicAudit_AllowToAnyPrincipal_IsReported(string principal)
    {
        var template = BucketPolicyTemplate("Allow", principal);

        Assert.Equal(["Policy: statement 0 allows s3:GetObject to any principal"], TemplateAudit.PublicAllowStatements(template));
    }

    [Fact]
    public void PublicAudit_DenyToAnyPrincipal_IsAccepted()
    {
        var template = BucketPolicyTemplate("Deny", "{\"AWS\": \"*\"}");

        Assert.Empty(TemplateAudit.PublicAllowStatements(template));
    }

    [Fact]
    public void PublicAudit_AllowToOneAccount_IsAccepted()
    {
        var template = BucketPolicyTemplate("Allow", "{\"AWS\": \"arn:aws:iam::123456789012:root\"}");

        Assert.Empty(TemplateAudit.PublicAllowStatements(template));
    }

    [Fact]
    public void PublicAudit_LambdaPermissionForAnyone_IsReported()
    {
        var template = JsonNode.Parse("""
            {"Resources": {"Invoke": {"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction", "FunctionName": "f", "Principal": "*"}}}}
            """)!.AsObject();

        Assert.Equal(["Invoke: lambda permission for any principal"], TemplateAudit.PublicAllowStatements(template));
    }

    [Theory]
    [InlineData("""{"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": "{\"username\":\"git\",\"token\":\"t0k3n\"}"}}""", "Thing.Properties.SecretString: a SecretString is always a literal secret")]
    [InlineData("""{"Type": "AWS::RDS::DBInstance", "Properties": {"MasterUserPassword": "hunter2hunter2"}}""", "Thing.Properties.MasterUserPassword: literal value")]
    [InlineData("""{"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": {"SecretStringTemplate": "{\"username\":\"git\",\"token\":\"t0k3n\"}", "GenerateStringKey": "password"}}}""", "Thing.Properties.GenerateSecretString.SecretStringTemplate.token: literal value")]
    [InlineData("""{"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"GIT_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}}}}""", "Thing.Properties.Environment.Variables.GIT_TOKEN: literal value")]
    [InlineData("""{"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"KEY": "AKIAABCDEFGHIJKLMNOP"}}}}""", "template text: matches an AWS access key id")]
    public void SecretAudit_LiteralSecret_IsReported(string resource, string expected)
    {
        var template = JsonNode.Parse($$$"""{"Resources": {"Thing": {{{resource}}}}}""")!.AsObject();

        Assert.Equal([expected], TemplateAudit.SecretValues(template, template.ToJsonString()));
    }

    [Theory]
    [InlineData("""{"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": {"SecretStringTemplate": "{\"username\":\"git\"}", "GenerateStringKey": "token"}}}""")]
    [InlineData("""{"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f"}}""")]
    [InlineData("""{"Type": "AWS::SageMaker::CodeRepository", "Properties": {"GitConfig": {"RepositoryUrl": "https://example.com/r.git", "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:git-token-AbCdEf"}}}""")]
    [InlineData("""{"Type": "AWS::RDS::DBInstance", "Properties": {"MasterUserPassword": {"Fn::Sub": "{{resolve:secretsmanager:${Secret}:SecretString:password}}"}}}""")]
    public void SecretAudit_ReferenceOrGeneratedSecret_IsAccepted(string resource)
    {
        var template = JsonNode.Parse($$$"""{"Resources": {"Thing": {{{resource}}}}}""")!.AsObject();

        Assert.Empty(TemplateAudit.SecretValues(template, template.ToJsonString()));
    }

    internal static JsonArray Acknowledge(string id, string reason, params string[] appliesTo) => [Rule(id, reason, appliesTo)];

    internal static JsonObject Rule(string id, string reason, params string[] appliesTo)
    {
        var rule = new JsonObject { ["id"] = id, ["reason"] = reason };
        if (appliesTo.Length > 0)
        {
            rule["applies_to"] = new JsonArray([.. appliesTo.Select(a => JsonValue.Create(a))]);
        }

        return rule;
    }

    internal static JsonObject BadTemplate(JsonArray? bucketMetadata, JsonArray? roleMetadata)
    {
        var template = JsonNode.Parse("""
            {"Resources": {
              "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
              "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}]}}}}
            """)!.AsObject();
        SetAcknowledgements(template, "Bucket", bucketMetadata);
        SetAcknowledgements(template, "Role", roleMetadata);
        return template;
    }

    private static JsonObject PolicyTemplate(string actions, string resource, JsonArray? roleMetadata)
    {
        var template = JsonNode.Parse("""
            {"Resources": {
              "Bucket": {"Type": "AWS::S3::Bucket"},
              "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument":
                {"Statement": [{"Effect": "Allow", "Action": ACTIONS, "Resource": RESOURCE}]}}]}}}}
            """.Replace("ACTIONS", actions, StringComparison.Ordinal).Replace("RESOURCE", resource, StringComparison.Ordinal))!.AsObject();
        SetAcknowledgements(template, "Role", roleMetadata);
        return template;
    }

    private static JsonObject BucketPolicyTemplate(string effect, string principal) => JsonNode.Parse("""
        {"Resources": {"Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": "b", "PolicyDocument":
          {"Statement": [{"Effect": "EFFECT", "Principal": PRINCIPAL, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}}}}}
        """.Replace("EFFECT", effect, StringComparison.Ordinal).Replace("PRINCIPAL", principal, StringComparison.Ordinal))!.AsObject();

    private static void SetAcknowledgements(JsonObject template, string logicalId, JsonArray? rules)
    {
        if (rules is not null)
        {
            template["Resources"]![logicalId]!["Metadata"] = new JsonObject { ["cdk_nag"] = new JsonObject { ["rules_to_suppress"] = rules } };
        }
    }
}

/// <summary>
/// Small templates, each breaking or acknowledging cdk-nag rules one way, checked by a single run of the cdk-nag
/// script (one Node.js start instead of one per test). The run's exit code is 1 because some of them fail.
/// </summary>
public sealed class CdkNagSamples : IDisposable
{
    internal const string Unacknowledged = "Unacknowledged";
    internal const string AppliesTo = "AppliesTo";
    internal const string RuleWide = "RuleWide";
    internal const string Stale = "Stale";
    internal const string ShortReason = "ShortReason";

    private readonly TemporaryDirectory folder = new();
    private readonly Lazy<IReadOnlyDictionary<string, CdkNagResult>> results;

    public CdkNagSamples()
    {
        var templates = new Dictionary<string, JsonObject>
        {
            [Unacknowledged] = ComplianceCheckTests.BadTemplate(bucketMetadata: null, roleMetadata: null),
            [AppliesTo] = ComplianceCheckTests.BadTemplate(
                bucketMetadata: null,
                ComplianceCheckTests.Acknowledge("AwsSolutions-IAM5", "Test role may touch any resource.", "Resource::*")),
            [RuleWide] = ComplianceCheckTests.BadTemplate(
                bucketMetadata: null,
                ComplianceCheckTests.Acknowledge("AwsSolutions-IAM5", "cdk-nag 3 needs each finding named in applies_to.")),
            [Stale] = ComplianceCheckTests.BadTemplate(
                ComplianceCheckTests.Acknowledge("AwsSolutions-S2", "Public access is blocked here already."), roleMetadata: null),
            [ShortReason] = ComplianceCheckTests.BadTemplate(ComplianceCheckTests.Acknowledge("AwsSolutions-S1", "no logs"), roleMetadata: null),
        };
        foreach (var (name, template) in templates)
        {
            folder.WriteTemplate(template, name);
        }

        results = new Lazy<IReadOnlyDictionary<string, CdkNagResult>>(() => CdkNag.RunEach(folder.Path));
    }

    /// <summary>Every finding of the bad template acknowledged, the one sample that passes.</summary>
    internal static JsonObject AllAcknowledged() => ComplianceCheckTests.BadTemplate(
        new JsonArray(
            ComplianceCheckTests.Rule("AwsSolutions-S1", "Test bucket: nothing reads its logs."),
            ComplianceCheckTests.Rule("AwsSolutions-S10", "Test bucket: reached only inside the VPC.")),
        ComplianceCheckTests.Acknowledge("AwsSolutions-IAM5", "Test role may touch any resource.", "Resource::*", "Action::s3:*"));

    internal CdkNagResult Result(string sample) => results.Value[sample + ".template.json"];

    public void Dispose() => folder.Dispose();
}

/// <summary>The app synthesized once per configuration variant and shared by the compliance tests.</summary>
public sealed class SynthesizedVariants : IDisposable
{
    /// <summary>The customer-managed key of the <c>kms</c> variant.</summary>
    public const string KmsKeyArn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    private readonly ConcurrentDictionary<string, Lazy<Synthesis>> synths = new(StringComparer.Ordinal);

    /// <summary>
    /// The configurations that change which resources exist: the default, destroy, a customer-managed key, and every
    /// option of the segment API and of the recommendations API on.
    /// </summary>
    public static IReadOnlyDictionary<string, IDictionary<string, object>> Contexts { get; } = new Dictionary<string, IDictionary<string, object>>
    {
        ["default"] = new Dictionary<string, object>(),
        ["destroy"] = new Dictionary<string, object> { ["storage:removalPolicy"] = "destroy" },
        ["kms"] = new Dictionary<string, object> { ["storage:kmsKeyArn"] = KmsKeyArn },
        ["api-options"] = SegmentApiTests.OptionsContext,
        ["recommendations-options"] = RecommendationsApiTests.OptionsContext,
    };

    internal Synthesis Get(string variant) =>
        synths.GetOrAdd(variant, v => new Lazy<Synthesis>(() => Synthesis.Run(Contexts[v]))).Value;

    public void Dispose()
    {
        foreach (var synth in synths.Values.Where(s => s.IsValueCreated))
        {
            synth.Value.Dispose();
        }
    }
}

/// <summary>A class fixture: the app synthesized once with one context, on first use, for every test of a class.</summary>
public abstract class SharedSynthesis(IDictionary<string, object> context) : IDisposable
{
    private readonly Lazy<Synthesis> synthesis = new(() => Synthesis.Run(context));

    internal Synthesis Synthesis => synthesis.Value;

    public void Dispose()
    {
        if (synthesis.IsValueCreated)
        {
            synthesis.Value.Dispose();
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>One synthesis of the platform app into its own cloud assembly folder, deleted on dispose.</summary>
internal sealed class Synthesis : IDisposable
{
    private readonly Lazy<CdkNagResult> nag;

    private Synthesis(SegmentationStack stack, string directory)
    {
        Stack = stack;
        Directory = directory;
        TemplatePath = Path.Combine(directory, stack.TemplateFile);
        Template = JsonNode.Parse(File.ReadAllText(TemplatePath))!.AsObject();
        nag = new Lazy<CdkNagResult>(() => CdkNag.Run(Directory));
    }

    public SegmentationStack Stack { get; }

    public string Directory { get; }

    public string TemplatePath { get; }

    public JsonObject Template { get; }

    /// <summary>cdk-nag AwsSolutions over this assembly, run on first use.</summary>
    public CdkNagResult Nag => nag.Value;

    /// <summary>Synthesizes like Program.cs: same feature flags, settings from context, one stack.</summary>
    public static Synthesis Run(IDictionary<string, object> context)
    {
        // Without CDK_OUTDIR the app synthesizes into a fresh temporary folder, which Dispose may safely delete.
        if (Environment.GetEnvironmentVariable("CDK_OUTDIR") is { } outdir)
        {
            throw new InvalidOperationException($"CDK_OUTDIR is set to {outdir}; unset it so the compliance tests synthesize into temporary folders.");
        }

        var stack = TestStacks.Create(context);
        var assembly = ((Amazon.CDK.Stage)stack.Node.Root).Synth();
        return new Synthesis(stack, assembly.Directory);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

internal sealed record CdkNagFinding(string RuleId, string LogicalId, string Severity, string Message)
{
    public override string ToString() => $"{RuleId} on {LogicalId} ({Severity}): {Message}";
}

internal sealed record CdkNagResult(
    int ExitCode,
    IReadOnlyList<CdkNagFinding> FindingsBefore,
    IReadOnlyList<CdkNagFinding> FindingsAfter,
    IReadOnlyList<string> Stale,
    IReadOnlyList<string> Invalid);

/// <summary>Runs scripts/checks/cdk-nag.mjs, the AwsSolutions pack over a template or cloud assembly.</summary>
internal static class CdkNag
{
    public static ToolRun Invoke(string path) =>
        ExternalTool.Run("node", [Path.Combine(RepositoryLayout.Root().FullName, "scripts", "checks", "cdk-nag.mjs"), path], "run scripts/setup.sh to install Node.js");

    /// <summary>Every template under <paramref name="path"/> as one result.</summary>
    public static CdkNagResult Run(string path)
    {
        var (exitCode, templates) = Execute(path);
        return Result(exitCode, templates);
    }

    /// <summary>One result per template file name; each carries the exit code of the whole run.</summary>
    public static IReadOnlyDictionary<string, CdkNagResult> RunEach(string path)
    {
        var (exitCode, templates) = Execute(path);
        return templates.ToDictionary(t => Path.GetFileName((string)t["template"]!)!, t => Result(exitCode, [t]));
    }

    private static (int ExitCode, List<JsonNode> Templates) Execute(string path)
    {
        var run = Invoke(path);
        if (run.ExitCode is not (0 or 1))
        {
            throw new InvalidOperationException($"The cdk-nag check could not run (exit code {run.ExitCode}): {run.Stderr}");
        }

        return (run.ExitCode, [.. JsonNode.Parse(run.Stdout)!["templates"]!.AsArray().Select(t => t!)]);
    }

    private static CdkNagResult Result(int exitCode, List<JsonNode> templates) =>
        new(
            exitCode,
            [.. templates.SelectMany(t => Findings(t!["findingsBefore"]!))],
            [.. templates.SelectMany(t => Findings(t!["findingsAfter"]!))],
            [.. templates.SelectMany(t => t!["acknowledgements"]!.AsArray())
                .Where(a => !(bool)a!["matched"]!)
                .Select(a => $"{(string?)a!["ruleId"]} on {(string?)a["logicalId"]}")],
            [.. templates.SelectMany(t => t!["invalidAcknowledgements"]!.AsArray())
                .Select(a => $"{(string?)a!["logicalId"]}: {(string?)a["id"]}: {(string?)a["problem"]}")]);

    private static IEnumerable<CdkNagFinding> Findings(JsonNode list) =>
        list.AsArray().Select(f => new CdkNagFinding(
            (string)f!["ruleId"]!, (string)f["logicalId"]!, (string)f["severity"]!, (string)f["message"]!));
}

/// <summary>
/// cfn-lint, AWS's CloudFormation linter. Warnings fail too: on generated templates they have been real problems
/// (a Lambda runtime that can no longer be created, a dead mapping). W3005 (DependsOn also implied by a reference)
/// is the one rule CDK output trips by design, so it is the only one ignored.
/// </summary>
internal static class CfnLint
{
    public static IReadOnlyList<string> Run(string templatePath)
    {
        var run = ExternalTool.Run("cfn-lint", ["--format", "json", "--ignore-checks", "W3005", "--", templatePath],
            "run scripts/setup.sh; cfn-lint comes with the pyenv Python");
        // cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 informational; 1 means it failed to run.
        if ((run.ExitCode & 1) != 0 || run.ExitCode > 15)
        {
            throw new InvalidOperationException($"cfn-lint could not run (exit code {run.ExitCode}): {run.Stderr}");
        }

        return [.. JsonNode.Parse(run.Stdout)!.AsArray().Select(m => string.Create(CultureInfo.InvariantCulture,
            $"{(string?)m!["Rule"]!["Id"]} {(string?)m["Level"]} line {(int?)m["Location"]!["Start"]!["LineNumber"]}: {(string?)m["Message"]}"))];
    }
}

internal sealed record ToolRun(int ExitCode, string Stdout, string Stderr);

internal static class ExternalTool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>Runs a tool from PATH; a missing tool fails the calling test with <paramref name="installHint"/>.</summary>
    public static ToolRun Run(string fileName, IEnumerable<string> arguments, string installHint, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"{fileName} is not on PATH ({e.Message}): {installHint}.", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{fileName} did not finish within {Timeout}.");
            }

            return new ToolRun(process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}

/// <summary>A fresh temporary folder, deleted with everything in it on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("compliance-").FullName;

    /// <summary>Writes <paramref name="template"/> here as <paramref name="name"/>.template.json and returns its path.</summary>
    public string WriteTemplate(JsonObject template, string name = "Checked")
    {
        var path = System.IO.Path.Combine(Path, name + ".template.json");
        File.WriteAllText(path, template.ToJsonString());
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal sealed record Acknowledgement(string LogicalId, string RuleId, string Reason, IReadOnlyList<string> AppliesTo);

/// <summary>The platform's own template rules: wildcards only with evidence, nothing public, no secret values.</summary>
internal static partial class TemplateAudit
{
    private static readonly string[] IdentityPolicyTypes = ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"];
    private static readonly string[] InlinePolicyTypes = ["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"];

    // Property names that hold references to secrets or are CDK plumbing, never the secret itself.
    private static readonly string[] NonSecretSuffixes = ["Arn", "Id", "Name", "Key", "Length", "Validity", "Type", "Url"];

    public static IEnumerable<Acknowledgement> Acknowledgements(JsonObject template) =>
        Resources(template).SelectMany(r =>
            (r.Value["Metadata"]?["cdk_nag"]?["rules_to_suppress"]?.AsArray() ?? []).Select(rule => new Acknowledgement(
                r.Key,
                (string?)rule!["id"] ?? "",
                (string?)rule["reason"] ?? "",
                [.. (rule["applies_to"]?.AsArray() ?? []).Select(a => (string?)a ?? "")])));

    /// <summary>Wildcard resources (<c>*</c>, <c>...:*</c>, <c>.../*</c>) in identity policies with no IAM5 acknowledgement naming them.</summary>
    public static IReadOnlyList<string> UnacknowledgedWildcardResources(JsonObject template)
    {
        var acknowledged = Acknowledgements(template)
            .Where(a => a.RuleId == "AwsSolutions-IAM5")
            .SelectMany(a => a.AppliesTo.Select(finding => (a.LogicalId, finding)))
            .ToHashSet();
        var found = new List<string>();
        foreach (var (logicalId, resource) in Resources(template))
        {
            foreach (var statement in IdentityPolicyStatements(resource).Where(s => (string?)s["Effect"] == "Allow"))
            {
                var actions = Strings(statement["Action"]);
                foreach (var target in Strings(statement["Resource"]).Where(IsWildcard))
                {
                    if (!IsBucketObjectPath(template, target, actions) && !acknowledged.Contains((logicalId, "Resource::" + target)))
                    {
                        found.Add($"{logicalId}: Resource::{target}");
                    }
                }
            }
        }

        return found;
    }

    /// <summary>Allow statements and Lambda permissions whose principal is anyone.</summary>
    public static IReadOnlyList<string> PublicAllowStatements(JsonObject template)
    {
        var found = new List<string>();
        foreach (var (logicalId, resource) in Resources(template))
        {
            var properties = resource["Properties"];
            if ((string?)resource["Type"] == "AWS::Lambda::Permission" && (string?)properties?["Principal"] == "*")
            {
                found.Add($"{logicalId}: lambda permission for any principal");
            }

            foreach (var document in PolicyDocuments(properties))
            {
                var statements = document["Statement"]!.AsArray();
                for (var i = 0; i < statements.Count; i++)
                {
                    var statement = statements[i]!;
                    if ((string?)statement["Effect"] == "Allow" && IsAnyone(statement["Principal"]))
                    {
                        found.Add(string.Create(CultureInfo.InvariantCulture,
                            $"{logicalId}: statement {i} allows {string.Join(",", Strings(statement["Action"]))} to any principal"));
                    }
                }
            }
        }

        return found;
    }

    /// <summary>Literal secret values: SecretString, literal password/token/secret properties, known credential formats.</summary>
    public static IReadOnlyList<string> SecretValues(JsonObject template, string templateText)
    {
        var found = new List<string>();
        foreach (var (logicalId, resource) in Resources(template))
        {
            FindSecretProperties(resource, logicalId, found);
        }

        FindSecretProperties(template["Outputs"], "Outputs", found);

        if (AccessKeyIdPattern().IsMatch(templateText))
        {
            found.Add("template text: matches an AWS access key id");
        }

        if (PrivateKeyPattern().IsMatch(templateText))
        {
            found.Add("template text: contains a private key");
        }

        return found;
    }

    /// <summary>A policy resource the way cdk-nag names it in IAM5 findings (Fn::GetAtt as &lt;Id.Attr&gt;, Ref as &lt;Id&gt;).</summary>
    public static string Flatten(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text.Replace("${", "<", StringComparison.Ordinal).Replace("}", ">", StringComparison.Ordinal),
        JsonObject o when o["Fn::Join"] is JsonArray join => string.Join((string?)join[0], join[1]!.AsArray().Select(Flatten)),
        JsonObject o when o["Fn::Sub"] is { } sub => Flatten(sub is JsonArray withVariables ? withVariables[0] : sub),
        JsonObject o when o["Fn::GetAtt"] is JsonArray getAtt => $"<{Flatten(getAtt[0])}.{Flatten(getAtt[1])}>",
        JsonObject o when o["Fn::ImportValue"] is { } import => Flatten(import),
        JsonObject o when o["Ref"] is { } reference => $"<{Flatten(reference)}>",
        _ => node.ToJsonString(),
    };

    private static IEnumerable<KeyValuePair<string, JsonNode>> Resources(JsonObject template) =>
        (template["Resources"]?.AsObject() ?? []).Select(r => KeyValuePair.Create(r.Key, r.Value!));

    private static IEnumerable<JsonNode> IdentityPolicyStatements(JsonNode resource)
    {
        var type = (string?)resource["Type"];
        var properties = resource["Properties"];
        IEnumerable<JsonNode?> documents =
            IdentityPolicyTypes.Contains(type) ? [properties?["PolicyDocument"]]
            : InlinePolicyTypes.Contains(type) ? (properties?["Policies"]?.AsArray() ?? []).Select(p => p?["PolicyDocument"])
            : [];
        return documents.SelectMany(d => d?["Statement"]?.AsArray() ?? []).OfType<JsonNode>();
    }

    private static IEnumerable<JsonObject> PolicyDocuments(JsonNode? node) => node switch
    {
        JsonObject o when o["Statement"] is JsonArray => [o],
        JsonObject o => o.SelectMany(p => PolicyDocuments(p.Value)),
        JsonArray a => a.SelectMany(PolicyDocuments),
        _ => [],
    };

    private static bool IsAnyone(JsonNode? principal) => principal switch
    {
        JsonValue v => (string?)v == "*",
        JsonObject o => o["AWS"] is { } aws && Strings(aws).Contains("*"),
        _ => false,
    };

    private static bool IsWildcard(string resource) =>
        resource == "*" || resource.EndsWith(":*", StringComparison.Ordinal) || resource.EndsWith("/*", StringComparison.Ordinal);

    // <Bucket.Arn>/... or arn:...:s3:::bucket/... with only s3 actions: object-level grants on one bucket.
    private static bool IsBucketObjectPath(JsonObject template, string resource, IReadOnlyList<string> actions)
    {
        if (!actions.All(a => a.StartsWith("s3:", StringComparison.Ordinal)))
        {
            return false;
        }

        var match = BucketArnPathPattern().Match(resource);
        return match.Success && (match.Groups["literal"].Success
            || (string?)template["Resources"]?[match.Groups["bucket"].Value]?["Type"] == "AWS::S3::Bucket");
    }

    private static List<string> Strings(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => [.. a.Select(Flatten)],
        _ => [Flatten(node)],
    };

    private static void FindSecretProperties(JsonNode? node, string path, List<string> found)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    var childPath = $"{path}.{name}";
                    if (name == "SecretString")
                    {
                        found.Add($"{childPath}: a SecretString is always a literal secret");
                    }
                    else if (value is JsonValue s && s.TryGetValue<string>(out var json) && json.StartsWith('{') && TryParseObject(json) is { } embedded)
                    {
                        FindSecretProperties(embedded, childPath, found);
                    }
                    else if (IsSecretName(name) && value is JsonValue v && v.TryGetValue<string>(out var text) && text.Length > 0)
                    {
                        found.Add($"{childPath}: literal value");
                    }
                    else
                    {
                        FindSecretProperties(value, childPath, found);
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    FindSecretProperties(a[i], string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"), found);
                }

                break;
        }
    }

    private static bool IsSecretName(string name) =>
        SecretNamePattern().IsMatch(name)
        && name != "ServiceToken"
        && !NonSecretSuffixes.Any(suffix => name.EndsWith(suffix, StringComparison.Ordinal));

    private static JsonObject? TryParseObject(string json)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex("(password|passwd|token|secret)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretNamePattern();

    [GeneratedRegex(@"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")]
    private static partial Regex AccessKeyIdPattern();

    [GeneratedRegex("-----BEGIN [A-Z ]*PRIVATE KEY-----")]
    private static partial Regex PrivateKeyPattern();

    [GeneratedRegex(@"^(<(?<bucket>[A-Za-z0-9]+)\.Arn>|(?<literal>arn:[a-z-<>:]*:s3:::[a-z0-9.-]+))/.+$")]
    private static partial Regex BucketArnPathPattern();
}
