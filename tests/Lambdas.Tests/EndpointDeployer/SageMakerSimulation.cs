using System.Net;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.EndpointDeployer;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

/// <summary>
/// An in-memory SageMaker control plane and Application Auto Scaling with the rules the deployer must respect: names are
/// unique, unknown names are ValidationExceptions with SageMaker's messages, an endpoint is only updated when InService,
/// an instance-type change is refused while a scalable target is registered, and the endpoint moves
/// Creating/Updating/Deleting -> InService/gone after <see cref="DescribesPerTransition"/> DescribeEndpoint calls. Calls are
/// recorded in order. The same object backs the unit tests directly and the loopback stand-ins of the bootstrap tests.
/// </summary>
public sealed class SageMakerSimulation : ISageMakerOperations, IScalingOperations
{
    public const string Account = "123456789012";
    public const string Region = "us-east-1";
    private readonly object _gate = new();
    private readonly Dictionary<string, DescribeModelPackageResponse> _packages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimulatedResource> _models = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimulatedConfig> _configs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string>> _tags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RegisterScalableTargetRequest> _targets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PutScalingPolicyRequest> _policies = new(StringComparer.Ordinal);
    private readonly List<string> _calls = [];
    private readonly TimeProvider _time;
    private SimulatedEndpoint? _endpoint;
    private int _describesLeft;
    private string _operation = "";

    public SageMakerSimulation(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>DescribeEndpoint calls that see a transitional state before it completes.</summary>
    public int DescribesPerTransition { get; set; } = 2;

    /// <summary>The next endpoint creation or update ends Failed instead of InService.</summary>
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

    public IReadOnlyCollection<string> ModelNames => Locked(() => _models.Keys.Order(StringComparer.Ordinal).ToList());

    public IReadOnlyCollection<string> ConfigNames => Locked(() => _configs.Keys.Order(StringComparer.Ordinal).ToList());

    public string? EndpointStatus => Locked(() => _endpoint?.Status);

    public string? EndpointConfigName => Locked(() => _endpoint?.ConfigName);

    public UpdateEndpointRequest? LastUpdate => Locked(() => _endpoint?.LastUpdate);

    public static string EndpointArn(string name) => $"arn:aws:sagemaker:{Region}:{Account}:endpoint/{name.ToLowerInvariant()}";

    public IReadOnlyDictionary<string, string> TagsOf(string arn) => Locked(() => new Dictionary<string, string>(_tags.GetValueOrDefault(arn) ?? []));

    public RegisterScalableTargetRequest? ScalableTarget(string resourceId) => Locked(() => _targets.GetValueOrDefault(resourceId));

    public PutScalingPolicyRequest? ScalingPolicy(string resourceId) => Locked(() => _policies.GetValueOrDefault(resourceId));

    public SimulatedConfig Config(string name) => Locked(() => _configs[name]);

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

    public Task<DescribeModelPackageResponse> DescribeModelPackageAsync(DescribeModelPackageRequest request, CancellationToken cancellationToken) =>
        Run("DescribeModelPackage", () => _packages.TryGetValue(request.ModelPackageName, out var package)
            ? package
            : throw Validation($"Model Package {request.ModelPackageName} does not exist."));

    public Task<CreateModelResponse> CreateModelAsync(CreateModelRequest request, CancellationToken cancellationToken) => Run("CreateModel", () =>
    {
        if (_models.ContainsKey(request.ModelName))
        {
            throw Validation($"Cannot create already existing model \"{ArnOf("model", request.ModelName)}\".");
        }

        var package = request.PrimaryContainer?.ModelPackageName ?? throw Validation("PrimaryContainer.ModelPackageName is required here.");
        if (!_packages.ContainsKey(package))
        {
            throw Validation($"Model Package {package} does not exist.");
        }

        var arn = ArnOf("model", request.ModelName);
        _models[request.ModelName] = new SimulatedResource(request.ModelName, arn, Now());
        _tags[arn] = (request.Tags ?? []).ToDictionary(tag => tag.Key, tag => tag.Value, StringComparer.Ordinal);
        return new CreateModelResponse { ModelArn = arn };
    });

    public Task DeleteModelAsync(DeleteModelRequest request, CancellationToken cancellationToken) => Run("DeleteModel", () =>
        _models.Remove(request.ModelName) ? true : throw Validation($"Could not find model \"{ArnOf("model", request.ModelName)}\"."));

    public Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, CancellationToken cancellationToken) => Run("ListModels", () =>
        new ListModelsResponse
        {
            Models = [.. _models.Values.Where(model => request.NameContains is null || model.Name.Contains(request.NameContains, StringComparison.Ordinal))
                .Select(model => new ModelSummary { ModelName = model.Name, ModelArn = model.Arn, CreationTime = model.Created })],
        });

    public Task<CreateEndpointConfigResponse> CreateEndpointConfigAsync(CreateEndpointConfigRequest request, CancellationToken cancellationToken) =>
        Run("CreateEndpointConfig", () =>
        {
            if (_configs.ContainsKey(request.EndpointConfigName))
            {
                throw Validation($"Cannot create already existing endpoint configuration \"{ArnOf("endpoint-config", request.EndpointConfigName)}\".");
            }

            foreach (var variant in request.ProductionVariants.Where(variant => !_models.ContainsKey(variant.ModelName)))
            {
                throw Validation($"Could not find model \"{ArnOf("model", variant.ModelName)}\".");
            }

            var arn = ArnOf("endpoint-config", request.EndpointConfigName);
            _configs[request.EndpointConfigName] = new SimulatedConfig(request.EndpointConfigName, arn, Now(), request);
            _tags[arn] = (request.Tags ?? []).ToDictionary(tag => tag.Key, tag => tag.Value, StringComparer.Ordinal);
            return new CreateEndpointConfigResponse { EndpointConfigArn = arn };
        });

    public Task<DescribeEndpointConfigResponse> DescribeEndpointConfigAsync(DescribeEndpointConfigRequest request, CancellationToken cancellationToken) =>
        Run("DescribeEndpointConfig", () => _configs.TryGetValue(request.EndpointConfigName, out var config)
            ? new DescribeEndpointConfigResponse
            {
                EndpointConfigName = config.Name,
                EndpointConfigArn = config.Arn,
                ProductionVariants = config.Request.ProductionVariants,
                CreationTime = config.Created,
            }
            : throw Validation($"Could not find endpoint configuration \"{ArnOf("endpoint-config", request.EndpointConfigName)}\"."));

    public Task DeleteEndpointConfigAsync(DeleteEndpointConfigRequest request, CancellationToken cancellationToken) => Run("DeleteEndpointConfig", () =>
    {
        // SageMaker itself would allow it; the simulation refuses so a test catches the deployer deleting what is served.
        if (_endpoint is not null && (_endpoint.ConfigName == request.EndpointConfigName || _endpoint.PendingConfigName == request.EndpointConfigName))
        {
            throw Validation($"Endpoint config {request.EndpointConfigName} is in use by the endpoint (simulation rule).");
        }

        return _configs.Remove(request.EndpointConfigName)
            ? true
            : throw Validation($"Could not find endpoint configuration \"{ArnOf("endpoint-config", request.EndpointConfigName)}\".");
    });

    public Task<ListEndpointConfigsResponse> ListEndpointConfigsAsync(ListEndpointConfigsRequest request, CancellationToken cancellationToken) =>
        Run("ListEndpointConfigs", () => new ListEndpointConfigsResponse
        {
            EndpointConfigs = [.. _configs.Values.Where(config => request.NameContains is null || config.Name.Contains(request.NameContains, StringComparison.Ordinal))
                .Select(config => new EndpointConfigSummary { EndpointConfigName = config.Name, EndpointConfigArn = config.Arn, CreationTime = config.Created })],
        });

    public Task<CreateEndpointResponse> CreateEndpointAsync(CreateEndpointRequest request, CancellationToken cancellationToken) => Run("CreateEndpoint", () =>
    {
        if (_endpoint is not null)
        {
            throw Validation($"Cannot create already existing endpoint \"{EndpointArn(request.EndpointName)}\".");
        }

        RequireConfig(request.EndpointConfigName);
        var arn = EndpointArn(request.EndpointName);
        _endpoint = new SimulatedEndpoint(request.EndpointName, arn, request.EndpointConfigName) { Status = "Creating" };
        _describesLeft = DescribesPerTransition;
        _tags[arn] = (request.Tags ?? []).ToDictionary(tag => tag.Key, tag => tag.Value, StringComparer.Ordinal);
        return new CreateEndpointResponse { EndpointArn = arn };
    });

    public Task<UpdateEndpointResponse> UpdateEndpointAsync(UpdateEndpointRequest request, CancellationToken cancellationToken) => Run("UpdateEndpoint", () =>
    {
        var endpoint = RequireEndpoint(request.EndpointName);
        if (endpoint.Status != "InService")
        {
            throw Validation($"Cannot update in-progress endpoint \"{endpoint.Arn}\".");
        }

        var next = RequireConfig(request.EndpointConfigName);
        var current = _configs[endpoint.ConfigName];
        var resourceId = $"endpoint/{endpoint.Name}/variant/{EndpointDeploymentService.VariantName}";
        if (_targets.ContainsKey(resourceId) && next.Request.ProductionVariants[0].InstanceType != current.Request.ProductionVariants[0].InstanceType)
        {
            throw Validation("The variant(s) \"[AllTraffic]\" must be deregistered as scalable targets with AWS Application Auto Scaling before they can be updated.");
        }

        endpoint.PendingConfigName = request.EndpointConfigName;
        endpoint.Status = "Updating";
        endpoint.LastUpdate = request;
        _describesLeft = DescribesPerTransition;
        return new UpdateEndpointResponse { EndpointArn = endpoint.Arn };
    });

    public Task<DescribeEndpointResponse> DescribeEndpointAsync(DescribeEndpointRequest request, CancellationToken cancellationToken) =>
        Run("DescribeEndpoint", () =>
        {
            var endpoint = RequireEndpoint(request.EndpointName);
            var answer = new DescribeEndpointResponse
            {
                EndpointName = endpoint.Name,
                EndpointArn = endpoint.Arn,
                EndpointConfigName = endpoint.ConfigName,
                EndpointStatus = endpoint.Status,
                FailureReason = endpoint.Status == "Failed" ? "The primary container for production variant AllTraffic did not pass the ping health check." : null,
                PendingDeploymentSummary = endpoint.PendingConfigName is { } pending ? new PendingDeploymentSummary { EndpointConfigName = pending } : null,
            };
            Advance(endpoint);
            return answer;
        });

    public Task DeleteEndpointAsync(DeleteEndpointRequest request, CancellationToken cancellationToken) => Run("DeleteEndpoint", () =>
    {
        var endpoint = RequireEndpoint(request.EndpointName);
        if (DeletesImmediately)
        {
            _tags.Remove(endpoint.Arn);
            _endpoint = null;
            return true;
        }

        endpoint.Status = "Deleting";
        endpoint.PendingConfigName = null;
        _describesLeft = DescribesPerTransition;
        return true;
    });

    public Task<ListTagsResponse> ListTagsAsync(ListTagsRequest request, CancellationToken cancellationToken) => Run("ListTags", () =>
        _tags.TryGetValue(request.ResourceArn, out var tags)
            ? new ListTagsResponse { Tags = [.. tags.Select(tag => new Tag { Key = tag.Key, Value = tag.Value })] }
            : throw Validation($"Resource {request.ResourceArn} does not exist."));

    public Task<AddTagsResponse> AddTagsAsync(AddTagsRequest request, CancellationToken cancellationToken) => Run("AddTags", () =>
    {
        var tags = _tags.TryGetValue(request.ResourceArn, out var existing) ? existing : throw Validation($"Resource {request.ResourceArn} does not exist.");
        foreach (var tag in request.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return new AddTagsResponse { Tags = request.Tags };
    });

    public Task<DeleteTagsResponse> DeleteTagsAsync(DeleteTagsRequest request, CancellationToken cancellationToken) => Run("DeleteTags", () =>
    {
        var tags = _tags.TryGetValue(request.ResourceArn, out var existing) ? existing : throw Validation($"Resource {request.ResourceArn} does not exist.");
        foreach (var key in request.TagKeys)
        {
            tags.Remove(key);
        }

        return new DeleteTagsResponse();
    });

    public Task<DescribeScalableTargetsResponse> DescribeScalableTargetsAsync(DescribeScalableTargetsRequest request, CancellationToken cancellationToken) =>
        Run("DescribeScalableTargets", () => new DescribeScalableTargetsResponse
        {
            ScalableTargets = [.. _targets.Values.Where(target => request.ResourceIds is null || request.ResourceIds.Contains(target.ResourceId))
                .Select(target => new ScalableTarget
                {
                    ServiceNamespace = target.ServiceNamespace, ResourceId = target.ResourceId, ScalableDimension = target.ScalableDimension,
                    MinCapacity = target.MinCapacity, MaxCapacity = target.MaxCapacity,
                })],
        });

    public Task<RegisterScalableTargetResponse> RegisterScalableTargetAsync(RegisterScalableTargetRequest request, CancellationToken cancellationToken) =>
        Run("RegisterScalableTarget", () =>
        {
            var endpointName = request.ResourceId.Split('/')[1];
            if (_endpoint?.Name != endpointName || _endpoint.Status != "InService")
            {
                throw Validation($"Endpoint {endpointName} is not InService: its variant cannot be a scalable target yet.");
            }

            _targets[request.ResourceId] = request;
            return new RegisterScalableTargetResponse();
        });

    public Task<DeregisterScalableTargetResponse> DeregisterScalableTargetAsync(DeregisterScalableTargetRequest request, CancellationToken cancellationToken) =>
        Run("DeregisterScalableTarget", () =>
        {
            if (!_targets.Remove(request.ResourceId))
            {
                throw new AwsServiceException("Application Auto Scaling", "DeregisterScalableTarget", HttpStatusCode.BadRequest, "ObjectNotFoundException",
                    $"No scalable target registered for service namespace: sagemaker, resource ID: {request.ResourceId}", null);
            }

            _policies.Remove(request.ResourceId);
            return new DeregisterScalableTargetResponse();
        });

    public Task<PutScalingPolicyResponse> PutScalingPolicyAsync(PutScalingPolicyRequest request, CancellationToken cancellationToken) =>
        Run("PutScalingPolicy", () =>
        {
            if (!_targets.ContainsKey(request.ResourceId))
            {
                throw new AwsServiceException("Application Auto Scaling", "PutScalingPolicy", HttpStatusCode.BadRequest, "ObjectNotFoundException",
                    $"No scalable target registered for service namespace: sagemaker, resource ID: {request.ResourceId}", null);
            }

            _policies[request.ResourceId] = request;
            return new PutScalingPolicyResponse { PolicyARN = $"arn:aws:autoscaling:{Region}:{Account}:scalingPolicy:{request.PolicyName}" };
        });

    private void Advance(SimulatedEndpoint endpoint)
    {
        if (endpoint.Status is not ("Creating" or "Updating" or "Deleting") || --_describesLeft > 0)
        {
            return;
        }

        switch (endpoint.Status)
        {
            case "Deleting":
                _tags.Remove(endpoint.Arn);
                _endpoint = null;
                break;
            case "Updating" when RollBackNextUpdate:
                RollBackNextUpdate = false;
                endpoint.PendingConfigName = null;
                endpoint.Status = "InService";
                break;
            case var _ when FailNextTransition:
                FailNextTransition = false;
                endpoint.Status = "Failed";
                endpoint.PendingConfigName = null;
                break;
            default:
                endpoint.ConfigName = endpoint.PendingConfigName ?? endpoint.ConfigName;
                endpoint.PendingConfigName = null;
                endpoint.Status = "InService";
                break;
        }
    }

    private SimulatedEndpoint RequireEndpoint(string name) =>
        _endpoint?.Name == name ? _endpoint : throw Validation($"Could not find endpoint \"{EndpointArn(name)}\".");

    private SimulatedConfig RequireConfig(string name) =>
        _configs.TryGetValue(name, out var config) ? config : throw Validation($"Could not find endpoint configuration \"{ArnOf("endpoint-config", name)}\".");

    private static string ArnOf(string kind, string name) => $"arn:aws:sagemaker:{Region}:{Account}:{kind}/{name.ToLowerInvariant()}";

    // Creation times one second apart in call order, so "newest" is unambiguous whatever the test clock does.
    private DateTimeOffset Now() => _time.GetUtcNow().AddSeconds(_models.Count + _configs.Count);

    private AwsServiceException Validation(string message) =>
        new("SageMaker", _operation, HttpStatusCode.BadRequest, "ValidationException", message, null);

    private Task<T> Run<T>(string operation, Func<T> action)
    {
        lock (_gate)
        {
            _calls.Add(operation);
            _operation = operation;
            return Task.FromResult(action());
        }
    }

    private T Locked<T>(Func<T> read)
    {
        lock (_gate)
        {
            return read();
        }
    }
}

public sealed record SimulatedResource(string Name, string Arn, DateTimeOffset Created);

public sealed record SimulatedConfig(string Name, string Arn, DateTimeOffset Created, CreateEndpointConfigRequest Request);

public sealed class SimulatedEndpoint(string name, string arn, string configName)
{
    public string Name { get; } = name;
    public string Arn { get; } = arn;
    public string ConfigName { get; set; } = configName;
    public string? PendingConfigName { get; set; }
    public string Status { get; set; } = "Creating";
    public UpdateEndpointRequest? LastUpdate { get; set; }
}
