using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Amazon.CDK.Assertions;
using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Pipelines;

namespace CustomerSegmentation.Infra.Tests;

public sealed class TrainingPipelineTests
{
    private const string RoleId = "TrainingPipelineExecutionRole4CBD9ADB";
    private const string DataBucketId = "StorageDataBucketB1B922FA";
    private const string ModelBucketId = "StorageModelBucket83DEC8C9";

    private static readonly Lazy<Template> DefaultTemplate = new(() => TestStacks.Template());

    [Fact]
    public void Pipeline_Default_NamedAfterProjectRunsAsExecutionRoleAfterGroupAndPolicy()
    {
        var template = DefaultTemplate.Value;

        Assert.Single(template.FindResources("AWS::SageMaker::Pipeline").Keys, k => k.StartsWith("TrainingPipeline", StringComparison.Ordinal));
        template.HasResource("AWS::SageMaker::Pipeline", new Dictionary<string, object>
        {
            ["Properties"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["PipelineName"] = "customer-segmentation-training",
                ["RoleArn"] = new Dictionary<string, object> { ["Fn::GetAtt"] = new[] { RoleId, "Arn" } },
            }),
            ["DependsOn"] = new[]
            {
                "TrainingPipelineExecutionRoleDefaultPolicy96617C2D", RoleId, "TrainingPipelineModelPackageGroupE0AF0CAC",
            },
        });
    }

    [Fact]
    public void Pipeline_CustomProjectName_NamesPipelineGroupAndOutputs()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["projectName"] = "acme-seg" });

        template.HasResourceProperties("AWS::SageMaker::Pipeline", new Dictionary<string, object> { ["PipelineName"] = "acme-seg-training" });
        template.HasResourceProperties("AWS::SageMaker::ModelPackageGroup", new Dictionary<string, object> { ["ModelPackageGroupName"] = "acme-seg-models" });
        template.HasOutput("PipelineName", new Dictionary<string, object> { ["Value"] = "acme-seg-training" });
        template.HasOutput("ModelPackageGroupName", new Dictionary<string, object> { ["Value"] = "acme-seg-models" });
        Assert.Equal("acme-seg-models", SynthesizedPipeline.Definition(template)["Steps"]![3]!["Arguments"]!["IfSteps"]![1]!["Arguments"]!["ModelPackageGroupName"]!.GetValue<string>());
    }

    [Fact]
    public void ModelPackageGroup_Default_OneGroupNamedAfterProject()
    {
        var template = DefaultTemplate.Value;

        Assert.Single(template.FindResources("AWS::SageMaker::ModelPackageGroup").Keys, k => k.StartsWith("TrainingPipeline", StringComparison.Ordinal));
        template.HasResourceProperties("AWS::SageMaker::ModelPackageGroup", new Dictionary<string, object>
        {
            ["ModelPackageGroupName"] = "customer-segmentation-models",
        });
    }

    [Fact]
    public void DefinitionBody_Synthesized_IsAnFnJoinWithoutTokenPlaceholders()
    {
        var (body, _) = SynthesizedPipeline.Synthesize(DefaultTemplate.Value);

        var raw = body.GetRawText();

        Assert.True(body.TryGetProperty("Fn::Join", out _), raw[..Math.Min(200, raw.Length)]);
        Assert.DoesNotContain("${Token[", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("pipelineDefinitionBody", JsonSerializer.Serialize(DefaultTemplate.Value.ToJSON()), StringComparison.Ordinal);
    }

    [Fact]
    public void DefinitionBody_Synthesized_ReferencesBucketsRoleAssetRegionAndImageMapping()
    {
        var (body, _) = SynthesizedPipeline.Synthesize(DefaultTemplate.Value);
        var parts = body.GetProperty("Fn::Join")[1].EnumerateArray()
            .Where(p => p.ValueKind == JsonValueKind.Object)
            .Select(p => p.GetRawText())
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToArray();

        // Partition and account come from the Deploy step's function ARN.
        Assert.Equal(9, parts.Length);
        Assert.Contains("""{"Ref":"AWS::Partition"}""", parts);
        Assert.Contains("""{"Ref":"AWS::AccountId"}""", parts);
        Assert.Contains($$"""{"Ref":"{{DataBucketId}}"}""", parts);
        Assert.Contains("""{"Fn::FindInMap":["SklearnImageAccounts",{"Ref":"AWS::Region"},"account"]}""", parts);
        Assert.Contains("""{"Ref":"AWS::URLSuffix"}""", parts);
        Assert.Contains($$"""{"Ref":"{{ModelBucketId}}"}""", parts);
        Assert.Contains($$"""{"Fn::GetAtt":["{{RoleId}}","Arn"]}""", parts);
        Assert.Contains("""{"Ref":"AWS::Region"}""", parts);
        Assert.Contains(parts, p => p.StartsWith("""{"Fn::Sub":"s3://cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}/""", StringComparison.Ordinal)
            && p.EndsWith(""".gz"}""", StringComparison.Ordinal));
    }

    [Fact]
    public void DefinitionBody_Resolved_UsesUsEast1ImageAndRunScopedPaths()
    {
        var definition = SynthesizedPipeline.Definition();
        var preprocess = definition["Steps"]![0]!["Arguments"]!;

        Assert.Equal("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
            preprocess["AppSpecification"]!["ImageUri"]!.GetValue<string>());
        Assert.Equal("s3://" + DataBucketId.ToLowerInvariant() + "/data/customers.csv",
            definition["Parameters"]![0]!["DefaultValue"]!.GetValue<string>());
        Assert.Equal("arn:aws:iam::000000000000:role/" + RoleId.ToLowerInvariant(), preprocess["RoleArn"]!.GetValue<string>());
    }

    [Fact]
    public void ImageMapping_Template_HasOfficialAccountPerRegion()
    {
        var mappings = JsonSerializer.SerializeToElement(DefaultTemplate.Value.ToJSON()).GetProperty("Mappings").GetProperty("SklearnImageAccounts");

        Assert.Equal("683313688378", mappings.GetProperty("us-east-1").GetProperty("account").GetString());
        Assert.Equal("246618743249", mappings.GetProperty("us-west-2").GetProperty("account").GetString());
        Assert.Equal("141502667606", mappings.GetProperty("eu-west-1").GetProperty("account").GetString());
        Assert.Equal(SklearnImage.Accounts.Count, mappings.EnumerateObject().Count());
    }

    [Fact]
    public void ExecutionRole_Default_TrustsOnlySageMakerAndHasNoManagedPolicies()
    {
        var roles = DefaultTemplate.Value.FindResources("AWS::IAM::Role");
        var role = JsonSerializer.SerializeToElement(roles[RoleId]).GetProperty("Properties");

        Assert.Equal("""{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"}}],"Version":"2012-10-17"}""",
            role.GetProperty("AssumeRolePolicyDocument").GetRawText());
        Assert.False(role.TryGetProperty("ManagedPolicyArns", out _));
    }

    [Fact]
    public void ExecutionRole_Policy_GrantsExactlyThePipelineActionsOnItsResources()
    {
        var statements = PolicyStatements("TrainingPipelineExecutionRoleDefaultPolicy96617C2D").Select(Summarize).ToArray();

        const string Sagemaker = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:";
        const string Assets = "arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>";
        Assert.Equal(
            [
                "|s3:GetBucket*,s3:GetObject*,s3:List*|" +
                    $"<{DataBucketId}.Arn>,<{ModelBucketId}.Arn>,{Assets}/*,{Assets},<{DataBucketId}.Arn>/data/*,<{ModelBucketId}.Arn>/deployed/*|",
                "|s3:Abort*,s3:DeleteObject*,s3:GetBucket*,s3:GetObject*,s3:List*,s3:PutObject,s3:PutObjectLegalHold,s3:PutObjectRetention," +
                    $"s3:PutObjectTagging,s3:PutObjectVersionTagging|<{ModelBucketId}.Arn>,<{ModelBucketId}.Arn>/runs/*|",
                "RunPipelineJobs|sagemaker:AddTags,sagemaker:CreateModel,sagemaker:CreateProcessingJob,sagemaker:CreateTrainingJob,sagemaker:DescribeModel," +
                    "sagemaker:DescribeProcessingJob,sagemaker:DescribeTrainingJob,sagemaker:StopProcessingJob,sagemaker:StopTrainingJob|" +
                    $"{Sagemaker}model/pipelines-*,{Sagemaker}processing-job/pipelines-*,{Sagemaker}training-job/pipelines-*|",
                "RegisterModels|sagemaker:AddTags,sagemaker:CreateModelPackage,sagemaker:DescribeModelPackage|" +
                    $"{Sagemaker}model-package-group/customer-segmentation-models,{Sagemaker}model-package/customer-segmentation-models/*|",
                $"PassRoleToSageMakerJobs|iam:PassRole|<{RoleId}.Arn>|" + """{"StringEquals":{"iam:PassedToService":"sagemaker.amazonaws.com"}}""",
                "InvokeDeployer|lambda:InvokeFunction|arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:customer-segmentation-endpoint-deployer|",
                "PullSklearnImage|ecr:BatchCheckLayerAvailability,ecr:BatchGetImage,ecr:GetDownloadUrlForLayer|" +
                    "arn:<AWS::Partition>:ecr:<AWS::Region>:<SklearnImageAccounts[<AWS::Region>].account>:repository/sagemaker-scikit-learn|",
                "EcrLogin|ecr:GetAuthorizationToken|*|",
                "WriteJobLogs|logs:CreateLogGroup,logs:CreateLogStream,logs:DescribeLogStreams,logs:PutLogEvents|" +
                    "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*|",
                "PublishJobMetrics|cloudwatch:PutMetricData|*|" + """{"StringLike":{"cloudwatch:namespace":"/aws/sagemaker/*"}}""",
            ],
            statements);
    }

    [Fact]
    public void ExecutionRole_Policy_NoServiceWideActionAndStarOnlyForUnscopableActions()
    {
        var statements = PolicyStatements("TrainingPipelineExecutionRoleDefaultPolicy96617C2D");

        var actions = statements.SelectMany(s => Strings(s.GetProperty("Action"))).ToList();
        var starActions = statements.Where(s => Strings(s.GetProperty("Resource")).Contains("*")).SelectMany(s => Strings(s.GetProperty("Action")));

        Assert.DoesNotContain(actions, a => a.EndsWith(":*", StringComparison.Ordinal) || a == "*");
        Assert.Equal(["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"], starActions.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void ExecutionRole_Policy_AcknowledgesEachWildcardForCdkNag()
    {
        var policy = JsonSerializer.SerializeToElement(DefaultTemplate.Value.FindResources("AWS::IAM::Policy")["TrainingPipelineExecutionRoleDefaultPolicy96617C2D"]);

        var rules = policy.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray().ToList();
        var appliesTo = rules.SelectMany(r => Strings(r.GetProperty("applies_to"))).ToList();

        Assert.All(rules, r => Assert.Equal("AwsSolutions-IAM5", r.GetProperty("id").GetString()));
        Assert.Contains("Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/pipelines-*", appliesTo);
        Assert.Contains("Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:processing-job/pipelines-*", appliesTo);
        Assert.Contains("Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model/pipelines-*", appliesTo);
        Assert.Contains("Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/customer-segmentation-models/*", appliesTo);
        Assert.Contains("Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*", appliesTo);
        Assert.Contains("Resource::*", appliesTo);
        Assert.Contains($"Resource::<{DataBucketId}.Arn>/data/*", appliesTo);
        Assert.Contains($"Resource::<{ModelBucketId}.Arn>/runs/*", appliesTo);
        Assert.Contains($"Resource::<{ModelBucketId}.Arn>/deployed/*", appliesTo);
    }

    [Fact]
    public void ExecutionRole_KmsEncryptedBuckets_UsesOnlyThatKeyAndAcknowledgesItsWildcardActions()
    {
        const string KeyArn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        var template = TestStacks.Template(new Dictionary<string, object> { ["storage:kmsKeyArn"] = KeyArn });
        var policy = JsonSerializer.SerializeToElement(template.FindResources("AWS::IAM::Policy")["TrainingPipelineExecutionRoleDefaultPolicy96617C2D"]);

        var kms = policy.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray()
            .Where(s => Strings(s.GetProperty("Action")).Any(a => a.StartsWith("kms:", StringComparison.Ordinal)))
            .Select(Summarize)
            .ToArray();
        var appliesTo = policy.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray()
            .SelectMany(r => Strings(r.GetProperty("applies_to")));

        Assert.Equal(["|kms:Decrypt,kms:DescribeKey,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt*|" + KeyArn + "|"], kms);
        Assert.Contains("Action::kms:GenerateDataKey*", appliesTo);
        Assert.Contains("Action::kms:ReEncrypt*", appliesTo);
    }

    [Fact]
    public void ExecutionRole_S3ManagedBuckets_AcknowledgesNoKeyActions()
    {
        var policy = JsonSerializer.SerializeToElement(DefaultTemplate.Value.FindResources("AWS::IAM::Policy")["TrainingPipelineExecutionRoleDefaultPolicy96617C2D"]);

        var appliesTo = policy.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray()
            .SelectMany(r => Strings(r.GetProperty("applies_to")));

        Assert.DoesNotContain(appliesTo, a => a.StartsWith("Action::kms:", StringComparison.Ordinal));
    }

    [Fact]
    public void Schedule_Default_WeeklyCronStartsThePipelineWithItsOwnRole()
    {
        var template = DefaultTemplate.Value;
        const string PipelineArn = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:pipeline/customer-segmentation-training";

        var rules = template.FindResources("AWS::Events::Rule").Where(r => r.Key.StartsWith("RetrainingSchedule", StringComparison.Ordinal));
        var rule = JsonSerializer.SerializeToElement(Assert.Single(rules).Value).GetProperty("Properties");
        var target = Assert.Single(rule.GetProperty("Targets").EnumerateArray().ToArray());

        Assert.Equal("cron(0 3 ? * MON *)", rule.GetProperty("ScheduleExpression").GetString());
        Assert.Equal("ENABLED", rule.GetProperty("State").GetString());
        Assert.Equal(["Arn", "Id", "RoleArn"], target.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(PipelineArn, Readable(target.GetProperty("Arn")));
        Assert.Equal("<RetrainingScheduleRoleDD002A5E.Arn>", Readable(target.GetProperty("RoleArn")));
        Assert.Equal(["|sagemaker:StartPipelineExecution|" + PipelineArn + "|"],
            PolicyStatements("RetrainingScheduleRoleDefaultPolicy102362B1").Select(Summarize).ToArray());
        Assert.Equal("""{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"}}],"Version":"2012-10-17"}""",
            JsonSerializer.SerializeToElement(template.FindResources("AWS::IAM::Role")["RetrainingScheduleRoleDD002A5E"])
                .GetProperty("Properties").GetProperty("AssumeRolePolicyDocument").GetRawText());
    }

    [Fact]
    public void Schedule_CustomExpression_UsedVerbatim()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["pipeline:scheduleExpression"] = "rate(1 day)" });

        template.HasResourceProperties("AWS::Events::Rule", new Dictionary<string, object>
        {
            ["ScheduleExpression"] = "rate(1 day)",
            ["State"] = "ENABLED",
        });
    }

    [Fact]
    public void Schedule_Disabled_RuleKeptInStateDisabled()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["pipeline:scheduleEnabled"] = false });

        Assert.Single(template.FindResources("AWS::Events::Rule").Keys, k => k.StartsWith("RetrainingSchedule", StringComparison.Ordinal));
        template.HasResourceProperties("AWS::Events::Rule", new Dictionary<string, object>
        {
            ["ScheduleExpression"] = "cron(0 3 ? * MON *)",
            ["State"] = "DISABLED",
        });
    }

    [Fact]
    public void DeployStep_Disabled_PipelineEndsAtRegisterModelAndCannotInvokeTheDeployer()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["pipeline:deployStep"] = false });

        var ifSteps = SynthesizedPipeline.Definition(template)["Steps"]![3]!["Arguments"]!["IfSteps"]!.AsArray();

        Assert.Equal(["CreateModel", "RegisterModel"], ifSteps.Select(step => step!["Name"]!.GetValue<string>()));
        var policies = JsonSerializer.Serialize(template.FindResources("AWS::IAM::Policy"));
        Assert.DoesNotContain("lambda:InvokeFunction", policies, StringComparison.Ordinal);
    }

    [Fact]
    public void DeployStep_Default_IsTheLastStepOfThePassingBranch()
    {
        var ifSteps = SynthesizedPipeline.Definition()["Steps"]![3]!["Arguments"]!["IfSteps"]!.AsArray();

        Assert.Equal(["CreateModel", "RegisterModel", "Deploy"], ifSteps.Select(step => step!["Name"]!.GetValue<string>()));
    }

    [Fact]
    public void Settings_Context_BecomeParameterDefaults()
    {
        var template = TestStacks.Template(new Dictionary<string, object>
        {
            ["pipeline:minSilhouette"] = 0.4,
            ["pipeline:maxK"] = 6,
            ["pipeline:nClusters"] = 4,
            ["pipeline:features"] = "Age,SpendingPower",
            ["pipeline:nComponents"] = 2,
            ["pipeline:modelApprovalStatus"] = "Approved",
            ["pipeline:trainingInstanceType"] = "ml.c5.xlarge",
        });

        var defaults = SynthesizedPipeline.Definition(template)["Parameters"]!.AsArray()
            .ToDictionary(p => p!["Name"]!.GetValue<string>(), p => p!["DefaultValue"]!.ToJsonString());

        Assert.Equal("0.4", defaults["MinSilhouette"]);
        Assert.Equal("6", defaults["MaxK"]);
        Assert.Equal("4", defaults["NClusters"]);
        Assert.Equal("2", defaults["NComponents"]);
        Assert.Equal("\"Age,SpendingPower\"", defaults["Features"]);
        Assert.Equal("\"Approved\"", defaults["ModelApprovalStatus"]);
        Assert.Equal("\"ml.c5.xlarge\"", defaults["TrainingInstanceType"]);
    }

    [Fact]
    public void Settings_CacheExpireAfter_CachesEvaluateButNeitherPreprocessNorTrain()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["pipeline:cacheExpireAfter"] = "P30D" });

        var steps = SynthesizedPipeline.Definition(template)["Steps"]!.AsArray();

        Assert.Null(steps[0]!["CacheConfig"]);
        Assert.Null(steps[1]!["CacheConfig"]);
        Assert.Equal("""{"Enabled":true,"ExpireAfter":"P30D"}""", steps[2]!["CacheConfig"]!.ToJsonString());
    }

    [Fact]
    public void Settings_NoCacheExpireAfter_NoStepIsCached()
    {
        var definition = SynthesizedPipeline.Definition().ToJsonString();

        Assert.DoesNotContain("CacheConfig", definition, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pipeline:scheduleExpression", "cron(0 3 * * MON)",
        "Context key 'pipeline:scheduleExpression' is 'cron(0 3 * * MON)': expected an EventBridge schedule expression such as cron(0 3 ? * MON *) or rate(7 days).")]
    [InlineData("pipeline:scheduleExpression", "rate(0 days)",
        "Context key 'pipeline:scheduleExpression' is 'rate(0 days)': expected an EventBridge schedule expression such as cron(0 3 ? * MON *) or rate(7 days).")]
    [InlineData("pipeline:scheduleEnabled", "sometimes",
        "Context key 'pipeline:scheduleEnabled' is 'sometimes': expected true or false.")]
    [InlineData("pipeline:deployStep", "later",
        "Context key 'pipeline:deployStep' is 'later': expected true or false.")]
    [InlineData("pipeline:cacheExpireAfter", "30 days",
        "Context key 'pipeline:cacheExpireAfter' is '30 days': expected an ISO 8601 duration such as P30D or PT12H.")]
    [InlineData("pipeline:processingInstanceType", "m5.large",
        "Context key 'pipeline:processingInstanceType' is 'm5.large': expected a SageMaker instance type such as ml.m5.large.")]
    [InlineData("pipeline:trainingInstanceType", "ml.m5",
        "Context key 'pipeline:trainingInstanceType' is 'ml.m5': expected a SageMaker instance type such as ml.m5.large.")]
    [InlineData("pipeline:inferenceInstanceType", "ML.M5.LARGE",
        "Context key 'pipeline:inferenceInstanceType' is 'ML.M5.LARGE': expected a SageMaker instance type such as ml.m5.large.")]
    [InlineData("pipeline:features", "Age,Height",
        "Context key 'pipeline:features' is 'Age,Height': expected a comma-separated list of distinct features from Age, Income, Purchases, SpendingPower.")]
    [InlineData("pipeline:features", "Age,Age",
        "Context key 'pipeline:features' is 'Age,Age': expected a comma-separated list of distinct features from Age, Income, Purchases, SpendingPower.")]
    [InlineData("pipeline:maxK", "1",
        "Context key 'pipeline:maxK' is '1': expected a whole number from 2 to 50.")]
    [InlineData("pipeline:nClusters", "1",
        "Context key 'pipeline:nClusters' is '1': expected 0 (choose k automatically) or a whole number from 2 to pipeline:maxK (10).")]
    [InlineData("pipeline:nClusters", "12",
        "Context key 'pipeline:nClusters' is '12': expected 0 (choose k automatically) or a whole number from 2 to pipeline:maxK (10).")]
    [InlineData("pipeline:nComponents", "4",
        "Context key 'pipeline:nComponents' is '4': expected 0 (no PCA) or at most the number of features in pipeline:features (3).")]
    [InlineData("pipeline:nComponents", "-1",
        "Context key 'pipeline:nComponents' is '-1': expected a whole number from 0 to 4.")]
    [InlineData("pipeline:randomSeed", "seed",
        "Context key 'pipeline:randomSeed' is 'seed': expected a whole number from 0 to 2147483647.")]
    [InlineData("pipeline:validationFraction", "0.9",
        "Context key 'pipeline:validationFraction' is '0.9': expected a number from 0.05 to 0.5.")]
    [InlineData("pipeline:minSilhouette", "1.5",
        "Context key 'pipeline:minSilhouette' is '1.5': expected a number from -1 to 1.")]
    [InlineData("pipeline:minClusterFraction", "NaN",
        "Context key 'pipeline:minClusterFraction' is 'NaN': expected a number from 0 to 0.5.")]
    [InlineData("pipeline:modelApprovalStatus", "approved",
        "Context key 'pipeline:modelApprovalStatus' is 'approved': expected one of Approved, PendingManualApproval, Rejected.")]
    public void Settings_InvalidValue_FailsSynthesisWithExactMessage(string key, string value, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => TestStacks.Create(new Dictionary<string, object> { [key] = value }));

        Assert.Equal([expected], error.Problems);
    }

    [Fact]
    public void Settings_SeveralInvalidValues_ReportsEveryProblemAtOnce()
    {
        var error = Assert.Throws<ConfigurationException>(() => TestStacks.Create(new Dictionary<string, object>
        {
            ["pipeline:minSilhouette"] = "high",
            ["pipeline:scheduleEnabled"] = "yes",
        }));

        Assert.Equal(
            [
                "Context key 'pipeline:scheduleEnabled' is 'yes': expected true or false.",
                "Context key 'pipeline:minSilhouette' is 'high': expected a number from -1 to 1.",
            ],
            error.Problems);
    }

    [Fact]
    public void SourceDir_TwoSyntheses_SameAssetHash()
    {
        var first = AssetObjectKey(TestStacks.Template());
        var second = AssetObjectKey(TestStacks.Template());

        Assert.Equal(first, second);
        Assert.EndsWith(".gz", first, StringComparison.Ordinal);
    }

    [Fact]
    public void SourceDir_RepositoryScripts_ArchiveHoldsExactlyThePythonScripts()
    {
        var scripts = RepositoryLayout.SageMakerScripts();
        var expected = scripts.GetFiles("*.py").Select(f => f.Name).Where(n => !n.StartsWith("test_", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToArray();

        var entries = ReadArchive(SourceDirBundle.Create(scripts));

        Assert.NotEmpty(expected);
        Assert.Equal(expected, entries.Select(e => e.Name).ToArray());
        Assert.All(entries, e => Assert.Equal(File.ReadAllBytes(Path.Combine(scripts.FullName, e.Name)), e.Content));
    }

    [Fact]
    public void SourceDir_SameFilesWrittenAtDifferentTimes_ByteIdentical()
    {
        using var first = new TemporaryFolder();
        using var second = new TemporaryFolder();
        first.Write("train.py", "print('train')\n");
        first.Write("evaluate.py", "print('evaluate')\n");
        second.Write("evaluate.py", "print('evaluate')\n");
        second.Write("train.py", "print('train')\n");
        File.SetLastWriteTimeUtc(Path.Combine(second.Path, "train.py"), new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(second.Path, "train.py"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var a = SourceDirBundle.Create(new DirectoryInfo(first.Path));
        var b = SourceDirBundle.Create(new DirectoryInfo(second.Path));

        Assert.Equal(a, b);
    }

    [Fact]
    public void SourceDir_Archive_HasFixedHeadersAndExcludesTestsAndCaches()
    {
        using var folder = new TemporaryFolder();
        folder.Write("train.py", "x = 1\n");
        folder.Write("inference.py", "y = 2\n");
        folder.Write("test_train.py", "def test(): pass\n");
        folder.Write("notes.txt", "not code\n");
        folder.Write("__pycache__/train.cpython-311.pyc", "bytecode");
        folder.Write("helpers/util.py", "z = 3\n");

        var bytes = SourceDirBundle.Create(new DirectoryInfo(folder.Path));
        var entries = ReadArchive(bytes);

        Assert.Equal([0x1f, 0x8b, 8], bytes[..3]);
        Assert.Equal([0, 0, 0, 0], bytes[4..8]);
        Assert.Equal(["inference.py", "train.py"], entries.Select(e => e.Name).ToArray());
        Assert.All(entries, e =>
        {
            Assert.Equal(DateTimeOffset.UnixEpoch, e.Entry.ModificationTime);
            Assert.Equal(0, e.Entry.Uid);
            Assert.Equal(0, e.Entry.Gid);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, e.Entry.Mode);
            Assert.Equal(TarEntryFormat.Ustar, e.Entry.Format);
        });
    }

    [Fact]
    public void SourceDir_NoScripts_ThrowsNamingTheFolder()
    {
        using var folder = new TemporaryFolder();
        folder.Write("README.md", "nothing to run");

        var error = Assert.Throws<InvalidOperationException>(() => SourceDirBundle.Create(new DirectoryInfo(folder.Path)));

        Assert.Equal($"No *.py scripts in '{folder.Path}': the pipeline has nothing to run.", error.Message);
    }

    [Fact]
    public void SourceDir_MissingFolder_ThrowsNamingTheFolder()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-scripts-" + Guid.NewGuid().ToString("N"));

        var error = Assert.Throws<DirectoryNotFoundException>(() => SourceDirBundle.Create(new DirectoryInfo(missing)));

        Assert.Equal($"The SageMaker scripts folder '{missing}' does not exist.", error.Message);
    }

    [Fact]
    public void RepositoryLayout_Root_IsTheFolderWithInfraSln()
    {
        var root = RepositoryLayout.Root();

        Assert.True(File.Exists(Path.Combine(root.FullName, "Infra.sln")));
        Assert.Equal(Path.Combine(root.FullName, "scripts", "sagemaker"), RepositoryLayout.SageMakerScripts().FullName);
    }

    private static JsonElement[] PolicyStatements(string policyId)
    {
        var policy = JsonSerializer.SerializeToElement(DefaultTemplate.Value.FindResources("AWS::IAM::Policy")[policyId]);
        return policy.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().ToArray();
    }

    // "Sid|actions|resources|condition", every Allow statement, intrinsics written the way cdk-nag reports them.
    internal static string Summarize(JsonElement statement)
    {
        Assert.Equal("Allow", statement.GetProperty("Effect").GetString());
        var sid = statement.TryGetProperty("Sid", out var s) ? s.GetString() : string.Empty;
        var condition = statement.TryGetProperty("Condition", out var c) ? c.GetRawText() : string.Empty;
        return $"{sid}|{string.Join(',', Strings(statement.GetProperty("Action")))}|" +
            $"{string.Join(',', Items(statement.GetProperty("Resource")).Select(Readable))}|{condition}";
    }

    private static JsonElement[] Items(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToArray() : [value];

    internal static string Readable(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }

        var function = value.EnumerateObject().Single();
        var argument = function.Value;
        return function.Name switch
        {
            "Ref" => $"<{argument.GetString()}>",
            "Fn::GetAtt" => $"<{argument[0].GetString()}.{argument[1].GetString()}>",
            "Fn::Join" => string.Join(argument[0].GetString(), argument[1].EnumerateArray().Select(Readable)),
            "Fn::Sub" => System.Text.RegularExpressions.Regex.Replace(argument.GetString()!, @"\$\{([^}]+)\}", m => $"<{m.Groups[1].Value}>"),
            "Fn::FindInMap" => $"<{argument[0].GetString()}[{Readable(argument[1])}].{argument[2].GetString()}>",
            _ => throw new NotSupportedException(function.Name),
        };
    }

    private static IEnumerable<string> Strings(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()) :
        [value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()];

    private static string AssetObjectKey(Template template)
    {
        var (body, _) = SynthesizedPipeline.Synthesize(template);
        var sub = body.GetProperty("Fn::Join")[1].EnumerateArray()
            .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("Fn::Sub", out _))
            .Select(p => p.GetProperty("Fn::Sub").GetString()!)
            .Distinct()
            .Single();
        return sub[(sub.LastIndexOf('/') + 1)..];
    }

    private static List<(string Name, byte[] Content, TarEntry Entry)> ReadArchive(byte[] archive)
    {
        using var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var entries = new List<(string, byte[], TarEntry)>();
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            using var content = new MemoryStream();
            entry.DataStream?.CopyTo(content);
            entries.Add((entry.Name, content.ToArray(), entry));
        }

        return entries;
    }

    private sealed class TemporaryFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("sourcedir-test-").FullName;

        public void Write(string relativePath, string content)
        {
            var file = System.IO.Path.Combine(Path, relativePath);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
            File.WriteAllText(file, content);
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

