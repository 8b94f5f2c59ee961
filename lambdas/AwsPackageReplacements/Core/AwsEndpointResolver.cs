namespace CustomerSegmentation.AwsPackageReplacements.Core;

/// <summary>
/// Picks a service's base URL with the precedence of the official SDKs' "service-specific endpoints" feature: an explicit
/// <see cref="AwsClientOptions.ServiceUrl"/>, then <c>AWS_ENDPOINT_URL_&lt;SERVICE_ID&gt;</c>, then <c>AWS_ENDPOINT_URL</c>,
/// then the public regional endpoint. <c>AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true</c> disables both variables, as in the SDKs.
/// The shared config file's <c>endpoint_url</c> settings are not read (Lambdas have no config file).
/// </summary>
internal static class AwsEndpointResolver
{
    public const string GlobalVariable = "AWS_ENDPOINT_URL";
    public const string IgnoreVariable = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

    public static Uri Resolve(AwsServiceDescriptor service, string region, Uri? explicitUrl, Func<string, string?> environment)
    {
        if (explicitUrl is not null)
        {
            return explicitUrl;
        }

        if (!string.Equals(environment(IgnoreVariable), "true", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var variable in new[] { service.EndpointUrlVariable, GlobalVariable })
            {
                var value = environment(variable);
                if (!string.IsNullOrWhiteSpace(value))
                {
                    return Parse(variable, value);
                }
            }
        }

        var dnsSuffix = region.StartsWith("cn-", StringComparison.Ordinal) ? "amazonaws.com.cn" : "amazonaws.com";
        return new Uri($"https://{service.EndpointPrefix}.{region}.{dnsSuffix}/");
    }

    private static Uri Parse(string variable, string value)
    {
        if (Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        throw new AwsClientConfigurationException(
            $"{variable} is '{value}', which is not an absolute http:// or https:// URL (for example http://127.0.0.1:4566).");
    }
}
