using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>What the model server host is built from; every optional member's doc says its default.</summary>
public sealed record ModelServerHostOptions
{
    /// <summary>The local S3 (s3rver) holding model data and serving code; reached path-style with its key pair S3RVER/S3RVER.</summary>
    public required Uri S3Endpoint { get; init; }

    /// <summary>scripts/local/model_server.py: the SageMaker scikit-learn container's serving contract.</summary>
    public required string ModelServerScript { get; init; }

    /// <summary>Where each variant's model and code are unpacked: <c>&lt;endpoint&gt;/&lt;config&gt;-&lt;id&gt;</c>, deleted when the variant stops (and the endpoint's directory when it is deleted).</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>The interpreter the model server runs with. Default: <see cref="DefaultPython"/>.</summary>
    public string Python { get; init; } = DefaultPython;

    /// <summary><c>$SEGMENTATION_PYTHON</c>, else Debian's <c>/usr/bin/python3</c> (the one scripts/setup.sh gives scikit-learn).</summary>
    public static string DefaultPython =>
        Environment.GetEnvironmentVariable("SEGMENTATION_PYTHON") is { Length: > 0 } python ? python : "/usr/bin/python3";

    /// <summary>The region S3 requests are signed for. Default: <see cref="LocalAccount.Region"/>.</summary>
    public string Region { get; init; } = LocalAccount.Region;

    /// <summary>
    /// How long a model server may take to answer /ping with 200, when the variant does not set
    /// ContainerStartupHealthCheckTimeoutInSeconds. Default: 120 s.
    /// </summary>
    public TimeSpan StartupHealthCheckTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long downloading and unpacking model data and code may take, when the variant does not set ModelDataDownloadTimeoutInSeconds. Default: 300 s.</summary>
    public TimeSpan ModelDataDownloadTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Where the model servers' output goes, one line per line, prefixed with endpoint and variant. Default: nowhere.</summary>
    public TextWriter Log { get; init; } = TextWriter.Null;
}

/// <summary>
/// Runs each variant (of the SageMaker scikit-learn image) the way its serving container does: the ModelDataUrl tar.gz
/// unpacked to the model directory, the code from SAGEMAKER_SUBMIT_DIRECTORY (an s3:// tar.gz, or a path under
/// /opt/ml/model; absent: /opt/ml/model/code), SAGEMAKER_PROGRAM as the inference module and the model's environment,
/// then scripts/local/model_server.py on a free loopback port. Every process it starts is killed when the variant
/// stops, when the host is disposed, and when this process exits.
/// </summary>
public sealed class ModelServerHost : IEndpointHost, IDisposable
{
    private const string ContainerModelDirectory = "/opt/ml/model";
    private const string ScikitLearnRepository = "sagemaker-scikit-learn";
    private readonly ModelServerHostOptions _options;
    private readonly AmazonS3Client _s3;
    private readonly ConcurrentDictionary<ModelServerProcess, bool> _running = new();

    public ModelServerHost(ModelServerHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _s3 = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
        {
            ServiceURL = options.S3Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = options.Region,
            // s3rver predates flexible checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
        AppDomain.CurrentDomain.ProcessExit += KillAll;
    }

    /// <summary>The process ids of the model servers running now.</summary>
    public IReadOnlyList<int> ProcessIds => [.. _running.Keys.Select(process => process.ProcessId)];

    public async Task<IServingVariant> StartAsync(VariantDeployment deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (RepositoryOf(deployment.Container.Image) != ScikitLearnRepository)
        {
            throw new EndpointStartException(
                $"The local SageMaker serves the SageMaker scikit-learn container's contract only (an image of the {ScikitLearnRepository} repository), not image '{deployment.Container.Image}'.");
        }

        var label = $"{deployment.EndpointName}/{deployment.Variant.VariantName}";
        var directory = Path.Combine(EndpointDirectory(deployment.EndpointName), $"{deployment.EndpointConfigName}-{Guid.NewGuid():N}");
        var modelDirectory = Path.Combine(directory, "model");
        Directory.CreateDirectory(modelDirectory);
        try
        {
            var environment = deployment.Container.Environment;
            string codeDirectory;
            using (var download = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var timeout = Seconds(deployment.Variant.ModelDataDownloadTimeoutInSeconds) ?? _options.ModelDataDownloadTimeout;
                download.CancelAfter(timeout);
                try
                {
                    if (deployment.Container.ModelDataUrl is { } modelData)
                    {
                        await UnpackAsync(modelData, modelDirectory, "model data", download.Token).ConfigureAwait(false);
                    }

                    codeDirectory = await CodeDirectoryAsync(environment.GetValueOrDefault("SAGEMAKER_SUBMIT_DIRECTORY"), directory, modelDirectory, download.Token)
                        .ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new EndpointStartException(
                        $"Downloading the model data and code for production variant {deployment.Variant.VariantName} did not finish within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds.");
                }
            }

            var launch = new ModelServerLaunch(_options.Python, _options.ModelServerScript, modelDirectory, codeDirectory,
                environment.GetValueOrDefault("SAGEMAKER_PROGRAM"), environment, directory, label, deployment.Variant.VariantName);
            var healthCheck = Seconds(deployment.Variant.ContainerStartupHealthCheckTimeoutInSeconds) ?? _options.StartupHealthCheckTimeout;
            var server = await ModelServerProcess.StartAsync(launch, healthCheck, _options.Log, cancellationToken).ConfigureAwait(false);
            _running[server] = true;
            return new TrackedServer(server, this);
        }
        catch
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            throw;
        }
    }

    /// <summary>Deletes the endpoint's directory (its variants have stopped and deleted their own).</summary>
    public Task ReleaseEndpointAsync(string endpointName, CancellationToken cancellationToken)
    {
        var directory = EndpointDirectory(endpointName);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= KillAll;
        KillAll(null, EventArgs.Empty);
        _s3.Dispose();
    }

    private string EndpointDirectory(string endpointName) => Path.Combine(_options.WorkDirectory, endpointName.ToLowerInvariant());

    /// <summary>The repository of <c>registry/repository:tag</c> (or <c>@digest</c>).</summary>
    private static string? RepositoryOf(string? image) => image?.Split('/')[^1].Split('@')[0].Split(':')[0];

    private static TimeSpan? Seconds(int? seconds) => seconds is { } value ? TimeSpan.FromSeconds(value) : null;

    private void KillAll(object? sender, EventArgs e)
    {
        foreach (var server in _running.Keys)
        {
            server.Kill();
        }
    }

    private async Task<string> CodeDirectoryAsync(string? submitDirectory, string directory, string modelDirectory, CancellationToken cancellationToken)
    {
        switch (submitDirectory)
        {
            case null or "":
                return Path.Combine(modelDirectory, "code");
            case var uri when uri.StartsWith("s3://", StringComparison.Ordinal):
                var codeDirectory = Path.Combine(directory, "code");
                await UnpackAsync(uri, codeDirectory, "SAGEMAKER_SUBMIT_DIRECTORY", cancellationToken).ConfigureAwait(false);
                return codeDirectory;
            case var path when path == ContainerModelDirectory || path.StartsWith(ContainerModelDirectory + "/", StringComparison.Ordinal):
                return Path.Combine(modelDirectory, path[ContainerModelDirectory.Length..].TrimStart('/'));
            default:
                throw new EndpointStartException(
                    $"SAGEMAKER_SUBMIT_DIRECTORY '{submitDirectory}' is neither an s3:// URI of a tar.gz nor a path under {ContainerModelDirectory}: the container cannot load the inference code from it.");
        }
    }

    private async Task UnpackAsync(string url, string target, string what, CancellationToken cancellationToken)
    {
        if (!url.StartsWith("s3://", StringComparison.Ordinal) || url[5..].Split('/', 2) is not [{ Length: > 0 } bucket, { Length: > 0 } key])
        {
            throw new EndpointStartException($"The {what} URL \"{url}\" is not an s3://bucket/key URI; the local SageMaker reads the local S3 only.");
        }

        var archive = target + ".tar.gz";
        try
        {
            using (var response = await _s3.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false))
            {
                await response.WriteResponseStreamToFileAsync(archive, false, cancellationToken).ConfigureAwait(false);
            }

            Directory.CreateDirectory(target);
            var file = File.OpenRead(archive);
            await using (file.ConfigureAwait(false))
            {
                var gzip = new GZipStream(file, CompressionMode.Decompress);
                await using (gzip.ConfigureAwait(false))
                {
                    await TarFile.ExtractToDirectoryAsync(gzip, target, overwriteFiles: true, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == HttpStatusCode.NotFound)
        {
            throw new EndpointStartException(
                $"Failed to download {what} for container \"container_1\" from URL: \"{url}\". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the object.",
                exception);
        }
        catch (Exception exception) when (exception is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new EndpointStartException($"The {what} at \"{url}\" is not a tar.gz archive: {exception.Message}", exception);
        }
        finally
        {
            File.Delete(archive);
        }
    }

    /// <summary>A running server the host forgets once it is disposed.</summary>
    private sealed class TrackedServer(ModelServerProcess server, ModelServerHost host) : IServingVariant
    {
        public Task<VariantAnswer> InvokeAsync(VariantInvocation invocation, CancellationToken cancellationToken) =>
            server.InvokeAsync(invocation, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await server.DisposeAsync().ConfigureAwait(false);
            host._running.TryRemove(server, out _);
        }
    }
}
