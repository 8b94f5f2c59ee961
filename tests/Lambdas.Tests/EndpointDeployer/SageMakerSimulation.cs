using System.Net;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.EndpointDeployer;
using CustomerSegmentation.LocalAws.AutoScaling;
using CustomerSegmentation.LocalAws.SageMaker;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

/// <summary>
/// The local SageMaker control plane and Application Auto Scaling (infra/LocalAws, the one implementation of the rules
/// the deployer must respect: names are unique, unknown names are ValidationExceptions with SageMaker's messages, an
/// endpoint is only updated when InService, an instance-type change is refused while a scalable target is registered)
/// in memory, for the deployer's tests. Model packages are added by the test. Time passes in AWS only when someone
/// calls DescribeEndpoint: the endpoint's variants run on a host where a transition (Creating, Updating, Deleting)
/// completes after <see cref="DescribesPerTransition"/> calls, with fault injection. Calls are recorded in order. The
/// same object backs the unit tests directly and the loopback stand-ins of the bootstrap tests.
/// </summary>
public sealed class SageMakerSimulation : ISageMakerOperations, IScalingOperations, IModelPackageSource, IAsyncDisposable
{
    public const string Account = "123456789012";
    public const string Region = "us-east-1";
    private const string Dimension = SageMakerControlPlane.VariantInstanceCount;
    private readonly object _gate = new();
    private readonly Dictionary<string, DescribeModelPackageResponse> _packages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CreateEndpointConfigRequest> _configRequests = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _endpointNames = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _calls = [];
    private readonly TimeProvider _time;
    private readonly DescribeDrivenHost _host = new();
    private readonly ScalableTargetRegistry _targets = new();
    private readonly SageMakerControlPlane _sageMaker;
    private readonly ApplicationAutoScalingService _scaling;
    private int _describesLeft;
    private UpdateEndpointRequest? _lastUpdate;

    public SageMakerSimulation(TimeProvider time)
    {
        _time = time;
        _sageMaker = new SageMakerControlPlane(new SageMakerControlPlaneOptions
        {
            Packages = this,
            Host = _host,
            ScalableTargets = _targets,
            AccountId = Account,
            Region = Region,
            Time = time,
            DrainTimeout = TimeSpan.Zero,
        });
        _scaling = new ApplicationAutoScalingService(_targets, [_sageMaker], Account, Region, time);
    }

    /// <summary>DescribeEndpoint calls that see a transitional state before it completes.</summary>
    public int DescribesPerTransition { get; set; } = 2;

    /// <summary>The next endpoint creation ends Failed instead of InService (an update would roll back).</summary>
    public bool FailNextTransition { get; set; }

    /// <summary>DeleteEndpoint removes the endpoint at once instead of after a Deleting phase.</summary>
    public bool DeletesImmediately { get; set; }

    /// <summary>The next update rolls back (as an alarm would make it): InService again on the old config.</summary>
    public bool RollBackNextUpdate { get; set; }

    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public IReadOnlyCollection<string> ModelNames =>
        [.. All(next => _sageMaker.ListModelsAsync(new() { NextToken = next, MaxResults = 100 }, CancellationToken.None),
            page => ((page.Models ?? []).Select(model => model.ModelName!), page.NextToken)).Order(StringComparer.Ordinal)];

    public IReadOnlyCollection<string> ConfigNames =>
        [.. All(next => _sageMaker.ListEndpointConfigsAsync(new() { NextToken = next, MaxResults = 100 }, CancellationToken.None),
            page => ((page.EndpointConfigs ?? []).Select(config => config.EndpointConfigName!), page.NextToken)).Order(StringComparer.Ordinal)];

    public string? EndpointStatus => Endpoint()?.EndpointStatus;

    public string? EndpointConfigName => Endpoint()?.EndpointConfigName;

    public UpdateEndpointRequest? LastUpdate
    {
        get
        {
            lock (_gate)
            {
                return _lastUpdate;
            }
        }
    }

    public static string EndpointArn(string name) => $"arn:aws:sagemaker:{Region}:{Account}:endpoint/{name.ToLowerInvariant()}";

    public IReadOnlyDictionary<string, string> TagsOf(string arn)
    {
        try
        {
            var tags = _sageMaker.ListTagsAsync(new() { ResourceArn = arn }, CancellationToken.None).GetAwaiter().GetResult().Tags ?? [];
            return tags.ToDictionary(tag => tag.Key, tag => tag.Value, StringComparer.Ordinal);
        }
        catch (AwsServiceException exception) when (exception.ErrorCode == "ValidationException")
        {
            return new Dictionary<string, string>();
        }
    }

    public ScalableTarget? ScalableTarget(string resourceId) => _targets.Target("sagemaker", resourceId, Dimension);

    public PutScalingPolicyRequest? ScalingPolicy(string resourceId) => _targets.Policies("sagemaker", resourceId, Dimension).Values.FirstOrDefault()?.Request;

    /// <summary>An endpoint config as it exists, with the request that created it.</summary>
    public SimulatedConfig Config(string name)
    {
        var config = _sageMaker.DescribeEndpointConfigAsync(new() { EndpointConfigName = name }, CancellationToken.None).GetAwaiter().GetResult();
        lock (_gate)
        {
            return new SimulatedConfig(config.EndpointConfigName!, config.EndpointConfigArn!, config.CreationTime!.Value, _configRequests[name]);
        }
    }

    public int CallCount(string operation) => Calls.Count(call => call == operation);

    public string AddPackage(int version, string approval, string group = "segmentation-models", IReadOnlyDictionary<string, string>? metadata = null)
    {
        var arn = $"arn:aws:sagemaker:{Region}:{Account}:model-package/{group}/{version}";
        lock (_gate)
        {
            _packages[arn] = new DescribeModelPackageResponse
            {
                ModelPackageName = $"{group}/{version}",
                ModelPackageGroupName = group,
                ModelPackageVersion = version,
                ModelPackageArn = arn,
                ModelPackageStatus = "Completed",
                ModelApprovalStatus = approval,
                CreationTime = _time.GetUtcNow(),
                InferenceSpecification = new()
                {
                    Containers =
                    [
                        new()
                        {
                            Image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                            ModelDataUrl = $"s3://segmentation-model-bucket/runs/exec-{version}/model.tar.gz",
                            Environment = new Dictionary<string, string> { ["SAGEMAKER_PROGRAM"] = "inference.py" },
                        },
                    ],
                },
                CustomerMetadataProperties = metadata,
            };
        }

        return arn;
    }

    public void SetApproval(string arn, string approval)
    {
        lock (_gate)
        {
            _packages[arn] = _packages[arn] with { ModelApprovalStatus = approval };
        }
    }

    public DescribeModelPackageResponse? Find(string modelPackageName)
    {
        lock (_gate)
        {
            return _packages.GetValueOrDefault(modelPackageName);
        }
    }

    public Task<DescribeModelPackageResponse> DescribeModelPackageAsync(DescribeModelPackageRequest request, CancellationToken cancellationToken) =>
        Call("DescribeModelPackage", () => _sageMaker.DescribeModelPackageAsync(request, cancellationToken));

    public Task<CreateModelResponse> CreateModelAsync(CreateModelRequest request, CancellationToken cancellationToken) =>
        Call("CreateModel", () => _sageMaker.CreateModelAsync(request, cancellationToken));

    public Task DeleteModelAsync(DeleteModelRequest request, CancellationToken cancellationToken) =>
        Call("DeleteModel", () => _sageMaker.DeleteModelAsync(request, cancellationToken));

    public Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, CancellationToken cancellationToken) =>
        Call("ListModels", () => _sageMaker.ListModelsAsync(request, cancellationToken));

    public async Task<CreateEndpointConfigResponse> CreateEndpointConfigAsync(CreateEndpointConfigRequest request, CancellationToken cancellationToken)
    {
        var response = await Call("CreateEndpointConfig", () => _sageMaker.CreateEndpointConfigAsync(request, cancellationToken)).ConfigureAwait(false);
        lock (_gate)
        {
            _configRequests[request.EndpointConfigName] = request;
        }

        return response;
    }

    public Task<DescribeEndpointConfigResponse> DescribeEndpointConfigAsync(DescribeEndpointConfigRequest request, CancellationToken cancellationToken) =>
        Call("DescribeEndpointConfig", () => _sageMaker.DescribeEndpointConfigAsync(request, cancellationToken));

    public Task DeleteEndpointConfigAsync(DeleteEndpointConfigRequest request, CancellationToken cancellationToken) => Call("DeleteEndpointConfig", () =>
    {
        // SageMaker itself would allow it; the simulation refuses so a test catches the deployer deleting what is served.
        if (EndpointNames().Select(name => Endpoint(name)).Any(endpoint => endpoint is not null
            && (endpoint.EndpointConfigName == request.EndpointConfigName || endpoint.PendingDeploymentSummary?.EndpointConfigName == request.EndpointConfigName)))
        {
            throw new AwsServiceException("SageMaker", "DeleteEndpointConfig", HttpStatusCode.BadRequest, "ValidationException",
                $"Endpoint config {request.EndpointConfigName} is in use by the endpoint (simulation rule).", null);
        }

        return _sageMaker.DeleteEndpointConfigAsync(request, cancellationToken);
    });

    public Task<ListEndpointConfigsResponse> ListEndpointConfigsAsync(ListEndpointConfigsRequest request, CancellationToken cancellationToken) =>
        Call("ListEndpointConfigs", () => _sageMaker.ListEndpointConfigsAsync(request, cancellationToken));

    public async Task<CreateEndpointResponse> CreateEndpointAsync(CreateEndpointRequest request, CancellationToken cancellationToken)
    {
        var response = await Call("CreateEndpoint", () => _sageMaker.CreateEndpointAsync(request, cancellationToken)).ConfigureAwait(false);
        lock (_gate)
        {
            _endpointNames.Add(request.EndpointName);
            _describesLeft = DescribesPerTransition;
        }

        return response;
    }

    public async Task<UpdateEndpointResponse> UpdateEndpointAsync(UpdateEndpointRequest request, CancellationToken cancellationToken)
    {
        var response = await Call("UpdateEndpoint", () => _sageMaker.UpdateEndpointAsync(request, cancellationToken)).ConfigureAwait(false);
        lock (_gate)
        {
            _lastUpdate = request;
            _describesLeft = DescribesPerTransition;
        }

        return response;
    }

    /// <summary>Answers as SageMaker does now; the call that uses up the transition's describes sees its state before it completes.</summary>
    public async Task<DescribeEndpointResponse> DescribeEndpointAsync(DescribeEndpointRequest request, CancellationToken cancellationToken)
    {
        var answer = await Call("DescribeEndpoint", () => _sageMaker.DescribeEndpointAsync(request, cancellationToken)).ConfigureAwait(false);
        if (answer.EndpointStatus is "Creating" or "Updating" or "Deleting")
        {
            bool due;
            lock (_gate)
            {
                due = --_describesLeft <= 0;
            }

            if (due)
            {
                await CompleteTransitionAsync(request.EndpointName, answer.EndpointStatus).ConfigureAwait(false);
            }
        }

        return answer;
    }

    public async Task DeleteEndpointAsync(DeleteEndpointRequest request, CancellationToken cancellationToken)
    {
        await Call("DeleteEndpoint", () => _sageMaker.DeleteEndpointAsync(request, cancellationToken)).ConfigureAwait(false);
        lock (_gate)
        {
            _describesLeft = DescribesPerTransition;
        }

        if (DeletesImmediately)
        {
            await CompleteTransitionAsync(request.EndpointName, "Deleting").ConfigureAwait(false);
        }
    }

    public Task<ListTagsResponse> ListTagsAsync(ListTagsRequest request, CancellationToken cancellationToken) =>
        Call("ListTags", () => _sageMaker.ListTagsAsync(request, cancellationToken));

    public Task<AddTagsResponse> AddTagsAsync(AddTagsRequest request, CancellationToken cancellationToken) =>
        Call("AddTags", () => _sageMaker.AddTagsAsync(request, cancellationToken));

    public Task<DeleteTagsResponse> DeleteTagsAsync(DeleteTagsRequest request, CancellationToken cancellationToken) =>
        Call("DeleteTags", () => _sageMaker.DeleteTagsAsync(request, cancellationToken));

    public Task<DescribeScalableTargetsResponse> DescribeScalableTargetsAsync(DescribeScalableTargetsRequest request, CancellationToken cancellationToken) =>
        Call("DescribeScalableTargets", () => _scaling.DescribeScalableTargetsAsync(request, cancellationToken));

    public Task<RegisterScalableTargetResponse> RegisterScalableTargetAsync(RegisterScalableTargetRequest request, CancellationToken cancellationToken) =>
        Call("RegisterScalableTarget", () => _scaling.RegisterScalableTargetAsync(request, cancellationToken));

    public Task<DeregisterScalableTargetResponse> DeregisterScalableTargetAsync(DeregisterScalableTargetRequest request, CancellationToken cancellationToken) =>
        Call("DeregisterScalableTarget", () => _scaling.DeregisterScalableTargetAsync(request, cancellationToken));

    public Task<PutScalingPolicyResponse> PutScalingPolicyAsync(PutScalingPolicyRequest request, CancellationToken cancellationToken) =>
        Call("PutScalingPolicy", () => _scaling.PutScalingPolicyAsync(request, cancellationToken));

    /// <summary>Stops the control plane and whatever transition still waits for time to pass.</summary>
    public ValueTask DisposeAsync() => _sageMaker.DisposeAsync();

    private static List<string> All<TPage>(Func<string?, Task<TPage>> list, Func<TPage, (IEnumerable<string> Names, string? Next)> read)
    {
        var names = new List<string>();
        string? next = null;
        do
        {
            var (page, token) = read(list(next).GetAwaiter().GetResult());
            names.AddRange(page);
            next = token;
        }
        while (next is not null);
        return names;
    }

    /// <summary>
    /// Time has passed: the host finishes what the endpoint waits for (the new variant's start, or the endpoint's release
    /// after DeleteEndpoint), as the fault injection says, and the control plane has applied it when this returns.
    /// </summary>
    private async Task CompleteTransitionAsync(string endpointName, string status)
    {
        if (status == "Deleting")
        {
            await _host.ReleaseAsync().ConfigureAwait(false);
        }
        else if (status == "Updating" && RollBackNextUpdate)
        {
            RollBackNextUpdate = false;
            await _host.FailStartAsync("The update was rolled back: an alarm of its AutoRollbackConfiguration fired.").ConfigureAwait(false);
        }
        else if (FailNextTransition)
        {
            FailNextTransition = false;
            await _host.FailStartAsync("The primary container for production variant AllTraffic did not pass the ping health check.").ConfigureAwait(false);
        }
        else
        {
            await _host.CompleteStartAsync().ConfigureAwait(false);
        }

        for (var waited = 0; Endpoint(endpointName)?.EndpointStatus == status; waited++)
        {
            Assert.True(waited < 500, $"the control plane did not complete the {status} transition of {endpointName} within 5 s");
            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    private string[] EndpointNames()
    {
        lock (_gate)
        {
            return [.. _endpointNames];
        }
    }

    private DescribeEndpointResponse? Endpoint(string? name = null)
    {
        try
        {
            return _sageMaker.DescribeEndpointAsync(new() { EndpointName = name ?? EndpointNames().Single() }, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception exception) when (exception is InvalidOperationException
            || (exception is AwsServiceException aws && aws.ErrorMessage.StartsWith("Could not find endpoint", StringComparison.Ordinal)))
        {
            return null;
        }
    }

    private Task<T> Call<T>(string operation, Func<Task<T>> call)
    {
        lock (_gate)
        {
            _calls.Add(operation);
        }

        return call();
    }

    private Task Call(string operation, Func<Task> call)
    {
        lock (_gate)
        {
            _calls.Add(operation);
        }

        return call();
    }

    /// <summary>Variants and releases that wait for the simulation to say the time has come.</summary>
    private sealed class DescribeDrivenHost : IEndpointHost
    {
        private readonly object _gate = new();
        private TaskCompletionSource<IServingVariant>? _start;
        private TaskCompletionSource? _release;

        public Task<IServingVariant> StartAsync(VariantDeployment deployment, CancellationToken cancellationToken)
        {
            var start = new TaskCompletionSource<IServingVariant>();
            cancellationToken.Register(() => start.TrySetCanceled(cancellationToken));
            lock (_gate)
            {
                _start = start;
            }

            return start.Task;
        }

        public Task ReleaseEndpointAsync(string endpointName, CancellationToken cancellationToken)
        {
            var release = new TaskCompletionSource();
            cancellationToken.Register(() => release.TrySetCanceled(cancellationToken));
            lock (_gate)
            {
                _release = release;
            }

            return release.Task;
        }

        public async Task CompleteStartAsync() => (await TakeAsync(() => _start, () => _start = null).ConfigureAwait(false)).TrySetResult(new IdleVariant());

        public async Task FailStartAsync(string reason) =>
            (await TakeAsync(() => _start, () => _start = null).ConfigureAwait(false)).TrySetException(new EndpointStartException(reason));

        public async Task ReleaseAsync() => (await TakeAsync(() => _release, () => _release = null).ConfigureAwait(false)).TrySetResult();

        // The control plane starts and releases in the background, just after the API call: wait for it to ask.
        private async Task<T> TakeAsync<T>(Func<T?> pending, Action clear)
            where T : class
        {
            for (var waited = 0; ; waited++)
            {
                lock (_gate)
                {
                    if (pending() is { } found)
                    {
                        clear();
                        return found;
                    }
                }

                Assert.True(waited < 500, "the control plane did not start the transition within 5 s");
                await Task.Delay(10).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A variant the deployer's tests never invoke.</summary>
    private sealed class IdleVariant : IServingVariant
    {
        public Task<VariantAnswer> InvokeAsync(VariantInvocation invocation, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The deployer's tests do not invoke endpoints.");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

public sealed record SimulatedConfig(string Name, string Arn, DateTimeOffset Created, CreateEndpointConfigRequest Request);
