using System.Globalization;
using System.Text.RegularExpressions;
using CustomerSegmentation.Infra.Pipelines;
using CustomerSegmentation.Infra.Pipelines.Definition;

namespace CustomerSegmentation.Infra.Recommendations;

/// <summary>The pipeline parameter type a recommendations parameter is declared with.</summary>
public enum RecommendationsParameterKind
{
    /// <summary>A String parameter, passed as it is.</summary>
    Text,

    /// <summary>An Integer parameter, joined into text where the job needs a string.</summary>
    WholeNumber,

    /// <summary>A Float parameter, joined into text where the job needs a string.</summary>
    Number,
}

/// <summary>
/// One of the 32 parameters of the IPRE specification (section 5), as <c>scripts/recommendations/pipeline_parameters.py</c>
/// declares it: the step scripts validate the values, this side declares them in the definition and passes each to
/// the steps that consume it. A test compares the two tables, so they cannot drift apart.
/// </summary>
/// <param name="Name">The parameter's name, the same in the definition, the scripts and the specification.</param>
/// <param name="Kind">The type it is declared with.</param>
/// <param name="Default">The default as the specification writes it; <c>&lt;data-bucket&gt;</c> stands for the data bucket's name.</param>
/// <param name="Steps">The steps that take it as a container argument or hyperparameter; none for the definition's own (group A).</param>
/// <param name="Description">What it means, shown where an execution is started.</param>
public sealed partial record RecommendationsParameter(
    string Name,
    RecommendationsParameterKind Kind,
    string Default,
    IReadOnlyList<string> Steps,
    string Description)
{
    /// <summary>The placeholder for the data bucket's name in <see cref="Default"/>.</summary>
    public const string DataBucketPlaceholder = "<data-bucket>";

    /// <summary>The values an execution may pass. Default: any.</summary>
    public IReadOnlyList<string>? Choices { get; init; }

    /// <summary>
    /// The step scripts' option, the name in kebab case (MinLift: <c>--min-lift</c>, L3TiebreakMargin:
    /// <c>--l3-tiebreak-margin</c>); null for the parameters the definition consumes itself.
    /// </summary>
    public string? Option => Steps.Count == 0 ? null : "--" + WordBoundary().Replace(Name, "-").ToLowerInvariant();

    /// <summary>The declaration in the definition, its default resolved for the data bucket.</summary>
    public PipelineParameter Declare(string dataBucketName) => Kind switch
    {
        RecommendationsParameterKind.WholeNumber => new IntegerParameter(Name, int.Parse(Default, NumberStyles.Integer, CultureInfo.InvariantCulture)) { Description = Description },
        RecommendationsParameterKind.Number => new FloatParameter(Name, double.Parse(Default, NumberStyles.Float, CultureInfo.InvariantCulture)) { Description = Description },
        _ => new StringParameter(Name, Default.Replace(DataBucketPlaceholder, dataBucketName, StringComparison.Ordinal), Choices) { Description = Description },
    };

    // pipeline_parameters.py's Parameter.option: a boundary before an upper-case letter that follows a lower-case letter
    // or digit, or that starts a word after an acronym.
    [GeneratedRegex("(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")]
    private static partial Regex WordBoundary();
}

/// <summary>The 32 parameters of the recommendations pipeline, in the specification's order (groups A to F).</summary>
public static class RecommendationsParameters
{
    public const string MarketBasket = "MarketBasket";
    public const string TrainClustering = "TrainClustering";
    public const string Associations = "Associations";
    public const string Ranking = "Ranking";
    public const string FeedbackCalibration = "FeedbackCalibration";

    /// <summary>Every parameter; <see cref="RecommendationsPipelineDefinition"/> declares them in this order.</summary>
    public static IReadOnlyList<RecommendationsParameter> All { get; } =
    [
        // Group A: data inputs and the registry; the definition wires these itself.
        Text("InputCustomers", "s3://<data-bucket>/recommendations/input/customers/", [], "S3 URI of the customer master"),
        Text("InputProducts", "s3://<data-bucket>/recommendations/input/products/", [], "S3 URI of the product master"),
        Text("InputInvoices", "s3://<data-bucket>/recommendations/input/invoices/", [], "S3 URI of the invoice history"),
        Text("ModelApprovalStatus", "Approved", [], "Set to PendingManualApproval to gate deployment") with { Choices = PipelineSettings.ApprovalStatuses },

        // Group B: market basket.
        Whole("MinOrderCount", "1", [MarketBasket], "Exclude customers with fewer invoices"),
        Whole("RecencyCutoffDays", "730", [MarketBasket], "Ignore invoices older than N days before the reference date"),

        // Group C: clustering.
        Whole("MaxK", "8", [TrainClustering], "Maximum clusters per segment"),
        Whole("MinClusterCustomers", "6", [TrainClustering], "Min customers to attempt clustering; smaller segments get one cluster"),
        Real("ElbowThreshold", "10.0", [TrainClustering], "% inertia drop below which the elbow is detected"),
        Text("FeatureGroups", "l2_qty,brand,functionality,rfm", [TrainClustering], "Feature groups to include"),
        Whole("RandomState", "42", [TrainClustering], "KMeans random seed"),
        Whole("NInit", "15", [TrainClustering], "KMeans n_init"),

        // Group D: association mining.
        Whole("WindowDays", "0", [Associations], "Basket window days (0 = median of per-customer median gaps, clamped to 7..90)"),
        Real("MinLift", "1.2", [Associations, Ranking], "Minimum lift to keep a rule"),
        Whole("MinAbsFreq", "2", [Associations], "Absolute minimum basket frequency floor"),
        Real("MinFreqRatio", "0.03", [Associations], "Proportional minimum (share of the cluster's baskets)"),
        Real("DecayLambda", "0.001", [Associations], "Exponential decay rate of weighted support (0.001 = ~693 day half-life)"),

        // Group E: ranking and scoring.
        Real("MinSupport", "0.01", [Ranking], "Minimum support threshold"),
        Real("MinConfidence", "0.05", [Ranking, FeedbackCalibration], "Minimum confidence threshold"),
        Whole("TopK", "5", [Ranking, FeedbackCalibration], "Max recommendations per customer"),
        Real("WConf", "0.45", [Ranking], "Confidence weight in the score formula"),
        Real("WSupp", "0.20", [Ranking], "Support weight in the score formula"),
        Real("WLift", "0.20", [Ranking], "Lift weight in the score formula"),
        Real("WRecency", "0.15", [Ranking], "Recency weight in the score formula"),
        Real("MaxLiftNormalise", "5.0", [Ranking], "Lift normalisation ceiling"),
        Real("L3TiebreakMargin", "0.02", [Ranking], "L3 affinity tie-break bonus"),

        // Group F: feedback calibration.
        Real("WeightHigh", "1.3", [FeedbackCalibration], "Score multiplier for High rating"),
        Real("WeightMedPos", "1.0", [FeedbackCalibration], "Multiplier for Medium + positive"),
        Real("WeightMedNeg", "0.4", [FeedbackCalibration], "Multiplier for Medium + negative"),
        Real("WeightLow", "0.1", [FeedbackCalibration], "Score multiplier for Low rating"),
        Real("ScoreCutoff", "0.08", [FeedbackCalibration], "Minimum score after calibration"),
        Whole("FeedbackRecencyDays", "365", [FeedbackCalibration], "Only use feedback from the last N days"),
    ];

    /// <summary>The parameter named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No parameter has that name.</exception>
    public static RecommendationsParameter Named(string name) =>
        All.SingleOrDefault(p => p.Name == name) ?? throw new ArgumentException($"No recommendations parameter is named '{name}'.", nameof(name));

    /// <summary>The parameters <paramref name="step"/> takes, in declaration order.</summary>
    public static IReadOnlyList<RecommendationsParameter> ConsumedBy(string step) => All.Where(p => p.Steps.Contains(step, StringComparer.Ordinal)).ToList();

    private static RecommendationsParameter Text(string name, string value, string[] steps, string description) =>
        new(name, RecommendationsParameterKind.Text, value, steps, description);

    private static RecommendationsParameter Whole(string name, string value, string[] steps, string description) =>
        new(name, RecommendationsParameterKind.WholeNumber, value, steps, description);

    private static RecommendationsParameter Real(string name, string value, string[] steps, string description) =>
        new(name, RecommendationsParameterKind.Number, value, steps, description);
}
