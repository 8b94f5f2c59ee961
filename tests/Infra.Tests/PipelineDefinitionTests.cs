using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CustomerSegmentation.Infra.Pipelines;
using CustomerSegmentation.Infra.Pipelines.Definition;

namespace CustomerSegmentation.Infra.Tests;

public sealed class PipelineDefinitionTests
{
    // The definition's own escaping, so single quotes in property paths stay readable in the expected text.
    private static readonly JsonSerializerOptions RenderOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly ProcessingStep Evaluate = new("Evaluate", new ProcessingArguments(
        new ProcessingResources(new InstanceConfig("ml.m5.large", 1, 30)),
        new AppSpecification("image", ["python3"]),
        "role",
        [new ProcessingInput("model", new S3Input("s3://b/model.tar.gz", "/opt/ml/processing/input/model"))],
        new ProcessingOutputConfig([new ProcessingOutput("evaluation", new S3Output("s3://b/evaluation", "/opt/ml/processing/output/evaluation"))]),
        new StoppingCondition(600)))
    {
        PropertyFiles = [new PropertyFile("EvaluationReport", "evaluation", "evaluation.json")],
    };

    [Fact]
    public void Reference_Parameter_RendersGet()
    {
        var parameter = new FloatParameter("MinSilhouette", 0.25);

        var json = Render(parameter.Value);

        Assert.Equal("""{"Get":"Parameters.MinSilhouette"}""", json);
    }

    [Fact]
    public void AsString_IntegerParameter_RendersStdJoinWithEmptySeparator()
    {
        var parameter = new IntegerParameter("NClusters", 0);

        var json = Render(parameter.AsString());

        Assert.Equal("""{"Std:Join":{"On":"","Values":[{"Get":"Parameters.NClusters"}]}}""", json);
    }

    [Fact]
    public void Join_LiteralsAndExecutionId_RendersValuesInOrder()
    {
        var join = Join.Concat("s3://bucket/runs/", ExecutionVariables.PipelineExecutionId, "/training");

        var json = Render(join);

        Assert.Equal("""{"Std:Join":{"On":"","Values":["s3://bucket/runs/",{"Get":"Execution.PipelineExecutionId"},"/training"]}}""", json);
    }

    [Fact]
    public void Join_Separator_RendersOn()
    {
        var join = new Join(",", ["a", new Reference("Parameters.Features")]);

        var json = Render(join);

        Assert.Equal("""{"Std:Join":{"On":",","Values":["a",{"Get":"Parameters.Features"}]}}""", json);
    }

    [Fact]
    public void ExecutionVariables_Arn_RendersGet()
    {
        Assert.Equal("""{"Get":"Execution.PipelineExecutionArn"}""", Render(ExecutionVariables.PipelineExecutionArn));
        Assert.Equal("""{"Get":"Execution.PipelineExecutionId"}""", Render(ExecutionVariables.PipelineExecutionId));
    }

    [Fact]
    public void JsonGet_PropertyFileOfStep_RendersStdJsonGet()
    {
        var value = new JsonGet(Evaluate.PropertyFile("EvaluationReport"), "metrics.silhouette");

        var json = Render(value);

        Assert.Equal(
            """{"Std:JsonGet":{"PropertyFile":{"Get":"Steps.Evaluate.PropertyFiles.EvaluationReport"},"Path":"metrics.silhouette"}}""",
            json);
    }

    [Fact]
    public void PropertyFile_UnknownName_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => Evaluate.PropertyFile("Report"));

        Assert.Equal("Step Evaluate has no property file named 'Report'. (Parameter 'propertyFileName')", error.Message);
    }

    [Fact]
    public void OutputUri_KnownOutput_RendersProcessingOutputPath()
    {
        var json = Render(Evaluate.OutputUri("evaluation"));

        Assert.Equal("""{"Get":"Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}""", json);
    }

    [Fact]
    public void OutputUri_UnknownOutput_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => Evaluate.OutputUri("train"));

        Assert.Equal("Step Evaluate has no output named 'train'. (Parameter 'outputName')", error.Message);
    }

    [Fact]
    public void ModelArtifacts_TrainingStep_RendersS3ModelArtifactsPath()
    {
        var train = new TrainingStep("Train", new TrainingArguments(
            new AlgorithmSpecification("image", []), new Dictionary<string, PipelineValue>(), [],
            new OutputDataConfig("s3://b/out"), new InstanceConfig("ml.m5.large", 1, 30), "role", new StoppingCondition(60)));

        Assert.Equal("""{"Get":"Steps.Train.ModelArtifacts.S3ModelArtifacts"}""", Render(train.ModelArtifacts));
    }

    [Theory]
    [InlineData(ComparisonType.GreaterThanOrEqualTo)]
    [InlineData(ComparisonType.GreaterThan)]
    [InlineData(ComparisonType.LessThan)]
    [InlineData(ComparisonType.LessThanOrEqualTo)]
    [InlineData(ComparisonType.Equals)]
    [InlineData(ComparisonType.NotEquals)]
    public void Comparison_EachType_RendersTypeLeftAndRight(ComparisonType type)
    {
        var condition = new Comparison(type, new Reference("Parameters.A"), "x");

        var json = Render(condition);

        Assert.Equal($$"""{"Type":"{{type}}","LeftValue":{"Get":"Parameters.A"},"RightValue":"x"}""", json);
    }

    [Fact]
    public void Comparison_Factories_PickTheMatchingType()
    {
        PipelineValue a = "a";
        PipelineValue b = "b";

        Assert.Equal(ComparisonType.GreaterThanOrEqualTo, Comparison.GreaterThanOrEqualTo(a, b).Type);
        Assert.Equal(ComparisonType.GreaterThan, Comparison.GreaterThan(a, b).Type);
        Assert.Equal(ComparisonType.LessThanOrEqualTo, Comparison.LessThanOrEqualTo(a, b).Type);
        Assert.Equal(ComparisonType.LessThan, Comparison.LessThan(a, b).Type);
        Assert.Equal(ComparisonType.Equals, Comparison.EqualTo(a, b).Type);
        Assert.Equal(ComparisonType.NotEquals, Comparison.NotEqualTo(a, b).Type);
    }

    [Fact]
    public void Parameters_EachType_RenderNameTypeDefaultAndEnumValues()
    {
        var definition = new PipelineDefinition(
            [
                new StringParameter("Status", "PendingManualApproval", ["Approved", "PendingManualApproval"]),
                new StringParameter("DataFile", "s3://b/data/customers.csv"),
                new IntegerParameter("MaxK", 10),
                new FloatParameter("MinSilhouette", 0.25),
                new BooleanParameter("DryRun", false),
            ],
            []);

        var json = definition.ToJson();

        Assert.Equal(
            """{"Version":"2020-12-01","Parameters":[""" +
            """{"Name":"Status","Type":"String","DefaultValue":"PendingManualApproval","EnumValues":["Approved","PendingManualApproval"]},""" +
            """{"Name":"DataFile","Type":"String","DefaultValue":"s3://b/data/customers.csv"},""" +
            """{"Name":"MaxK","Type":"Integer","DefaultValue":10},""" +
            """{"Name":"MinSilhouette","Type":"Float","DefaultValue":0.25},""" +
            """{"Name":"DryRun","Type":"Boolean","DefaultValue":false}],"Steps":[]}""",
            json);
    }

    [Fact]
    public void ConditionStep_IfAndElse_RendersNestedStepsWithTheirTypes()
    {
        var fail = new FailStep("Failed", new FailArguments(Join.Concat("silhouette ", new Reference("Parameters.A"))))
        {
            DependsOn = ["Evaluate"],
        };
        var condition = new ConditionStep("Check", new ConditionArguments(
            [Comparison.GreaterThanOrEqualTo(new Reference("Parameters.A"), new Reference("Parameters.B"))],
            [],
            [fail]));

        var json = new PipelineDefinition([], [condition]).ToJson();

        Assert.Equal(
            """{"Version":"2020-12-01","Parameters":[],"Steps":[{"Name":"Check","Type":"Condition","Arguments":""" +
            """{"Conditions":[{"Type":"GreaterThanOrEqualTo","LeftValue":{"Get":"Parameters.A"},"RightValue":{"Get":"Parameters.B"}}]""" +
            ""","IfSteps":[],"ElseSteps":[{"Name":"Failed","Type":"Fail","DependsOn":["Evaluate"],"Arguments":{"ErrorMessage":""" +
            """{"Std:Join":{"On":"","Values":["silhouette ",{"Get":"Parameters.A"}]}}}}]}}]}""",
            json);
    }

    [Fact]
    public void ProcessingStep_CacheAndPropertyFiles_RenderAfterArguments()
    {
        var step = Evaluate with { CacheConfig = new CacheConfig(true, "P30D") };

        using var document = JsonDocument.Parse(new PipelineDefinition([], [step]).ToJson());
        var rendered = document.RootElement.GetProperty("Steps")[0];

        Assert.Equal(
            ["Name", "Type", "Arguments", "CacheConfig", "PropertyFiles"],
            rendered.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("""{"Enabled":true,"ExpireAfter":"P30D"}""", rendered.GetProperty("CacheConfig").GetRawText());
        Assert.Equal("""[{"PropertyFileName":"EvaluationReport","OutputName":"evaluation","FilePath":"evaluation.json"}]""",
            rendered.GetProperty("PropertyFiles").GetRawText());
    }

    [Fact]
    public void ProcessingStep_NoArgumentsNoCache_OmitsAbsentMembers()
    {
        using var document = JsonDocument.Parse(new PipelineDefinition([], [Evaluate with { PropertyFiles = null }]).ToJson());
        var rendered = document.RootElement.GetProperty("Steps")[0];

        Assert.Equal(["Name", "Type", "Arguments"], rendered.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.False(rendered.GetProperty("Arguments").GetProperty("AppSpecification").TryGetProperty("ContainerArguments", out _));
    }

    [Fact]
    public void ScriptEntrypoint_Script_UnpacksSourceDirAndExecsScriptWithArguments()
    {
        var json = Render(ScriptProcessing.Entrypoint("evaluate"));

        Assert.Equal(
            """["/bin/sh","-c","mkdir -p /opt/ml/processing/code && tar -xzf /opt/ml/processing/input/code/*.gz -C /opt/ml/processing/code && exec python3 /opt/ml/processing/code/evaluate.py \"$@\"","evaluate"]""",
            json);
    }

    [Fact]
    public void TrainingPipelineDefinition_PlainInputs_HasContractStepsAndBranches()
    {
        var definition = TrainingPipelineDefinition.Create(PlainInputs());

        using var document = JsonDocument.Parse(definition.ToJson());
        var steps = document.RootElement.GetProperty("Steps");
        var gate = steps[3].GetProperty("Arguments");

        Assert.Equal(["Preprocess:Processing", "Train:Training", "Evaluate:Processing", "CheckQuality:Condition"], NamesAndTypes(steps));
        Assert.Equal(["CreateModel:Model", "RegisterModel:RegisterModel", "Deploy:Lambda"], NamesAndTypes(gate.GetProperty("IfSteps")));
        Assert.Equal(["QualityGateFailed:Fail"], NamesAndTypes(gate.GetProperty("ElseSteps")));
    }

    [Fact]
    public void TrainingPipelineDefinition_QualityGate_ComparesEvaluationMetricsWithParameters()
    {
        var definition = TrainingPipelineDefinition.Create(PlainInputs());

        using var document = JsonDocument.Parse(definition.ToJson());
        var gate = document.RootElement.GetProperty("Steps")[3].GetProperty("Arguments");

        Assert.Equal(
            """[{"Type":"GreaterThanOrEqualTo","LeftValue":{"Std:JsonGet":{"PropertyFile":{"Get":"Steps.Evaluate.PropertyFiles.EvaluationReport"},"Path":"metrics.silhouette"}},"RightValue":{"Get":"Parameters.MinSilhouette"}},""" +
            """{"Type":"GreaterThanOrEqualTo","LeftValue":{"Std:JsonGet":{"PropertyFile":{"Get":"Steps.Evaluate.PropertyFiles.EvaluationReport"},"Path":"metrics.min_cluster_fraction"}},"RightValue":{"Get":"Parameters.MinClusterFraction"}}]""",
            gate.GetProperty("Conditions").GetRawText());
        Assert.Equal(
            """{"ErrorMessage":{"Std:Join":{"On":"","Values":["Model quality below the gate: silhouette ",""" +
            """{"Std:JsonGet":{"PropertyFile":{"Get":"Steps.Evaluate.PropertyFiles.EvaluationReport"},"Path":"metrics.silhouette"}}""" +
            """," (minimum ",{"Get":"Parameters.MinSilhouette"},"), smallest segment fraction ",""" +
            """{"Std:JsonGet":{"PropertyFile":{"Get":"Steps.Evaluate.PropertyFiles.EvaluationReport"},"Path":"metrics.min_cluster_fraction"}}""" +
            """," (minimum ",{"Get":"Parameters.MinClusterFraction"},")"]}}}""",
            gate.GetProperty("ElseSteps")[0].GetProperty("Arguments").GetRawText());
    }

    [Fact]
    public void TrainingPipelineDefinition_Parameters_HaveContractNamesTypesAndDefaults()
    {
        var definition = TrainingPipelineDefinition.Create(PlainInputs());

        using var document = JsonDocument.Parse(definition.ToJson());

        Assert.Equal(
            """[{"Name":"DataFile","Type":"String","DefaultValue":"s3://data-bucket/data/customers.csv"},""" +
            """{"Name":"Features","Type":"String","DefaultValue":"Age,Income,Purchases"},""" +
            """{"Name":"NClusters","Type":"Integer","DefaultValue":0},{"Name":"MaxK","Type":"Integer","DefaultValue":10},""" +
            """{"Name":"NComponents","Type":"Integer","DefaultValue":0},{"Name":"RandomSeed","Type":"Integer","DefaultValue":42},""" +
            """{"Name":"ValidationFraction","Type":"Float","DefaultValue":0.2},{"Name":"MinSilhouette","Type":"Float","DefaultValue":0.35},""" +
            """{"Name":"MinClusterFraction","Type":"Float","DefaultValue":0.01},""" +
            """{"Name":"ProcessingInstanceType","Type":"String","DefaultValue":"ml.m5.large"},""" +
            """{"Name":"TrainingInstanceType","Type":"String","DefaultValue":"ml.m5.large"},""" +
            """{"Name":"InferenceInstanceType","Type":"String","DefaultValue":"ml.m5.large"},""" +
            """{"Name":"ModelApprovalStatus","Type":"String","DefaultValue":"PendingManualApproval","EnumValues":["Approved","PendingManualApproval","Rejected"]}]""",
            document.RootElement.GetProperty("Parameters").GetRawText());
    }

    [Fact]
    public void TrainingPipelineDefinition_TrainStep_PassesScriptModeHyperparametersAndPreprocessOutput()
    {
        var definition = TrainingPipelineDefinition.Create(PlainInputs());

        using var document = JsonDocument.Parse(definition.ToJson());
        var train = document.RootElement.GetProperty("Steps")[1].GetProperty("Arguments");

        Assert.Equal(
            """{"n-clusters":{"Std:Join":{"On":"","Values":[{"Get":"Parameters.NClusters"}]}}""" +
            ""","max-k":{"Std:Join":{"On":"","Values":[{"Get":"Parameters.MaxK"}]}}""" +
            ""","n-components":{"Std:Join":{"On":"","Values":[{"Get":"Parameters.NComponents"}]}}""" +
            ""","random-seed":{"Std:Join":{"On":"","Values":[{"Get":"Parameters.RandomSeed"}]}}""" +
            ""","features":{"Get":"Parameters.Features"},"baseline-uri":"s3://model-bucket/deployed/segment_profiles.json","sagemaker_program":"train.py","sagemaker_submit_directory":"s3://assets/sourcedir.gz","sagemaker_region":"us-east-1","sagemaker_container_log_level":"20"}""",
            train.GetProperty("HyperParameters").GetRawText());
        Assert.Equal(
            """[{"ChannelName":"train","DataSource":{"S3DataSource":{"S3Uri":{"Get":"Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},"S3DataType":"S3Prefix","S3DataDistributionType":"FullyReplicated"}},"ContentType":"text/csv"}]""",
            train.GetProperty("InputDataConfig").GetRawText());
        Assert.Equal(
            """{"S3OutputPath":{"Std:Join":{"On":"","Values":["s3://model-bucket/runs/",{"Get":"Execution.PipelineExecutionId"},"/training"]}}}""",
            train.GetProperty("OutputDataConfig").GetRawText());
        Assert.Equal(
            """[{"Name":"silhouette","Regex":"metric: silhouette=([-0-9.eE+]+)"},{"Name":"calinski_harabasz","Regex":"metric: calinski_harabasz=([-0-9.eE+]+)"},""" +
            """{"Name":"davies_bouldin","Regex":"metric: davies_bouldin=([-0-9.eE+]+)"},{"Name":"min_cluster_fraction","Regex":"metric: min_cluster_fraction=([-0-9.eE+]+)"},""" +
            """{"Name":"max_cluster_fraction","Regex":"metric: max_cluster_fraction=([-0-9.eE+]+)"},{"Name":"k","Regex":"metric: k=([-0-9.eE+]+)"},""" +
            """{"Name":"rows","Regex":"metric: rows=([-0-9.eE+]+)"}]""",
            train.GetProperty("AlgorithmSpecification").GetProperty("MetricDefinitions").GetRawText());
    }

    [Fact]
    public void TrainingMetrics_TrainScriptOutput_EachRegexCapturesItsValue()
    {
        var expected = new Dictionary<string, double>
        {
            ["silhouette"] = -0.05123,
            ["calinski_harabasz"] = 1234.5,
            ["davies_bouldin"] = 0.8,
            ["min_cluster_fraction"] = 1e-05,
            ["max_cluster_fraction"] = 0.4,
            ["k"] = 4,
            ["rows"] = 1000,
        };
        var metrics = string.Join(", ", expected.Select(m => $"'{m.Key}': {(m.Key is "k" or "rows" ? ((int)m.Value).ToString(CultureInfo.InvariantCulture) : m.Value.ToString("R", CultureInfo.InvariantCulture))}"));
        var script = $"import segments; segments.print_metrics({{{metrics}}}, {JsonSerializer.Serialize(expected.Keys)})";

        var output = RunSegmentationPython(script);
        var definitions = TrainingPipelineDefinition.TrainingMetrics.ToDictionary(m => m, m => $"metric: {m}=([-0-9.eE+]+)");

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), definitions.Keys.Order(StringComparer.Ordinal));
        Assert.All(definitions, d =>
        {
            var captured = output.Split('\n').Select(line => Regex.Match(line, d.Value)).Single(m => m.Success).Groups[1].Value;
            Assert.Equal(expected[d.Key], double.Parse(captured, CultureInfo.InvariantCulture));
        });
    }

    [Fact]
    public void TrainingPipelineDefinition_RegisterModel_CarriesApprovalMetricsAndRunArtifacts()
    {
        var definition = TrainingPipelineDefinition.Create(PlainInputs());

        using var document = JsonDocument.Parse(definition.ToJson());
        var register = document.RootElement.GetProperty("Steps")[3].GetProperty("Arguments").GetProperty("IfSteps")[1].GetProperty("Arguments");

        Assert.Equal("models", register.GetProperty("ModelPackageGroupName").GetString());
        Assert.Equal("""{"Get":"Parameters.ModelApprovalStatus"}""", register.GetProperty("ModelApprovalStatus").GetRawText());
        Assert.Equal(
            """{"ModelQuality":{"Statistics":{"ContentType":"application/json","S3Uri":{"Std:Join":{"On":"","Values":["s3://model-bucket/runs/",{"Get":"Execution.PipelineExecutionId"},"/artifacts/model_quality.json"]}}}}}""",
            register.GetProperty("ModelMetrics").GetRawText());
        Assert.Equal(
            """{"PreprocessingSpecUri":{"Std:Join":{"On":"","Values":["s3://model-bucket/runs/",{"Get":"Execution.PipelineExecutionId"},"/artifacts/preprocessing_spec.json"]}}""" +
            ""","SegmentProfilesUri":{"Std:Join":{"On":"","Values":["s3://model-bucket/runs/",{"Get":"Execution.PipelineExecutionId"},"/artifacts/segment_profiles.json"]}}""" +
            ""","MetricsUri":{"Std:Join":{"On":"","Values":["s3://model-bucket/runs/",{"Get":"Execution.PipelineExecutionId"},"/artifacts/metrics.json"]}}""" +
            ""","PipelineExecutionArn":{"Get":"Execution.PipelineExecutionArn"}}""",
            register.GetProperty("CustomerMetadataProperties").GetRawText());
        Assert.Equal(
            """[{"Image":"image-uri","ModelDataUrl":{"Get":"Steps.Train.ModelArtifacts.S3ModelArtifacts"},"Environment":{"SAGEMAKER_PROGRAM":"inference.py","SAGEMAKER_SUBMIT_DIRECTORY":"s3://assets/sourcedir.gz","SAGEMAKER_REGION":"us-east-1","SAGEMAKER_CONTAINER_LOG_LEVEL":"20"}}]""",
            register.GetProperty("InferenceSpecification").GetProperty("Containers").GetRawText());
    }

    [Fact]
    public void TrainingPipelineDefinition_Cache_AppliesToEvaluateOnly()
    {
        var definition = TrainingPipelineDefinition.Create(PlainInputs() with { Cache = new CacheConfig(true, "P7D") });

        using var document = JsonDocument.Parse(definition.ToJson());
        var steps = document.RootElement.GetProperty("Steps");

        Assert.False(steps[0].TryGetProperty("CacheConfig", out _));
        Assert.False(steps[1].TryGetProperty("CacheConfig", out _));
        Assert.Equal("""{"Enabled":true,"ExpireAfter":"P7D"}""", steps[2].GetProperty("CacheConfig").GetRawText());
    }

    [Fact]
    public void TrainingPipelineDefinition_NoCache_NoStepHasCacheConfig()
    {
        var definition = TrainingPipelineDefinition.Create(PlainInputs());

        Assert.DoesNotContain("CacheConfig", definition.ToJson(), StringComparison.Ordinal);
    }

    internal static TrainingPipelineInputs PlainInputs() => new()
    {
        RoleArn = "arn:aws:iam::000000000000:role/pipeline",
        DataBucketName = "data-bucket",
        ModelBucketName = "model-bucket",
        SourceDirUri = "s3://assets/sourcedir.gz",
        Region = "us-east-1",
        ImageUri = "image-uri",
        ModelPackageGroupName = "models",
        Settings = new PipelineSettings(),
        DeployFunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:deployer",
        InitialInstanceCount = 1,
    };

    // Runs Python code with scripts/sagemaker importable, under the interpreter the project's scripts use.
    private static string RunSegmentationPython(string code)
    {
        var python = Environment.GetEnvironmentVariable("SEGMENTATION_PYTHON") ?? "/usr/bin/python3";
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(code);
        start.Environment["PYTHONPATH"] = RepositoryLayout.SageMakerScripts().FullName;
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {python}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{python} exited with {process.ExitCode} (run scripts/setup.sh for scikit-learn): {stderr}");
        return stdout.Result;
    }

    private static string[] NamesAndTypes(JsonElement steps) =>
        steps.EnumerateArray().Select(s => s.GetProperty("Name").GetString() + ":" + s.GetProperty("Type").GetString()).ToArray();

    private static string Render(PipelineValue value) => JsonSerializer.Serialize(value, RenderOptions);

    private static string Render(IReadOnlyList<PipelineValue> values) => JsonSerializer.Serialize(values, RenderOptions);

    private static string Render(Comparison condition) => JsonSerializer.Serialize(condition, RenderOptions);
}
