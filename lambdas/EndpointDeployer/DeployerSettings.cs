using System.Globalization;
using System.Text.RegularExpressions;

namespace CustomerSegmentation.EndpointDeployer;

/// <summary>How new endpoint configs take over traffic (SageMaker blue/green <c>TrafficRoutingConfig.Type</c>).</summary>
public enum TrafficShift
{
    Canary,
    Linear,
    AllAtOnce,
}

/// <summary>The function's configuration, read once at start-up from the variables the CDK construct sets.</summary>
public sealed partial record DeployerSettings
{
    public required string EndpointName { get; init; }
    public required string ModelPackageGroupName { get; init; }
    public required string ExecutionRoleArn { get; init; }
    public required string InstanceType { get; init; }
    public required int InitialInstanceCount { get; init; }
    public required int MinCapacity { get; init; }
    public required int MaxCapacity { get; init; }
    public required double TargetInvocationsPerInstance { get; init; }
    public required TrafficShift DeploymentStrategy { get; init; }
    public required int CanaryPercent { get; init; }
    public required int LinearStepPercent { get; init; }
    public required int WaitSeconds { get; init; }
    public required IReadOnlyList<string> RollbackAlarmNames { get; init; }
    public string? DataCaptureS3Uri { get; init; }
    public required int DataCapturePercent { get; init; }
    public required string ModelBucket { get; init; }
    public required int KeepVersions { get; init; }

    /// <summary>
    /// The prefix of every model and endpoint-config name: the endpoint name without its <c>-endpoint</c> suffix
    /// (the construct names the endpoint <c>&lt;project&gt;-endpoint</c>).
    /// </summary>
    public string ResourcePrefix => PrefixOf(EndpointName);

    // "<prefix>-c-<version up to 6 digits>-<yyyyMMddHHmmssfff>" must stay within SageMaker's 63-character names.
    private const int MaxPrefixLength = 63 - 3 - 6 - 1 - 17;

    private static string PrefixOf(string endpointName) =>
        endpointName.EndsWith("-endpoint", StringComparison.Ordinal) ? endpointName[..^"-endpoint".Length] : endpointName;

    /// <summary>
    /// Reads every variable and reports every bad one at once, each with the rule it breaks.
    /// </summary>
    /// <exception cref="DeployerConfigurationException">One or more variables are missing or invalid.</exception>
    public static DeployerSettings FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var reader = new Reader(environment);
        var endpointName = reader.Required("ENDPOINT_NAME", NamePattern(), "a SageMaker name (letters, digits, inner hyphens)", 63);
        if (PrefixOf(endpointName).Length > MaxPrefixLength)
        {
            reader.Fail<string>("ENDPOINT_NAME", endpointName,
                $"at most {MaxPrefixLength} characters before its '-endpoint' suffix, so the timestamped model and config names fit SageMaker's 63");
        }

        var strategy = reader.Optional("DEPLOYMENT_STRATEGY", "canary") switch
        {
            "canary" => TrafficShift.Canary,
            "linear" => TrafficShift.Linear,
            "all-at-once" => TrafficShift.AllAtOnce,
            var other => reader.Fail<TrafficShift>("DEPLOYMENT_STRATEGY", other, "one of canary, linear, all-at-once"),
        };
        var minCapacity = reader.Integer("MIN_CAPACITY", 1, 1, 100);
        var maxCapacity = reader.Integer("MAX_CAPACITY", 4, 1, 100);
        // A value that failed its own rule reads as 0 and is reported already.
        if (minCapacity > 0 && maxCapacity > 0 && maxCapacity < minCapacity)
        {
            reader.Fail<int>("MAX_CAPACITY", maxCapacity.ToString(CultureInfo.InvariantCulture), $"at least MIN_CAPACITY ({minCapacity})");
        }

        var dataCapture = reader.Optional("DATA_CAPTURE_S3_URI", "");
        if (dataCapture.Length > 0 && !dataCapture.StartsWith("s3://", StringComparison.Ordinal))
        {
            reader.Fail<string>("DATA_CAPTURE_S3_URI", dataCapture, "empty (no data capture) or an s3:// URI");
        }

        var settings = new DeployerSettings
        {
            EndpointName = endpointName,
            ModelPackageGroupName = reader.Required("MODEL_PACKAGE_GROUP_NAME", NamePattern(), "a SageMaker name (letters, digits, inner hyphens)", 63),
            ExecutionRoleArn = reader.Required("EXECUTION_ROLE_ARN", RoleArnPattern(), "an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)", 2048),
            InstanceType = reader.Required("INSTANCE_TYPE", InstanceTypePattern(), "a SageMaker instance type such as ml.m5.large", 64),
            InitialInstanceCount = reader.Integer("INITIAL_INSTANCE_COUNT", 1, 1, 100),
            MinCapacity = minCapacity,
            MaxCapacity = maxCapacity,
            TargetInvocationsPerInstance = reader.Number("TARGET_INVOCATIONS_PER_INSTANCE", 100),
            DeploymentStrategy = strategy,
            CanaryPercent = reader.Integer("CANARY_PERCENT", 10, 1, 99),
            LinearStepPercent = reader.Integer("LINEAR_STEP_PERCENT", 25, 1, 99),
            WaitSeconds = reader.Integer("WAIT_SECONDS", 300, 0, 3600),
            RollbackAlarmNames = [.. reader.Optional("ROLLBACK_ALARM_NAMES", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            DataCaptureS3Uri = dataCapture.Length == 0 ? null : dataCapture,
            DataCapturePercent = reader.Integer("DATA_CAPTURE_PERCENT", 20, 0, 100),
            ModelBucket = reader.Required("MODEL_BUCKET", BucketPattern(), "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)", 63),
            KeepVersions = reader.Integer("KEEP_VERSIONS", 3, 1, 100),
        };
        if (settings.RollbackAlarmNames.Count > 10)
        {
            reader.Fail<int>("ROLLBACK_ALARM_NAMES", string.Join(",", settings.RollbackAlarmNames), "at most 10 alarm names (SageMaker's limit)");
        }

        return reader.Errors.Count == 0 ? settings : throw new DeployerConfigurationException(reader.Errors);
    }

    private sealed class Reader(Func<string, string?> environment)
    {
        public List<string> Errors { get; } = [];

        public string Optional(string name, string fallback) => environment(name)?.Trim() is { Length: > 0 } value ? value : fallback;

        public string Required(string name, Regex pattern, string rule, int maxLength)
        {
            var value = environment(name)?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                Errors.Add($"{name} is not set: it must be {rule}.");
                return "";
            }

            return value.Length <= maxLength && pattern.IsMatch(value) ? value : Fail<string>(name, value, rule) ?? "";
        }

        public int Integer(string name, int fallback, int min, int max)
        {
            var text = Optional(name, fallback.ToString(CultureInfo.InvariantCulture));
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
                ? value
                : Fail<int>(name, text, $"a whole number from {min} to {max}");
        }

        public double Number(string name, double fallback)
        {
            var text = Optional(name, fallback.ToString(CultureInfo.InvariantCulture));
            return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : Fail<double>(name, text, "a positive number such as 100 or 12.5");
        }

        public T? Fail<T>(string name, string value, string rule)
        {
            Errors.Add($"{name} is '{value}': it must be {rule}.");
            return default;
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$")]
    private static partial Regex RoleArnPattern();

    [GeneratedRegex("^ml\\.[a-z0-9]+\\.[a-z0-9]+$")]
    private static partial Regex InstanceTypePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketPattern();
}

/// <summary>The function cannot start: the message lists every bad variable with its rule.</summary>
public sealed class DeployerConfigurationException(IReadOnlyList<string> errors)
    : Exception("EndpointDeployer configuration is invalid: " + string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
