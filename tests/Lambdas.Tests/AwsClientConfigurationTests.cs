using Amazon.Runtime;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using static CustomerSegmentation.Lambdas.Tests.TestSupport;

namespace CustomerSegmentation.Lambdas.Tests;

[CollectionDefinition(nameof(ProcessEnvironmentCollection), DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

/// <summary>
/// Region and credential resolution. The default credential chain reads the real process environment, so these tests
/// change it and run alone.
/// </summary>
[Collection(nameof(ProcessEnvironmentCollection))]
public sealed class AwsClientConfigurationTests : IDisposable
{
    private static readonly string[] CredentialVariables =
    [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
        "AWS_EC2_METADATA_DISABLED", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
    ];

    private readonly Dictionary<string, string?> _saved = CredentialVariables.ToDictionary(name => name, System.Environment.GetEnvironmentVariable);

    public AwsClientConfigurationTests()
    {
        foreach (var name in CredentialVariables)
        {
            System.Environment.SetEnvironmentVariable(name, null);
        }

        // No files and no instance metadata: the chain must not reach for the network from a test.
        System.Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
        System.Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", "/nonexistent/config");
        System.Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            System.Environment.SetEnvironmentVariable(name, value);
        }
    }

    [Fact]
    public void Constructor_LambdaStyleCredentialVariables_AreResolvedByTheDefaultChain()
    {
        System.Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "ASIAFROMLAMBDAENV");
        System.Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "secret");
        System.Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", "token");

        var client = new SageMakerClient(new AwsClientOptions { EnvironmentVariables = Environment(("AWS_REGION", "eu-central-1")) });

        Assert.Equal(new Uri("https://api.sagemaker.eu-central-1.amazonaws.com/"), client.Endpoint);
    }

    [Fact]
    public void Constructor_NoCredentialsAnywhere_ThrowsAClearConfigurationError()
    {
        var exception = Assert.Throws<AwsClientConfigurationException>(() =>
            new SageMakerClient(new AwsClientOptions { EnvironmentVariables = Environment(("AWS_REGION", "us-east-1")) }));

        Assert.StartsWith("No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), "
            + "as Lambda does, or pass AwsClientOptions.Credentials. The default chain said: ", exception.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<AmazonClientException>(exception.InnerException);
    }

    [Fact]
    public void Constructor_NoRegion_ThrowsAClearConfigurationError()
    {
        var exception = Assert.Throws<AwsClientConfigurationException>(() =>
            new SageMakerClient(new AwsClientOptions { Credentials = new BasicAWSCredentials("a", "b"), EnvironmentVariables = Environment() }));

        Assert.Equal("No AWS region: set AwsClientOptions.Region or the AWS_REGION (or AWS_DEFAULT_REGION) environment variable, e.g. us-east-1.", exception.Message);
    }

    [Theory]
    [InlineData(null, "eu-west-1", "ap-south-1", "eu-west-1")]
    [InlineData(null, null, "ap-south-1", "ap-south-1")]
    [InlineData("us-west-2", "eu-west-1", "ap-south-1", "us-west-2")]
    public void Constructor_RegionSources_FollowTheSdkPrecedence(string? option, string? awsRegion, string? defaultRegion, string expected)
    {
        var variables = new List<(string, string)>();
        if (awsRegion is not null)
        {
            variables.Add(("AWS_REGION", awsRegion));
        }

        if (defaultRegion is not null)
        {
            variables.Add(("AWS_DEFAULT_REGION", defaultRegion));
        }

        var client = new SageMakerClient(new AwsClientOptions
        {
            Region = option,
            Credentials = new BasicAWSCredentials("a", "b"),
            EnvironmentVariables = Environment([.. variables]),
        });

        Assert.Equal(new Uri($"https://api.sagemaker.{expected}.amazonaws.com/"), client.Endpoint);
    }
}
