using CustomerSegmentation.AwsPackageReplacements.Core;
using static CustomerSegmentation.Lambdas.Tests.TestSupport;

namespace CustomerSegmentation.Lambdas.Tests;

public class AwsEndpointResolverTests
{
    private static readonly Uri Explicit = new("http://127.0.0.1:1111/");

    [Theory]
    [InlineData("SageMaker", "https://api.sagemaker.eu-west-1.amazonaws.com/")]
    [InlineData("SageMaker Runtime", "https://runtime.sagemaker.eu-west-1.amazonaws.com/")]
    [InlineData("Application Auto Scaling", "https://application-autoscaling.eu-west-1.amazonaws.com/")]
    public void Resolve_NothingConfigured_IsThePublicRegionalEndpoint(string serviceId, string expected)
    {
        Assert.Equal(new Uri(expected), AwsEndpointResolver.Resolve(Service(serviceId), "eu-west-1", null, Environment()));
    }

    [Fact]
    public void Resolve_ChinaRegion_UsesTheChinaDnsSuffix()
    {
        Assert.Equal(new Uri("https://api.sagemaker.cn-north-1.amazonaws.com.cn/"),
            AwsEndpointResolver.Resolve(AwsServiceDescriptor.SageMaker, "cn-north-1", null, Environment()));
    }

    [Theory]
    [InlineData("SageMaker", "AWS_ENDPOINT_URL_SAGEMAKER")]
    [InlineData("SageMaker Runtime", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME")]
    [InlineData("Application Auto Scaling", "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING")]
    public void Resolve_ServiceSpecificAndGlobalVariables_ServiceSpecificWins(string serviceId, string variable)
    {
        var environment = Environment(("AWS_ENDPOINT_URL", "http://127.0.0.1:2222"), (variable, "http://127.0.0.1:3333"));

        Assert.Equal(variable, Service(serviceId).EndpointUrlVariable);
        Assert.Equal(new Uri("http://127.0.0.1:3333"), AwsEndpointResolver.Resolve(Service(serviceId), Region, null, environment));
    }

    [Fact]
    public void Resolve_OnlyAnotherServicesVariable_FallsBackToGlobal()
    {
        var environment = Environment(("AWS_ENDPOINT_URL", "http://127.0.0.1:2222"), ("AWS_ENDPOINT_URL_SAGEMAKER", "http://127.0.0.1:3333"));

        Assert.Equal(new Uri("http://127.0.0.1:2222"), AwsEndpointResolver.Resolve(AwsServiceDescriptor.SageMakerRuntime, Region, null, environment));
    }

    [Fact]
    public void Resolve_ExplicitServiceUrl_WinsOverEveryVariable()
    {
        var environment = Environment(("AWS_ENDPOINT_URL", "http://127.0.0.1:2222"), ("AWS_ENDPOINT_URL_SAGEMAKER", "http://127.0.0.1:3333"));

        Assert.Equal(Explicit, AwsEndpointResolver.Resolve(AwsServiceDescriptor.SageMaker, Region, Explicit, environment));
    }

    [Theory]
    [InlineData("true")]
    [InlineData("TRUE")]
    public void Resolve_IgnoreConfiguredEndpointUrls_UsesThePublicEndpoint(string ignore)
    {
        var environment = Environment(("AWS_ENDPOINT_URL", "http://127.0.0.1:2222"), ("AWS_ENDPOINT_URL_SAGEMAKER", "http://127.0.0.1:3333"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", ignore));

        Assert.Equal(new Uri("https://api.sagemaker.us-east-1.amazonaws.com/"), AwsEndpointResolver.Resolve(AwsServiceDescriptor.SageMaker, Region, null, environment));
    }

    [Fact]
    public void Resolve_EmptyServiceVariable_IsTreatedAsUnset()
    {
        var environment = Environment(("AWS_ENDPOINT_URL", "http://127.0.0.1:2222"), ("AWS_ENDPOINT_URL_SAGEMAKER", " "));

        Assert.Equal(new Uri("http://127.0.0.1:2222"), AwsEndpointResolver.Resolve(AwsServiceDescriptor.SageMaker, Region, null, environment));
    }

    [Theory]
    [InlineData("localhost:4566")]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("not a url")]
    public void Resolve_InvalidUrlInVariable_ThrowsNamingVariableAndValue(string value)
    {
        var exception = Assert.Throws<AwsClientConfigurationException>(() =>
            AwsEndpointResolver.Resolve(AwsServiceDescriptor.SageMaker, Region, null, Environment(("AWS_ENDPOINT_URL_SAGEMAKER", value))));

        Assert.Equal($"AWS_ENDPOINT_URL_SAGEMAKER is '{value}', which is not an absolute http:// or https:// URL (for example http://127.0.0.1:4566).", exception.Message);
    }

    private static AwsServiceDescriptor Service(string serviceId) => serviceId switch
    {
        "SageMaker" => AwsServiceDescriptor.SageMaker,
        "SageMaker Runtime" => AwsServiceDescriptor.SageMakerRuntime,
        _ => AwsServiceDescriptor.ApplicationAutoScaling,
    };
}
