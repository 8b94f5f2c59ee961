using System.Globalization;
using CustomerSegmentation.Infra.Pipelines;
using CustomerSegmentation.Infra.Pipelines.Definition;

namespace CustomerSegmentation.Infra.Recommendations;

/// <summary>What the recommendations pipeline's definition is built from: names, ARNs and URIs (CDK tokens or plain values).</summary>
public sealed record RecommendationsPipelineInputs
{
    /// <summary>The role the pipeline's jobs run as.</summary>
    public required string RoleArn { get; init; }

    /// <summary>Bucket of the inputs (<c>recommendations/input/</c>), the runs (<c>recommendations/runs/</c>) and the manifest.</summary>
    public required string DataBucketName { get; init; }

    /// <summary>S3 URI of sourcedir.tar.gz (the step scripts).</summary>
    public required string SourceDirUri { get; init; }

    /// <summary>The region the jobs run in.</summary>
    public required string Region { get; init; }

    /// <summary>The scikit-learn image every step runs in.</summary>
    public required string ImageUri { get; init; }

    /// <summary>The model package group the clustering models are registered in.</summary>
    public required string ModelPackageGroupName { get; init; }

    /// <summary>The serving table Publish writes.</summary>
    public required string TableName { get; init; }

    /// <summary>The table of the API's feedback, which FeedbackCalibration reads in addition to the feedback CSVs.</summary>
    public required string FeedbackTableName { get; init; }

    /// <summary>Instance types and the published runs' time to live.</summary>
    public required RecommendationsSettings Settings { get; init; }
}

/// <summary>
/// The recommendations pipeline (the IPRE specification, sections 4 and 5; scripts/recommendations/README.md lists each
/// step's channels): MarketBasket, TrainClustering, RegisterModel, Associations, Ranking, FeedbackCalibration, and
/// Publish behind the approval gate. Read it like the SageMaker Python SDK's pipeline.py.
/// </summary>
/// <remarks>
/// Numeric parameters are declared Integer and Float, not String as in the seed (its bug 7): SageMaker then refuses a
/// mistyped value when the execution starts, before any job runs. Container arguments and hyperparameters must be
/// strings, so each one is passed through <c>Std:Join</c> (<see cref="PipelineParameter.AsString"/>), which SageMaker
/// evaluates to the value's text. The seed needed ParameterString only because it passed values as environment
/// variables of the processor; the scripts parse the text, and accept <c>8.0</c> where an integer is expected.
/// </remarks>
public static class RecommendationsPipelineDefinition
{
    /// <summary>Where the inputs live in the data bucket; the default of every input parameter is under it.</summary>
    public const string InputPrefix = "recommendations/input/";

    /// <summary>Every execution writes only under <c>recommendations/runs/&lt;execution id&gt;/</c>.</summary>
    public const string RunsPrefix = "recommendations/runs/";

    /// <summary>The one fixed key a run writes: the manifest naming the latest published run.</summary>
    public const string ManifestKey = "recommendations/latest.json";

    /// <summary>The feedback location, the one parameter beyond the specification's 32 (read at run time, see FeedbackCalibration).</summary>
    public const string FeedbackParameter = "InputFeedback";

    /// <summary>The metrics train_clustering.py prints, which SageMaker records for the training job.</summary>
    public static IReadOnlyList<string> TrainingMetrics { get; } = ["Segments", "Clusters", "MeanSilhouette", "PoorSilhouetteSegments"];

    /// <summary>Builds the definition.</summary>
    public static PipelineDefinition Create(RecommendationsPipelineInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var settings = inputs.Settings;
        var bucket = inputs.DataBucketName;
        var declared = RecommendationsParameters.All.ToDictionary(p => p.Name, p => p.Declare(bucket), StringComparer.Ordinal);
        var feedback = new StringParameter(FeedbackParameter, $"s3://{bucket}/{InputPrefix}feedback/")
        {
            Description = "S3 prefix or object of the account managers' feedback CSVs, read at run time; missing or empty is a logged warning",
        };
        var approvalStatus = declared["ModelApprovalStatus"];

        PipelineValue RunUri(string relativePath) =>
            Join.Concat($"s3://{bucket}/{RunsPrefix}", ExecutionVariables.PipelineExecutionId, "/" + relativePath);

        PipelineValue Text(RecommendationsParameter parameter) =>
            declared[parameter.Name] is StringParameter text ? text.Value : declared[parameter.Name].AsString();

        List<PipelineValue> Arguments(string step) =>
            RecommendationsParameters.ConsumedBy(step).SelectMany(p => new[] { (PipelineValue)p.Option!, Text(p) }).ToList();

        ProcessingInput Input(string channel, PipelineValue uri) => new(channel, new S3Input(uri, $"/opt/ml/processing/input/{channel}"));

        ProcessingOutputConfig Outputs(string runFolder, params string[] channels) => new(channels
            .Select(c => new ProcessingOutput(c, new S3Output(RunUri($"{runFolder}/{c}"), $"/opt/ml/processing/output/{c}")))
            .ToList());

        ProcessingArguments Processing(string script, IReadOnlyList<PipelineValue> arguments, IReadOnlyList<ProcessingInput> dataInputs,
            ProcessingOutputConfig? outputs) => new(
            new ProcessingResources(new InstanceConfig(settings.ProcessingInstanceType, 1, 30)),
            new AppSpecification(inputs.ImageUri, ScriptProcessing.Entrypoint(script), arguments),
            inputs.RoleArn,
            [ScriptProcessing.CodeInput(inputs.SourceDirUri), .. dataInputs],
            outputs,
            new StoppingCondition(3600));

        var marketBasket = new ProcessingStep(RecommendationsParameters.MarketBasket, Processing(
            "market_basket",
            Arguments(RecommendationsParameters.MarketBasket),
            [
                Input("customers", declared["InputCustomers"].Value),
                Input("products", declared["InputProducts"].Value),
                Input("invoices", declared["InputInvoices"].Value),
            ],
            Outputs("market-basket", "basket", "invoices", "reference")));

        var hyperParameters = RecommendationsParameters.ConsumedBy(RecommendationsParameters.TrainClustering)
            .ToDictionary(p => p.Option![2..], Text, StringComparer.Ordinal);
        hyperParameters["sagemaker_program"] = "train_clustering.py";
        hyperParameters["sagemaker_submit_directory"] = inputs.SourceDirUri;
        hyperParameters["sagemaker_region"] = inputs.Region;
        hyperParameters["sagemaker_container_log_level"] = "20";
        var trainClustering = new TrainingStep(RecommendationsParameters.TrainClustering, new TrainingArguments(
            new AlgorithmSpecification(inputs.ImageUri, TrainingMetrics
                .Select(m => new MetricDefinition(m, $"\"metric\": \"{m}\", \"value\": ([-0-9.eE+]+)"))
                .ToList()),
            hyperParameters,
            [new Channel("basket", new DataSource(new S3DataSource(marketBasket.OutputUri("basket"))), "text/csv")],
            new OutputDataConfig(RunUri("train-clustering")),
            new InstanceConfig(settings.TrainingInstanceType, 1, 30),
            inputs.RoleArn,
            new StoppingCondition(3600)));
        var model = trainClustering.ModelArtifacts;

        // The clustering model is never served from an endpoint (recommendations are served from the table), so the
        // package names no instance types and no serving environment: the registry records each run's model, its
        // approval status and where the run's files are.
        var registerModel = new RegisterModelStep("RegisterModel", new RegisterModelArguments(
            inputs.ModelPackageGroupName,
            approvalStatus.Value,
            new InferenceSpecification([new ContainerDefinition(inputs.ImageUri, model)], ["text/csv"], ["text/csv"]),
            CustomerMetadataProperties: new Dictionary<string, PipelineValue>
            {
                ["RunUri"] = RunUri(string.Empty),
                ["PipelineExecutionArn"] = ExecutionVariables.PipelineExecutionArn,
            }));

        // SageMaker does not unpack model.tar.gz for processing inputs; the scripts read customer_clusters.csv from it.
        var associations = new ProcessingStep(RecommendationsParameters.Associations, Processing(
            "associations",
            Arguments(RecommendationsParameters.Associations),
            [
                Input("model", model),
                Input("invoices", marketBasket.OutputUri("invoices")),
                Input("reference", marketBasket.OutputUri("reference")),
            ],
            Outputs("associations", "associations")));

        var ranking = new ProcessingStep(RecommendationsParameters.Ranking, Processing(
            "ranking",
            Arguments(RecommendationsParameters.Ranking),
            [
                Input("basket", marketBasket.OutputUri("basket")),
                Input("model", model),
                Input("associations", associations.OutputUri("associations")),
            ],
            Outputs("ranking", "recommendations")));

        // The feedback is an argument, not a ProcessingInput: SageMaker checks every input when it creates the job, so a
        // missing feedback file (every first run) would fail the job before the script could treat it as "no feedback".
        // The API's feedback table is read by the script too (Scan), for the same reason and because it is no S3 data.
        var feedbackCalibration = new ProcessingStep(RecommendationsParameters.FeedbackCalibration, Processing(
            "feedback_calibration",
            [.. Arguments(RecommendationsParameters.FeedbackCalibration), "--feedback-uri", feedback.Value, "--feedback-table", inputs.FeedbackTableName],
            [
                Input("recommendations", ranking.OutputUri("recommendations")),
                Input("reference", marketBasket.OutputUri("reference")),
            ],
            Outputs("feedback-calibration", "final", "feedback")));

        var final = feedbackCalibration.OutputUri("final");
        // Beside the final recommendations, what the serving table's other items are made of: every customer with its
        // segment (reference), the segments' popular products (invoices, reference), the coverage (only the ranking
        // report, not Ranking's whole output) and the feedback summary.
        var publish = new ProcessingStep("Publish", Processing(
            "publish",
            [
                "--table-name", inputs.TableName,
                "--run-id", ExecutionVariables.PipelineExecutionId,
                "--ttl-days", settings.TtlDays.ToString(CultureInfo.InvariantCulture),
                "--manifest-uri", $"s3://{bucket}/{ManifestKey}",
                "--final-uri", Join.Concat(final, "/recommendations.csv"),
                "--summary-uri", Join.Concat(feedbackCalibration.OutputUri("feedback"), "/feedback_summary.json"),
            ],
            [
                Input("final", final),
                Input("reference", marketBasket.OutputUri("reference")),
                Input("invoices", marketBasket.OutputUri("invoices")),
                Input("ranking", Join.Concat(ranking.OutputUri("recommendations"), "/ranking_report.json")),
                Input("feedback", feedbackCalibration.OutputUri("feedback")),
            ],
            null));

        // ModelApprovalStatus gates deployment, and deploying a recommendations run means publishing it: a run whose
        // model starts as PendingManualApproval (or Rejected) computes and keeps everything under its prefix, registers
        // the model, and leaves the serving table and the manifest as they were. The gate waits for the registration,
        // so every published run has its model version in the registry.
        var checkApproval = new ConditionStep("CheckApproval", new ConditionArguments(
            [Comparison.EqualTo(approvalStatus.Value, "Approved")],
            [publish],
            []))
        {
            DependsOn = [registerModel.Name, feedbackCalibration.Name],
        };

        var parameters = RecommendationsParameters.All.Select(p => declared[p.Name]).ToList();
        // Next to the other inputs, where the form that starts an execution lists them.
        parameters.Insert(parameters.FindIndex(p => p.Name == "InputInvoices") + 1, feedback);
        return new PipelineDefinition(
            parameters,
            [marketBasket, trainClustering, registerModel, associations, ranking, feedbackCalibration, checkApproval]);
    }
}
