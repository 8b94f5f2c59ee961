using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.ApiGateway;
using CustomerSegmentation.LocalAws.DynamoDb;
using CustomerSegmentation.LocalAws.Events;
using CustomerSegmentation.LocalAws.Lambda;
using CustomerSegmentation.LocalAws.SageMaker;
using CustomerSegmentation.LocalPipelineRunner.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner;

/// <summary>
/// A synthesized stack running locally after its pipeline ran: S3 (s3rver), the stack's Lambda functions, its
/// EventBridge rules, SageMaker with the endpoints the pipeline deployed, Application Auto Scaling and, when asked
/// for, its REST API on a loopback port. Everything keeps serving until the environment is disposed, which stops
/// every process it started.
/// </summary>
public sealed class LocalEnvironment : IAsyncDisposable
{
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(1);
    private static readonly HashSet<string> SettledStatuses = new(StringComparer.Ordinal) { "IN_SERVICE", "FAILED", "OUT_OF_SERVICE", "DELETED" };

    private readonly S3rverServer? _s3rver;
    private readonly DynaliteServer? _dynalite;
    private readonly EndpointStatusTracker _tracker;
    private readonly TextWriter _log;
    private readonly List<ExecutionRecord> _executions = [];
    private int _disposed;

    private LocalEnvironment(CloudAssembly assembly, S3rverServer? s3rver, ObjectStore store, LocalLambdaService lambda, EndpointStatusTracker tracker,
        LocalSageMaker sageMaker, TextWriter log, DynaliteServer? dynalite, Uri? dynamoDbEndpoint)
    {
        Assembly = assembly;
        _s3rver = s3rver;
        _dynalite = dynalite;
        DynamoDbEndpoint = dynamoDbEndpoint;
        Store = store;
        Lambda = lambda;
        _tracker = tracker;
        SageMaker = sageMaker;
        _log = log;
    }

    /// <summary>The synthesized stack that runs here.</summary>
    public CloudAssembly Assembly { get; }

    /// <summary>The local S3 (key S3RVER/S3RVER).</summary>
    public Uri S3Endpoint => Store.Endpoint;

    public ObjectStore Store { get; }

    /// <summary>The local DynamoDB holding the stack's tables; null when the stack has none and no endpoint was given.</summary>
    public Uri? DynamoDbEndpoint { get; }

    /// <summary>The stack's Lambda functions.</summary>
    public LocalLambdaService Lambda { get; }

    /// <summary>The stack's EventBridge rules on the default bus.</summary>
    public LocalEventBus Events => _tracker.Bus;

    /// <summary>SageMaker, the SageMaker runtime and Application Auto Scaling, all at <see cref="LocalSageMaker.Endpoint"/>.</summary>
    public LocalSageMaker SageMaker { get; }

    /// <summary>The REST API's front; null unless an API port was asked for.</summary>
    public LocalApiGateway? Api { get; private set; }

    /// <summary>The pipeline executions that ran when the environment started, in run order.</summary>
    public IReadOnlyList<ExecutionRecord> Executions => _executions;

    /// <summary>The last of <see cref="Executions"/>: the only one unless several pipelines ran.</summary>
    public ExecutionRecord Execution => _executions[^1];

    /// <summary>The bus as AWS services publish to it (the runner's RegisterModel steps too).</summary>
    public IEventPublisher EventPublisher => _tracker;

    /// <summary>The last status each endpoint announced (EventBridge's form, e.g. IN_SERVICE), by endpoint name.</summary>
    public IReadOnlyDictionary<string, string> EndpointStatuses => _tracker.Statuses;

    internal static async Task<LocalEnvironment> StartAsync(PipelineRunOptions options, CloudAssembly assembly, CancellationToken cancellationToken)
    {
        var log = TextWriter.Synchronized(options.Log);
        var modelServer = options.ModelServerScript ?? FindModelServer(options.SearchRoot);
        var s3rver = options.S3Endpoint is null
            ? await S3rverServer.StartAsync(S3rverServer.FindEntryPoint(options.SearchRoot), cancellationToken).ConfigureAwait(false)
            : null;
        var endpoint = options.S3Endpoint ?? s3rver!.Endpoint;
        await log.WriteLineAsync($"S3 endpoint {endpoint}{(s3rver is null ? string.Empty : " (s3rver started for this run)")}").ConfigureAwait(false);
        var store = new ObjectStore(endpoint);
        var lambda = new LocalLambdaService(assembly.Stack, log);
        DynaliteServer? dynalite = null;
        try
        {
            (dynalite, var dynamoDbEndpoint) = await CreateTablesAsync(options, assembly, log, cancellationToken).ConfigureAwait(false);
            var tracker = new EndpointStatusTracker(new LocalEventBus(assembly.Stack, lambda, log));
            var workDirectory = Path.GetFullPath(options.WorkDirectory);
            var sageMaker = new LocalSageMaker(new LocalSageMakerOptions
            {
                S3Endpoint = endpoint,
                ModelRegistryDirectory = new RunnerEnvironment(workDirectory, options.Python).RegistryDirectory,
                ModelServerScript = modelServer,
                WorkDirectory = Path.Combine(workDirectory, "sagemaker"),
                Python = options.Python,
                Log = log,
            }, tracker);
            lambda.Endpoints = new LocalServiceEndpoints
            {
                S3 = endpoint,
                SageMaker = sageMaker.Endpoint,
                SageMakerRuntime = sageMaker.Endpoint,
                ApplicationAutoScaling = sageMaker.Endpoint,
                DynamoDb = dynamoDbEndpoint,
            };
            await log.WriteLineAsync($"SageMaker, SageMaker runtime and Application Auto Scaling at {sageMaker.Endpoint}").ConfigureAwait(false);
            return new LocalEnvironment(assembly, s3rver, store, lambda, tracker, sageMaker, log, dynalite, dynamoDbEndpoint);
        }
        catch
        {
            dynalite?.Dispose();
            await lambda.DisposeAsync().ConfigureAwait(false);
            store.Dispose();
            s3rver?.Dispose();
            throw;
        }
    }

    /// <summary>Serves the stack's REST API on <paramref name="port"/> (0 picks a free port).</summary>
    internal void ServeApi(int port, string? restApiLogicalId)
    {
        Api = LocalApiGateway.Start(Assembly.Stack, Lambda, _log, port, restApiLogicalId);
        _log.WriteLine($"REST API {Api.Api.Name} at {Api.StageUri}");
    }

    internal void Completed(ExecutionRecord execution) => _executions.Add(execution);

    /// <summary>
    /// Waits until what the run set in motion has finished: no endpoint is Creating, Updating, RollingBack or Deleting,
    /// no function has an invocation queued or running, and no event was published for a moment.
    /// </summary>
    /// <exception cref="PipelineRunnerException">It did not settle within <paramref name="timeout"/>.</exception>
    public async Task SettleAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await Lambda.WhenIdleAsync(cancellationToken).ConfigureAwait(false);
            var busy = _tracker.Statuses.Where(s => !SettledStatuses.Contains(s.Value)).Select(s => $"{s.Key} is {s.Value}").ToList();
            if (busy.Count == 0 && _tracker.Quiet(QuietPeriod) && Lambda.WhenIdleAsync(cancellationToken).IsCompleted)
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new PipelineRunnerException(string.Create(CultureInfo.InvariantCulture,
                    $"The local deployment did not settle within {timeout.TotalSeconds:F0} s: {(busy.Count == 0 ? "functions are still busy" : string.Join(", ", busy))}."));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Api?.Dispose();
        await Lambda.DisposeAsync().ConfigureAwait(false);
        await SageMaker.DisposeAsync().ConfigureAwait(false);
        Store.Dispose();
        _s3rver?.Dispose();
        _dynalite?.Dispose();
    }

    /// <summary>
    /// The stack's DynamoDB tables, created where the steps reach them (AWS_ENDPOINT_URL_DYNAMODB): in
    /// <see cref="PipelineRunOptions.DynamoDbEndpoint"/> (tables that exist there already are kept), else in a dynalite
    /// started for the run when the stack has a table.
    /// </summary>
    private static async Task<(DynaliteServer? Server, Uri? Endpoint)> CreateTablesAsync(
        PipelineRunOptions options, CloudAssembly assembly, TextWriter log, CancellationToken cancellationToken)
    {
        if (options.DynamoDbEndpoint is null && LocalTables.LogicalIds(assembly.Stack).Count == 0)
        {
            return (null, null);
        }

        var server = options.DynamoDbEndpoint is null
            ? await DynaliteServer.StartAsync(DynaliteServer.FindEntryPoint(options.SearchRoot), cancellationToken).ConfigureAwait(false)
            : null;
        var endpoint = options.DynamoDbEndpoint ?? server!.Endpoint;
        try
        {
            var tables = await LocalTables.CreateAsync(assembly.Stack, endpoint, existing: server is null, cancellationToken).ConfigureAwait(false);
            await log.WriteLineAsync(
                $"DynamoDB endpoint {endpoint}{(server is null ? string.Empty : " (dynalite started for this run)")}, tables: {string.Join(", ", tables)}").ConfigureAwait(false);
            return (server, endpoint);
        }
        catch
        {
            server?.Dispose();
            throw;
        }
    }

    private static string FindModelServer(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "scripts", "local", "model_server.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new PipelineRunnerException(
            $"scripts/local/model_server.py was not found in '{start}' or any parent directory; run from the repository or pass its path.");
    }

    /// <summary>Passes every event to the bus and remembers the last status each endpoint announced.</summary>
    private sealed class EndpointStatusTracker(LocalEventBus bus) : IEventPublisher
    {
        private readonly Dictionary<string, string> _statuses = new(StringComparer.Ordinal);
        private long _lastPublished = Stopwatch.GetTimestamp();

        public IReadOnlyDictionary<string, string> Statuses
        {
            get
            {
                lock (_statuses)
                {
                    return new Dictionary<string, string>(_statuses, StringComparer.Ordinal);
                }
            }
        }

        public LocalEventBus Bus => bus;

        public bool Quiet(TimeSpan period) => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastPublished)) >= period;

        public async Task PublishAsync(string source, string detailType, JsonObject detail, IReadOnlyList<string> resources, CancellationToken cancellationToken)
        {
            Interlocked.Exchange(ref _lastPublished, Stopwatch.GetTimestamp());
            await bus.PublishAsync(source, detailType, detail, resources, cancellationToken).ConfigureAwait(false);
            if (detailType == EndpointStateChanged.DetailType && (string?)detail["EndpointName"] is { } name && (string?)detail["EndpointStatus"] is { } status)
            {
                lock (_statuses)
                {
                    _statuses[name] = status;
                }
            }

            Interlocked.Exchange(ref _lastPublished, Stopwatch.GetTimestamp());
        }
    }
}
