using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Pipelines;

namespace CustomerSegmentation.Infra.Recommendations;

/// <summary>
/// Deploy-time settings of the recommendations pipeline (context group <c>recommendations:</c>): its schedule, the
/// instances its jobs run on, how long a published run stays readable, and the alarm thresholds. The 32 model
/// parameters are pipeline parameters with the specification's defaults; an execution overrides them.
/// </summary>
public sealed record RecommendationsSettings
{
    /// <summary>Context <c>recommendations:scheduleExpression</c>: EventBridge cron or rate expression; default <c>cron(0 5 ? * MON *)</c>.</summary>
    public string ScheduleExpression { get; init; } = "cron(0 5 ? * MON *)";

    /// <summary>Context <c>recommendations:scheduleEnabled</c>; default true. When false the rule is kept but DISABLED.</summary>
    public bool ScheduleEnabled { get; init; } = true;

    /// <summary>Context <c>recommendations:processingInstanceType</c>: the instance of every processing step; default <c>ml.m5.large</c>.</summary>
    public string ProcessingInstanceType { get; init; } = "ml.m5.large";

    /// <summary>Context <c>recommendations:trainingInstanceType</c>: the instance of TrainClustering; default <c>ml.m5.large</c>.</summary>
    public string TrainingInstanceType { get; init; } = "ml.m5.large";

    /// <summary>
    /// Context <c>recommendations:ttlDays</c>: days a published run's items stay in the serving table, 1 to 3650;
    /// default 35. The schedule must publish again within this time: the pointer never expires, its run's items do.
    /// </summary>
    public int TtlDays { get; init; } = 35;

    /// <summary>Context <c>recommendations:minCoverage</c>: the coverage alarm fires below this share of customers, 0 to 1; default 0.95.</summary>
    public double MinCoverage { get; init; } = 0.95;

    /// <summary>Context <c>recommendations:minAcceptanceRate</c>: the acceptance alarm fires below this rate, 0 to 1; default 0.4.</summary>
    public double MinAcceptanceRate { get; init; } = 0.4;

    internal static RecommendationsSettings Read(ContextReader read)
    {
        const string InstanceRule = "expected a SageMaker instance type such as ml.m5.large";
        return new RecommendationsSettings
        {
            ScheduleExpression = read.String("recommendations:scheduleExpression", "cron(0 5 ? * MON *)", PipelineSettings.SchedulePattern(),
                "expected an EventBridge schedule expression such as cron(0 5 ? * MON *) or rate(7 days)"),
            ScheduleEnabled = read.Bool("recommendations:scheduleEnabled", true),
            ProcessingInstanceType = read.String("recommendations:processingInstanceType", "ml.m5.large", PipelineSettings.InstanceTypePattern(), InstanceRule),
            TrainingInstanceType = read.String("recommendations:trainingInstanceType", "ml.m5.large", PipelineSettings.InstanceTypePattern(), InstanceRule),
            TtlDays = read.Int("recommendations:ttlDays", 35, 1, 3650),
            MinCoverage = read.Double("recommendations:minCoverage", 0.95, 0, 1),
            MinAcceptanceRate = read.Double("recommendations:minAcceptanceRate", 0.4, 0, 1),
        };
    }
}
