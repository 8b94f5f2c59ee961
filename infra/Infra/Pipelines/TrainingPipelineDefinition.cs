using System.Globalization;
using CustomerSegmentation.Infra.Pipelines.Definition;

namespace CustomerSegmentation.Infra.Pipelines;

/// <summary>What the training pipeline's definition is built from: names, ARNs and URIs (CDK tokens or plain values).</summary>
public sealed record TrainingPipelineInputs
{
    /// <summary>The role the pipeline's jobs and model run as.</summary>
    public required string RoleArn { get; init; }

    /// <summary>Bucket of the training data; the default DataFile is <c>s3://&lt;bucket&gt;/data/customers.csv</c>.</summary>
    public required string DataBucketName { get; init; }

    /// <summary>Bucket of the run artifacts (<c>runs/&lt;execution id&gt;/</c>) and the deployed baseline (<c>deployed/</c>).</summary>
    public required string ModelBucketName { get; init; }

    /// <summary>S3 URI of sourcedir.tar.gz (the scripts).</summary>
    public required string SourceDirUri { get; init; }

    /// <summary>The region the jobs run in.</summary>
    public required string Region { get; init; }

    /// <summary>The scikit-learn image for processing, training and serving.</summary>
    public required string ImageUri { get; init; }

    /// <summary>The model package group new versions are registered in.</summary>
    public required string ModelPackageGroupName { get; init; }

    /// <summary>Parameter defaults.</summary>
    public required PipelineSettings Settings { get; init; }

    /// <summary>The endpoint deployer the Deploy step invokes with the registered model package. Default: none, no Deploy step.</summary>
    public string? DeployFunctionArn { get; init; }

    /// <summary>Instances the Deploy step asks for when it creates the endpoint (an update keeps the live count).</summary>
    public required int InitialInstanceCount { get; init; }

    /// <summary>Caching of the step where it is safe (Evaluate). Default: none, no step is cached.</summary>
    public CacheConfig? Cache { get; init; }
}

/// <summary>
/// The training pipeline of docs/pipeline-contract: Preprocess, Train, Evaluate, then a quality gate that either
/// creates, registers and deploys the model or fails with the measured values. Read it like the SageMaker Python SDK's pipeline.py.
/// </summary>
public static class TrainingPipelineDefinition
{
    /// <summary>The property file Evaluate writes and the quality gate reads.</summary>
    public const string EvaluationReport = "EvaluationReport";

    /// <summary>
    /// The metrics train.py prints as <c>metric: &lt;name&gt;=&lt;value&gt;</c> on every run, recorded by SageMaker per job.
    /// label_stability_ari is left out: it exists only when a deployed baseline does (evaluation.json carries it).
    /// </summary>
    public static IReadOnlyList<string> TrainingMetrics { get; } =
        ["silhouette", "calinski_harabasz", "davies_bouldin", "min_cluster_fraction", "max_cluster_fraction", "k", "rows"];

    /// <summary>Builds the definition.</summary>
    public static PipelineDefinition Create(TrainingPipelineInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var s = inputs.Settings;
        var dataFile = new StringParameter("DataFile", $"s3://{inputs.DataBucketName}/data/customers.csv");
        var features = new StringParameter("Features", s.Features);
        var nClusters = new IntegerParameter("NClusters", s.NClusters);
        var maxK = new IntegerParameter("MaxK", s.MaxK);
        var nComponents = new IntegerParameter("NComponents", s.NComponents);
        var randomSeed = new IntegerParameter("RandomSeed", s.RandomSeed);
        var validationFraction = new FloatParameter("ValidationFraction", s.ValidationFraction);
        var minSilhouette = new FloatParameter("MinSilhouette", s.MinSilhouette);
        var minClusterFraction = new FloatParameter("MinClusterFraction", s.MinClusterFraction);
        var processingInstanceType = new StringParameter("ProcessingInstanceType", s.ProcessingInstanceType);
        var trainingInstanceType = new StringParameter("TrainingInstanceType", s.TrainingInstanceType);
        var inferenceInstanceType = new StringParameter("InferenceInstanceType", s.InferenceInstanceType);
        var approvalStatus = new StringParameter("ModelApprovalStatus", s.ModelApprovalStatus, PipelineSettings.ApprovalStatuses);

        // One never-overwritten prefix per execution (architecture contract 4).
        PipelineValue RunUri(string relativePath) =>
            Join.Concat($"s3://{inputs.ModelBucketName}/runs/", ExecutionVariables.PipelineExecutionId, "/" + relativePath);

        var codeInput = ScriptProcessing.CodeInput(inputs.SourceDirUri);
        ProcessingArguments Processing(string script, IReadOnlyList<PipelineValue>? arguments, IReadOnlyList<ProcessingInput> dataInputs,
            IReadOnlyList<ProcessingOutput> outputs) => new(
            new ProcessingResources(new InstanceConfig(processingInstanceType.Value, 1, 30)),
            new AppSpecification(inputs.ImageUri, ScriptProcessing.Entrypoint(script), arguments),
            inputs.RoleArn,
            [codeInput, .. dataInputs],
            new ProcessingOutputConfig(outputs),
            new StoppingCondition(3600));

        var preprocess = new ProcessingStep("Preprocess", Processing(
            "preprocess",
            [
                "--features", features.Value,
                "--validation-fraction", validationFraction.AsString(),
                "--random-seed", randomSeed.AsString(),
            ],
            [new ProcessingInput("data", new S3Input(dataFile.Value, "/opt/ml/processing/input/data"))],
            [
                new ProcessingOutput("train", new S3Output(RunUri("preprocess/train"), "/opt/ml/processing/output/train")),
                new ProcessingOutput("validation", new S3Output(RunUri("preprocess/validation"), "/opt/ml/processing/output/validation")),
                new ProcessingOutput("profile", new S3Output(RunUri("preprocess/profile"), "/opt/ml/processing/output/profile")),
            ]));

        var train = new TrainingStep("Train", new TrainingArguments(
            new AlgorithmSpecification(inputs.ImageUri, TrainingMetrics
                .Select(m => new MetricDefinition(m, $"metric: {m}=([-0-9.eE+]+)"))
                .ToList()),
            new Dictionary<string, PipelineValue>
            {
                ["n-clusters"] = nClusters.AsString(),
                ["max-k"] = maxK.AsString(),
                ["n-components"] = nComponents.AsString(),
                ["random-seed"] = randomSeed.AsString(),
                ["features"] = features.Value,
                ["baseline-uri"] = $"s3://{inputs.ModelBucketName}/deployed/segment_profiles.json",
                ["sagemaker_program"] = "train.py",
                ["sagemaker_submit_directory"] = inputs.SourceDirUri,
                ["sagemaker_region"] = inputs.Region,
                ["sagemaker_container_log_level"] = "20",
            },
            [new Channel("train", new DataSource(new S3DataSource(preprocess.OutputUri("train"))), "text/csv")],
            new OutputDataConfig(RunUri("training")),
            new InstanceConfig(trainingInstanceType.Value, 1, 30),
            inputs.RoleArn,
            new StoppingCondition(3600)));

        var evaluate = new ProcessingStep("Evaluate", Processing(
            "evaluate",
            null,
            [
                new ProcessingInput("model", new S3Input(train.ModelArtifacts, "/opt/ml/processing/input/model")),
                new ProcessingInput("validation", new S3Input(preprocess.OutputUri("validation"), "/opt/ml/processing/input/validation")),
            ],
            [
                new ProcessingOutput("evaluation", new S3Output(RunUri("evaluation"), "/opt/ml/processing/output/evaluation")),
                new ProcessingOutput("artifacts", new S3Output(RunUri("artifacts"), "/opt/ml/processing/output/artifacts")),
            ]))
        {
            // SageMaker keys its step cache on the step's arguments, never on the contents behind a URI. Only Evaluate is
            // safe to cache: its inputs are this run's never-overwritten artifacts and the content-addressed script asset,
            // so equal arguments mean equal inputs. Preprocess reads DataFile, whose URI stays the same when a new
            // customers.csv is uploaded over it, and Train reads the deployed baseline, which changes when a model goes
            // live; a cache hit there would silently reuse results computed from old data.
            CacheConfig = inputs.Cache,
            PropertyFiles = [new PropertyFile(EvaluationReport, "evaluation", "evaluation.json")],
        };

        var report = evaluate.PropertyFile(EvaluationReport);
        var silhouette = new JsonGet(report, "metrics.silhouette");
        var smallestSegment = new JsonGet(report, "metrics.min_cluster_fraction");

        var container = new ContainerDefinition(inputs.ImageUri, train.ModelArtifacts, new Dictionary<string, PipelineValue>
        {
            ["SAGEMAKER_PROGRAM"] = "inference.py",
            ["SAGEMAKER_SUBMIT_DIRECTORY"] = inputs.SourceDirUri,
            ["SAGEMAKER_REGION"] = inputs.Region,
            ["SAGEMAKER_CONTAINER_LOG_LEVEL"] = "20",
        });

        var createModel = new CreateModelStep("CreateModel", new CreateModelArguments(inputs.RoleArn, container));

        var registerModel = new RegisterModelStep("RegisterModel", new RegisterModelArguments(
            inputs.ModelPackageGroupName,
            approvalStatus.Value,
            new InferenceSpecification(
                [container],
                ["application/json", "text/csv"],
                ["application/json"],
                [inferenceInstanceType.Value],
                [inferenceInstanceType.Value]),
            new ModelMetrics(new ModelQuality(new MetricsSource("application/json", RunUri("artifacts/model_quality.json")))),
            new Dictionary<string, PipelineValue>
            {
                ["PreprocessingSpecUri"] = RunUri("artifacts/preprocessing_spec.json"),
                ["SegmentProfilesUri"] = RunUri("artifacts/segment_profiles.json"),
                ["MetricsUri"] = RunUri("artifacts/metrics.json"),
                ["PipelineExecutionArn"] = ExecutionVariables.PipelineExecutionArn,
            }));

        // The deployer's response members (EndpointName, ...) become this step's outputs, visible in the execution.
        PipelineStep? deploy = inputs.DeployFunctionArn is null ? null : new LambdaStep(
            "Deploy",
            new Dictionary<string, PipelineValue>
            {
                ["ModelPackageArn"] = registerModel.ModelPackageArn,
                ["InstanceType"] = inferenceInstanceType.Value,
                // A deploy-time setting rather than a parameter: scaling is the platform engineer's choice, not the run's.
                // Text, as pipeline parameters render too; the deployer reads a number in either form.
                ["InitialInstanceCount"] = inputs.InitialInstanceCount.ToString(CultureInfo.InvariantCulture),
                ["PipelineExecutionArn"] = ExecutionVariables.PipelineExecutionArn,
            },
            inputs.DeployFunctionArn,
            [new("EndpointName"), new("EndpointConfigName"), new("ModelName"), new("Action")]);

        var qualityGateFailed = new FailStep("QualityGateFailed", new FailArguments(Join.Concat(
            "Model quality below the gate: silhouette ", silhouette,
            " (minimum ", minSilhouette.Value,
            "), smallest segment fraction ", smallestSegment,
            " (minimum ", minClusterFraction.Value, ")")));

        var checkQuality = new ConditionStep("CheckQuality", new ConditionArguments(
            [
                Comparison.GreaterThanOrEqualTo(silhouette, minSilhouette.Value),
                Comparison.GreaterThanOrEqualTo(smallestSegment, minClusterFraction.Value),
            ],
            deploy is null ? [createModel, registerModel] : [createModel, registerModel, deploy],
            [qualityGateFailed]));

        return new PipelineDefinition(
            [
                dataFile, features, nClusters, maxK, nComponents, randomSeed, validationFraction, minSilhouette,
                minClusterFraction, processingInstanceType, trainingInstanceType, inferenceInstanceType, approvalStatus,
            ],
            [preprocess, train, evaluate, checkQuality]);
    }
}
