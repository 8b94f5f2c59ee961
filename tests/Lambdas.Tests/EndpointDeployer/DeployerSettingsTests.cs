using CustomerSegmentation.EndpointDeployer;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

public sealed class DeployerSettingsTests
{
    [Fact]
    public void FromEnvironment_EveryVariableSet_ReadsThemAll()
    {
        var settings = DeployerSettings.FromEnvironment(TestSupport.Environment(DeployerHarness.Variables));

        Assert.Equal("segmentation-endpoint", settings.EndpointName);
        Assert.Equal("segmentation", settings.ResourcePrefix);
        Assert.Equal(("ml.m5.large", 1, 1, 4, 70.0), (settings.InstanceType, settings.InitialInstanceCount, settings.MinCapacity, settings.MaxCapacity,
            settings.TargetInvocationsPerInstance));
        Assert.Equal((TrafficShift.Canary, 10, 25, 300), (settings.DeploymentStrategy, settings.CanaryPercent, settings.LinearStepPercent, settings.WaitSeconds));
        Assert.Equal(["segmentation-5xx", "segmentation-latency"], settings.RollbackAlarmNames);
        Assert.Equal(("s3://segmentation-capture/endpoint", 20), (settings.DataCaptureS3Uri, settings.DataCapturePercent));
        Assert.Equal(("segmentation-model-bucket", 3), (settings.ModelBucket, settings.KeepVersions));
    }

    [Fact]
    public void FromEnvironment_OnlyRequiredVariables_UsesTheDocumentedDefaults()
    {
        var settings = DeployerSettings.FromEnvironment(TestSupport.Environment(
            ("ENDPOINT_NAME", "segments"), ("MODEL_PACKAGE_GROUP_NAME", "g"), ("EXECUTION_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("INSTANCE_TYPE", "ml.t2.medium"), ("MODEL_BUCKET", "models")));

        Assert.Equal("segments", settings.ResourcePrefix);
        Assert.Equal((1, 1, 4, 100.0), (settings.InitialInstanceCount, settings.MinCapacity, settings.MaxCapacity, settings.TargetInvocationsPerInstance));
        Assert.Equal((TrafficShift.Canary, 10, 25, 300), (settings.DeploymentStrategy, settings.CanaryPercent, settings.LinearStepPercent, settings.WaitSeconds));
        Assert.Empty(settings.RollbackAlarmNames);
        Assert.Null(settings.DataCaptureS3Uri);
        Assert.Equal((20, 3), (settings.DataCapturePercent, settings.KeepVersions));
    }

    [Fact]
    public void FromEnvironment_NothingSet_NamesEveryRequiredVariableAndItsRule()
    {
        var error = Assert.Throws<DeployerConfigurationException>(() => DeployerSettings.FromEnvironment(_ => null));

        Assert.Equal([
            "ENDPOINT_NAME is not set: it must be a SageMaker name (letters, digits, inner hyphens).",
            "MODEL_PACKAGE_GROUP_NAME is not set: it must be a SageMaker name (letters, digits, inner hyphens).",
            "EXECUTION_ROLE_ARN is not set: it must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>).",
            "INSTANCE_TYPE is not set: it must be a SageMaker instance type such as ml.m5.large.",
            "MODEL_BUCKET is not set: it must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens).",
        ], error.Errors);
        Assert.StartsWith("EndpointDeployer configuration is invalid: ENDPOINT_NAME is not set", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ENDPOINT_NAME", "segments_endpoint", "ENDPOINT_NAME is 'segments_endpoint': it must be a SageMaker name (letters, digits, inner hyphens).")]
    [InlineData("ENDPOINT_NAME", "a-very-long-project-name-for-segmentation-x-endpoint",
        "ENDPOINT_NAME is 'a-very-long-project-name-for-segmentation-x-endpoint': it must be at most 36 characters before its '-endpoint' suffix, so the timestamped model and config names fit SageMaker's 63.")]
    [InlineData("EXECUTION_ROLE_ARN", "segmentation-role", "EXECUTION_ROLE_ARN is 'segmentation-role': it must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>).")]
    [InlineData("INSTANCE_TYPE", "m5.large", "INSTANCE_TYPE is 'm5.large': it must be a SageMaker instance type such as ml.m5.large.")]
    [InlineData("INITIAL_INSTANCE_COUNT", "0", "INITIAL_INSTANCE_COUNT is '0': it must be a whole number from 1 to 100.")]
    [InlineData("MIN_CAPACITY", "one", "MIN_CAPACITY is 'one': it must be a whole number from 1 to 100.")]
    [InlineData("MAX_CAPACITY", "0", "MAX_CAPACITY is '0': it must be a whole number from 1 to 100.")]
    [InlineData("TARGET_INVOCATIONS_PER_INSTANCE", "-5", "TARGET_INVOCATIONS_PER_INSTANCE is '-5': it must be a positive number such as 100 or 12.5.")]
    [InlineData("DEPLOYMENT_STRATEGY", "blue-green", "DEPLOYMENT_STRATEGY is 'blue-green': it must be one of canary, linear, all-at-once.")]
    [InlineData("CANARY_PERCENT", "100", "CANARY_PERCENT is '100': it must be a whole number from 1 to 99.")]
    [InlineData("LINEAR_STEP_PERCENT", "0", "LINEAR_STEP_PERCENT is '0': it must be a whole number from 1 to 99.")]
    [InlineData("WAIT_SECONDS", "3601", "WAIT_SECONDS is '3601': it must be a whole number from 0 to 3600.")]
    [InlineData("ROLLBACK_ALARM_NAMES", "a,b,c,d,e,f,g,h,i,j,k", "ROLLBACK_ALARM_NAMES is 'a,b,c,d,e,f,g,h,i,j,k': it must be at most 10 alarm names (SageMaker's limit).")]
    [InlineData("DATA_CAPTURE_S3_URI", "capture-bucket/endpoint", "DATA_CAPTURE_S3_URI is 'capture-bucket/endpoint': it must be empty (no data capture) or an s3:// URI.")]
    [InlineData("DATA_CAPTURE_PERCENT", "101", "DATA_CAPTURE_PERCENT is '101': it must be a whole number from 0 to 100.")]
    [InlineData("MODEL_BUCKET", "Models", "MODEL_BUCKET is 'Models': it must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens).")]
    [InlineData("KEEP_VERSIONS", "0", "KEEP_VERSIONS is '0': it must be a whole number from 1 to 100.")]
    public void FromEnvironment_BadValue_NamesTheVariableAndTheRule(string name, string value, string expected)
    {
        var error = Assert.Throws<DeployerConfigurationException>(() =>
            DeployerSettings.FromEnvironment(TestSupport.Environment([(name, value), .. DeployerHarness.Variables])));

        Assert.Equal([expected], error.Errors);
    }

    [Fact]
    public void FromEnvironment_MaxBelowMin_SaysMaxMustBeAtLeastMin()
    {
        var error = Assert.Throws<DeployerConfigurationException>(() =>
            DeployerSettings.FromEnvironment(TestSupport.Environment([("MIN_CAPACITY", "3"), ("MAX_CAPACITY", "2"), .. DeployerHarness.Variables])));

        Assert.Equal(["MAX_CAPACITY is '2': it must be at least MIN_CAPACITY (3)."], error.Errors);
    }
}
