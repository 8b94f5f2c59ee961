using System.Text;
using System.Text.Json;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using Amazon.CDK.AWS.KMS;
using Amazon.CDK.AWS.S3;
using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Notebook;

namespace CustomerSegmentation.Infra.Tests;

public sealed class NotebookTests
{
    private const string RepositoryUrl = "https://github.com/acme/customer-segmentation.git";
    private const string InstanceType = "AWS::SageMaker::NotebookInstance";
    private const string LifecycleType = "AWS::SageMaker::NotebookInstanceLifecycleConfig";

    private static readonly string[] SecurityGroupIds = ["sg-0123456789abcdef0"];
    private static readonly Dictionary<string, object> WithRepository = new() { ["git:repositoryUrl"] = RepositoryUrl };
    private static readonly SegmentationStack DefaultStack = TestStacks.Create(WithRepository);
    private static readonly Template DefaultTemplate = Template.FromStack(DefaultStack);
    private static readonly JsonElement DefaultJson = Json(DefaultTemplate);
    private static readonly string NotebookPolicyId = LogicalId(DefaultStack.Notebook.Role.Node.FindChild("DefaultPolicy"));

    [Fact]
    public void Instance_Default_IsT3MediumWithoutRootAccessOnKeyEncryptedVolume()
    {
        DefaultTemplate.ResourceCountIs(InstanceType, 1);
        DefaultTemplate.HasResourceProperties(InstanceType, new Dictionary<string, object>
        {
            ["NotebookInstanceName"] = "customer-segmentation-notebook",
            ["InstanceType"] = "ml.t3.medium",
            ["VolumeSizeInGB"] = 20,
            ["PlatformIdentifier"] = "notebook-al2-v3",
            ["RootAccess"] = "Disabled",
            ["KmsKeyId"] = GetAtt(LogicalId(DefaultStack.Notebook.VolumeKey), "Arn"),
            ["RoleArn"] = GetAtt(LogicalId(DefaultStack.Notebook.Role), "Arn"),
            ["LifecycleConfigName"] = GetAtt(LogicalId(DefaultStack.Notebook.LifecycleConfig), "NotebookInstanceLifecycleConfigName"),
        });
    }

    [Fact]
    public void Instance_Default_UsesNoVpcAndNoSageMakerCodeRepository()
    {
        DefaultTemplate.HasResourceProperties(InstanceType, new Dictionary<string, object>
        {
            ["DirectInternetAccess"] = "Enabled",
            ["SubnetId"] = Match.Absent(),
            ["SecurityGroupIds"] = Match.Absent(),
            ["DefaultCodeRepository"] = Match.Absent(),
            ["AdditionalCodeRepositories"] = Match.Absent(),
        });
        DefaultTemplate.ResourceCountIs("AWS::SageMaker::CodeRepository", 0);
    }

    [Fact]
    public void Instance_Default_WaitsForItsRolePolicy()
    {
        var instance = DefaultTemplate.FindResources(InstanceType).Values.Single();

        var dependsOn = JsonSerializer.Serialize(instance["DependsOn"]);

        Assert.Contains($"\"{NotebookPolicyId}\"", dependsOn, StringComparison.Ordinal);
    }

    [Fact]
    public void Instance_Overrides_UsesConfiguredTypeVolumeAndPlatform()
    {
        var template = TestStacks.Template(new Dictionary<string, object>
        {
            ["notebook:instanceType"] = "ml.m5.xlarge",
            ["notebook:volumeSizeGb"] = 100,
            ["notebook:platformIdentifier"] = "notebook-al2-v2",
        });

        template.HasResourceProperties(InstanceType, new Dictionary<string, object>
        {
            ["InstanceType"] = "ml.m5.xlarge",
            ["VolumeSizeInGB"] = 100,
            ["PlatformIdentifier"] = "notebook-al2-v2",
            ["RootAccess"] = "Disabled",
        });
    }

    [Fact]
    public void Instance_SubnetAndSecurityGroup_RunsInVpcWithoutDirectInternetAccess()
    {
        var template = TestStacks.Template(new Dictionary<string, object>
        {
            ["notebook:subnetId"] = "subnet-0123456789abcdef0",
            ["notebook:securityGroupId"] = "sg-0123456789abcdef0",
        });

        template.HasResourceProperties(InstanceType, new Dictionary<string, object>
        {
            ["DirectInternetAccess"] = "Disabled",
            ["SubnetId"] = "subnet-0123456789abcdef0",
            ["SecurityGroupIds"] = SecurityGroupIds,
        });
        var metadata = JsonSerializer.Serialize(template.FindResources(InstanceType).Values.Single());
        Assert.DoesNotContain("AwsSolutions-SM1", metadata, StringComparison.Ordinal);
        Assert.DoesNotContain("AwsSolutions-SM3", metadata, StringComparison.Ordinal);
    }

    [Fact]
    public void Instance_NoVpc_AcknowledgesNetworkRulesWithTheSettingsToChange()
    {
        var instance = JsonSerializer.Serialize(DefaultTemplate.FindResources(InstanceType).Values.Single());

        Assert.Contains("\"id\":\"AwsSolutions-SM1\"", instance, StringComparison.Ordinal);
        Assert.Contains("\"id\":\"AwsSolutions-SM3\"", instance, StringComparison.Ordinal);
        Assert.Contains("set both to place it in a VPC", instance, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("notebook:subnetId", "subnet-0123456789abcdef0",
        "Context key 'notebook:subnetId' is 'subnet-0123456789abcdef0': notebook:securityGroupId must be set too, because a notebook in a VPC needs both a subnet and a security group.")]
    [InlineData("notebook:securityGroupId", "sg-0123456789abcdef0",
        "Context key 'notebook:securityGroupId' is 'sg-0123456789abcdef0': notebook:subnetId must be set too, because a notebook in a VPC needs both a subnet and a security group.")]
    public void Synth_HalfAVpcPlacement_FailsNamingTheKeyAndValue(string key, string value, string problem)
    {
        var error = Assert.Throws<ConfigurationException>(() => TestStacks.Create(new Dictionary<string, object> { [key] = value }));

        Assert.Equal("Invalid configuration:" + System.Environment.NewLine + "  - " + problem, error.Message);
    }

    [Fact]
    public void Construct_SubnetWithoutSecurityGroup_Throws()
    {
        var stack = new Stack(new App(), "Bare");
        var props = BareProps(stack);

        var error = Assert.Throws<ArgumentException>(() => new NotebookEnvironment(stack, "Notebook", new NotebookEnvironmentProps
        {
            ProjectName = props.ProjectName,
            DataBucket = props.DataBucket,
            ModelBucket = props.ModelBucket,
            SubnetId = "subnet-0123456789abcdef0",
        }));

        Assert.Equal("SubnetId ('subnet-0123456789abcdef0') and SecurityGroupId ('') must be given together or not at all. (Parameter 'props')", error.Message);
    }

    [Fact]
    public void VolumeKey_Default_RotatesAndIsRetained()
    {
        var key = DefaultTemplate.FindResources("AWS::KMS::Key")[LogicalId(DefaultStack.Notebook.VolumeKey)];

        var json = JsonSerializer.Serialize(key);

        Assert.Contains("\"EnableKeyRotation\":true", json, StringComparison.Ordinal);
        Assert.Contains("\"DeletionPolicy\":\"Retain\"", json, StringComparison.Ordinal);
        Assert.Contains("\"UpdateReplacePolicy\":\"Retain\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void VolumeKeyAndSecret_RemovalPolicyDestroy_AreDeletedWithTheStack()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["storage:removalPolicy"] = "destroy" });

        template.HasResource("AWS::KMS::Key", new Dictionary<string, object> { ["DeletionPolicy"] = "Delete" });
        template.HasResource("AWS::SecretsManager::Secret", new Dictionary<string, object> { ["DeletionPolicy"] = "Delete" });
    }

    [Fact]
    public void VolumeKey_Given_IsUsedInsteadOfANewKey()
    {
        var stack = new Stack(new App(), "Bare");
        var key = Key.FromKeyArn(stack, "Given", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab");
        var props = BareProps(stack);

        _ = new NotebookEnvironment(stack, "Notebook", new NotebookEnvironmentProps
        {
            ProjectName = props.ProjectName,
            DataBucket = props.DataBucket,
            ModelBucket = props.ModelBucket,
            VolumeKey = key,
        });
        var template = Template.FromStack(stack);

        template.ResourceCountIs("AWS::KMS::Key", 0);
        template.HasResourceProperties(InstanceType, new Dictionary<string, object>
        {
            ["KmsKeyId"] = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        });
    }

    [Fact]
    public void GitSecret_NotConfigured_CreatesPlaceholderWithGeneratedTokenAndInstructions()
    {
        DefaultTemplate.ResourceCountIs("AWS::SecretsManager::Secret", 1);
        DefaultTemplate.HasResourceProperties("AWS::SecretsManager::Secret", new Dictionary<string, object>
        {
            ["GenerateSecretString"] = new Dictionary<string, object>
            {
                ["SecretStringTemplate"] = "{\"username\":\"REPLACE_ME\"}",
                ["GenerateStringKey"] = "token",
            },
            ["SecretString"] = Match.Absent(),
            ["Description"] = Match.StringLikeRegexp("username.*token.*aws secretsmanager put-secret-value"),
        });
    }

    [Theory]
    [InlineData(null)]
    [InlineData("github-token")]
    [InlineData("arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-token-AbC123")]
    public void Template_AnyGitSecretSetting_HoldsNoSecretValue(string? gitSecret)
    {
        var context = new Dictionary<string, object>(WithRepository);
        if (gitSecret is not null)
        {
            context["git:secret"] = gitSecret;
        }

        var json = JsonSerializer.Serialize(TestStacks.Template(context).ToJSON());

        Assert.DoesNotContain("\"SecretString\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("resolve:secretsmanager", json, StringComparison.Ordinal);
        // The only mention of a secret value allowed is the permission to read one at run time.
        Assert.Equal(Occurrences(json, "secretsmanager:GetSecretValue"), Occurrences(json, "SecretValue"));
    }

    [Fact]
    public void GitSecret_ConfiguredByName_ImportsItAndGrantsReadOnItsArnPattern()
    {
        var stack = TestStacks.Create(new Dictionary<string, object>(WithRepository) { ["git:secret"] = "github-token" });
        var template = Template.FromStack(stack);

        template.ResourceCountIs("AWS::SecretsManager::Secret", 0);
        AssertPolicyAllows(template, ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            Join("arn:", Ref("AWS::Partition"), ":secretsmanager:", Ref("AWS::Region"), ":", Ref("AWS::AccountId"), ":secret:github-token-??????"));
        Assert.Contains("GIT_SECRET_ID='github-token'\n", Script(template, "OnStart"), StringComparison.Ordinal);
    }

    [Fact]
    public void GitSecret_ConfiguredByCompleteArn_GrantsReadOnExactlyThatArn()
    {
        const string arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-token-AbC123";
        var template = TestStacks.Template(new Dictionary<string, object>(WithRepository) { ["git:secret"] = arn });

        template.ResourceCountIs("AWS::SecretsManager::Secret", 0);
        AssertPolicyAllows(template, ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], arn);
        Assert.Contains($"GIT_SECRET_ID='{arn}'\n", Script(template, "OnStart"), StringComparison.Ordinal);
    }

    [Fact]
    public void GitSecret_ConfiguredByPartialArn_GrantsReadOnThatArnWithAnySuffix()
    {
        const string arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/github";
        var template = TestStacks.Template(new Dictionary<string, object>(WithRepository) { ["git:secret"] = arn });

        AssertPolicyAllows(template, ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], arn + "-??????");
        Assert.Contains("GIT_SECRET_ID='team/github'\n", Script(template, "OnStart"), StringComparison.Ordinal);
    }

    [Fact]
    public void Role_Default_IsAssumedBySageMakerWithoutManagedPolicies()
    {
        DefaultTemplate.HasResourceProperties("AWS::IAM::Role", new Dictionary<string, object>
        {
            ["AssumeRolePolicyDocument"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["Statement"] = new[]
                {
                    new Dictionary<string, object>
                    {
                        ["Action"] = "sts:AssumeRole",
                        ["Effect"] = "Allow",
                        ["Principal"] = new Dictionary<string, object> { ["Service"] = "sagemaker.amazonaws.com" },
                    },
                },
            }),
            ["ManagedPolicyArns"] = Match.Absent(),
        });
        Assert.DoesNotContain("AmazonSageMakerFullAccess", DefaultJson.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Role_Policy_ReadsAndWritesOnlyDataAndNotebookPrefixesOfDataBucket()
    {
        var data = LogicalId(DefaultStack.Storage.DataBucket);

        AssertPolicyAllows(DefaultTemplate,
            ["s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:PutObject", "s3:PutObjectLegalHold",
                "s3:PutObjectRetention", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"],
            new object[] { GetAtt(data, "Arn"), Join(GetAtt(data, "Arn"), "/data/*"), Join(GetAtt(data, "Arn"), "/notebooks/*") });
    }

    [Fact]
    public void Role_Policy_OnlyReadsModelBucket()
    {
        var model = LogicalId(DefaultStack.Storage.ModelBucket);

        AssertPolicyAllows(DefaultTemplate, ["s3:GetBucket*", "s3:GetObject*", "s3:List*"],
            new object[] { GetAtt(model, "Arn"), Join(GetAtt(model, "Arn"), "/*") });
        var writesToModels = PolicyStatements(DefaultJson).Where(s => s.GetRawText().Contains(model, StringComparison.Ordinal)
            && s.GetRawText().Contains("s3:PutObject", StringComparison.Ordinal));
        Assert.Empty(writesToModels);
    }

    [Fact]
    public void Role_Policy_ReadsTheCreatedGitSecretOnly()
    {
        AssertPolicyAllows(DefaultTemplate, ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Ref(LogicalId(DefaultStack.Notebook.GitSecret)));
    }

    [Fact]
    public void Role_Policy_RunsAndWatchesOnlyTheProjectsPipelines()
    {
        AssertPolicyAllows(DefaultTemplate,
            ["sagemaker:DescribePipeline", "sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps",
                "sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"],
            SageMakerArn("pipeline/customer-segmentation-*"));
    }

    [Fact]
    public void Role_Policy_InvokesOnlyTheProjectsEndpoints()
    {
        AssertPolicyAllows(DefaultTemplate, ["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"], SageMakerArn("endpoint/customer-segmentation-*"));
    }

    [Fact]
    public void Role_Policy_StopsOnlyItsOwnInstance()
    {
        AssertPolicyAllows(DefaultTemplate, ["sagemaker:StopNotebookInstance"], SageMakerArn("notebook-instance/customer-segmentation-notebook"));
    }

    [Fact]
    public void Role_Policy_WritesOnlyItsOwnNotebookLogStreams()
    {
        var group = Join("arn:", Ref("AWS::Partition"), ":logs:", Ref("AWS::Region"), ":", Ref("AWS::AccountId"), ":log-group:/aws/sagemaker/NotebookInstances");
        var streams = Join("arn:", Ref("AWS::Partition"), ":logs:", Ref("AWS::Region"), ":", Ref("AWS::AccountId"),
            ":log-group:/aws/sagemaker/NotebookInstances:log-stream:customer-segmentation-notebook/*");

        AssertPolicyAllows(DefaultTemplate, ["logs:CreateLogGroup", "logs:DescribeLogStreams"], group);
        AssertPolicyAllows(DefaultTemplate, ["logs:CreateLogStream", "logs:PutLogEvents"], streams);
    }

    [Fact]
    public void Role_Policy_UsesTheVolumeKeyIncludingGrantsForTheVolume()
    {
        AssertPolicyAllows(DefaultTemplate,
            ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            GetAtt(LogicalId(DefaultStack.Notebook.VolumeKey), "Arn"));
    }

    [Fact]
    public void Role_Policy_WildcardResourceOnlyForListActionsThatRequireIt()
    {
        var wildcard = PolicyStatements(DefaultJson).Where(s => s.GetProperty("Resource").ValueKind == JsonValueKind.String
            && s.GetProperty("Resource").GetString() == "*").ToList();

        var statement = Assert.Single(wildcard);
        Assert.Equal(
            "[\"sagemaker:ListEndpoints\",\"sagemaker:ListModelPackageGroups\",\"sagemaker:ListModelPackages\",\"sagemaker:ListPipelines\"]",
            statement.GetProperty("Action").GetRawText());
    }

    [Fact]
    public void Role_Policy_AcknowledgesEachWildcardFindingForCdkNag()
    {
        var policy = DefaultTemplate.FindResources("AWS::IAM::Policy")[NotebookPolicyId];
        var appliesTo = JsonDocument.Parse(JsonSerializer.Serialize(policy)).RootElement
            .GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress")[0];
        var findings = appliesTo.GetProperty("applies_to").EnumerateArray().Select(e => e.GetString()).ToList();

        Assert.Equal("AwsSolutions-IAM5", appliesTo.GetProperty("id").GetString());
        Assert.Contains("Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:pipeline/customer-segmentation-*", findings);
        Assert.Contains("Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/customer-segmentation-*", findings);
        Assert.Contains($"Resource::<{LogicalId(DefaultStack.Storage.DataBucket)}.Arn>/data/*", findings);
        Assert.Contains($"Resource::<{LogicalId(DefaultStack.Storage.ModelBucket)}.Arn>/*", findings);
        Assert.Contains("Resource::*", findings);
    }

    [Fact]
    public void LifecycleConfig_Default_RunsOnCreateAndOnStartFromTheRepositoryScripts()
    {
        DefaultTemplate.HasResourceProperties(LifecycleType, new Dictionary<string, object>
        {
            ["NotebookInstanceLifecycleConfigName"] = "customer-segmentation-notebook-lifecycle",
        });

        var onCreate = Script(DefaultTemplate, "OnCreate");
        var onStart = Script(DefaultTemplate, "OnStart");

        Assert.StartsWith("#!/bin/bash\n# on-create.sh rendered at synth", onCreate, StringComparison.Ordinal);
        Assert.StartsWith("#!/bin/bash\n# on-start.sh rendered at synth", onStart, StringComparison.Ordinal);
        Assert.Contains("step sync_repository\n", onCreate, StringComparison.Ordinal);
        Assert.Contains("step schedule_idle_stop\n", onStart, StringComparison.Ordinal);
    }

    [Fact]
    public void LifecycleConfig_OnStart_AssignsBucketNamesRegionAndSettingsAsQuotedVariables()
    {
        var onStart = Script(DefaultTemplate, "OnStart");

        Assert.Contains($"DATA_BUCKET='<Ref {LogicalId(DefaultStack.Storage.DataBucket)}>'\n", onStart, StringComparison.Ordinal);
        Assert.Contains($"MODEL_BUCKET='<Ref {LogicalId(DefaultStack.Storage.ModelBucket)}>'\n", onStart, StringComparison.Ordinal);
        Assert.Contains("PROJECT_NAME='customer-segmentation'\n", onStart, StringComparison.Ordinal);
        Assert.Contains("AWS_REGION='<Ref AWS::Region>'\n", onStart, StringComparison.Ordinal);
        Assert.Contains("NOTEBOOK_INSTANCE_NAME='customer-segmentation-notebook'\n", onStart, StringComparison.Ordinal);
        Assert.Contains($"GIT_REPOSITORY_URL='{RepositoryUrl}'\n", onStart, StringComparison.Ordinal);
        Assert.Contains("GIT_BRANCH='main'\n", onStart, StringComparison.Ordinal);
        Assert.Contains($"GIT_SECRET_ID='<Ref {LogicalId(DefaultStack.Notebook.GitSecret)}>'\n", onStart, StringComparison.Ordinal);
        Assert.Contains("GIT_USER_NAME='SageMaker Notebook'\n", onStart, StringComparison.Ordinal);
        Assert.Contains("IDLE_STOP_MINUTES='60'\n", onStart, StringComparison.Ordinal);
    }

    [Fact]
    public void LifecycleConfig_OnStart_EmbedsHelpersAsQuotedHereDocuments()
    {
        var onStart = Script(DefaultTemplate, "OnStart");

        Assert.Contains("helper_git_credential() {\ncat <<'NOTEBOOK_HELPER_END'\n#!/bin/bash\n", onStart, StringComparison.Ordinal);
        Assert.Contains("helper_idle_stop() {\ncat <<'NOTEBOOK_HELPER_END'\n#!/bin/bash\n", onStart, StringComparison.Ordinal);
        Assert.DoesNotContain("helper_idle_stop()", Script(DefaultTemplate, "OnCreate"), StringComparison.Ordinal);
    }

    [Fact]
    public void LifecycleConfig_IdleStopZeroAndNoRepository_RenderedIntoScript()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["notebook:idleStopMinutes"] = 0 });

        var onStart = Script(template, "OnStart");

        Assert.Contains("IDLE_STOP_MINUTES='0'\n", onStart, StringComparison.Ordinal);
        Assert.Contains("GIT_REPOSITORY_URL=''\n", onStart, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OnCreate")]
    [InlineData("OnStart")]
    public void LifecycleConfig_ContentWithLongestResolvedValues_FitsSageMakerLimit(string hook)
    {
        // Each CDK reference resolves to at most a 63-character bucket name or a 100-character secret ARN.
        var script = Script(DefaultTemplate, hook);
        var worstCase = System.Text.RegularExpressions.Regex.Replace(script, "<Ref [^>]+>", new string('x', 100));

        var length = Convert.ToBase64String(Encoding.UTF8.GetBytes(worstCase)).Length;

        Assert.InRange(length, 1, NotebookLifecycleScripts.MaxContentLength);
    }

    [Fact]
    public void Render_ScriptTooLarge_FailsNamingTheLimit()
    {
        var dir = Directory.CreateTempSubdirectory("notebook-scripts-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "lib.sh"), "#!/bin/bash\n" + string.Concat(Enumerable.Repeat("echo padding-padding-padding\n", 500)));
            File.WriteAllText(Path.Combine(dir.FullName, "on-start.sh"), "#!/bin/bash\necho start\n");

            var error = Assert.Throws<InvalidOperationException>(() =>
                NotebookLifecycleScripts.Render(dir.FullName, "on-start.sh", new NotebookScriptSettings
                {
                    DataBucket = "data",
                    ModelBucket = "models",
                    ProjectName = "project",
                    Region = "eu-west-1",
                    NotebookInstanceName = "project-notebook",
                    GitSecretId = "secret",
                    GitUserName = "user",
                    GitUserEmail = "user@example.com",
                }));

            Assert.StartsWith("on-start.sh renders to ", error.Message, StringComparison.Ordinal);
            Assert.EndsWith(" base64 characters; SageMaker accepts 16384 per lifecycle script and 1024 are kept for values resolved at deployment. Shorten the script.",
                error.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("plain", "'plain'")]
    [InlineData("", "''")]
    [InlineData("O'Brien", "'O'\"'\"'Brien'")]
    [InlineData("$(rm -rf /) `x` \"y\"", "'$(rm -rf /) `x` \"y\"'")]
    public void ShellQuote_Value_WrapsInSingleQuotes(string value, string expected)
    {
        Assert.Equal(expected, NotebookLifecycleScripts.ShellQuote(value));
    }

    [Fact]
    public void Outputs_Default_NameTheInstanceAndTheGitSecret()
    {
        DefaultTemplate.HasOutput("NotebookInstanceName", new Dictionary<string, object>
        {
            ["Value"] = GetAtt(LogicalId(DefaultStack.Notebook.Instance), "NotebookInstanceName"),
        });
        DefaultTemplate.HasOutput("GitSecretArn", new Dictionary<string, object>
        {
            ["Value"] = Ref(LogicalId(DefaultStack.Notebook.GitSecret)),
        });
    }

    [Fact]
    public void ConstructIds_Default_AreTheDocumentedContract()
    {
        var ids = DefaultStack.Notebook.Node.Children.Select(c => c.Node.Id).Order(StringComparer.Ordinal);

        Assert.Equal(["GitSecret", "Instance", "LifecycleConfig", "Role", "VolumeKey"], ids);
    }

    private static (string ProjectName, IBucket DataBucket, IBucket ModelBucket) BareProps(Stack stack) =>
        ("bare-project", new Bucket(stack, "Data"), new Bucket(stack, "Models"));

    private static int Occurrences(string text, string value) => text.Split(value).Length - 1;

    private static JsonElement Json(Template template) =>
        JsonDocument.Parse(JsonSerializer.Serialize(template.ToJSON())).RootElement.Clone();

    private static string LogicalId(Constructs.IConstruct construct)
    {
        var element = construct as CfnElement ?? (CfnElement)construct.Node.DefaultChild!;
        return (string)Stack.Of(element).Resolve(Stack.Of(element).GetLogicalId(element));
    }

    private static Dictionary<string, object> Ref(string logicalId) => new() { ["Ref"] = logicalId };

    private static Dictionary<string, object> GetAtt(string logicalId, string attribute) =>
        new() { ["Fn::GetAtt"] = new object[] { logicalId, attribute } };

    private static Dictionary<string, object> Join(params object[] parts) => new() { ["Fn::Join"] = new object[] { string.Empty, parts } };

    private static Dictionary<string, object> SageMakerArn(string resource) =>
        Join("arn:", Ref("AWS::Partition"), ":sagemaker:", Ref("AWS::Region"), ":", Ref("AWS::AccountId"), ":" + resource);

    /// <summary>The statements of the notebook role's policy (other constructs' roles have their own policies).</summary>
    private static JsonElement[] PolicyStatements(JsonElement template) =>
        [.. template.GetProperty("Resources").GetProperty(NotebookPolicyId)
            .GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray()];

    private static void AssertPolicyAllows(Template template, string[] actions, object resource)
    {
        var expected = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["Action"] = actions.Length == 1 ? actions[0] : actions,
            ["Effect"] = "Allow",
            ["Resource"] = resource,
        });

        var statements = PolicyStatements(Json(template));

        Assert.True(statements.Any(s => JsonElement.DeepEquals(s, expected)),
            $"The notebook policy has no statement {expected}; it has:\n{string.Join('\n', statements)}");
    }

    /// <summary>Decodes one lifecycle hook: its Fn::Base64 of Fn::Join, with each reference written as &lt;Ref X&gt;.</summary>
    private static string Script(Template template, string hook)
    {
        var config = Json(template).GetProperty("Resources").EnumerateObject()
            .Single(r => r.Value.GetProperty("Type").GetString() == LifecycleType).Value;
        var content = config.GetProperty("Properties").GetProperty(hook)[0].GetProperty("Content").GetProperty("Fn::Base64");
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        var join = content.GetProperty("Fn::Join");
        Assert.Equal(string.Empty, join[0].GetString());
        var text = new StringBuilder();
        foreach (var part in join[1].EnumerateArray())
        {
            text.Append(part.ValueKind == JsonValueKind.String ? part.GetString() : $"<Ref {part.GetProperty("Ref").GetString()}>");
        }

        return text.ToString();
    }
}
