using System.Text.Json;
using Amazon.CDK;
using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Pipelines;

namespace CustomerSegmentation.Infra.Tests;

public sealed class PlatformSettingsTests
{
    private static PlatformSettings Read(IDictionary<string, object> context) =>
        PlatformSettings.FromContext(new App(new AppProps { Context = context }).Node);

    private static ConfigurationException ReadInvalid(IDictionary<string, object> context) =>
        Assert.Throws<ConfigurationException>(() => Read(context));

    [Fact]
    public void FromContext_Empty_UsesDocumentedDefaults()
    {
        var settings = Read(new Dictionary<string, object>());

        Assert.Equal("CustomerSegmentation", settings.StackName);
        Assert.Equal("customer-segmentation", settings.ProjectName);
        Assert.Equal(DataRetention.Retain, settings.Storage.Retention);
        Assert.Equal(90, settings.Storage.NoncurrentVersionExpirationDays);
        Assert.Null(settings.Storage.KmsKeyArn);
        Assert.Equal("ml.t3.medium", settings.Notebook.InstanceType);
        Assert.Equal(20, settings.Notebook.VolumeSizeGb);
        Assert.Equal(60, settings.Notebook.IdleStopMinutes);
    }

    [Fact]
    public void FromContext_CdkJsonContext_EqualsCodeDefaults()
    {
        // cdk.json lists the defaults for people to read and edit; if it drifted from the code, a CLI deploy and a
        // plain `dotnet run` would build different stacks.
        var cdkJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryLayout.Root().FullName, "cdk.json")));
        var context = cdkJson.RootElement.GetProperty("context").EnumerateObject()
            .ToDictionary(p => p.Name, p => (object)(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()));

        var fromCdkJson = Read(context);
        var defaults = Read(new Dictionary<string, object>());

        Assert.Equal(defaults, fromCdkJson);
    }

    [Fact]
    public void FromContext_ValidOverrides_AreRead()
    {
        var settings = Read(new Dictionary<string, object>
        {
            ["projectName"] = "acme-seg",
            ["storage:removalPolicy"] = "DESTROY",
            ["storage:noncurrentVersionExpirationDays"] = 7,
            ["storage:kmsKeyArn"] = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ["notebook:subnetId"] = "subnet-0123456789abcdef0",
            ["notebook:securityGroupId"] = "sg-0123456789abcdef0",
            ["git:secret"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-AbCdEf",
        });

        Assert.Equal("acme-seg", settings.ProjectName);
        Assert.Equal(DataRetention.Destroy, settings.Storage.Retention);
        Assert.Equal(7, settings.Storage.NoncurrentVersionExpirationDays);
        Assert.Equal("subnet-0123456789abcdef0", settings.Notebook.SubnetId);
    }

    [Theory]
    [InlineData("projectName", "Customer_Segmentation",
        "Context key 'projectName' is 'Customer_Segmentation': expected 3 to 32 lower-case letters, digits or hyphens, starting with a letter and not ending with a hyphen.")]
    [InlineData("projectName", "a-project-name-that-is-far-too-long-for-sagemaker",
        "Context key 'projectName' is 'a-project-name-that-is-far-too-long-for-sagemaker': expected 3 to 32 lower-case letters, digits or hyphens, starting with a letter and not ending with a hyphen.")]
    [InlineData("stackName", "1stack",
        "Context key 'stackName' is '1stack': expected 1 to 128 letters, digits or hyphens, starting with a letter (a CloudFormation stack name).")]
    [InlineData("storage:removalPolicy", "snapshot",
        "Context key 'storage:removalPolicy' is 'snapshot': expected one of retain, destroy.")]
    [InlineData("storage:noncurrentVersionExpirationDays", "0",
        "Context key 'storage:noncurrentVersionExpirationDays' is '0': expected a whole number from 1 to 3650.")]
    [InlineData("storage:noncurrentVersionExpirationDays", "ninety",
        "Context key 'storage:noncurrentVersionExpirationDays' is 'ninety': expected a whole number from 1 to 3650.")]
    [InlineData("storage:kmsKeyArn", "alias/my-key",
        "Context key 'storage:kmsKeyArn' is 'alias/my-key': expected a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab.")]
    [InlineData("notebook:instanceType", "t3.medium",
        "Context key 'notebook:instanceType' is 't3.medium': expected a SageMaker notebook instance type such as ml.t3.medium.")]
    [InlineData("notebook:volumeSizeGb", "4",
        "Context key 'notebook:volumeSizeGb' is '4': expected a whole number from 5 to 16384.")]
    [InlineData("notebook:idleStopMinutes", "-1",
        "Context key 'notebook:idleStopMinutes' is '-1': expected a whole number from 0 to 10080.")]
    [InlineData("git:repositoryUrl", "git@github.com:acme/ml.git",
        "Context key 'git:repositoryUrl' is 'git@github.com:acme/ml.git': expected an https:// git URL without credentials, such as https://github.com/acme/ml-pipeline.git.")]
    [InlineData("git:repositoryUrl", "https://user:token@github.com/acme/ml.git",
        "Context key 'git:repositoryUrl' is 'https://user:token@github.com/acme/ml.git': expected an https:// git URL without credentials, such as https://github.com/acme/ml-pipeline.git.")]
    [InlineData("git:userEmail", "nobody",
        "Context key 'git:userEmail' is 'nobody': expected an e-mail address.")]
    [InlineData("api:servingMode", "sagemaker",
        "Context key 'api:servingMode' is 'sagemaker': expected one of endpoint, centroids, endpoint-with-fallback.")]
    [InlineData("api:servingMode", "Centroids",
        "Context key 'api:servingMode' is 'Centroids': expected one of endpoint, centroids, endpoint-with-fallback.")]
    [InlineData("api:authorization", "cognito",
        "Context key 'api:authorization' is 'cognito': expected one of apiKey, iam.")]
    [InlineData("api:authorization", "apikey",
        "Context key 'api:authorization' is 'apikey': expected one of apiKey, iam.")]
    [InlineData("api:corsOrigins", "*",
        "Context key 'api:corsOrigins' is '*': expected https origins separated by commas, each scheme, host and optional port without path or wildcard, such as https://app.example.com ('*' is not one).")]
    [InlineData("api:corsOrigins", "http://app.example.com,https://ok.example.com,https://app.example.com/path",
        "Context key 'api:corsOrigins' is 'http://app.example.com,https://ok.example.com,https://app.example.com/path': expected https origins separated by commas, each scheme, host and optional port without path or wildcard, such as https://app.example.com ('http://app.example.com', 'https://app.example.com/path' are not).")]
    [InlineData("api:corsOrigins", "https://*.example.com",
        "Context key 'api:corsOrigins' is 'https://*.example.com': expected https origins separated by commas, each scheme, host and optional port without path or wildcard, such as https://app.example.com ('https://*.example.com' is not one).")]
    [InlineData("api:corsOrigins", "https://app.example.com/",
        "Context key 'api:corsOrigins' is 'https://app.example.com/': expected https origins separated by commas, each scheme, host and optional port without path or wildcard, such as https://app.example.com ('https://app.example.com/' is not one).")]
    [InlineData("api:corsOrigins", ",",
        "Context key 'api:corsOrigins' is ',': expected https origins separated by commas, each scheme, host and optional port without path or wildcard, such as https://app.example.com.")]
    [InlineData("api:throttleRate", "0",
        "Context key 'api:throttleRate' is '0': expected a whole number from 1 to 10000.")]
    [InlineData("api:throttleRate", "12.5",
        "Context key 'api:throttleRate' is '12.5': expected a whole number from 1 to 10000.")]
    [InlineData("api:throttleRate", "10001",
        "Context key 'api:throttleRate' is '10001': expected a whole number from 1 to 10000.")]
    [InlineData("api:throttleBurst", "0",
        "Context key 'api:throttleBurst' is '0': expected a whole number from 1 to 5000.")]
    [InlineData("api:throttleBurst", "5001",
        "Context key 'api:throttleBurst' is '5001': expected a whole number from 1 to 5000.")]
    [InlineData("api:quotaPerDay", "-1",
        "Context key 'api:quotaPerDay' is '-1': expected a whole number from 0 to 1000000000.")]
    [InlineData("api:quotaPerDay", "unlimited",
        "Context key 'api:quotaPerDay' is 'unlimited': expected a whole number from 0 to 1000000000.")]
    [InlineData("api:maxBatchSize", "0",
        "Context key 'api:maxBatchSize' is '0': expected a whole number from 1 to 100000.")]
    [InlineData("api:maxBatchSize", "100001",
        "Context key 'api:maxBatchSize' is '100001': expected a whole number from 1 to 100000.")]
    [InlineData("api:maxBodyBytes", "1",
        "Context key 'api:maxBodyBytes' is '1': expected a whole number from 2 to 10485760.")]
    [InlineData("api:maxBodyBytes", "10485761",
        "Context key 'api:maxBodyBytes' is '10485761': expected a whole number from 2 to 10485760.")]
    [InlineData("api:modelRefreshSeconds", "-1",
        "Context key 'api:modelRefreshSeconds' is '-1': expected a whole number from 0 to 3600.")]
    [InlineData("api:modelRefreshSeconds", "3601",
        "Context key 'api:modelRefreshSeconds' is '3601': expected a whole number from 0 to 3600.")]
    [InlineData("api:stageName", "prod/v1",
        "Context key 'api:stageName' is 'prod/v1': expected 1 to 128 letters, digits, hyphens or underscores (an API Gateway stage name).")]
    [InlineData("api:stageName", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Context key 'api:stageName' is 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': expected 1 to 128 letters, digits, hyphens or underscores (an API Gateway stage name).")]
    [InlineData("api:cloudWatchRole", "yes",
        "Context key 'api:cloudWatchRole' is 'yes': expected true or false.")]
    [InlineData("api:webAclArn", "arn:aws:wafv2:us-east-1:123456789012:global/webacl/api-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
        "Context key 'api:webAclArn' is 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/api-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111': expected a regional WAFv2 web ACL ARN such as arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111.")]
    [InlineData("api:webAclArn", "api-acl",
        "Context key 'api:webAclArn' is 'api-acl': expected a regional WAFv2 web ACL ARN such as arn:aws:wafv2:us-east-1:123456789012:regional/webacl/api-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111.")]
    [InlineData("recommendations:scheduleExpression", "weekly",
        "Context key 'recommendations:scheduleExpression' is 'weekly': expected an EventBridge schedule expression such as cron(0 5 ? * MON *) or rate(7 days).")]
    [InlineData("recommendations:scheduleExpression", "cron(0 5 * * MON)",
        "Context key 'recommendations:scheduleExpression' is 'cron(0 5 * * MON)': expected an EventBridge schedule expression such as cron(0 5 ? * MON *) or rate(7 days).")]
    [InlineData("recommendations:scheduleEnabled", "weekly",
        "Context key 'recommendations:scheduleEnabled' is 'weekly': expected true or false.")]
    [InlineData("recommendations:processingInstanceType", "m5.large",
        "Context key 'recommendations:processingInstanceType' is 'm5.large': expected a SageMaker instance type such as ml.m5.large.")]
    [InlineData("recommendations:trainingInstanceType", "ml.m5",
        "Context key 'recommendations:trainingInstanceType' is 'ml.m5': expected a SageMaker instance type such as ml.m5.large.")]
    [InlineData("recommendations:ttlDays", "0",
        "Context key 'recommendations:ttlDays' is '0': expected a whole number from 1 to 3650.")]
    [InlineData("recommendations:ttlDays", "3651",
        "Context key 'recommendations:ttlDays' is '3651': expected a whole number from 1 to 3650.")]
    [InlineData("recommendations:ttlDays", "35.5",
        "Context key 'recommendations:ttlDays' is '35.5': expected a whole number from 1 to 3650.")]
    [InlineData("recommendations:minCoverage", "95%",
        "Context key 'recommendations:minCoverage' is '95%': expected a number from 0 to 1.")]
    [InlineData("recommendations:minCoverage", "1.5",
        "Context key 'recommendations:minCoverage' is '1.5': expected a number from 0 to 1.")]
    [InlineData("recommendations:minAcceptanceRate", "-0.1",
        "Context key 'recommendations:minAcceptanceRate' is '-0.1': expected a number from 0 to 1.")]
    [InlineData("recommendations:minAcceptanceRate", "NaN",
        "Context key 'recommendations:minAcceptanceRate' is 'NaN': expected a number from 0 to 1.")]
    public void FromContext_InvalidValue_FailsNamingKeyValueAndRule(string key, string value, string expected)
    {
        var error = ReadInvalid(new Dictionary<string, object> { [key] = value });

        Assert.Equal([expected], error.Problems);
    }

    [Fact]
    public void FromContext_SubnetWithoutSecurityGroup_FailsNamingBothKeys()
    {
        var error = ReadInvalid(new Dictionary<string, object> { ["notebook:subnetId"] = "subnet-0123456789abcdef0" });

        Assert.Equal(
            ["Context key 'notebook:subnetId' is 'subnet-0123456789abcdef0': notebook:securityGroupId must be set too, because a notebook in a VPC needs both a subnet and a security group."],
            error.Problems);
    }

    [Fact]
    public void FromContext_SeveralInvalidValues_ReportsAllInOneMessage()
    {
        var error = ReadInvalid(new Dictionary<string, object>
        {
            ["notebook:volumeSizeGb"] = "huge",
            ["storage:removalPolicy"] = "keep",
        });

        Assert.Equal(2, error.Problems.Count);
        Assert.Equal(
            "Invalid configuration:" + System.Environment.NewLine
            + "  - Context key 'storage:removalPolicy' is 'keep': expected one of retain, destroy." + System.Environment.NewLine
            + "  - Context key 'notebook:volumeSizeGb' is 'huge': expected a whole number from 5 to 16384.",
            error.Message);
    }

    [Fact]
    public void FromContext_NumberAndBooleanContextValues_AreAcceptedAsTheirText()
    {
        var settings = Read(new Dictionary<string, object> { ["notebook:volumeSizeGb"] = 50d, ["notebook:idleStopMinutes"] = 0 });

        Assert.Equal(50, settings.Notebook.VolumeSizeGb);
        Assert.Equal(0, settings.Notebook.IdleStopMinutes);
    }
}
