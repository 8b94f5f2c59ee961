using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Deployment;
using Match = Amazon.CDK.Assertions.Match;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>The ModelDeployment construct in the synthesized stack: the deployer function, its roles, alarms and rules.</summary>
public sealed class ModelDeploymentTests
{
    private const string FunctionId = "ModelDeploymentDeployer2892DBF8";
    private const string DeployerPolicyId = "ModelDeploymentDeployerRoleDefaultPolicyB25A8897";
    private const string ModelRoleId = "ModelDeploymentModelExecutionRoleAB2C16E3";
    private const string ModelPolicyId = "ModelDeploymentModelExecutionRoleDefaultPolicyDA33DC42";
    private const string ErrorsAlarmId = "ModelDeploymentRollbackAlarmsInvocation5XXErrors8860D593";
    private const string LatencyAlarmId = "ModelDeploymentRollbackAlarmsModelLatencyP99D187F38F";
    private const string QueueId = "ModelDeploymentDeadLetterQueueCF5B611E";
    private const string LogGroupId = "ModelDeploymentDeployerLogGroup906E1A29";
    private const string ModelBucketId = "StorageModelBucket83DEC8C9";
    private const string Sagemaker = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:";

    private static readonly Lazy<Template> DefaultTemplate = new(() => TestStacks.Template());

    // Every deployment setting away from its default at once, plus a project name, so each must reach the template.
    private static readonly Lazy<Template> CustomTemplate = new(() => TestStacks.Template(new Dictionary<string, object>
    {
        ["projectName"] = "acme-seg",
        ["pipeline:inferenceInstanceType"] = "ml.c5.xlarge",
        ["deployment:lambdaArchitecture"] = "x86_64",
        ["deployment:initialInstanceCount"] = 2,
        ["deployment:minCapacity"] = 2,
        ["deployment:maxCapacity"] = 6,
        ["deployment:targetInvocationsPerInstance"] = 250,
        ["deployment:strategy"] = "linear",
        ["deployment:canaryPercent"] = 20,
        ["deployment:linearStepPercent"] = 50,
        ["deployment:waitSeconds"] = 600,
        ["deployment:keepVersions"] = 5,
        ["deployment:dataCapturePercent"] = 15,
        ["deployment:logRetentionDays"] = 7,
    }));

    [Fact]
    public void Function_Default_IsANativeBootstrapOnProvidedAl2023WithOneConcurrentRun()
    {
        DefaultTemplate.Value.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["FunctionName"] = "customer-segmentation-endpoint-deployer",
            ["Runtime"] = "provided.al2023",
            ["Handler"] = "bootstrap",
            ["Architectures"] = Items("arm64"),
            ["MemorySize"] = 256,
            ["Timeout"] = 60,
            ["TracingConfig"] = new Dictionary<string, object> { ["Mode"] = "Active" },
            ["ReservedConcurrentExecutions"] = 1,
            ["LoggingConfig"] = new Dictionary<string, object> { ["LogGroup"] = new Dictionary<string, object> { ["Ref"] = LogGroupId } },
            ["DeadLetterConfig"] = new Dictionary<string, object>
            {
                ["TargetArn"] = new Dictionary<string, object> { ["Fn::GetAtt"] = Items(QueueId, "Arn") },
            },
            ["Role"] = new Dictionary<string, object> { ["Fn::GetAtt"] = Items("ModelDeploymentDeployerRole78AD1CB9", "Arn") },
        });
        DefaultTemplate.Value.HasResourceProperties("AWS::Lambda::EventInvokeConfig", new Dictionary<string, object>
        {
            ["FunctionName"] = new Dictionary<string, object> { ["Ref"] = FunctionId },
            ["MaximumRetryAttempts"] = 2,
        });
    }

    [Fact]
    public void Function_Default_CodeIsTheEndpointDeployerProjectZipped()
    {
        FunctionCodeAssertions.AssertCodeIsTheProjectZipped(FunctionId, "EndpointDeployer");
    }

    [Fact]
    public void Function_Default_PassesEveryDeployerVariable()
    {
        var variables = Variables(DefaultTemplate.Value, FunctionId);

        Assert.Equal(
            new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["CANARY_PERCENT"] = "10",
                ["DATA_CAPTURE_PERCENT"] = "0",
                ["DATA_CAPTURE_S3_URI"] = string.Empty,
                ["DEPLOYMENT_STRATEGY"] = "canary",
                ["ENDPOINT_NAME"] = "customer-segmentation-endpoint",
                ["EXECUTION_ROLE_ARN"] = $"<{ModelRoleId}.Arn>",
                ["INITIAL_INSTANCE_COUNT"] = "1",
                ["INSTANCE_TYPE"] = "ml.m5.large",
                ["KEEP_VERSIONS"] = "3",
                ["LINEAR_STEP_PERCENT"] = "25",
                ["MAX_CAPACITY"] = "4",
                ["MIN_CAPACITY"] = "1",
                ["MODEL_BUCKET"] = $"<{ModelBucketId}>",
                ["MODEL_PACKAGE_GROUP_NAME"] = "customer-segmentation-models",
                ["ROLLBACK_ALARM_NAMES"] = $"<{ErrorsAlarmId}>,<{LatencyAlarmId}>",
                ["TARGET_INVOCATIONS_PER_INSTANCE"] = "100",
                ["WAIT_SECONDS"] = "300",
            },
            variables);
    }

    [Fact]
    public void Function_EverySettingChanged_ReachesTheFunction()
    {
        var template = CustomTemplate.Value;
        var functionId = template.FindResources("AWS::Lambda::Function").Keys.Single(k => k.StartsWith("ModelDeploymentDeployer", StringComparison.Ordinal));

        var variables = Variables(template, functionId);

        template.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["FunctionName"] = "acme-seg-endpoint-deployer",
            ["Architectures"] = Items("x86_64"),
        });
        Assert.Equal("acme-seg-endpoint", variables["ENDPOINT_NAME"]);
        Assert.Equal("acme-seg-models", variables["MODEL_PACKAGE_GROUP_NAME"]);
        Assert.Equal("ml.c5.xlarge", variables["INSTANCE_TYPE"]);
        Assert.Equal(["2", "2", "6", "250", "linear", "20", "50", "600", "5", "15"],
            Items(
                "INITIAL_INSTANCE_COUNT", "MIN_CAPACITY", "MAX_CAPACITY", "TARGET_INVOCATIONS_PER_INSTANCE", "DEPLOYMENT_STRATEGY",
                "CANARY_PERCENT", "LINEAR_STEP_PERCENT", "WAIT_SECONDS", "KEEP_VERSIONS", "DATA_CAPTURE_PERCENT").Select(v => variables[v]));
        Assert.Equal($"s3://<{ModelBucketId}>/data-capture", variables["DATA_CAPTURE_S3_URI"]);
        template.HasResourceProperties("AWS::Logs::LogGroup", new Dictionary<string, object> { ["RetentionInDays"] = 7 });
    }

    [Fact]
    public void LogGroup_Default_KeepsThirtyDays()
    {
        DefaultTemplate.Value.HasResourceProperties("AWS::Logs::LogGroup", new Dictionary<string, object> { ["RetentionInDays"] = 30 });
        Assert.True(Resource(DefaultTemplate.Value, LogGroupId).GetProperty("Properties").GetProperty("RetentionInDays").GetInt32() == 30);
    }

    [Fact]
    public void DeployerRole_Policy_GrantsExactlyTheDeployerActionsOnItsResources()
    {
        var statements = Statements(DefaultTemplate.Value, DeployerPolicyId);

        Assert.Equal(
            [
                $"|logs:CreateLogStream,logs:PutLogEvents|<{LogGroupId}.Arn>|",
                $"|sqs:SendMessage|<{QueueId}.Arn>|",
                "|xray:PutTelemetryRecords,xray:PutTraceSegments|*|",
                $"ReadModelPackages|sagemaker:DescribeModelPackage|{Sagemaker}model-package/customer-segmentation-models/*|",
                $"ManageModels|sagemaker:CreateModel,sagemaker:DeleteModel,sagemaker:DescribeModel|{Sagemaker}model/customer-segmentation-*|",
                "ManageEndpointConfigs|sagemaker:CreateEndpointConfig,sagemaker:DeleteEndpointConfig,sagemaker:DescribeEndpointConfig|" +
                    $"{Sagemaker}endpoint-config/customer-segmentation-*|",
                "ManageEndpoint|sagemaker:CreateEndpoint,sagemaker:DeleteEndpoint,sagemaker:DescribeEndpoint,sagemaker:UpdateEndpoint," +
                    "sagemaker:UpdateEndpointWeightsAndCapacities|" +
                    $"{Sagemaker}endpoint-config/customer-segmentation-*,{Sagemaker}endpoint/customer-segmentation-endpoint|",
                "TagDeployedResources|sagemaker:AddTags,sagemaker:DeleteTags,sagemaker:ListTags|" +
                    $"{Sagemaker}endpoint-config/customer-segmentation-*,{Sagemaker}endpoint/customer-segmentation-endpoint,{Sagemaker}model/customer-segmentation-*|",
                "ListDeployedVersions|sagemaker:ListEndpointConfigs,sagemaker:ListModels|*|",
                "ScaleEndpoint|application-autoscaling:DeleteScalingPolicy,application-autoscaling:DeregisterScalableTarget," +
                    "application-autoscaling:DescribeScalableTargets,application-autoscaling:DescribeScalingPolicies," +
                    "application-autoscaling:PutScalingPolicy,application-autoscaling:RegisterScalableTarget|*|",
                "ManageScalingAlarms|cloudwatch:DeleteAlarms,cloudwatch:DescribeAlarms,cloudwatch:PutMetricAlarm|" +
                    "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:TargetTracking-endpoint/customer-segmentation-endpoint/*|",
                $"ReadRollbackAlarms|cloudwatch:DescribeAlarms|<{ErrorsAlarmId}.Arn>,<{LatencyAlarmId}.Arn>|",
                "CreateAutoscalingServiceLinkedRole|iam:CreateServiceLinkedRole|arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/" +
                    "sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint|" +
                    """{"StringEquals":{"iam:AWSServiceName":"sagemaker.application-autoscaling.amazonaws.com"}}""",
                $"PassModelExecutionRole|iam:PassRole|<{ModelRoleId}.Arn>|" + """{"StringEquals":{"iam:PassedToService":"sagemaker.amazonaws.com"}}""",
                $"|s3:GetBucket*,s3:GetObject*,s3:List*|<{ModelBucketId}.Arn>,<{ModelBucketId}.Arn>/runs/*|",
                "|s3:Abort*,s3:PutObject,s3:PutObjectLegalHold,s3:PutObjectRetention,s3:PutObjectTagging,s3:PutObjectVersionTagging|" +
                    $"<{ModelBucketId}.Arn>/deployed/*|",
            ],
            statements);
    }

    [Fact]
    public void DeployerRole_PassRole_IsOnlyForTheModelRoleAndOnlyToSageMaker()
    {
        var passRole = AllStatements(DefaultTemplate.Value)
            .Where(s => s.Policy.StartsWith("ModelDeployment", StringComparison.Ordinal) && s.Summary.Contains("iam:PassRole", StringComparison.Ordinal))
            .ToList();

        var statement = Assert.Single(passRole);
        Assert.Equal(DeployerPolicyId, statement.Policy);
        Assert.EndsWith($"|iam:PassRole|<{ModelRoleId}.Arn>|" + """{"StringEquals":{"iam:PassedToService":"sagemaker.amazonaws.com"}}""", statement.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Roles_Default_CarryNoManagedPolicyAndTrustOnlyTheirService()
    {
        var roles = DefaultTemplate.Value.FindResources("AWS::IAM::Role");

        foreach (var (id, service) in new Dictionary<string, string> { [ModelRoleId] = "sagemaker.amazonaws.com", ["ModelDeploymentDeployerRole78AD1CB9"] = "lambda.amazonaws.com" })
        {
            var role = JsonSerializer.SerializeToElement(roles[id]).GetProperty("Properties");
            Assert.False(role.TryGetProperty("ManagedPolicyArns", out _), $"{id} has managed policies");
            Assert.Equal(
                $$$"""{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"{{{service}}}"}}],"Version":"2012-10-17"}""",
                role.GetProperty("AssumeRolePolicyDocument").GetRawText());
        }
    }

    [Fact]
    public void ModelExecutionRole_Policy_ReadsArtifactsAndServingCodeAndPullsTheImageOnly()
    {
        var statements = Statements(DefaultTemplate.Value, ModelPolicyId);

        const string Assets = "arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>";
        var reads = Assert.Single(statements, s => s.Contains(Assets, StringComparison.Ordinal));
        Assert.Matches(
            "^\\|s3:GetBucket\\*,s3:GetObject\\*,s3:List\\*\\|<StorageModelBucket83DEC8C9\\.Arn>," + System.Text.RegularExpressions.Regex.Escape(Assets) +
                "/[0-9a-f]{64}\\.gz," + System.Text.RegularExpressions.Regex.Escape(Assets) + ",<StorageModelBucket83DEC8C9\\.Arn>/runs/\\*\\|$",
            reads);
        Assert.Equal(
            [
                reads,
                "PullServingImage|ecr:BatchCheckLayerAvailability,ecr:BatchGetImage,ecr:GetDownloadUrlForLayer|" +
                    "arn:<AWS::Partition>:ecr:<AWS::Region>:<SklearnImageAccounts[<AWS::Region>].account>:repository/sagemaker-scikit-learn|",
                "EcrLogin|ecr:GetAuthorizationToken|*|",
                "PublishEndpointMetrics|cloudwatch:PutMetricData|*|" + """{"StringLike":{"cloudwatch:namespace":"/aws/sagemaker/*"}}""",
                "WriteEndpointLogs|logs:CreateLogGroup,logs:CreateLogStream,logs:DescribeLogStreams,logs:PutLogEvents|" +
                    "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/customer-segmentation-endpoint:*|",
            ],
            statements);
    }

    [Fact]
    public void ModelExecutionRole_DataCaptureOn_MayAlsoWriteDataCaptureOnly()
    {
        var template = CustomTemplate.Value;
        var policyId = template.FindResources("AWS::IAM::Policy").Keys.Single(k => k.StartsWith("ModelDeploymentModelExecutionRoleDefaultPolicy", StringComparison.Ordinal));

        var writes = Statements(template, policyId).Where(s => s.Contains("s3:PutObject", StringComparison.Ordinal)).ToList();

        Assert.Equal(
            [
                "|s3:Abort*,s3:PutObject,s3:PutObjectLegalHold,s3:PutObjectRetention,s3:PutObjectTagging,s3:PutObjectVersionTagging|" +
                    $"<{ModelBucketId}.Arn>/data-capture/*|",
            ],
            writes);
        Assert.DoesNotContain(Statements(DefaultTemplate.Value, ModelPolicyId), s => s.Contains("s3:PutObject", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(DeployerPolicyId)]
    [InlineData(ModelPolicyId)]
    public void Policy_EveryWildcardResource_IsNamedInAnIam5AcknowledgementAndNoOtherIs(string policyId)
    {
        var policy = Resource(DefaultTemplate.Value, policyId);
        var wildcards = policy.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray()
            .SelectMany(s => s.GetProperty("Resource").ValueKind == JsonValueKind.Array ? s.GetProperty("Resource").EnumerateArray().ToArray() : [s.GetProperty("Resource")])
            .Select(r => "Resource::" + TrainingPipelineTests.Readable(r))
            .Where(r => r.Contains('*', StringComparison.Ordinal))
            .ToHashSet();

        var acknowledged = policy.GetProperty("Metadata").GetProperty("cdk_nag").GetProperty("rules_to_suppress").EnumerateArray()
            .Where(rule => rule.GetProperty("id").GetString() == "AwsSolutions-IAM5")
            .SelectMany(rule => rule.GetProperty("applies_to").EnumerateArray().Select(a => a.GetString()!))
            .Where(finding => finding.StartsWith("Resource::", StringComparison.Ordinal))
            .ToHashSet();

        Assert.NotEmpty(wildcards);
        Assert.Equal(wildcards.Order(StringComparer.Ordinal), acknowledged.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Policies_Default_PassThePlatformWildcardAudit()
    {
        var template = JsonNode.Parse(JsonSerializer.Serialize(DefaultTemplate.Value.ToJSON()))!.AsObject();

        var unacknowledged = TemplateAudit.UnacknowledgedWildcardResources(template).Where(w => w.StartsWith("ModelDeployment", StringComparison.Ordinal));

        Assert.Empty(unacknowledged);
    }

    [Fact]
    public void Alarms_Default_WatchServerErrorsAndP99LatencyOfTheAllTrafficVariant()
    {
        var dimensions = new object[]
        {
            new Dictionary<string, object> { ["Name"] = "EndpointName", ["Value"] = "customer-segmentation-endpoint" },
            new Dictionary<string, object> { ["Name"] = "VariantName", ["Value"] = "AllTraffic" },
        };

        DefaultTemplate.Value.HasResourceProperties("AWS::CloudWatch::Alarm", new Dictionary<string, object>
        {
            ["AlarmName"] = "customer-segmentation-endpoint-invocation-5xx-errors",
            ["Namespace"] = "AWS/SageMaker",
            ["MetricName"] = "Invocation5XXErrors",
            ["Dimensions"] = dimensions,
            ["Statistic"] = "Sum",
            ["Period"] = 60,
            ["Threshold"] = 1,
            ["ComparisonOperator"] = "GreaterThanOrEqualToThreshold",
            ["EvaluationPeriods"] = 1,
            ["TreatMissingData"] = "notBreaching",
        });
        DefaultTemplate.Value.HasResourceProperties("AWS::CloudWatch::Alarm", new Dictionary<string, object>
        {
            ["AlarmName"] = "customer-segmentation-endpoint-model-latency-p99",
            ["Namespace"] = "AWS/SageMaker",
            ["MetricName"] = "ModelLatency",
            ["Dimensions"] = dimensions,
            ["ExtendedStatistic"] = "p99",
            ["Period"] = 60,
            ["Threshold"] = 500000,
            ["ComparisonOperator"] = "GreaterThanThreshold",
            ["EvaluationPeriods"] = 2,
            ["DatapointsToAlarm"] = 2,
            ["TreatMissingData"] = "notBreaching",
        });
        Assert.Equal(2, DefaultTemplate.Value.FindResources("AWS::CloudWatch::Alarm").Keys.Count(k => k.StartsWith("ModelDeployment", StringComparison.Ordinal)));
    }

    [Fact]
    public void Rules_ModelApproved_MatchesOnlyApprovedVersionsOfTheProjectsGroup()
    {
        DefaultTemplate.Value.HasResourceProperties("AWS::Events::Rule", new Dictionary<string, object>
        {
            ["EventPattern"] = new Dictionary<string, object>
            {
                ["source"] = Items("aws.sagemaker"),
                ["detail-type"] = Items("SageMaker Model Package State Change"),
                ["detail"] = new Dictionary<string, object>
                {
                    ["ModelPackageGroupName"] = Items("customer-segmentation-models"),
                    ["ModelApprovalStatus"] = Items("Approved"),
                },
            },
            ["State"] = "ENABLED",
            ["Targets"] = new object[] { DeployerTarget() },
        });
    }

    [Fact]
    public void Rules_EndpointStateChange_MatchesOnlyTheProjectsEndpoint()
    {
        DefaultTemplate.Value.HasResourceProperties("AWS::Events::Rule", new Dictionary<string, object>
        {
            ["EventPattern"] = new Dictionary<string, object>
            {
                ["source"] = Items("aws.sagemaker"),
                ["detail-type"] = Items("SageMaker Endpoint State Change"),
                ["detail"] = new Dictionary<string, object> { ["EndpointName"] = Items("customer-segmentation-endpoint") },
            },
            ["Targets"] = new object[] { DeployerTarget() },
        });
    }

    [Fact]
    public void Rules_Default_AreTheOnlyOnesTargetingTheDeployerAndEachMayInvokeIt()
    {
        var rules = DefaultTemplate.Value.FindResources("AWS::Events::Rule")
            .Where(r => r.Key.StartsWith("ModelDeployment", StringComparison.Ordinal))
            .Select(r => r.Key)
            .ToList();
        var permissions = DefaultTemplate.Value.FindResources("AWS::Lambda::Permission")
            .Select(p => JsonSerializer.SerializeToElement(p.Value).GetProperty("Properties"))
            .Where(p => TrainingPipelineTests.Readable(p.GetProperty("FunctionName")) == $"<{FunctionId}.Arn>")
            .ToList();

        Assert.Equal(2, rules.Count);
        Assert.Equal(2, permissions.Count);
        Assert.All(permissions, p =>
        {
            Assert.Equal("events.amazonaws.com", p.GetProperty("Principal").GetString());
            Assert.Equal("lambda:InvokeFunction", p.GetProperty("Action").GetString());
            Assert.Contains(p.GetProperty("SourceArn").GetProperty("Fn::GetAtt")[0].GetString(), rules);
        });
    }

    [Fact]
    public void DeadLetterQueue_Default_IsEncryptedTlsOnlyAndWritableOnlyByTheTwoRules()
    {
        DefaultTemplate.Value.HasResourceProperties("AWS::SQS::Queue", new Dictionary<string, object>
        {
            ["SqsManagedSseEnabled"] = true,
            ["MessageRetentionPeriod"] = 1209600,
        });
        var policy = JsonSerializer.SerializeToElement(DefaultTemplate.Value.FindResources("AWS::SQS::QueuePolicy").Single().Value)
            .GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray().ToList();

        var deny = Assert.Single(policy, s => s.GetProperty("Effect").GetString() == "Deny");
        Assert.Equal("""{"Bool":{"aws:SecureTransport":"false"}}""", deny.GetProperty("Condition").GetRawText());
        var allows = policy.Where(s => s.GetProperty("Effect").GetString() == "Allow").ToList();
        Assert.Equal(2, allows.Count);
        Assert.All(allows, s =>
        {
            Assert.Equal("""{"Service":"events.amazonaws.com"}""", s.GetProperty("Principal").GetRawText());
            Assert.Equal("sqs:SendMessage", s.GetProperty("Action").GetString());
            Assert.StartsWith("ModelDeployment", s.GetProperty("Condition").GetProperty("ArnEquals").GetProperty("aws:SourceArn").GetProperty("Fn::GetAtt")[0].GetString(), StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Pipeline_DeployStep_InvokesTheDeployerWithTheRegisteredPackage()
    {
        var definition = SynthesizedPipeline.Definition();

        var deploy = definition["Steps"]![3]!["Arguments"]!["IfSteps"]![2]!.ToJsonString();

        Assert.Equal(
            """{"Name":"Deploy","Type":"Lambda","Arguments":{"ModelPackageArn":{"Get":"Steps.RegisterModel.ModelPackageArn"},"InstanceType":{"Get":"Parameters.InferenceInstanceType"},"InitialInstanceCount":"1","PipelineExecutionArn":{"Get":"Execution.PipelineExecutionArn"}},"FunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:customer-segmentation-endpoint-deployer","OutputParameters":[{"OutputName":"EndpointName","OutputType":"String"},{"OutputName":"EndpointConfigName","OutputType":"String"},{"OutputName":"ModelName","OutputType":"String"},{"OutputName":"Action","OutputType":"String"}]}""",
            deploy);
    }

    [Fact]
    public void Pipeline_InitialInstanceCountSetting_ReachesTheDeployStep()
    {
        var definition = SynthesizedPipeline.Definition(CustomTemplate.Value);

        var deploy = definition["Steps"]![3]!["Arguments"]!["IfSteps"]![2]!;

        Assert.Equal("2", deploy["Arguments"]!["InitialInstanceCount"]!.GetValue<string>());
        Assert.Equal("arn:aws:lambda:us-east-1:000000000000:function:acme-seg-endpoint-deployer", deploy["FunctionArn"]!.GetValue<string>());
    }

    [Fact]
    public void Pipeline_ExecutionRole_MayInvokeExactlyTheDeployerAndNoOtherFunction()
    {
        var invokes = AllStatements(DefaultTemplate.Value).Where(s => s.Summary.Contains("lambda:InvokeFunction", StringComparison.Ordinal)).ToList();

        var invoke = Assert.Single(invokes);
        Assert.Equal("TrainingPipelineExecutionRoleDefaultPolicy96617C2D", invoke.Policy);
        Assert.Equal("InvokeDeployer|lambda:InvokeFunction|arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:customer-segmentation-endpoint-deployer|",
            invoke.Summary);
        Assert.Equal("customer-segmentation-endpoint-deployer",
            Resource(DefaultTemplate.Value, FunctionId).GetProperty("Properties").GetProperty("FunctionName").GetString());
    }

    [Fact]
    public void Stack_Default_OutputsTheEndpointName()
    {
        DefaultTemplate.Value.HasOutput("EndpointName", new Dictionary<string, object> { ["Value"] = "customer-segmentation-endpoint" });
    }

    [Fact]
    public void Construct_Default_ExposesWhatItCreated()
    {
        var deployment = TestStacks.Create().ModelDeployment;

        Assert.Equal("customer-segmentation-endpoint", deployment.EndpointName);
        Assert.Equal("customer-segmentation-endpoint-deployer", deployment.FunctionName);
        Assert.Equal(["Invocation5XXErrors", "ModelLatencyP99"], deployment.Alarms.All.Select(a => a.Node.Id));
        Assert.Equal("DeployerRole", deployment.Role.Node.Id);
        Assert.Equal("ModelExecutionRole", deployment.ModelExecutionRole.Node.Id);
        Assert.Equal("Deployer", deployment.Function.Node.Id);
    }

    private static Dictionary<string, object> DeployerTarget() => new Dictionary<string, object>
    {
        ["Arn"] = new Dictionary<string, object> { ["Fn::GetAtt"] = Items(FunctionId, "Arn") },
        ["DeadLetterConfig"] = new Dictionary<string, object>
        {
            ["Arn"] = new Dictionary<string, object> { ["Fn::GetAtt"] = Items(QueueId, "Arn") },
        },
        ["RetryPolicy"] = new Dictionary<string, object> { ["MaximumRetryAttempts"] = 4, ["MaximumEventAgeInSeconds"] = 7200 },
        ["Id"] = Match.AnyValue(),
    };

    // A params array, not an array literal: the analyzers want literals hoisted into fields, which would scatter expectations.
    private static string[] Items(params string[] values) => values;

    private static JsonElement Resource(Template template, string logicalId) =>
        JsonSerializer.SerializeToElement(template.ToJSON()).GetProperty("Resources").GetProperty(logicalId);

    private static SortedDictionary<string, string> Variables(Template template, string functionId) =>
        new(Resource(template, functionId).GetProperty("Properties").GetProperty("Environment").GetProperty("Variables").EnumerateObject()
            .ToDictionary(v => v.Name, v => TrainingPipelineTests.Readable(v.Value)), StringComparer.Ordinal);

    private static List<string> Statements(Template template, string policyId) =>
        [.. Resource(template, policyId).GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray()
            .Select(TrainingPipelineTests.Summarize)];

    private static List<(string Policy, string Summary)> AllStatements(Template template) =>
        [.. template.FindResources("AWS::IAM::Policy").Keys.SelectMany(id => Statements(template, id).Select(s => (id, s)))];
}

/// <summary>The <c>deployment:*</c> context keys: defaults, overrides and the exact message of every bad value.</summary>
public sealed class DeploymentSettingsTests
{
    [Fact]
    public void FromContext_Empty_UsesDocumentedDeploymentDefaults()
    {
        var settings = Read(new Dictionary<string, object>()).Deployment;

        Assert.Equal(
            new DeploymentSettings
            {
                LambdaArchitecture = LambdaArchitecture.Arm64,
                InitialInstanceCount = 1,
                MinCapacity = 1,
                MaxCapacity = 4,
                TargetInvocationsPerInstance = 100,
                Strategy = DeploymentStrategy.Canary,
                CanaryPercent = 10,
                LinearStepPercent = 25,
                WaitSeconds = 300,
                KeepVersions = 3,
                DataCapturePercent = 0,
                LogRetentionDays = 30,
            },
            settings);
        Assert.Equal("canary", settings.StrategyName);
    }

    [Fact]
    public void FromContext_ValidDeploymentOverrides_AreRead()
    {
        var settings = Read(new Dictionary<string, object>
        {
            ["deployment:lambdaArchitecture"] = "x86_64",
            ["deployment:initialInstanceCount"] = "3",
            ["deployment:minCapacity"] = 2,
            ["deployment:maxCapacity"] = 100,
            ["deployment:targetInvocationsPerInstance"] = 100000,
            ["deployment:strategy"] = "all-at-once",
            ["deployment:canaryPercent"] = 99,
            ["deployment:linearStepPercent"] = 1,
            ["deployment:waitSeconds"] = 0,
            ["deployment:keepVersions"] = 2,
            ["deployment:dataCapturePercent"] = 100,
            ["deployment:logRetentionDays"] = 3653,
        }).Deployment;

        Assert.Equal(LambdaArchitecture.X64, settings.LambdaArchitecture);
        Assert.Equal((3, 2, 100, 100000), (settings.InitialInstanceCount, settings.MinCapacity, settings.MaxCapacity, settings.TargetInvocationsPerInstance));
        Assert.Equal(DeploymentStrategy.AllAtOnce, settings.Strategy);
        Assert.Equal("all-at-once", settings.StrategyName);
        Assert.Equal((99, 1, 0, 2, 100, 3653),
            (settings.CanaryPercent, settings.LinearStepPercent, settings.WaitSeconds, settings.KeepVersions, settings.DataCapturePercent, settings.LogRetentionDays));
    }

    [Theory]
    [InlineData("deployment:lambdaArchitecture", "amd64", "expected one of arm64, x86_64")]
    [InlineData("deployment:lambdaArchitecture", "ARM64", "expected one of arm64, x86_64")]
    [InlineData("deployment:initialInstanceCount", "0", "expected a whole number from 1 to 100")]
    [InlineData("deployment:minCapacity", "0", "expected a whole number from 1 to 100")]
    [InlineData("deployment:maxCapacity", "101", "expected a whole number from 1 to 100")]
    [InlineData("deployment:maxCapacity", "four", "expected a whole number from 1 to 100")]
    [InlineData("deployment:targetInvocationsPerInstance", "0", "expected a whole number from 1 to 100000")]
    [InlineData("deployment:targetInvocationsPerInstance", "12.5", "expected a whole number from 1 to 100000")]
    [InlineData("deployment:strategy", "blue-green", "expected one of canary, linear, all-at-once")]
    [InlineData("deployment:strategy", "Canary", "expected one of canary, linear, all-at-once")]
    [InlineData("deployment:canaryPercent", "100", "expected a whole number from 1 to 99")]
    [InlineData("deployment:canaryPercent", "0", "expected a whole number from 1 to 99")]
    [InlineData("deployment:linearStepPercent", "0", "expected a whole number from 1 to 99")]
    [InlineData("deployment:waitSeconds", "3601", "expected a whole number from 0 to 3600")]
    [InlineData("deployment:waitSeconds", "-1", "expected a whole number from 0 to 3600")]
    [InlineData("deployment:keepVersions", "1", "expected a whole number from 2 to 50")]
    [InlineData("deployment:keepVersions", "51", "expected a whole number from 2 to 50")]
    [InlineData("deployment:dataCapturePercent", "101", "expected a whole number from 0 to 100")]
    [InlineData("deployment:logRetentionDays", "10",
        "expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653")]
    [InlineData("deployment:logRetentionDays", "0",
        "expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653")]
    public void FromContext_BadDeploymentValue_FailsNamingKeyValueAndRule(string key, string value, string rule)
    {
        var error = Assert.Throws<ConfigurationException>(() => Read(new Dictionary<string, object> { [key] = value }));

        Assert.Equal([$"Context key '{key}' is '{value}': {rule}."], error.Problems);
    }

    [Fact]
    public void FromContext_MaxCapacityBelowMinCapacity_Fails()
    {
        var error = Assert.Throws<ConfigurationException>(() => Read(new Dictionary<string, object>
        {
            ["deployment:minCapacity"] = 3,
            ["deployment:maxCapacity"] = 2,
            ["deployment:initialInstanceCount"] = 3,
        }));

        Assert.Equal(["Context key 'deployment:maxCapacity' is '2': expected at least deployment:minCapacity (3)."], error.Problems);
    }

    [Theory]
    [InlineData(5, "5")]
    [InlineData(1, "1")]
    public void FromContext_InitialInstanceCountOutsideCapacity_Fails(int initial, string text)
    {
        var error = Assert.Throws<ConfigurationException>(() => Read(new Dictionary<string, object>
        {
            ["deployment:minCapacity"] = 2,
            ["deployment:initialInstanceCount"] = initial,
        }));

        Assert.Equal(
            [
                $"Context key 'deployment:initialInstanceCount' is '{text}': expected a whole number from deployment:minCapacity (2) to " +
                "deployment:maxCapacity (4), because autoscaling would move a new endpoint into that range at once.",
            ],
            error.Problems);
    }

    [Fact]
    public void FromContext_SeveralBadDeploymentValues_ReportsAllAtOnce()
    {
        var error = Assert.Throws<ConfigurationException>(() => Read(new Dictionary<string, object>
        {
            ["deployment:strategy"] = "rolling",
            ["deployment:waitSeconds"] = "soon",
            ["deployment:logRetentionDays"] = 31,
        }));

        Assert.Equal(
            [
                "Context key 'deployment:strategy' is 'rolling': expected one of canary, linear, all-at-once.",
                "Context key 'deployment:waitSeconds' is 'soon': expected a whole number from 0 to 3600.",
                "Context key 'deployment:logRetentionDays' is '31': expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.",
            ],
            error.Problems);
    }

    private static PlatformSettings Read(IDictionary<string, object> context) =>
        PlatformSettings.FromContext(new App(new AppProps { Context = context }).Node);
}
