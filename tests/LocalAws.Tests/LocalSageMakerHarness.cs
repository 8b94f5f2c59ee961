using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.AwsPackageReplacements.SageMakerRuntime;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalAws.Events;
using CustomerSegmentation.LocalAws.SageMaker;
using CustomerSegmentation.LocalAws.Tests.Support;

namespace CustomerSegmentation.LocalAws.Tests;

/// <summary>
/// A <see cref="LocalSageMaker"/> on loopback with a model registry in a temporary directory and a recording event bus,
/// and the platform's own clients (SageMakerClient, SageMakerRuntimeClient, ApplicationAutoScalingClient) pointed at it
/// with credentials the local services have never seen. By default the variants run on a <see cref="ControlledEndpointHost"/>.
/// </summary>
internal sealed class LocalSageMakerHarness : IAsyncDisposable
{
    public const string Account = LocalAccount.AccountId;
    public const string Region = LocalAccount.Region;
    public const string Group = "segmentation-models";
    public const string Role = "arn:aws:iam::000000000000:role/segmentation-sagemaker";
    public static readonly BasicAWSCredentials AnyCredentials = new("AKIDANYTHINGGOES", "any-secret-works-locally");

    private readonly string _work;
    private readonly HttpClient _http = new();

    /// <summary>A harness whose variants run on <paramref name="host"/> (default: one that starts every variant on its own).</summary>
    public static LocalSageMakerHarness Controlled(ControlledEndpointHost? host = null, RecordingEventPublisher? events = null, TimeSpan? drainTimeout = null)
    {
        host ??= new ControlledEndpointHost();
        events ??= new RecordingEventPublisher();
        return new(options => new LocalSageMaker(options with { DrainTimeout = drainTimeout ?? options.DrainTimeout }, events, host), host, events,
            new Uri("http://127.0.0.1:9/"));
    }

    private LocalSageMakerHarness(Func<LocalSageMakerOptions, LocalSageMaker> create, ControlledEndpointHost host, RecordingEventPublisher events, Uri s3)
    {
        Host = host;
        Events = events;
        _work = Directory.CreateTempSubdirectory("local-sagemaker-test-").FullName;
        Registry = Directory.CreateDirectory(Path.Combine(_work, "model-registry")).FullName;
        Log = new StringWriter();
        Service = create(new LocalSageMakerOptions
        {
            S3Endpoint = s3,
            ModelRegistryDirectory = Registry,
            ModelServerScript = Path.Combine(TestPaths.RepositoryRoot, "scripts", "local", "model_server.py"),
            WorkDirectory = Directory.CreateDirectory(Path.Combine(_work, "variants")).FullName,
            Log = Log,
        });
        var options = new AwsClientOptions
        {
            ServiceUrl = Service.Endpoint,
            Region = Region,
            Credentials = AnyCredentials,
            Retry = new RetryOptions { MaxAttempts = 1 },
        };
        SageMaker = new SageMakerClient(options);
        Runtime = new SageMakerRuntimeClient(options);
        Scaling = new ApplicationAutoScalingClient(options);
    }

    public ControlledEndpointHost Host { get; }

    public RecordingEventPublisher Events { get; }

    public LocalSageMaker Service { get; }

    public string Registry { get; }

    /// <summary>The temporary directory holding the registry and the variants' unpacked models.</summary>
    public string WorkDirectory => _work;

    public StringWriter Log { get; }

    public SageMakerClient SageMaker { get; }

    public SageMakerRuntimeClient Runtime { get; }

    public ApplicationAutoScalingClient Scaling { get; }

    /// <summary>A harness whose variants are real model servers reading the given local S3.</summary>
    public static LocalSageMakerHarness WithModelServers(Uri s3, RecordingEventPublisher events, Func<LocalSageMakerOptions, LocalSageMakerOptions>? adjust = null) =>
        new(options => new LocalSageMaker((adjust ?? (o => o))(options with { S3Endpoint = s3 }), events), new ControlledEndpointHost(), events, s3);

    public static string EndpointArn(string name) => $"arn:aws:sagemaker:{Region}:{Account}:endpoint/{name}";

    public static string ModelArn(string name) => $"arn:aws:sagemaker:{Region}:{Account}:model/{name}";

    public static string ConfigArn(string name) => $"arn:aws:sagemaker:{Region}:{Account}:endpoint-config/{name}";

    public static string VariantResource(string endpoint) => $"endpoint/{endpoint}/variant/AllTraffic";

    /// <summary>Writes a model package version the way the local runner's RegisterModel step does; returns its ARN.</summary>
    public string AddPackage(int version, string modelDataUrl, IReadOnlyDictionary<string, string>? environment = null, string approval = "Approved")
    {
        var arn = $"arn:aws:sagemaker:{Region}:{Account}:model-package/{Group}/{version}";
        var variables = new JsonObject();
        foreach (var (name, value) in environment ?? new Dictionary<string, string> { ["SAGEMAKER_PROGRAM"] = "inference.py" })
        {
            variables[name] = value;
        }

        var package = new JsonObject
        {
            ["ModelPackageGroupName"] = Group,
            ["ModelApprovalStatus"] = approval,
            ["InferenceSpecification"] = new JsonObject
            {
                ["Containers"] = new JsonArray(new JsonObject
                {
                    ["Image"] = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                    ["ModelDataUrl"] = modelDataUrl,
                    ["Environment"] = variables,
                }),
                ["SupportedContentTypes"] = new JsonArray("application/json", "text/csv"),
                ["SupportedResponseMIMETypes"] = new JsonArray("application/json"),
            },
            ["CustomerMetadataProperties"] = new JsonObject { ["PipelineExecutionArn"] = "arn:aws:sagemaker:us-east-1:000000000000:pipeline/p/execution/e" },
            ["ModelPackageVersion"] = version,
            ["ModelPackageArn"] = arn,
            ["ModelPackageStatus"] = "Completed",
            ["CreationTime"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["PipelineExecutionArn"] = "arn:aws:sagemaker:us-east-1:000000000000:pipeline/p/execution/e",
        };
        var directory = Directory.CreateDirectory(Path.Combine(Registry, Group)).FullName;
        File.WriteAllText(Path.Combine(directory, $"{version}.json"), package.ToJsonString());
        return arn;
    }

    /// <summary>A model of the package and a one-variant config of it; returns the config name.</summary>
    public async Task<string> ModelAndConfigAsync(string name, string packageArn, string instanceType = "ml.m5.large")
    {
        await SageMaker.CreateModelAsync(new()
        {
            ModelName = $"{name}-model",
            PrimaryContainer = new() { ModelPackageName = packageArn },
            ExecutionRoleArn = Role,
        });
        await SageMaker.CreateEndpointConfigAsync(new()
        {
            EndpointConfigName = $"{name}-config",
            ProductionVariants = [new() { VariantName = "AllTraffic", ModelName = $"{name}-model", InstanceType = instanceType, InitialInstanceCount = 1 }],
        });
        return $"{name}-config";
    }

    /// <summary>Creates the endpoint on the config and waits until it is InService.</summary>
    public async Task ServeAsync(string endpoint, string config)
    {
        await SageMaker.CreateEndpointAsync(new() { EndpointName = endpoint, EndpointConfigName = config });
        await WaitForStatusAsync(endpoint, "InService");
    }

    /// <summary>Describes the endpoint until it has <paramref name="status"/> (or is gone, for null); fails after <paramref name="timeout"/>.</summary>
    public async Task<DescribeEndpointResponse?> WaitForStatusAsync(string endpoint, string? status, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        DescribeEndpointResponse? last = null;
        while (DateTimeOffset.UtcNow < deadline)
        {
            try
            {
                last = await SageMaker.DescribeEndpointAsync(new() { EndpointName = endpoint });
            }
            catch (AwsServiceException exception) when (status is null && exception.ErrorMessage.StartsWith("Could not find endpoint", StringComparison.Ordinal))
            {
                return null;
            }

            if (last.EndpointStatus == status)
            {
                return last;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"endpoint {endpoint} did not become {status ?? "gone"}: last {last?.EndpointStatus} ({last?.FailureReason})\n{Log}");
        return null;
    }

    /// <summary>A JSON 1.1 request signed with SigV4 for <paramref name="signingName"/> in <paramref name="region"/>, sent as is.</summary>
    public async Task<(int Status, JsonObject Body)> SignedJsonAsync(string target, string body, string signingName = "sagemaker", string region = Region,
        string contentType = "application/x-amz-json-1.1")
    {
        var uri = Service.Endpoint;
        var content = Encoding.UTF8.GetBytes(body);
        var signing = new AWSSigningRequest { HttpMethod = HttpMethod.Post, RequestUri = uri, Content = content };
        signing.Headers["Content-Type"] = contentType;
        signing.Headers["X-Amz-Target"] = target;
        var signature = await AWSSigV4Signer.SignAsync(signing,
            new AWSSigV4Parameters { Credentials = AnyCredentials, Region = RegionEndpoint.GetBySystemName(region), Service = signingName });
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(content) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        foreach (var (name, value) in signature.Headers.Append(new("X-Amz-Target", target)))
        {
            if (!name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return await SendAsync(request);
    }

    /// <summary>Sends a request unchanged (no signing) and reads the JSON answer.</summary>
    public async Task<(int Status, JsonObject Body)> SendAsync(HttpRequestMessage request)
    {
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text) as JsonObject ?? throw new InvalidOperationException($"not a JSON object: {text}"));
    }

    /// <summary>Fails the test when the server itself threw (a bug of the local SageMaker).</summary>
    public void AssertNoServerFaults() => Assert.True(Service.ServerFaults.Count == 0, string.Join("\n", Service.ServerFaults));

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Service.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }
}

/// <summary>An event bus that records what it is given, and can be made to fail or to wait.</summary>
internal sealed class RecordingEventPublisher : IEventPublisher
{
    private readonly ConcurrentQueue<PublishedEvent> _events = new();

    /// <summary>Called before an event is recorded; an exception it throws is what PublishAsync throws.</summary>
    public Func<PublishedEvent, CancellationToken, Task> Before { get; set; } = (_, _) => Task.CompletedTask;

    public IReadOnlyList<PublishedEvent> Events => [.. _events];

    /// <summary>The EndpointStatus of every endpoint event of <paramref name="endpoint"/>, in delivery order.</summary>
    public IReadOnlyList<string> Statuses(string endpoint) =>
        [.. Events.Where(e => (string?)e.Detail["EndpointName"] == endpoint).Select(e => (string)e.Detail["EndpointStatus"]!)];

    public async Task PublishAsync(string source, string detailType, JsonObject detail, IReadOnlyList<string> resources, CancellationToken cancellationToken)
    {
        var published = new PublishedEvent(source, detailType, detail, resources);
        await Before(published, cancellationToken);
        _events.Enqueue(published);
    }

    /// <summary>Waits until <paramref name="endpoint"/> has <paramref name="count"/> events; fails after 30 s.</summary>
    public async Task<IReadOnlyList<string>> WaitForStatusesAsync(string endpoint, int count)
    {
        for (var waited = 0; waited < 600 && Statuses(endpoint).Count < count; waited++)
        {
            await Task.Delay(50);
        }

        return Statuses(endpoint);
    }
}

internal sealed record PublishedEvent(string Source, string DetailType, JsonObject Detail, IReadOnlyList<string> Resources);
