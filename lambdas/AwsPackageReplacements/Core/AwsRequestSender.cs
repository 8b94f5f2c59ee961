using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Signing;

namespace CustomerSegmentation.AwsPackageReplacements.Core;

/// <summary>One HTTP request to an AWS service before signing. <paramref name="PathAndQuery"/> starts with '/'.</summary>
internal sealed record AwsHttpRequest(string Operation, HttpMethod Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>A successful (2xx) answer of an AWS service.</summary>
internal sealed record AwsHttpResponse(HttpResponseMessage Message, byte[] Body)
{
    public string? Header(string name) =>
        Message.Headers.TryGetValues(name, out var values) || Message.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : null;
}

/// <summary>
/// The transport every client shares: resolves region, endpoint and credentials once, signs every attempt with
/// AWSSDK.Core's <see cref="AWSSigV4Signer"/>, retries throttling, 5xx and transient network errors with jittered
/// exponential backoff, and turns error answers into <see cref="AwsServiceException"/>.
/// </summary>
internal sealed class AwsRequestSender
{
    private static readonly HttpClient SharedHttpClient = new() { Timeout = TimeSpan.FromSeconds(100) };

    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
    };

    private readonly AwsServiceDescriptor _service;
    private readonly AWSCredentials _credentials;
    private readonly RegionEndpoint _regionEndpoint;
    private readonly HttpClient _httpClient;
    private readonly RetryOptions _retry;

    public AwsRequestSender(AwsServiceDescriptor service, AwsClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Retry.MaxAttempts, 1);
        _service = service;
        Region = ResolveRegion(options);
        _regionEndpoint = RegionEndpoint.GetBySystemName(Region);
        Endpoint = AwsEndpointResolver.Resolve(service, Region, options.ServiceUrl, options.EnvironmentVariables);
        _credentials = options.Credentials ?? ResolveDefaultCredentials();
        _httpClient = options.HttpClient ?? SharedHttpClient;
        _retry = options.Retry;
    }

    public string Region { get; }

    public Uri Endpoint { get; }

    public async Task<AwsHttpResponse> SendAsync(AwsHttpRequest request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage message;
            try
            {
                message = await SendOnceAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (attempt < _retry.MaxAttempts && IsTransient(exception, cancellationToken))
            {
                await _retry.Delay(_retry.BackoffBefore(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }

            var body = await message.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (message.IsSuccessStatusCode)
            {
                return new AwsHttpResponse(message, body);
            }

            var error = AwsErrorParser.Parse(_service.ServiceId, request.Operation, message, body);
            message.Dispose();
            if (attempt < _retry.MaxAttempts && IsRetryable(error))
            {
                await _retry.Delay(_retry.BackoffBefore(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }

            throw error;
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(AwsHttpRequest request, CancellationToken cancellationToken)
    {
        var uri = new Uri(Endpoint.GetLeftPart(UriPartial.Authority) + Endpoint.AbsolutePath.TrimEnd('/') + request.PathAndQuery);
        var signingRequest = new AWSSigningRequest { HttpMethod = request.Method, RequestUri = uri, Content = request.Body };
        foreach (var (name, value) in request.Headers)
        {
            signingRequest.Headers[name] = value;
        }

        // Signed per attempt: a retry after a long backoff needs a fresh X-Amz-Date.
        var signature = await AWSSigV4Signer.SignAsync(signingRequest,
            new AWSSigV4Parameters { Credentials = _credentials, Region = _regionEndpoint, Service = _service.SigningName },
            cancellationToken).ConfigureAwait(false);

        using var message = new HttpRequestMessage(request.Method, uri) { Content = new ByteArrayContent(request.Body) };
        foreach (var (name, value) in request.Headers.Concat(signature.Headers))
        {
            AddHeader(message, name, value);
        }

        return await _httpClient.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    private static void AddHeader(HttpRequestMessage message, string name, string value)
    {
        // Content headers must go on the content, verbatim: HttpClient would otherwise add "; charset=..." and break the signature.
        if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
        {
            message.Content!.Headers.Remove(name);
            message.Content.Headers.TryAddWithoutValidation(name, value);
        }
        else if (!string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
        {
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private static bool IsRetryable(AwsServiceException error) =>
        ThrottlingCodes.Contains(error.ErrorCode) || error.StatusCode == HttpStatusCode.TooManyRequests || (int)error.StatusCode >= 500;

    // A timeout of HttpClient surfaces as TaskCanceledException without the caller's token being cancelled.
    private static bool IsTransient(Exception exception, CancellationToken cancellationToken) =>
        exception is HttpRequestException or IOException
        || (exception is TaskCanceledException && !cancellationToken.IsCancellationRequested);

    private static string ResolveRegion(AwsClientOptions options)
    {
        var region = new[] { options.Region, options.EnvironmentVariables("AWS_REGION"), options.EnvironmentVariables("AWS_DEFAULT_REGION") }
            .FirstOrDefault(candidate => !string.IsNullOrWhiteSpace(candidate));
        return region?.Trim() ?? throw new AwsClientConfigurationException(
            "No AWS region: set AwsClientOptions.Region or the AWS_REGION (or AWS_DEFAULT_REGION) environment variable, e.g. us-east-1.");
    }

    private static AWSCredentials ResolveDefaultCredentials()
    {
        try
        {
            return new DefaultAWSCredentialsIdentityResolver().ResolveIdentity(null);
        }
        catch (AmazonClientException exception)
        {
            throw new AwsClientConfigurationException(
                "No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), "
                + "as Lambda does, or pass AwsClientOptions.Credentials. The default chain said: " + exception.Message, exception);
        }
    }
}
