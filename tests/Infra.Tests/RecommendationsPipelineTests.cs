using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.CDK.Assertions;
using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Pipelines;
using CustomerSegmentation.Infra.Recommendations;
using Match = Amazon.CDK.Assertions.Match;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>
/// The recommendations pipeline as synthesized: its 32 parameters against the step scripts' own table, the steps and
/// how data flows between them, the role, the serving table, the schedule, the alarms and the settings.
/// </summary>
public sealed class RecommendationsPipelineTests
{
    private const string Construct = "RecommendationsPipeline";
    private const string RoleId = "RecommendationsPipelineExecutionRole3D4BE0A0";
    private const string PolicyId = "RecommendationsPipelineExecutionRoleDefaultPolicy31A46E46";
    private const string TableId = "RecommendationsPipelineServingTableCEDB228F";
    private const string FeedbackTableId = "RecommendationsPipelineFeedbackTable1C8E94BA";
    private const string GroupId = "RecommendationsPipelineModelPackageGroup5C04202E";
    private const string DataBucketId = "StorageDataBucketB1B922FA";
    private const string CreatorId = "RecommendationsPipelineProcessingJobLogGroup075B3906";
    private const string Bucket = "storagedatabucketb1b922fa";
    private const string RunPrefix = "s3://" + Bucket + "/recommendations/runs/";
    private const string ExecutionId = """{"Get":"Execution.PipelineExecutionId"}""";

    // The definition's own escaping, so quotes in property paths (Outputs['basket']) read as they are written.
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly Lazy<Template> DefaultTemplate = new(() => TestStacks.Template());
    private static readonly Lazy<JsonNode> DefaultDefinition = new(() => SynthesizedPipeline.Definition(DefaultTemplate.Value, Construct));

    [Fact]
    public void Parameters_Definition_AreTheSpecificationsThirtyTwoInOrderPlusInputFeedbackAfterTheInputs()
    {
        var names = Parameters().Select(p => (string)p["Name"]!).ToList();

        Assert.Equal(33, names.Count);
        Assert.Equal(RecommendationsParameters.All.Select(p => p.Name), names.Where(n => n != "InputFeedback"));
        Assert.Equal(3, names.IndexOf("InputFeedback"));
        Assert.Equal(32, RecommendationsParameters.All.Select(p => p.Name).Distinct().Count());
    }

    [Fact]
    public void Parameters_Table_EqualsTheOneTheStepScriptsValidateWith()
    {
        var scripts = JsonNode.Parse(RunScriptsPython(Path.Combine(RepositoryLayout.RecommendationsScripts().FullName, "pipeline_parameters.py"), "--json"))!.AsArray();

        var fromScripts = scripts.Select(p => string.Join('|', (string)p!["name"]!, (string)p["type"]!, (string)p["default"]!,
            (string?)p["option"] ?? "-", (string)p["description"]!,
            (string)p["group"]! == "A" ? "-" : string.Join(',', p["consumed_by"]!.AsArray().Select(s => (string)s!))));
        var fromCode = RecommendationsParameters.All.Select(p => string.Join('|', p.Name, KindName(p.Kind), p.Default, p.Option ?? "-",
            p.Description, p.Steps.Count == 0 ? "-" : string.Join(',', p.Steps)));

        Assert.Equal(fromScripts, fromCode);
    }

    [Fact]
    public void Parameters_Synthesized_HaveTheScriptsTypesDefaultsAndDescriptions()
    {
        var scripts = JsonNode.Parse(RunScriptsPython(Path.Combine(RepositoryLayout.RecommendationsScripts().FullName, "pipeline_parameters.py"), "--json"))!.AsArray().ToDictionary(p => (string)p!["name"]!);

        var mismatches = Parameters().Where(p => (string)p["Name"]! != "InputFeedback").Select(p =>
        {
            var expected = scripts[(string)p["Name"]!]!;
            var type = (string)expected["type"]!;
            var text = ((string)expected["default"]!).Replace("<data-bucket>", Bucket, StringComparison.Ordinal);
            var matches = type switch
            {
                "integer" => (string?)p["Type"] == "Integer" && p["DefaultValue"]!.GetValue<int>() == int.Parse(text, CultureInfo.InvariantCulture),
                "float" => (string?)p["Type"] == "Float" && p["DefaultValue"]!.GetValue<double>() == double.Parse(text, CultureInfo.InvariantCulture),
                _ => (string?)p["Type"] == "String" && (string?)p["DefaultValue"] == text,
            };
            return matches && (string?)p["Description"] == (string)expected["description"]! ? null : p.ToJsonString(Relaxed);
        }).OfType<string>();

        Assert.Empty(mismatches);
        Assert.Equal(27, Parameters().Count(p => (string)p["Type"]! is "Integer" or "Float"));
    }

    [Fact]
    public void Parameters_InputsAndFeedback_DefaultToTheDataBucketsInputPrefix()
    {
        var defaults = Parameters().Where(p => ((string)p["Name"]!).StartsWith("Input", StringComparison.Ordinal))
            .Select(p => $"{(string)p["Name"]!}={(string)p["DefaultValue"]!}");

        Assert.Equal(
            [
                $"InputCustomers=s3://{Bucket}/recommendations/input/customers/",
                $"InputProducts=s3://{Bucket}/recommendations/input/products/",
                $"InputInvoices=s3://{Bucket}/recommendations/input/invoices/",
                $"InputFeedback=s3://{Bucket}/recommendations/input/feedback/",
            ],
            defaults);
    }

    [Fact]
    public void Parameters_ModelApprovalStatus_AcceptsOnlyTheThreeRegistryStatuses()
    {
        var status = Parameters().Single(p => (string)p["Name"]! == "ModelApprovalStatus");

        Assert.Equal("""{"Name":"ModelApprovalStatus","Type":"String","Description":"Set to PendingManualApproval to gate deployment","DefaultValue":"Approved","EnumValues":["Approved","PendingManualApproval","Rejected"]}""",
            status.ToJsonString(Relaxed));
    }

    [Fact]
    public void Steps_Definition_RunInTheSpecificationsOrderWithPublishBehindTheApprovalGate()
    {
        var steps = Steps();
        var gate = steps[^1]!["Arguments"]!;

        Assert.Equal(
            ["MarketBasket:Processing", "TrainClustering:Training", "RegisterModel:RegisterModel", "Associations:Processing", "Ranking:Processing",
                "FeedbackCalibration:Processing", "CheckApproval:Condition"],
            steps.Select(s => $"{(string)s!["Name"]!}:{(string)s["Type"]!}"));
        Assert.Equal(["Publish:Processing"], gate["IfSteps"]!.AsArray().Select(s => $"{(string)s!["Name"]!}:{(string)s["Type"]!}"));
        Assert.Empty(gate["ElseSteps"]!.AsArray());
        Assert.Equal("""[{"Type":"Equals","LeftValue":{"Get":"Parameters.ModelApprovalStatus"},"RightValue":"Approved"}]""", gate["Conditions"]!.ToJsonString(Relaxed));
        Assert.Equal("""["RegisterModel","FeedbackCalibration"]""", steps[^1]!["DependsOn"]!.ToJsonString(Relaxed));
        Assert.All(steps.Take(6), s => Assert.Null(s!["DependsOn"]));
    }

    [Theory]
    [InlineData("MarketBasket", "market_basket", "--min-order-count,MinOrderCount;--recency-cutoff-days,RecencyCutoffDays")]
    [InlineData("Associations", "associations",
        "--window-days,WindowDays;--min-lift,MinLift;--min-abs-freq,MinAbsFreq;--min-freq-ratio,MinFreqRatio;--decay-lambda,DecayLambda")]
    [InlineData("Ranking", "ranking",
        "--min-lift,MinLift;--min-support,MinSupport;--min-confidence,MinConfidence;--top-k,TopK;--w-conf,WConf;--w-supp,WSupp;--w-lift,WLift;" +
        "--w-recency,WRecency;--max-lift-normalise,MaxLiftNormalise;--l3-tiebreak-margin,L3TiebreakMargin")]
    [InlineData("FeedbackCalibration", "feedback_calibration",
        "--min-confidence,MinConfidence;--top-k,TopK;--weight-high,WeightHigh;--weight-med-pos,WeightMedPos;--weight-med-neg,WeightMedNeg;" +
        "--weight-low,WeightLow;--score-cutoff,ScoreCutoff;--feedback-recency-days,FeedbackRecencyDays")]
    public void ProcessingStep_ContainerArguments_PassEachConsumedParameterAsTextUnderItsOption(string step, string script, string expected)
    {
        var app = Step(step)["Arguments"]!["AppSpecification"]!;
        var arguments = app["ContainerArguments"]!.AsArray();

        var pairs = expected.Split(';').Select(pair => pair.Split(',')).ToList();
        var expectedArguments = pairs.SelectMany(p => new[] { JsonValue.Create(p[0]).ToJsonString(Relaxed), AsText(p[1]) }).ToList();
        if (step == "FeedbackCalibration")
        {
            expectedArguments.AddRange(["\"--feedback-uri\"", """{"Get":"Parameters.InputFeedback"}""", "\"--feedback-table\"", $"\"{FeedbackTableId.ToLowerInvariant()}\""]);
        }

        Assert.Equal(expectedArguments, arguments.Select(a => a!.ToJsonString(Relaxed)));
        Assert.Equal(script, (string)app["ContainerEntrypoint"]![3]!);
        Assert.Equal(
            $"mkdir -p /opt/ml/processing/code && tar -xzf /opt/ml/processing/input/code/*.gz -C /opt/ml/processing/code && exec python3 /opt/ml/processing/code/{script}.py \"$@\"",
            (string)app["ContainerEntrypoint"]![2]!);
    }

    [Fact]
    public void ProcessingSteps_NumericParameters_ReachScriptsOnlyThroughStdJoinAndStringsDirectly()
    {
        var typed = Parameters().Where(p => (string)p["Type"]! != "String").Select(p => (string)p["Name"]!).ToHashSet(StringComparer.Ordinal);
        var text = DefaultDefinition.Value.ToJsonString(Relaxed);

        var bare = typed.Where(name => Regex.Count(text, $$"""\{"Get":"Parameters\.{{name}}"\}""")
            != Regex.Count(text, $$"""\{"Std:Join":\{"On":"","Values":\[\{"Get":"Parameters\.{{name}}"\}\]\}\}"""));

        Assert.Empty(bare);
        Assert.All(typed, name => Assert.Contains($"Parameters.{name}\"", text, StringComparison.Ordinal));
    }

    [Fact]
    public void TrainClustering_HyperParameters_AreTheClusteringParametersAndTheScriptModeSettings()
    {
        var arguments = Step("TrainClustering")["Arguments"]!;
        var sourceDir = (string)Step("MarketBasket")["Arguments"]!["ProcessingInputs"]![0]!["S3Input"]!["S3Uri"]!;

        Assert.Equal(
            JsonNode.Parse($$"""
                {"max-k":{{AsText("MaxK")}},"min-cluster-customers":{{AsText("MinClusterCustomers")}},"elbow-threshold":{{AsText("ElbowThreshold")}},
                 "feature-groups":{"Get":"Parameters.FeatureGroups"},"random-state":{{AsText("RandomState")}},"n-init":{{AsText("NInit")}},
                 "sagemaker_program":"train_clustering.py","sagemaker_submit_directory":"{{sourceDir}}","sagemaker_region":"us-east-1",
                 "sagemaker_container_log_level":"20"}
                """)!.ToJsonString(Relaxed),
            arguments["HyperParameters"]!.ToJsonString(Relaxed));
        Assert.Equal("""[{"ChannelName":"basket","DataSource":{"S3DataSource":{"S3Uri":{"Get":"Steps.MarketBasket.ProcessingOutputConfig.Outputs['basket'].S3Output.S3Uri"},"S3DataType":"S3Prefix","S3DataDistributionType":"FullyReplicated"}},"ContentType":"text/csv"}]""",
            arguments["InputDataConfig"]!.ToJsonString(Relaxed));
        Assert.Equal("""{"InstanceType":"ml.m5.large","InstanceCount":1,"VolumeSizeInGB":30}""", arguments["ResourceConfig"]!.ToJsonString(Relaxed));
        Assert.Equal($$$"""{"S3OutputPath":{{{RunJoin("train-clustering")}}}}""",
            arguments["OutputDataConfig"]!.ToJsonString(Relaxed));
    }

    [Fact]
    public void TrainClustering_MetricDefinitions_CaptureTheLinesTheScriptsPrint()
    {
        var definitions = Step("TrainClustering")["Arguments"]!["AlgorithmSpecification"]!["MetricDefinitions"]!.AsArray();
        var printed = RunScriptsPython("-c",
            "import pipeline_io\nfor name, value in [('Segments', 9), ('Clusters', 21), ('MeanSilhouette', -0.125), ('PoorSilhouetteSegments', 0)]:\n" +
            "    pipeline_io.metric('TrainClustering', name, value)").Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var captured = definitions.Select(d => (Name: (string)d!["Name"]!, Regex: new Regex((string)d["Regex"]!)))
            .Select(d => $"{d.Name}={printed.Select(l => d.Regex.Match(l)).Single(m => m.Success).Groups[1].Value}");

        Assert.Equal(["Segments=9.0", "Clusters=21.0", "MeanSilhouette=-0.125", "PoorSilhouetteSegments=0.0"], captured);
    }

    [Fact]
    public void Steps_DataFlow_EachInputIsTheProducingStepsOutput()
    {
        static string Output(string step, string name) => $$"""{"Get":"Steps.{{step}}.ProcessingOutputConfig.Outputs['{{name}}'].S3Output.S3Uri"}""";
        const string Model = """{"Get":"Steps.TrainClustering.ModelArtifacts.S3ModelArtifacts"}""";

        var inputs = ProcessingSteps().SelectMany(step => step["Arguments"]!["ProcessingInputs"]!.AsArray().Skip(1)
            .Select(i => $"{(string)step["Name"]!}.{(string)i!["InputName"]!}@{(string)i["S3Input"]!["LocalPath"]!}={i["S3Input"]!["S3Uri"]!.ToJsonString(Relaxed)}"));

        Assert.Equal(
            [
                """MarketBasket.customers@/opt/ml/processing/input/customers={"Get":"Parameters.InputCustomers"}""",
                """MarketBasket.products@/opt/ml/processing/input/products={"Get":"Parameters.InputProducts"}""",
                """MarketBasket.invoices@/opt/ml/processing/input/invoices={"Get":"Parameters.InputInvoices"}""",
                $"Associations.model@/opt/ml/processing/input/model={Model}",
                $"Associations.invoices@/opt/ml/processing/input/invoices={Output("MarketBasket", "invoices")}",
                $"Associations.reference@/opt/ml/processing/input/reference={Output("MarketBasket", "reference")}",
                $"Ranking.basket@/opt/ml/processing/input/basket={Output("MarketBasket", "basket")}",
                $"Ranking.model@/opt/ml/processing/input/model={Model}",
                $"Ranking.associations@/opt/ml/processing/input/associations={Output("Associations", "associations")}",
                $"FeedbackCalibration.recommendations@/opt/ml/processing/input/recommendations={Output("Ranking", "recommendations")}",
                $"FeedbackCalibration.reference@/opt/ml/processing/input/reference={Output("MarketBasket", "reference")}",
                $"Publish.final@/opt/ml/processing/input/final={Output("FeedbackCalibration", "final")}",
                $"Publish.reference@/opt/ml/processing/input/reference={Output("MarketBasket", "reference")}",
                $"Publish.invoices@/opt/ml/processing/input/invoices={Output("MarketBasket", "invoices")}",
                $$$"""Publish.ranking@/opt/ml/processing/input/ranking={"Std:Join":{"On":"","Values":[{{{Output("Ranking", "recommendations")}}},"/ranking_report.json"]}}""",
                $"Publish.feedback@/opt/ml/processing/input/feedback={Output("FeedbackCalibration", "feedback")}",
            ],
            inputs);
    }

    [Fact]
    public void Steps_EveryOutput_IsItsOwnFolderUnderTheExecutionsRunPrefix()
    {
        var outputs = ProcessingSteps().SelectMany(step => (step["Arguments"]!["ProcessingOutputConfig"]?["Outputs"]?.AsArray() ?? [])
            .Select(o => $"{(string)step["Name"]!}.{(string)o!["OutputName"]!}@{(string)o["S3Output"]!["LocalPath"]!}={o["S3Output"]!["S3Uri"]!.ToJsonString(Relaxed)}"))
            .ToList();

        Assert.Equal(
            [
                $"MarketBasket.basket@/opt/ml/processing/output/basket={RunJoin("market-basket/basket")}",
                $"MarketBasket.invoices@/opt/ml/processing/output/invoices={RunJoin("market-basket/invoices")}",
                $"MarketBasket.reference@/opt/ml/processing/output/reference={RunJoin("market-basket/reference")}",
                $"Associations.associations@/opt/ml/processing/output/associations={RunJoin("associations/associations")}",
                $"Ranking.recommendations@/opt/ml/processing/output/recommendations={RunJoin("ranking/recommendations")}",
                $"FeedbackCalibration.final@/opt/ml/processing/output/final={RunJoin("feedback-calibration/final")}",
                $"FeedbackCalibration.feedback@/opt/ml/processing/output/feedback={RunJoin("feedback-calibration/feedback")}",
            ],
            outputs);
        Assert.Null(Step("Publish")["Arguments"]!["ProcessingOutputConfig"]);
    }

    [Fact]
    public void ProcessingSteps_Resources_RunAsThePipelineRoleOnTheSettingsInstance()
    {
        var steps = ProcessingSteps();

        Assert.Equal(5, steps.Count);
        Assert.All(steps, step =>
        {
            var arguments = step["Arguments"]!;
            Assert.Equal("""{"ClusterConfig":{"InstanceType":"ml.m5.large","InstanceCount":1,"VolumeSizeInGB":30}}""", arguments["ProcessingResources"]!.ToJsonString(Relaxed));
            Assert.Equal("arn:aws:iam::000000000000:role/" + RoleId.ToLowerInvariant(), (string)arguments["RoleArn"]!);
            Assert.Equal("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3", (string)arguments["AppSpecification"]!["ImageUri"]!);
            Assert.Equal("code", (string)arguments["ProcessingInputs"]![0]!["InputName"]!);
            Assert.Equal("""{"MaxRuntimeInSeconds":3600}""", arguments["StoppingCondition"]!.ToJsonString(Relaxed));
        });
    }

    [Fact]
    public void RegisterModel_Arguments_RegisterTheClusteringModelInItsOwnGroupWithTheRunsLocation()
    {
        var arguments = Step("RegisterModel")["Arguments"]!;

        Assert.Equal(
            JsonNode.Parse($$$"""
                {"ModelPackageGroupName":"customer-segmentation-recommendation-models","ModelApprovalStatus":{"Get":"Parameters.ModelApprovalStatus"},
                 "InferenceSpecification":{"Containers":[{"Image":"683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                   "ModelDataUrl":{"Get":"Steps.TrainClustering.ModelArtifacts.S3ModelArtifacts"}}],"SupportedContentTypes":["text/csv"],"SupportedResponseMIMETypes":["text/csv"]},
                 "CustomerMetadataProperties":{"RunUri":{{{RunJoin(string.Empty)}}},
                   "PipelineExecutionArn":{"Get":"Execution.PipelineExecutionArn"}
                 }
                }
                """)!.ToJsonString(Relaxed),
            arguments.ToJsonString(Relaxed));
    }

    [Fact]
    public void Publish_Arguments_NameTheTableTheExecutionTheTtlAndTheRunsFiles()
    {
        var arguments = Step("Publish")["Arguments"]!["AppSpecification"]!["ContainerArguments"]!;

        Assert.Equal(
            JsonNode.Parse($$$"""
                ["--table-name","{{{TableId.ToLowerInvariant()}}}","--run-id",{{{ExecutionId}}},"--ttl-days","35",
                 "--manifest-uri","s3://{{{Bucket}}}/recommendations/latest.json",
                 "--final-uri",{"Std:Join":{"On":"","Values":[{"Get":"Steps.FeedbackCalibration.ProcessingOutputConfig.Outputs['final'].S3Output.S3Uri"},"/recommendations.csv"]}},
                 "--summary-uri",{"Std:Join":{"On":"","Values":[{"Get":"Steps.FeedbackCalibration.ProcessingOutputConfig.Outputs['feedback'].S3Output.S3Uri"},"/feedback_summary.json"]}}]
                """)!.ToJsonString(Relaxed),
            arguments.ToJsonString(Relaxed));
    }

    [Fact]
    public void Steps_NoPropertyFilesCachingOrModelSteps_TheDefinitionStaysWithinWhatTheRunnerAndSchemaCheck()
    {
        var text = DefaultDefinition.Value.ToJsonString(Relaxed);

        Assert.DoesNotContain("PropertyFiles", text, StringComparison.Ordinal);
        Assert.DoesNotContain("CacheConfig", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Std:JsonGet", text, StringComparison.Ordinal);
    }

    [Fact]
    public void DefinitionBody_Synthesized_IsAnFnJoinWithoutTokenPlaceholders()
    {
        var (body, _) = SynthesizedPipeline.Synthesize(DefaultTemplate.Value, Construct);

        var raw = body.GetRawText();

        Assert.True(body.TryGetProperty("Fn::Join", out _), raw[..Math.Min(200, raw.Length)]);
        Assert.DoesNotContain("${Token[", raw, StringComparison.Ordinal);
    }

    [Fact]
    public void Pipeline_Default_NamedAfterProjectRunsAsItsRoleAfterGroupAndPolicy()
    {
        DefaultTemplate.Value.HasResource("AWS::SageMaker::Pipeline", new Dictionary<string, object>
        {
            ["Properties"] = Match.ObjectLike(new Dictionary<string, object>
            {
                ["PipelineName"] = "customer-segmentation-recommendations",
                ["PipelineDisplayName"] = "customer-segmentation-recommendations",
                ["RoleArn"] = new Dictionary<string, object> { ["Fn::GetAtt"] = new[] { RoleId, "Arn" } },
            }),
            ["DependsOn"] = new[] { PolicyId, RoleId, GroupId },
        });
        DefaultTemplate.Value.HasResourceProperties("AWS::SageMaker::ModelPackageGroup", new Dictionary<string, object>
        {
            ["ModelPackageGroupName"] = "customer-segmentation-recommendation-models",
        });
    }

    [Fact]
    public void Outputs_Default_NameThePipelineAndTheServingTable()
    {
        DefaultTemplate.Value.HasOutput("RecommendationsPipelineName", new Dictionary<string, object> { ["Value"] = "customer-segmentation-recommendations" });
        DefaultTemplate.Value.HasOutput("RecommendationsTableName", new Dictionary<string, object>
        {
            ["Value"] = new Dictionary<string, object> { ["Ref"] = TableId },
        });
    }

    [Fact]
    public void Pipeline_CustomProjectName_NamesPipelineGroupNamespaceAlarmsAndOutput()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["projectName"] = "acme-seg" });

        template.HasResourceProperties("AWS::SageMaker::Pipeline", new Dictionary<string, object> { ["PipelineName"] = "acme-seg-recommendations" });
        template.HasResourceProperties("AWS::SageMaker::ModelPackageGroup", new Dictionary<string, object> { ["ModelPackageGroupName"] = "acme-seg-recommendation-models" });
        template.HasResourceProperties("AWS::CloudWatch::Alarm", new Dictionary<string, object>
        {
            ["AlarmName"] = "acme-seg-recommendations-finalcoverage-low",
            ["Namespace"] = "acme-seg/recommendations",
        });
        template.HasOutput("RecommendationsPipelineName", new Dictionary<string, object> { ["Value"] = "acme-seg-recommendations" });
        Assert.Equal("acme-seg-recommendation-models",
            (string)SynthesizedPipeline.Definition(template, Construct)["Steps"]![2]!["Arguments"]!["ModelPackageGroupName"]!);
    }

    [Fact]
    public void ExecutionRole_Default_TrustsOnlySageMakerAndHasNoManagedPolicies()
    {
        var role = JsonSerializer.SerializeToElement(DefaultTemplate.Value.FindResources("AWS::IAM::Role")[RoleId]).GetProperty("Properties");

        Assert.Equal("""{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"}}],"Version":"2012-10-17"}""",
            role.GetProperty("AssumeRolePolicyDocument").GetRawText());
        Assert.False(role.TryGetProperty("ManagedPolicyArns", out _));
    }

    [Fact]
    public void ExecutionRole_Policy_GrantsExactlyTheRecommendationsPrefixesItsGroupAndTheServingTable()
    {
        var statements = PolicyStatements(DefaultTemplate.Value, PolicyId);
        var sourceDir = (string)Step("MarketBasket")["Arguments"]!["ProcessingInputs"]![0]!["S3Input"]!["S3Uri"]!;
        var assetKey = sourceDir[(sourceDir.LastIndexOf('/') + 1)..];

        const string Sagemaker = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:";
        const string Assets = "arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>";
        Assert.Equal(
            [
                $"ReadInputs|s3:GetObject|<{DataBucketId}.Arn>/recommendations/input/*|",
                $"ReadWriteRuns|s3:AbortMultipartUpload,s3:GetObject,s3:PutObject|<{DataBucketId}.Arn>/recommendations/runs/*|",
                $"WriteManifest|s3:PutObject|<{DataBucketId}.Arn>/recommendations/latest.json|",
                $"ListOwnPrefixes|s3:ListBucket|<{DataBucketId}.Arn>|" + """{"StringLike":{"s3:prefix":["recommendations/input/*","recommendations/runs/*"]}}""",
                $"ReadScripts|s3:GetObject|{Assets}/{assetKey}|",
                $"ListScripts|s3:ListBucket|{Assets}|" + $$$"""{"StringLike":{"s3:prefix":"{{{assetKey}}}"}}""",
                $"PublishRecommendations|dynamodb:BatchWriteItem,dynamodb:GetItem,dynamodb:PutItem|<{TableId}.Arn>|",
                $"ReadFeedback|dynamodb:Scan|<{FeedbackTableId}.Arn>|",
                "RunPipelineJobs|sagemaker:AddTags,sagemaker:CreateProcessingJob,sagemaker:CreateTrainingJob,sagemaker:DescribeProcessingJob," +
                    "sagemaker:DescribeTrainingJob,sagemaker:StopProcessingJob,sagemaker:StopTrainingJob|" +
                    $"{Sagemaker}processing-job/pipelines-*,{Sagemaker}training-job/pipelines-*|",
                "RegisterModels|sagemaker:AddTags,sagemaker:CreateModelPackage,sagemaker:DescribeModelPackage|" +
                    $"{Sagemaker}model-package-group/customer-segmentation-recommendation-models,{Sagemaker}model-package/customer-segmentation-recommendation-models/*|",
                $"PassRoleToSageMakerJobs|iam:PassRole|<{RoleId}.Arn>|" + """{"StringEquals":{"iam:PassedToService":"sagemaker.amazonaws.com"}}""",
                "PullSklearnImage|ecr:BatchCheckLayerAvailability,ecr:BatchGetImage,ecr:GetDownloadUrlForLayer|" +
                    "arn:<AWS::Partition>:ecr:<AWS::Region>:<SklearnImageAccounts[<AWS::Region>].account>:repository/sagemaker-scikit-learn|",
                "EcrLogin|ecr:GetAuthorizationToken|*|",
                "WriteJobLogs|logs:CreateLogGroup,logs:CreateLogStream,logs:DescribeLogStreams,logs:PutLogEvents|" +
                    "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*|",
                "PublishJobMetrics|cloudwatch:PutMetricData|*|" + """{"StringLike":{"cloudwatch:namespace":"/aws/sagemaker/*"}}""",
            ],
            statements.Select(TrainingPipelineTests.Summarize));
    }

    [Fact]
    public void ExecutionRole_Policy_ReachesNoModelBucketNoTrainingGroupAndNoOtherTable()
    {
        var policy = JsonSerializer.Serialize(DefaultTemplate.Value.FindResources("AWS::IAM::Policy")[PolicyId]["Properties"]);

        Assert.DoesNotContain("StorageModelBucket", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("customer-segmentation-models", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("sagemaker:CreateModel\"", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("dynamodb:*", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("\"s3:*", policy, StringComparison.Ordinal);
    }

    [Fact]
    public void ExecutionRole_Policy_AcknowledgesEachWildcardForCdkNag()
    {
        var policy = JsonSerializer.SerializeToElement(DefaultTemplate.Value.FindResources("AWS::IAM::Policy")[PolicyId]);

        var appliesTo = policy.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray()
            .SelectMany(r => r.GetProperty("applies_to").EnumerateArray().Select(a => a.GetString()!));

        Assert.Equal(
            [
                "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:processing-job/pipelines-*",
                "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/pipelines-*",
                "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/customer-segmentation-recommendation-models/*",
                "Resource::*",
                "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*",
                $"Resource::<{DataBucketId}.Arn>/recommendations/input/*",
                $"Resource::<{DataBucketId}.Arn>/recommendations/runs/*",
            ],
            appliesTo);
    }

    [Fact]
    public void ExecutionRole_KmsEncryptedDataBucket_MayUseExactlyThatKeyForS3()
    {
        const string KeyArn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        var template = TestStacks.Template(new Dictionary<string, object> { ["storage:kmsKeyArn"] = KeyArn });

        var kms = PolicyStatements(template, PolicyId).Select(TrainingPipelineTests.Summarize).Where(s => s.Contains("kms:", StringComparison.Ordinal));

        Assert.Equal([$"UseDataBucketKey|kms:Decrypt,kms:GenerateDataKey|{KeyArn}|"], kms);
    }

    [Fact]
    public void ExecutionRole_S3ManagedDataBucket_HasNoKeyStatement()
    {
        var policy = JsonSerializer.Serialize(DefaultTemplate.Value.FindResources("AWS::IAM::Policy")[PolicyId]["Properties"]);

        Assert.DoesNotContain("kms:", policy, StringComparison.Ordinal);
    }

    [Fact]
    public void ServingTable_Default_IsOnDemandEncryptedRecoverableWithPublishTtlAndRetained()
    {
        var table = JsonSerializer.SerializeToElement(DefaultTemplate.Value.FindResources("AWS::DynamoDB::Table")[TableId]);

        Assert.Equal(
            """
            {"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"PointInTimeRecoverySpecification":{"PointInTimeRecoveryEnabled":true},"SSESpecification":{"SSEEnabled":true},"TimeToLiveSpecification":{"AttributeName":"expires_at","Enabled":true}}
            """,
            table.GetProperty("Properties").GetRawText());
        Assert.Equal(("Retain", "Retain"), (table.GetProperty("DeletionPolicy").GetString(), table.GetProperty("UpdateReplacePolicy").GetString()));
    }

    [Fact]
    public void ServingTable_KeyAndTtlAttribute_AreTheOnesPublishWrites()
    {
        var publish = File.ReadAllText(Path.Combine(RepositoryLayout.RecommendationsScripts().FullName, "publish.py"));

        // Customer, segment and summary items expire; the pointer does not.
        Assert.Equal(3, Regex.Count(publish, Regex.Escape("\"expires_at\": {\"N\": str(expires_at)}")));
        Assert.Contains("\"pk\": {\"S\": run_key(run_id, customer_id)}", publish, StringComparison.Ordinal);
        Assert.Contains("\"pk\": {\"S\": segment_key(run_id, segment)}", publish, StringComparison.Ordinal);
        Assert.Contains("\"pk\": {\"S\": summary_key(run_id)}", publish, StringComparison.Ordinal);
    }

    [Fact]
    public void FeedbackTable_Default_IsOnDemandEncryptedRecoverableKeyedByIdempotencyKeyWithoutTtlAndRetained()
    {
        var table = JsonSerializer.SerializeToElement(DefaultTemplate.Value.FindResources("AWS::DynamoDB::Table")[FeedbackTableId]);

        Assert.Equal(
            """
            {"AttributeDefinitions":[{"AttributeName":"idempotency_key","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"idempotency_key","KeyType":"HASH"}],"PointInTimeRecoverySpecification":{"PointInTimeRecoveryEnabled":true},"SSESpecification":{"SSEEnabled":true}}
            """,
            table.GetProperty("Properties").GetRawText());
        Assert.Equal(("Retain", "Retain"), (table.GetProperty("DeletionPolicy").GetString(), table.GetProperty("UpdateReplacePolicy").GetString()));
    }

    [Fact]
    public void FeedbackTable_RemovalPolicyDestroy_IsStillRetainedWhileTheServingTableIsDeleted()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["storage:removalPolicy"] = "destroy" });

        var tables = template.FindResources("AWS::DynamoDB::Table");

        Assert.Equal("Retain", JsonSerializer.SerializeToElement(tables[FeedbackTableId]).GetProperty("DeletionPolicy").GetString());
        Assert.Equal("Retain", JsonSerializer.SerializeToElement(tables[FeedbackTableId]).GetProperty("UpdateReplacePolicy").GetString());
        Assert.Equal("Delete", JsonSerializer.SerializeToElement(tables[TableId]).GetProperty("DeletionPolicy").GetString());
    }

    [Fact]
    public void FeedbackTable_Property_IsTheTableTheFeedbackTableNameOutputNames()
    {
        var stack = TestStacks.Create();
        var template = Template.FromStack(stack);
        var tableId = stack.Resolve(stack.RecommendationsPipeline.FeedbackTable.TableName);

        Assert.Equal($$"""{"Ref":"{{FeedbackTableId}}"}""", JsonSerializer.Serialize(tableId));
        template.HasOutput("FeedbackTableName", new Dictionary<string, object>
        {
            ["Value"] = new Dictionary<string, object> { ["Ref"] = FeedbackTableId },
            ["Description"] = "The DynamoDB table of the account managers' feedback (one item per idempotency_key), read by the next recommendations run.",
        });
    }

    [Fact]
    public void FeedbackTable_ExecutionRole_MayOnlyScanIt()
    {
        var statements = PolicyStatements(DefaultTemplate.Value, PolicyId);

        var onFeedback = statements.Where(s => s.GetRawText().Contains(FeedbackTableId, StringComparison.Ordinal)).Select(TrainingPipelineTests.Summarize);

        Assert.Equal([$"ReadFeedback|dynamodb:Scan|<{FeedbackTableId}.Arn>|"], onFeedback);
    }

    [Fact]
    public void ServingTable_RemovalPolicyDestroy_IsDeletedWithTheStack()
    {
        var template = TestStacks.Template(new Dictionary<string, object> { ["storage:removalPolicy"] = "destroy" });

        var table = JsonSerializer.SerializeToElement(template.FindResources("AWS::DynamoDB::Table")[TableId]);

        Assert.Equal("Delete", table.GetProperty("DeletionPolicy").GetString());
    }

    [Fact]
    public void Alarms_Default_FireWhileTheLatestRunsCoverageOrAcceptanceIsBelowTheThreshold()
    {
        var template = DefaultTemplate.Value;

        foreach (var (metric, threshold, description) in new[]
        {
            ("FinalCoverage", 0.95, "The share of customers with a recommendation (FinalCoverage of FeedbackCalibration) was below 0.95 in the latest run."),
            ("AcceptanceRate", 0.4, "The share of rated recommendations account managers accepted (AcceptanceRate of FeedbackCalibration) was below 0.4 in the latest run with feedback."),
        })
        {
            template.HasResourceProperties("AWS::CloudWatch::Alarm", new Dictionary<string, object>
            {
                ["AlarmName"] = $"customer-segmentation-recommendations-{metric.ToLowerInvariant()}-low",
                ["AlarmDescription"] = description,
                ["Namespace"] = "customer-segmentation/recommendations",
                ["MetricName"] = metric,
                ["Statistic"] = "Minimum",
                ["Period"] = 86400,
                ["EvaluationPeriods"] = 1,
                ["Threshold"] = threshold,
                ["ComparisonOperator"] = "LessThanThreshold",
                ["TreatMissingData"] = "ignore",
            });
        }

        Assert.Equal(2, template.FindResources("AWS::CloudWatch::Alarm").Keys.Count(k => k.StartsWith(Construct, StringComparison.Ordinal)));
    }

    [Fact]
    public void MetricFilters_Default_TurnTheStepsJsonMetricLinesIntoMetricsOnceTheLogGroupExists()
    {
        var filters = DefaultTemplate.Value.FindResources("AWS::Logs::MetricFilter")
            .Where(f => f.Key.StartsWith("RecommendationsPipeline", StringComparison.Ordinal))
            .Select(f => JsonSerializer.SerializeToElement(f.Value))
            .Select(f => $"{f.GetProperty("Properties").GetRawText()} after {f.GetProperty("DependsOn").GetRawText()}");

        Assert.Equal(
            [
                """{"FilterPattern":"{ $.metric = \u0022FinalCoverage\u0022 }","LogGroupName":"/aws/sagemaker/ProcessingJobs","MetricTransformations":[{"MetricName":"FinalCoverage","MetricNamespace":"customer-segmentation/recommendations","MetricValue":"$.value"}]}""" +
                    $" after [\"{CreatorId}\"]",
                """{"FilterPattern":"{ $.metric = \u0022AcceptanceRate\u0022 }","LogGroupName":"/aws/sagemaker/ProcessingJobs","MetricTransformations":[{"MetricName":"AcceptanceRate","MetricNamespace":"customer-segmentation/recommendations","MetricValue":"$.value"}]}""" +
                    $" after [\"{CreatorId}\"]",
            ],
            filters);
    }

    [Fact]
    public void ProcessingJobLogGroup_Creator_CreatesTheGroupOnlyWhenMissingAndNeverDeletesIt()
    {
        var resource = JsonSerializer.SerializeToElement(DefaultTemplate.Value.ToJSON()).GetProperty("Resources").GetProperty(CreatorId);
        var properties = resource.GetProperty("Properties");

        Assert.Equal("Custom::AWS", resource.GetProperty("Type").GetString());
        Assert.Equal(
            """{"action":"createLogGroup","service":"CloudWatchLogs","ignoreErrorCodesMatching":"ResourceAlreadyExistsException","parameters":{"logGroupName":"/aws/sagemaker/ProcessingJobs"},"physicalResourceId":{"id":"/aws/sagemaker/ProcessingJobs"}}""",
            properties.GetProperty("Create").GetString());
        Assert.False(properties.TryGetProperty("Update", out _));
        Assert.False(properties.TryGetProperty("Delete", out _));
        Assert.False(properties.GetProperty("InstallLatestAwsSdk").GetBoolean());
    }

    [Fact]
    public void ProcessingJobLogGroup_Handler_RunsOnCurrentNodeWithOnlyCreateLogGroupAndItsOwnLog()
    {
        var resources = JsonSerializer.SerializeToElement(DefaultTemplate.Value.ToJSON()).GetProperty("Resources");
        var handler = resources.EnumerateObject().Single(r => r.Name.StartsWith("AWS679f53fac002430cb0da5b7982bd2287", StringComparison.Ordinal)).Value;
        var policy = resources.EnumerateObject().Single(r => r.Name.StartsWith("RecommendationsPipelineLogGroupCreatorRoleDefaultPolicy", StringComparison.Ordinal)).Value;
        var role = resources.EnumerateObject().Single(r => r.Name.StartsWith("RecommendationsPipelineLogGroupCreatorRole", StringComparison.Ordinal)
            && r.Value.GetProperty("Type").GetString() == "AWS::IAM::Role").Value;
        var logs = resources.EnumerateObject().Single(r => r.Name.StartsWith("RecommendationsPipelineLogGroupCreatorLogs", StringComparison.Ordinal));

        Assert.Equal("nodejs24.x", handler.GetProperty("Properties").GetProperty("Runtime").GetString());
        Assert.Equal($$$"""{"LogGroup":{"Ref":"{{{logs.Name}}}"}}""", handler.GetProperty("Properties").GetProperty("LoggingConfig").GetRawText());
        Assert.False(JsonSerializer.SerializeToElement(DefaultTemplate.Value.ToJSON()).TryGetProperty("Mappings", out var mappings)
            && mappings.TryGetProperty("LatestNodeRuntimeMap", out _));
        Assert.False(role.GetProperty("Properties").TryGetProperty("ManagedPolicyArns", out _));
        Assert.Equal(
            [
                "CreateProcessingJobLogGroup|logs:CreateLogGroup|arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/ProcessingJobs:*|",
                $"|logs:CreateLogStream,logs:PutLogEvents|<{logs.Name}.Arn>|",
            ],
            policy.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().Select(TrainingPipelineTests.Summarize));
    }

    [Fact]
    public void Schedule_Default_WeeklyCronStartsThisPipelineWithItsOwnRole()
    {
        var template = DefaultTemplate.Value;
        const string PipelineArn = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:pipeline/customer-segmentation-recommendations";

        var rule = JsonSerializer.SerializeToElement(template.FindResources("AWS::Events::Rule").Single(r => r.Key.StartsWith(Construct, StringComparison.Ordinal)).Value)
            .GetProperty("Properties");
        var target = Assert.Single(rule.GetProperty("Targets").EnumerateArray().ToArray());
        var roleId = template.FindResources("AWS::IAM::Role").Keys.Single(k => k.StartsWith(Construct + "ScheduleRole", StringComparison.Ordinal));

        Assert.Equal("cron(0 5 ? * MON *)", rule.GetProperty("ScheduleExpression").GetString());
        Assert.Equal("ENABLED", rule.GetProperty("State").GetString());
        Assert.Equal("Starts the recommendations pipeline before the account managers' week.", rule.GetProperty("Description").GetString());
        Assert.Equal(("RecommendationsPipeline", PipelineArn, $"<{roleId}.Arn>"),
            (target.GetProperty("Id").GetString(), TrainingPipelineTests.Readable(target.GetProperty("Arn")), TrainingPipelineTests.Readable(target.GetProperty("RoleArn"))));
        Assert.Equal(["|sagemaker:StartPipelineExecution|" + PipelineArn + "|"],
            PolicyStatements(template, template.FindResources("AWS::IAM::Policy").Keys.Single(k => k.StartsWith(Construct + "ScheduleRole", StringComparison.Ordinal)))
                .Select(TrainingPipelineTests.Summarize));
    }

    [Fact]
    public void Settings_Context_ReachScheduleStepsPublishAndAlarms()
    {
        var template = TestStacks.Template(new Dictionary<string, object>
        {
            ["recommendations:scheduleExpression"] = "rate(7 days)",
            ["recommendations:scheduleEnabled"] = false,
            ["recommendations:processingInstanceType"] = "ml.c5.xlarge",
            ["recommendations:trainingInstanceType"] = "ml.m5.2xlarge",
            ["recommendations:ttlDays"] = 15,
            ["recommendations:minCoverage"] = 0.9,
            ["recommendations:minAcceptanceRate"] = 0.5,
        });
        var definition = SynthesizedPipeline.Definition(template, Construct);
        var steps = definition["Steps"]!.AsArray();
        var publish = steps[^1]!["Arguments"]!["IfSteps"]![0]!["Arguments"]!["AppSpecification"]!["ContainerArguments"]!.AsArray();

        template.HasResourceProperties("AWS::Events::Rule", new Dictionary<string, object> { ["ScheduleExpression"] = "rate(7 days)", ["State"] = "DISABLED" });
        Assert.Equal("ml.c5.xlarge", (string)steps[0]!["Arguments"]!["ProcessingResources"]!["ClusterConfig"]!["InstanceType"]!);
        Assert.Equal("ml.m5.2xlarge", (string)steps[1]!["Arguments"]!["ResourceConfig"]!["InstanceType"]!);
        Assert.Equal("15", (string)publish[publish.Select(a => a!.ToJsonString(Relaxed)).ToList().IndexOf("\"--ttl-days\"") + 1]!);
        template.HasResourceProperties("AWS::CloudWatch::Alarm", new Dictionary<string, object> { ["MetricName"] = "FinalCoverage", ["Threshold"] = 0.9 });
        template.HasResourceProperties("AWS::CloudWatch::Alarm", new Dictionary<string, object> { ["MetricName"] = "AcceptanceRate", ["Threshold"] = 0.5 });
    }

    [Fact]
    public void Settings_SeveralInvalidValues_ReportsEveryProblemAtOnce()
    {
        var error = Assert.Throws<ConfigurationException>(() => TestStacks.Create(new Dictionary<string, object>
        {
            ["recommendations:minAcceptanceRate"] = "most",
            ["recommendations:ttlDays"] = "forever",
            ["pipeline:maxK"] = "1",
        }));

        Assert.Equal(
            [
                "Context key 'pipeline:maxK' is '1': expected a whole number from 2 to 50.",
                "Context key 'recommendations:ttlDays' is 'forever': expected a whole number from 1 to 3650.",
                "Context key 'recommendations:minAcceptanceRate' is 'most': expected a number from 0 to 1.",
            ],
            error.Problems);
    }

    [Fact]
    public void SourceDir_Archive_HoldsExactlyTheRecommendationsScripts()
    {
        var scripts = RepositoryLayout.RecommendationsScripts();
        var expected = scripts.GetFiles("*.py").Select(f => f.Name).Order(StringComparer.Ordinal).ToArray();

        var entries = ReadArchiveNames(SourceDirBundle.Create(scripts));

        Assert.Equal(
            ["associations.py", "feedback_calibration.py", "market_basket.py", "pipeline_io.py", "pipeline_parameters.py", "publish.py", "ranking.py", "train_clustering.py"],
            expected);
        Assert.Equal(expected, entries);
    }

    [Fact]
    public void SourceDir_BothPipelines_ShipTheirOwnScriptsAsTwoAssets()
    {
        static string CodeUri(JsonNode definition) => (string)definition["Steps"]![0]!["Arguments"]!["ProcessingInputs"]![0]!["S3Input"]!["S3Uri"]!;

        var recommendations = CodeUri(DefaultDefinition.Value);
        var training = CodeUri(SynthesizedPipeline.Definition(DefaultTemplate.Value));

        Assert.NotEqual(training, recommendations);
        Assert.Equal((string)Step("TrainClustering")["Arguments"]!["HyperParameters"]!["sagemaker_submit_directory"]!, recommendations);
    }

    private static JsonArray Steps() => DefaultDefinition.Value["Steps"]!.AsArray();

    private static IEnumerable<JsonObject> Parameters() => DefaultDefinition.Value["Parameters"]!.AsArray().Select(p => p!.AsObject());

    private static JsonObject Step(string name) =>
        PipelineSchemaTests.AllSteps(DefaultDefinition.Value).Single(s => (string?)s["Name"] == name);

    private static List<JsonObject> ProcessingSteps() =>
        PipelineSchemaTests.AllSteps(DefaultDefinition.Value).Where(s => (string?)s["Type"] == "Processing").ToList();

    private static string RunJoin(string folder) => $$$"""{"Std:Join":{"On":"","Values":["{{{RunPrefix}}}",{{{ExecutionId}}},"/{{{folder}}}"]}}""";

    private static string AsText(string parameter) => $$$"""{"Std:Join":{"On":"","Values":[{"Get":"Parameters.{{{parameter}}}"}]}}""";

    private static string KindName(RecommendationsParameterKind kind) => kind switch
    {
        RecommendationsParameterKind.WholeNumber => "integer",
        RecommendationsParameterKind.Number => "float",
        _ => "string",
    };

    private static JsonElement[] PolicyStatements(Template template, string policyId) =>
        JsonSerializer.SerializeToElement(template.FindResources("AWS::IAM::Policy")[policyId])
            .GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().ToArray();

    // Runs a script (or -c code) of scripts/recommendations with Debian's Python, as the steps run there.
    internal static string RunScriptsPython(params string[] arguments)
    {
        var python = Environment.GetEnvironmentVariable("SEGMENTATION_PYTHON") ?? "/usr/bin/python3";
        var run = ExternalTool.Run(python, arguments, "run scripts/setup.sh (Debian's python3 with pandas)", new Dictionary<string, string>
        {
            ["PYTHONPATH"] = RepositoryLayout.RecommendationsScripts().FullName,
            ["PYTHONDONTWRITEBYTECODE"] = "1",
        });
        Assert.True(run.ExitCode == 0, $"{python} {string.Join(' ', arguments)} exited with {run.ExitCode}: {run.Stderr}");
        return run.Stdout;
    }

    private static string[] ReadArchiveNames(byte[] archive)
    {
        using var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var names = new List<string>();
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }

        return [.. names];
    }
}

/// <summary>
/// The recommendations definition against SageMaker's published pipeline-definition schema, as
/// <see cref="PipelineSchemaTests"/> does for the training definition: with every deviation below rewritten into a form
/// the schema knows, the definition is valid; leaving any single one in place makes it invalid. Each deviation is a
/// construct the service accepts and the schema (older than the service) does not.
/// </summary>
public sealed class RecommendationsPipelineSchemaTests
{
    private static readonly Lazy<string> Synthesized = new(() => SynthesizedPipeline.Definition(TestStacks.Template(), "RecommendationsPipeline").ToJsonString());

    private static readonly Dictionary<string, Action<JsonNode>> Deviations = new(StringComparer.Ordinal)
    {
        ["Std:Join"] = root => PipelineSchemaTests.ReplaceFunctionCalls(root, "Std:Join"),
        ["EnumValues"] = root =>
        {
            foreach (var parameter in root["Parameters"]!.AsArray())
            {
                parameter!.AsObject().Remove("EnumValues");
            }
        },
        ["ModelApprovalStatus"] = root => PipelineSchemaTests.RemoveRegisterModelArgument(root, "ModelApprovalStatus"),
        ["CustomerMetadataProperties"] = root => PipelineSchemaTests.RemoveRegisterModelArgument(root, "CustomerMetadataProperties"),
    };

    [Fact]
    public void Definition_EveryDeviationConformed_IsValid()
    {
        var result = PipelineSchemaTests.Evaluate(ConformedExcept(null));

        Assert.True(result.IsValid, PipelineSchemaTests.Describe(result));
    }

    [Fact]
    public void Deviations_EachOne_IsPresentInTheSynthesizedDefinition()
    {
        var unchanged = Deviations.Where(d =>
        {
            var definition = JsonNode.Parse(Synthesized.Value)!;
            d.Value(definition);
            return definition.ToJsonString() == Synthesized.Value;
        }).Select(d => d.Key);

        Assert.Empty(unchanged);
    }

    // Every numeric parameter reaches its step as text through Std:Join (the SDK's parameter.to_string()), which the
    // service evaluates wherever a string is expected; the schema defines Std:Join but references it nowhere.
    [Fact]
    public void Schema_StdJoinInArguments_IsTheOnlyRejection() => AssertOnlyDeviationRejected("Std:Join");

    // ModelApprovalStatus may only be Approved, PendingManualApproval or Rejected: ParameterString(enum_values=...)
    // renders EnumValues and the service enforces it on StartPipelineExecution; the schema's StringParameter forbids it.
    [Fact]
    public void Schema_StringParameterEnumValues_IsTheOnlyRejection() => AssertOnlyDeviationRejected("EnumValues");

    // CreateModelPackage takes ModelApprovalStatus (RegisterModel(approval_status=...)); the schema's arguments forbid it.
    [Fact]
    public void Schema_RegisterModelApprovalStatus_IsTheOnlyRejection() => AssertOnlyDeviationRejected("ModelApprovalStatus");

    // CreateModelPackage takes CustomerMetadataProperties (RegisterModel(customer_metadata_properties=...)): each model
    // version names the run prefix its recommendations came from. The schema's arguments forbid it.
    [Fact]
    public void Schema_RegisterModelCustomerMetadataProperties_IsTheOnlyRejection() => AssertOnlyDeviationRejected("CustomerMetadataProperties");

    [Fact]
    public void Schema_ProcessingStepWithoutOutputs_IsAccepted()
    {
        var definition = ConformedExcept(null);

        var publish = PipelineSchemaTests.AllSteps(definition).Single(s => (string?)s["Name"] == "Publish");

        Assert.Null(publish["Arguments"]!["ProcessingOutputConfig"]);
        Assert.True(PipelineSchemaTests.Evaluate(definition).IsValid);
    }

    [Fact]
    public void Schema_ParameterOfUnknownType_IsRejected()
    {
        var definition = ConformedExcept(null);
        definition["Parameters"]![5]!["Type"] = "Number";

        Assert.False(PipelineSchemaTests.Evaluate(definition).IsValid);
    }

    private static void AssertOnlyDeviationRejected(string deviation)
    {
        var conformed = PipelineSchemaTests.Evaluate(ConformedExcept(null));
        var withDeviation = PipelineSchemaTests.Evaluate(ConformedExcept(deviation));

        Assert.True(conformed.IsValid, PipelineSchemaTests.Describe(conformed));
        Assert.False(withDeviation.IsValid);
    }

    private static JsonNode ConformedExcept(string? kept)
    {
        var definition = JsonNode.Parse(Synthesized.Value)!;
        foreach (var (name, conform) in Deviations)
        {
            if (name != kept)
            {
                conform(definition);
            }
        }

        return definition;
    }
}
