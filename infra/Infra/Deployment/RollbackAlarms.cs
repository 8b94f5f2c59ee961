using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Constructs;

namespace CustomerSegmentation.Infra.Deployment;

/// <summary>Properties of <see cref="RollbackAlarms"/>.</summary>
public sealed class RollbackAlarmsProps
{
    /// <summary>The endpoint whose serving variant is watched.</summary>
    public required string EndpointName { get; init; }

    /// <summary>The production variant the deployer creates; its metrics cover whichever fleet serves traffic.</summary>
    public required string VariantName { get; init; }

    /// <summary>p99 ModelLatency above this many milliseconds, two minutes in a row, rolls back. Default: 500.</summary>
    public double LatencyP99ThresholdMilliseconds { get; init; } = 500;
}

/// <summary>
/// The CloudWatch alarms SageMaker watches during a blue/green update (AutoRollbackConfiguration): if either goes to
/// ALARM while traffic shifts or during the wait, SageMaker sends all traffic back to the old fleet.
/// </summary>
public sealed class RollbackAlarms : Construct
{
    public RollbackAlarms(Construct scope, string id, RollbackAlarmsProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var dimensions = new Dictionary<string, string>
        {
            ["EndpointName"] = props.EndpointName,
            ["VariantName"] = props.VariantName,
        };

        // Any server error is a regression: the same input was answered by the old model. Missing data (no traffic)
        // is not a reason to roll back.
        InvocationErrors = new Alarm(this, "Invocation5XXErrors", new AlarmProps
        {
            AlarmName = $"{props.EndpointName}-invocation-5xx-errors",
            AlarmDescription = "Rolls back a deployment of the segmentation endpoint when the model container answers with 5XX errors.",
            Metric = new Metric(new MetricProps
            {
                Namespace = "AWS/SageMaker",
                MetricName = "Invocation5XXErrors",
                DimensionsMap = dimensions,
                Statistic = "Sum",
                Period = Duration.Minutes(1),
            }),
            Threshold = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            EvaluationPeriods = 1,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });

        // ModelLatency is reported in microseconds. Two breaching minutes, so a single cold request cannot roll back.
        LatencyP99 = new Alarm(this, "ModelLatencyP99", new AlarmProps
        {
            AlarmName = $"{props.EndpointName}-model-latency-p99",
            AlarmDescription = $"Rolls back a deployment of the segmentation endpoint when p99 model latency exceeds {props.LatencyP99ThresholdMilliseconds} ms.",
            Metric = new Metric(new MetricProps
            {
                Namespace = "AWS/SageMaker",
                MetricName = "ModelLatency",
                DimensionsMap = dimensions,
                Statistic = "p99",
                Period = Duration.Minutes(1),
            }),
            Threshold = props.LatencyP99ThresholdMilliseconds * 1000,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_THRESHOLD,
            EvaluationPeriods = 2,
            DatapointsToAlarm = 2,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
        });
    }

    /// <summary>Invocation5XXErrors of the variant, at least one in a minute.</summary>
    public Alarm InvocationErrors { get; }

    /// <summary>ModelLatency p99 of the variant above the threshold for two minutes.</summary>
    public Alarm LatencyP99 { get; }

    /// <summary>Both alarms, in the order their names are passed to the deployer.</summary>
    public IReadOnlyList<Alarm> All => [InvocationErrors, LatencyP99];
}
