using System.Globalization;
using System.Text.RegularExpressions;
using CustomerSegmentation.Infra.Configuration;

namespace CustomerSegmentation.Infra.Pipelines;

/// <summary>
/// Settings of the training pipeline: its weekly schedule, and the defaults of the pipeline parameters (an execution
/// may still override every parameter when it starts).
/// </summary>
public sealed partial record PipelineSettings
{
    /// <summary>The features the preprocessing script knows; <c>SpendingPower</c> is engineered as Income / Purchases.</summary>
    public static IReadOnlyList<string> KnownFeatures { get; } = ["Age", "Income", "Purchases", "SpendingPower"];

    /// <summary>The approval statuses a registered model version can start in.</summary>
    public static IReadOnlyList<string> ApprovalStatuses { get; } = ["Approved", "PendingManualApproval", "Rejected"];

    /// <summary>Context <c>pipeline:scheduleExpression</c>: EventBridge cron or rate expression; default <c>cron(0 3 ? * MON *)</c>.</summary>
    public string ScheduleExpression { get; init; } = "cron(0 3 ? * MON *)";

    /// <summary>Context <c>pipeline:scheduleEnabled</c>; default true. When false the rule is kept but DISABLED.</summary>
    public bool ScheduleEnabled { get; init; } = true;

    /// <summary>
    /// Context <c>pipeline:deployStep</c>; default true: a model that passes the gate is deployed by the pipeline's own
    /// Deploy step. When false the pipeline ends at RegisterModel and models reach the endpoint only through the
    /// approval event (for teams whose every deployment goes through the registry).
    /// </summary>
    public bool DeployStep { get; init; } = true;

    /// <summary>
    /// Context <c>pipeline:cacheExpireAfter</c>: an ISO 8601 duration such as <c>P30D</c> turns on step caching for the
    /// step where it is safe, Evaluate (see <see cref="TrainingPipelineDefinition"/>); default none (no step is cached).
    /// Because Evaluate's inputs live under the execution's own prefix, a hit needs identical run artifacts.
    /// </summary>
    public string? CacheExpireAfter { get; init; }

    /// <summary>Context <c>pipeline:processingInstanceType</c>; default <c>ml.m5.large</c>.</summary>
    public string ProcessingInstanceType { get; init; } = "ml.m5.large";

    /// <summary>Context <c>pipeline:trainingInstanceType</c>; default <c>ml.m5.large</c>.</summary>
    public string TrainingInstanceType { get; init; } = "ml.m5.large";

    /// <summary>Context <c>pipeline:inferenceInstanceType</c>; default <c>ml.m5.large</c>.</summary>
    public string InferenceInstanceType { get; init; } = "ml.m5.large";

    /// <summary>Context <c>pipeline:features</c>: comma-separated subset of <see cref="KnownFeatures"/>; default <c>Age,Income,Purchases</c>.</summary>
    public string Features { get; init; } = "Age,Income,Purchases";

    /// <summary>Context <c>pipeline:nClusters</c>: 0 (choose k in [2, MaxK]) or 2 to MaxK; default 0.</summary>
    public int NClusters { get; init; }

    /// <summary>Context <c>pipeline:maxK</c>: 2 to 50; default 10.</summary>
    public int MaxK { get; init; } = 10;

    /// <summary>Context <c>pipeline:nComponents</c>: PCA components, 0 = no PCA, at most the number of features; default 0.</summary>
    public int NComponents { get; init; }

    /// <summary>Context <c>pipeline:randomSeed</c>: 0 to 2147483647; default 42.</summary>
    public int RandomSeed { get; init; } = 42;

    /// <summary>Context <c>pipeline:validationFraction</c>: 0.05 to 0.5; default 0.2.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>
    /// Context <c>pipeline:minSilhouette</c>: the quality gate, -1 to 1; default 0.35. Data with no cluster structure
    /// scores about 0.23 (one Gaussian blob) to 0.28 (uniform), well-segmented customers 0.5 and above.
    /// </summary>
    public double MinSilhouette { get; init; } = 0.35;

    /// <summary>Context <c>pipeline:minClusterFraction</c>: the smallest segment's share of rows, 0 to 0.5; default 0.01.</summary>
    public double MinClusterFraction { get; init; } = 0.01;

    /// <summary>Context <c>pipeline:modelApprovalStatus</c>: one of <see cref="ApprovalStatuses"/>; default <c>PendingManualApproval</c>.</summary>
    public string ModelApprovalStatus { get; init; } = "PendingManualApproval";

    internal static PipelineSettings Read(ContextReader read)
    {
        const string InstanceRule = "expected a SageMaker instance type such as ml.m5.large";
        var settings = new PipelineSettings
        {
            ScheduleExpression = read.String("pipeline:scheduleExpression", "cron(0 3 ? * MON *)", SchedulePattern(),
                "expected an EventBridge schedule expression such as cron(0 3 ? * MON *) or rate(7 days)"),
            ScheduleEnabled = read.Bool("pipeline:scheduleEnabled", true),
            DeployStep = read.Bool("pipeline:deployStep", true),
            CacheExpireAfter = read.OptionalString("pipeline:cacheExpireAfter", DurationPattern(),
                "expected an ISO 8601 duration such as P30D or PT12H"),
            ProcessingInstanceType = read.String("pipeline:processingInstanceType", "ml.m5.large", InstanceTypePattern(), InstanceRule),
            TrainingInstanceType = read.String("pipeline:trainingInstanceType", "ml.m5.large", InstanceTypePattern(), InstanceRule),
            InferenceInstanceType = read.String("pipeline:inferenceInstanceType", "ml.m5.large", InstanceTypePattern(), InstanceRule),
            Features = ReadFeatures(read),
            MaxK = read.Int("pipeline:maxK", 10, 2, 50),
            NClusters = read.Int("pipeline:nClusters", 0, 0, 50),
            NComponents = read.Int("pipeline:nComponents", 0, 0, KnownFeatures.Count),
            RandomSeed = read.Int("pipeline:randomSeed", 42, 0, int.MaxValue),
            ValidationFraction = read.Double("pipeline:validationFraction", 0.2, 0.05, 0.5),
            MinSilhouette = read.Double("pipeline:minSilhouette", 0.35, -1, 1),
            MinClusterFraction = read.Double("pipeline:minClusterFraction", 0.01, 0, 0.5),
            ModelApprovalStatus = read.Choice("pipeline:modelApprovalStatus", "PendingManualApproval",
                ApprovalStatuses.ToDictionary(s => s, s => s, StringComparer.Ordinal)),
        };

        if (settings.NClusters == 1 || settings.NClusters > settings.MaxK)
        {
            read.Fail("pipeline:nClusters", settings.NClusters.ToString(CultureInfo.InvariantCulture),
                $"expected 0 (choose k automatically) or a whole number from 2 to pipeline:maxK ({settings.MaxK})");
        }

        var featureCount = settings.Features.Split(',').Length;
        if (settings.NComponents > featureCount)
        {
            read.Fail("pipeline:nComponents", settings.NComponents.ToString(CultureInfo.InvariantCulture),
                $"expected 0 (no PCA) or at most the number of features in pipeline:features ({featureCount})");
        }

        return settings;
    }

    private static string ReadFeatures(ContextReader read)
    {
        const string Default = "Age,Income,Purchases";
        var text = read.Raw("pipeline:features");
        if (text is null)
        {
            return Default;
        }

        var features = text.Split(',', StringSplitOptions.TrimEntries);
        if (features.Any(f => !KnownFeatures.Contains(f, StringComparer.Ordinal))
            || features.Distinct(StringComparer.Ordinal).Count() != features.Length)
        {
            read.Fail("pipeline:features", text,
                $"expected a comma-separated list of distinct features from {string.Join(", ", KnownFeatures)}");
            return Default;
        }

        return string.Join(',', features);
    }

    [GeneratedRegex(@"^(cron\([^()\s]+( [^()\s]+){5}\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$")]
    internal static partial Regex SchedulePattern();

    [GeneratedRegex(@"^P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^ml\.[a-z0-9]+\.[a-z0-9]+$")]
    internal static partial Regex InstanceTypePattern();
}
