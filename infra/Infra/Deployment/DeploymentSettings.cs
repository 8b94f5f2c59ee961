using System.Globalization;
using Amazon.CDK.AWS.Logs;
using CustomerSegmentation.Infra.Configuration;

namespace CustomerSegmentation.Infra.Deployment;

/// <summary>The CPU architecture a native-AOT Lambda is compiled for and runs on.</summary>
public enum LambdaArchitecture
{
    /// <summary>Graviton (<c>arm64</c>, .NET RID <c>linux-arm64</c>): about 20% cheaper per GB-second. The default.</summary>
    Arm64,

    /// <summary>Intel/AMD (<c>x86_64</c>, .NET RID <c>linux-x64</c>).</summary>
    X64,
}

/// <summary>How the endpoint deployer shifts traffic from the serving fleet to the new model (SageMaker blue/green).</summary>
public enum DeploymentStrategy
{
    /// <summary>A canary share of capacity first, then the rest after the wait. The default.</summary>
    Canary,

    /// <summary>Equal steps of capacity, each followed by the wait.</summary>
    Linear,

    /// <summary>All capacity at once, still with the wait and the rollback alarms before the old fleet is released.</summary>
    AllAtOnce,
}

/// <summary>
/// Settings of the model deployment: the endpoint deployer Lambda, the endpoint's scaling and how a new model version
/// replaces the live one. The instance type comes from <c>pipeline:inferenceInstanceType</c>, the type the model
/// package is registered as supporting, so the two can never disagree.
/// </summary>
public sealed record DeploymentSettings
{
    /// <summary>The context values of <see cref="Strategy"/>, as the deployer's DEPLOYMENT_STRATEGY variable spells them.</summary>
    public static IReadOnlyDictionary<string, DeploymentStrategy> Strategies { get; } = new Dictionary<string, DeploymentStrategy>(StringComparer.Ordinal)
    {
        ["canary"] = DeploymentStrategy.Canary,
        ["linear"] = DeploymentStrategy.Linear,
        ["all-at-once"] = DeploymentStrategy.AllAtOnce,
    };

    /// <summary>The retention periods CloudWatch Logs accepts, in days, and the CDK value of each.</summary>
    public static IReadOnlyDictionary<int, RetentionDays> LogRetentionPeriods { get; } = new SortedDictionary<int, RetentionDays>
    {
        [1] = RetentionDays.ONE_DAY,
        [3] = RetentionDays.THREE_DAYS,
        [5] = RetentionDays.FIVE_DAYS,
        [7] = RetentionDays.ONE_WEEK,
        [14] = RetentionDays.TWO_WEEKS,
        [30] = RetentionDays.ONE_MONTH,
        [60] = RetentionDays.TWO_MONTHS,
        [90] = RetentionDays.THREE_MONTHS,
        [120] = RetentionDays.FOUR_MONTHS,
        [150] = RetentionDays.FIVE_MONTHS,
        [180] = RetentionDays.SIX_MONTHS,
        [365] = RetentionDays.ONE_YEAR,
        [400] = RetentionDays.THIRTEEN_MONTHS,
        [545] = RetentionDays.EIGHTEEN_MONTHS,
        [731] = RetentionDays.TWO_YEARS,
        [1096] = RetentionDays.THREE_YEARS,
        [1827] = RetentionDays.FIVE_YEARS,
        [2192] = RetentionDays.SIX_YEARS,
        [2557] = RetentionDays.SEVEN_YEARS,
        [2922] = RetentionDays.EIGHT_YEARS,
        [3288] = RetentionDays.NINE_YEARS,
        [3653] = RetentionDays.TEN_YEARS,
    };

    /// <summary>Context <c>deployment:lambdaArchitecture</c>: <c>arm64</c> (default) or <c>x86_64</c>.</summary>
    public LambdaArchitecture LambdaArchitecture { get; init; } = LambdaArchitecture.Arm64;

    /// <summary>Context <c>deployment:initialInstanceCount</c>: instances a new endpoint starts with, from min to max capacity; default 1.</summary>
    public int InitialInstanceCount { get; init; } = 1;

    /// <summary>Context <c>deployment:minCapacity</c>: the fewest instances autoscaling keeps, 1 to 100; default 1.</summary>
    public int MinCapacity { get; init; } = 1;

    /// <summary>Context <c>deployment:maxCapacity</c>: the most instances autoscaling adds, min capacity to 100; default 4.</summary>
    public int MaxCapacity { get; init; } = 4;

    /// <summary>
    /// Context <c>deployment:targetInvocationsPerInstance</c>: the target-tracking goal for
    /// <c>SageMakerVariantInvocationsPerInstance</c> (invocations per instance per minute), 1 to 100000; default 100.
    /// </summary>
    public int TargetInvocationsPerInstance { get; init; } = 100;

    /// <summary>Context <c>deployment:strategy</c>: <c>canary</c> (default), <c>linear</c> or <c>all-at-once</c>.</summary>
    public DeploymentStrategy Strategy { get; init; } = DeploymentStrategy.Canary;

    /// <summary>Context <c>deployment:canaryPercent</c>: capacity share of the canary, 1 to 99; default 10.</summary>
    public int CanaryPercent { get; init; } = 10;

    /// <summary>Context <c>deployment:linearStepPercent</c>: capacity share of each linear step, 1 to 99; default 25.</summary>
    public int LinearStepPercent { get; init; } = 25;

    /// <summary>
    /// Context <c>deployment:waitSeconds</c>: how long each traffic step is watched by the rollback alarms before the next,
    /// 0 to 3600 (SageMaker's limit); default 300.
    /// </summary>
    public int WaitSeconds { get; init; } = 300;

    /// <summary>
    /// Context <c>deployment:keepVersions</c>: models and endpoint configurations the deployer keeps, the live one
    /// included, 2 to 50; default 3. At least 2, so the previous version is always there to roll back to.
    /// </summary>
    public int KeepVersions { get; init; } = 3;

    /// <summary>Context <c>deployment:dataCapturePercent</c>: share of requests captured to S3, 0 (off, the default) to 100.</summary>
    public int DataCapturePercent { get; init; }

    /// <summary>Context <c>deployment:logRetentionDays</c>: one of <see cref="LogRetentionPeriods"/>; default 30.</summary>
    public int LogRetentionDays { get; init; } = 30;

    /// <summary>The deployer's spelling of <see cref="Strategy"/> (its DEPLOYMENT_STRATEGY variable).</summary>
    public string StrategyName => Strategies.Single(s => s.Value == Strategy).Key;

    internal static DeploymentSettings Read(ContextReader read)
    {
        var settings = new DeploymentSettings
        {
            LambdaArchitecture = read.Choice("deployment:lambdaArchitecture", LambdaArchitecture.Arm64,
                new Dictionary<string, LambdaArchitecture>(StringComparer.Ordinal)
                {
                    ["arm64"] = LambdaArchitecture.Arm64,
                    ["x86_64"] = LambdaArchitecture.X64,
                }),
            InitialInstanceCount = read.Int("deployment:initialInstanceCount", 1, 1, 100),
            MinCapacity = read.Int("deployment:minCapacity", 1, 1, 100),
            MaxCapacity = read.Int("deployment:maxCapacity", 4, 1, 100),
            TargetInvocationsPerInstance = read.Int("deployment:targetInvocationsPerInstance", 100, 1, 100_000),
            Strategy = read.Choice("deployment:strategy", DeploymentStrategy.Canary, Strategies),
            CanaryPercent = read.Int("deployment:canaryPercent", 10, 1, 99),
            LinearStepPercent = read.Int("deployment:linearStepPercent", 25, 1, 99),
            WaitSeconds = read.Int("deployment:waitSeconds", 300, 0, 3600),
            KeepVersions = read.Int("deployment:keepVersions", 3, 2, 50),
            DataCapturePercent = read.Int("deployment:dataCapturePercent", 0, 0, 100),
            LogRetentionDays = read.Choice("deployment:logRetentionDays", 30,
                LogRetentionPeriods.Keys.ToDictionary(d => d.ToString(CultureInfo.InvariantCulture), d => d, StringComparer.Ordinal)),
        };

        string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        if (settings.MaxCapacity < settings.MinCapacity)
        {
            read.Fail("deployment:maxCapacity", Text(settings.MaxCapacity),
                $"expected at least deployment:minCapacity ({Text(settings.MinCapacity)})");
        }
        else if (settings.InitialInstanceCount < settings.MinCapacity || settings.InitialInstanceCount > settings.MaxCapacity)
        {
            read.Fail("deployment:initialInstanceCount", Text(settings.InitialInstanceCount),
                $"expected a whole number from deployment:minCapacity ({Text(settings.MinCapacity)}) to deployment:maxCapacity ({Text(settings.MaxCapacity)}), because autoscaling would move a new endpoint into that range at once");
        }

        return settings;
    }
}
