using CustomerSegmentation.SegmentProxy;
using static CustomerSegmentation.Lambdas.Tests.TestSupport;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

public sealed class ProxySettingsTests
{
    [Fact]
    public void FromEnvironment_OnlyRequiredVariables_UsesTheDocumentedDefaults()
    {
        var settings = ProxySettings.FromEnvironment(Environment(("MODEL_BUCKET", "models"), ("ENDPOINT_NAME", "segments")));

        Assert.Equal("models", settings.ModelBucket);
        Assert.Equal("segments", settings.EndpointName);
        Assert.Equal(ServingMode.Endpoint, settings.Mode);
        Assert.Equal(1000, settings.MaxBatchSize);
        Assert.Equal(262144, settings.MaxBodyBytes);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.ModelRefreshInterval);
        Assert.Empty(settings.CorsAllowedOrigins);
    }

    [Fact]
    public void FromEnvironment_EveryVariableSet_IsRead()
    {
        var settings = ProxySettings.FromEnvironment(Environment(("MODEL_BUCKET", "models"), ("ENDPOINT_NAME", "segments"),
            ("SERVING_MODE", "endpoint-with-fallback"), ("MAX_BATCH_SIZE", "50"), ("MAX_BODY_BYTES", "4096"), ("MODEL_REFRESH_SECONDS", "0"),
            ("CORS_ALLOWED_ORIGINS", " https://App.Example.com, https://admin.example.com:8443,https://app.example.com ")));

        Assert.Equal(ServingMode.EndpointWithFallback, settings.Mode);
        Assert.Equal(50, settings.MaxBatchSize);
        Assert.Equal(4096, settings.MaxBodyBytes);
        Assert.Equal(TimeSpan.Zero, settings.ModelRefreshInterval);
        Assert.Equal(["https://app.example.com", "https://admin.example.com:8443"], settings.CorsAllowedOrigins);
    }

    [Fact]
    public void FromEnvironment_CentroidsMode_NeedsNoEndpoint()
    {
        var settings = ProxySettings.FromEnvironment(Environment(("MODEL_BUCKET", "models"), ("SERVING_MODE", "centroids")));

        Assert.Equal(ServingMode.Centroids, settings.Mode);
        Assert.Null(settings.EndpointName);
    }

    [Fact]
    public void FromEnvironment_EverythingWrong_ReportsEveryProblemAtOnce()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ProxySettings.FromEnvironment(Environment(
            ("SERVING_MODE", "batch"), ("MAX_BATCH_SIZE", "0"), ("MAX_BODY_BYTES", "20MB"), ("MODEL_REFRESH_SECONDS", "-1"), ("CORS_ALLOWED_ORIGINS", "*"))));

        Assert.Equal("SegmentProxy configuration is invalid: MODEL_BUCKET is not set: set it to the model bucket that holds deployed/version.json; "
            + "SERVING_MODE is 'batch'; valid: endpoint, centroids, endpoint-with-fallback; "
            + "ENDPOINT_NAME is not set: SERVING_MODE batch calls the SageMaker endpoint (or set SERVING_MODE=centroids); "
            + "MAX_BATCH_SIZE is '0'; valid: a whole number from 1 to 100000; "
            + "MAX_BODY_BYTES is '20MB'; valid: a whole number from 2 to 10485760; "
            + "MODEL_REFRESH_SECONDS is '-1'; valid: a whole number from 0 to 3600; "
            + "CORS_ALLOWED_ORIGINS is '*'; valid: https origins separated by commas, each scheme, host and optional port without path or wildcard, "
            + "such as https://app.example.com ('*' is not one).", error.Message);
    }

    [Fact]
    public void FromEnvironment_EndpointModeWithoutEndpointName_IsRejected()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ProxySettings.FromEnvironment(Environment(("MODEL_BUCKET", "models"))));

        Assert.Equal("SegmentProxy configuration is invalid: ENDPOINT_NAME is not set: SERVING_MODE endpoint calls the SageMaker endpoint "
            + "(or set SERVING_MODE=centroids).", error.Message);
    }

    [Theory]
    [InlineData("http://app.example.com", "('http://app.example.com' is not one)")]
    [InlineData("https://app.example.com/", "('https://app.example.com/' is not one)")]
    [InlineData("https://app.example.com/segments", "('https://app.example.com/segments' is not one)")]
    [InlineData("https://*.example.com", "('https://*.example.com' is not one)")]
    [InlineData("https://app.example.com,null,https://-bad.example.com", "('null', 'https://-bad.example.com' are not)")]
    public void FromEnvironment_BadCorsOrigin_IsRejectedNamingEachBadOne(string origins, string named)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ProxySettings.FromEnvironment(Environment(
            ("MODEL_BUCKET", "models"), ("SERVING_MODE", "centroids"), ("CORS_ALLOWED_ORIGINS", origins))));

        Assert.Equal($"SegmentProxy configuration is invalid: CORS_ALLOWED_ORIGINS is '{origins}'; valid: https origins separated by commas, "
            + $"each scheme, host and optional port without path or wildcard, such as https://app.example.com {named}.", error.Message);
    }

    [Fact]
    public void FromEnvironment_CorsOriginsOnlyCommas_IsRejected()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ProxySettings.FromEnvironment(Environment(
            ("MODEL_BUCKET", "models"), ("SERVING_MODE", "centroids"), ("CORS_ALLOWED_ORIGINS", " , ,"))));

        Assert.Equal("SegmentProxy configuration is invalid: CORS_ALLOWED_ORIGINS is ', ,'; valid: https origins separated by commas, "
            + "each scheme, host and optional port without path or wildcard, such as https://app.example.com.", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void FromEnvironment_CorsOriginsBlank_MeansNoCors(string origins)
    {
        var settings = ProxySettings.FromEnvironment(Environment(("MODEL_BUCKET", "models"), ("SERVING_MODE", "centroids"), ("CORS_ALLOWED_ORIGINS", origins)));

        Assert.Empty(settings.CorsAllowedOrigins);
    }
}
