using CustomerSegmentation.LocalAws.AutoScaling;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalAws.Events;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>What the local SageMaker is built from; every optional member's doc says its default.</summary>
public sealed record LocalSageMakerOptions
{
    /// <summary>The local S3 (s3rver) with the model data and serving code.</summary>
    public required Uri S3Endpoint { get; init; }

    /// <summary>The local pipeline runner's model registry directory (RunnerEnvironment.RegistryDirectory).</summary>
    public required string ModelRegistryDirectory { get; init; }

    /// <summary>scripts/local/model_server.py.</summary>
    public required string ModelServerScript { get; init; }

    /// <summary>Where variants' models and code are unpacked while they run.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>The Python the model servers run with. Default: <see cref="ModelServerHostOptions.DefaultPython"/>.</summary>
    public string Python { get; init; } = ModelServerHostOptions.DefaultPython;

    /// <summary>The account in ARNs and errors. Default: <see cref="LocalAccount.AccountId"/>.</summary>
    public string AccountId { get; init; } = LocalAccount.AccountId;

    /// <summary>The region requests must be signed for and ARNs name. Default: <see cref="LocalAccount.Region"/>.</summary>
    public string Region { get; init; } = LocalAccount.Region;

    /// <summary>How long a model server may take to become healthy when the variant does not say. Default: 120 s.</summary>
    public TimeSpan StartupHealthCheckTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long a replaced variant may finish its requests before it stops. Default: 60 s.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Where endpoint transitions, model server output and failed event deliveries are written. Default: standard error.</summary>
    public TextWriter Log { get; init; } = Console.Error;
}

/// <summary>
/// SageMaker (control plane and runtime) and Application Auto Scaling for local mode, on one loopback HTTP server:
/// endpoints serve the real inference code through scripts/local/model_server.py, model packages come from the local
/// pipeline runner's registry, and every endpoint status change goes on the event bus as EventBridge's
/// "SageMaker Endpoint State Change". Disposing stops the server and every model server process.
/// </summary>
public sealed class LocalSageMaker : IAsyncDisposable, IDisposable
{
    private readonly OrderedEventDelivery _events;
    private readonly IEndpointHost _host;
    private readonly LocalSageMakerServer _server;
    private int _disposed;

    public LocalSageMaker(LocalSageMakerOptions options, IEventPublisher events)
        : this(options, events, null)
    {
    }

    /// <param name="options">The settings.</param>
    /// <param name="events">The bus endpoint state changes go to.</param>
    /// <param name="host">Where variants run instead of model server processes (tests of the rules).</param>
    internal LocalSageMaker(LocalSageMakerOptions options, IEventPublisher events, IEndpointHost? host)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = TextWriter.Synchronized(options.Log);
        _events = new OrderedEventDelivery(events, log);
        _host = host ?? new ModelServerHost(new ModelServerHostOptions
        {
            S3Endpoint = options.S3Endpoint,
            ModelServerScript = options.ModelServerScript,
            WorkDirectory = options.WorkDirectory,
            Python = options.Python,
            Region = options.Region,
            StartupHealthCheckTimeout = options.StartupHealthCheckTimeout,
            Log = log,
        });
        ScalableTargets = new ScalableTargetRegistry();
        ControlPlane = new SageMakerControlPlane(new SageMakerControlPlaneOptions
        {
            Packages = new ModelRegistryDirectory(options.ModelRegistryDirectory, options.AccountId, options.Region),
            Host = _host,
            ScalableTargets = ScalableTargets,
            AccountId = options.AccountId,
            Region = options.Region,
            StateChanged = change => _events.Enqueue(EndpointStateChanged.Source, EndpointStateChanged.DetailType, change.ToEventDetail(), [change.EndpointArn]),
            Log = log,
            DrainTimeout = options.DrainTimeout,
        });
        AutoScaling = new ApplicationAutoScalingService(ScalableTargets, [ControlPlane], options.AccountId, options.Region);
        _server = new LocalSageMakerServer(ControlPlane, AutoScaling, _events, options.Region);
    }

    /// <summary>The server's base URL: SageMaker, the SageMaker runtime and Application Auto Scaling all answer here.</summary>
    public Uri Endpoint => _server.BaseUri;

    /// <summary>The variables that point an AWS SDK (or the shared clients) at these services.</summary>
    public IReadOnlyList<(string Name, string Value)> EndpointVariables =>
    [
        ("AWS_ENDPOINT_URL_SAGEMAKER", Endpoint.ToString()),
        ("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", Endpoint.ToString()),
        ("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING", Endpoint.ToString()),
    ];

    public SageMakerControlPlane ControlPlane { get; }

    public ApplicationAutoScalingService AutoScaling { get; }

    /// <summary>Application Auto Scaling's recorded targets and policies.</summary>
    public ScalableTargetRegistry ScalableTargets { get; }

    /// <summary>The process ids of the model servers running now.</summary>
    public IReadOnlyList<int> ModelServerProcessIds => _host is ModelServerHost servers ? servers.ProcessIds : [];

    /// <summary>Exceptions the server itself threw while answering (bugs of the local SageMaker, not AWS errors).</summary>
    public IReadOnlyList<string> ServerFaults => _server.ServerFaults;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _server.Dispose();
        await ControlPlane.DisposeAsync().ConfigureAwait(false);
        (_host as IDisposable)?.Dispose();
        await _events.DisposeAsync().ConfigureAwait(false);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
