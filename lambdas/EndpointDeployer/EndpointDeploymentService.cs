using System.Globalization;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using SageMakerAlarm = CustomerSegmentation.AwsPackageReplacements.SageMaker.Alarm;

namespace CustomerSegmentation.EndpointDeployer;

/// <summary>A request to serve one model package with the given instances.</summary>
public sealed record DeploymentRequest(string ModelPackageArn, string InstanceType, int InitialInstanceCount);

/// <summary>
/// Creates or updates the one endpoint with zero downtime. Every model and endpoint config it creates is tagged with its
/// model package (and a config with its instance type and count), so a repeated event finds them instead of creating new
/// ones. Pending deployments of a busy endpoint are tags on the endpoint, completed on its next IN_SERVICE event.
/// </summary>
public sealed class EndpointDeploymentService
{
    public const string PackageTag = "segmentation:model-package-arn";
    public const string ModelNameTag = "segmentation:model-name";
    public const string InstanceTypeTag = "segmentation:instance-type";
    public const string InstanceCountTag = "segmentation:instance-count";
    public const string PendingPackageTag = "segmentation:pending-model-package-arn";
    public const string PendingInstanceTypeTag = "segmentation:pending-instance-type";
    public const string PendingInstanceCountTag = "segmentation:pending-instance-count";
    public const string VariantName = "AllTraffic";
    public const string MarkerKey = "deployed/version.json";
    public const string BaselineKey = "deployed/segment_profiles.json";
    private const string ScalingNamespace = "sagemaker";
    private const string ScalableDimension = "sagemaker:variant:DesiredInstanceCount";
    private static readonly HashSet<string> BusyStatuses = new(StringComparer.Ordinal) { "Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting" };

    private readonly DeployerSettings _settings;
    private readonly ISageMakerOperations _sageMaker;
    private readonly IScalingOperations _scaling;
    private readonly IObjectStore _store;
    private readonly LambdaLogger _logger;
    private readonly TimeProvider _time;
    private readonly EndpointDeletionWait _deletionWait;

    public EndpointDeploymentService(DeployerSettings settings, ISageMakerOperations sageMaker, IScalingOperations scaling, IObjectStore store,
        LambdaLogger logger, TimeProvider? time = null, EndpointDeletionWait? deletionWait = null)
    {
        _settings = settings;
        _sageMaker = sageMaker;
        _scaling = scaling;
        _store = store;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _deletionWait = deletionWait ?? new EndpointDeletionWait();
    }

    private string ResourceId => $"endpoint/{_settings.EndpointName}/variant/{VariantName}";

    /// <summary>Handles any of the three events.</summary>
    public Task<DeploymentResult> HandleAsync(DeployerEvent deployerEvent, CancellationToken cancellationToken) => deployerEvent switch
    {
        PipelineDeployRequest step => DeployAsync(new DeploymentRequest(step.ModelPackageArn, step.InstanceType ?? _settings.InstanceType,
            step.InitialInstanceCount ?? _settings.InitialInstanceCount), cancellationToken),
        ModelPackageStateChange change => OnModelPackageStateChangeAsync(change, cancellationToken),
        EndpointStateChange change => OnEndpointStateChangeAsync(change, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(deployerEvent), deployerEvent.GetType().Name, "Unknown event."),
    };

    public async Task<DeploymentResult> OnModelPackageStateChangeAsync(ModelPackageStateChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.ModelPackageGroupName != _settings.ModelPackageGroupName)
        {
            return Skip(change.ModelPackageArn, $"Model package group '{change.ModelPackageGroupName}' is not '{_settings.ModelPackageGroupName}'.");
        }

        if (change.ModelApprovalStatus != "Approved")
        {
            return Skip(change.ModelPackageArn, $"Model package is {change.ModelApprovalStatus}: only an approved package is deployed.");
        }

        return await DeployAsync(new DeploymentRequest(change.ModelPackageArn, _settings.InstanceType, _settings.InitialInstanceCount), cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<DeploymentResult> DeployAsync(DeploymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var package = await _sageMaker.DescribeModelPackageAsync(new() { ModelPackageName = request.ModelPackageArn }, cancellationToken).ConfigureAwait(false);
        if (package.ModelPackageGroupName is { } group && group != _settings.ModelPackageGroupName)
        {
            return Skip(request.ModelPackageArn, $"Model package belongs to group '{group}', not '{_settings.ModelPackageGroupName}'.");
        }

        switch (package.ModelApprovalStatus)
        {
            case "Approved":
                break;
            case "Rejected":
                return Skip(request.ModelPackageArn, "Model package is Rejected: it is never deployed.");
            default:
                return Skip(request.ModelPackageArn,
                    $"Model package is {package.ModelApprovalStatus ?? "without approval status"}: it is deployed when its approval event arrives.");
        }

        var endpoint = await DescribeEndpointOrNullAsync(cancellationToken).ConfigureAwait(false);
        ConfigInfo? current = null;
        if (endpoint is not null)
        {
            var status = endpoint.EndpointStatus ?? "";
            if (BusyStatuses.Contains(status))
            {
                var target = await DescribeConfigAsync(endpoint.PendingDeploymentSummary?.EndpointConfigName ?? endpoint.EndpointConfigName!, cancellationToken)
                    .ConfigureAwait(false);
                if (target.Serves(request))
                {
                    return Result(DeploymentAction.Unchanged, target, request, $"Endpoint is {status} towards this package already.");
                }

                await _sageMaker.AddTagsAsync(new()
                {
                    ResourceArn = endpoint.EndpointArn!,
                    Tags =
                    [
                        new() { Key = PendingPackageTag, Value = request.ModelPackageArn },
                        new() { Key = PendingInstanceTypeTag, Value = request.InstanceType },
                        new() { Key = PendingInstanceCountTag, Value = request.InitialInstanceCount.ToString(CultureInfo.InvariantCulture) },
                    ],
                }, cancellationToken).ConfigureAwait(false);
                _logger.Information("Endpoint busy: deployment deferred.", ("endpointStatus", status), ("modelPackageArn", request.ModelPackageArn));
                return new DeploymentResult(DeploymentAction.Deferred, _settings.EndpointName, null, null, request.ModelPackageArn,
                    $"Endpoint is {status}: the deployment is recorded on it and completes on its next IN_SERVICE event.");
            }

            if (status == "Failed")
            {
                await ReplaceFailedEndpointAsync(endpoint, cancellationToken).ConfigureAwait(false);
                endpoint = null;
            }
            else
            {
                current = await DescribeConfigAsync(endpoint.EndpointConfigName!, cancellationToken).ConfigureAwait(false);
                if (current.Serves(request))
                {
                    if (status == "InService")
                    {
                        await CompleteInServiceAsync(endpoint, current, cancellationToken).ConfigureAwait(false);
                    }

                    return Result(DeploymentAction.Unchanged, current, request, $"Endpoint is {status} with this package already.");
                }
            }
        }

        var version = package.ModelPackageVersion ?? 0;
        var modelName = await FindModelAsync(request.ModelPackageArn, cancellationToken).ConfigureAwait(false)
            ?? await CreateModelAsync(request.ModelPackageArn, version, cancellationToken).ConfigureAwait(false);
        var config = await FindConfigAsync(request, cancellationToken).ConfigureAwait(false)
            ?? await CreateConfigAsync(request, version, modelName, cancellationToken).ConfigureAwait(false);

        if (endpoint is null)
        {
            await _sageMaker.CreateEndpointAsync(new()
            {
                EndpointName = _settings.EndpointName,
                EndpointConfigName = config.Name,
                Tags = [new() { Key = PackageTag, Value = request.ModelPackageArn }],
            }, cancellationToken).ConfigureAwait(false);
            _logger.Information("Endpoint creation started.", ("endpointConfigName", config.Name));
            return Result(DeploymentAction.Created, config, request, "Endpoint creation started.");
        }

        var instanceTypeChanges = current!.InstanceType != request.InstanceType;
        if (instanceTypeChanges && await IsScalableTargetRegisteredAsync(cancellationToken).ConfigureAwait(false))
        {
            // SageMaker refuses to change the instance type of a variant that has a scalable target.
            await _scaling.DeregisterScalableTargetAsync(new()
            {
                ServiceNamespace = ScalingNamespace,
                ResourceId = ResourceId,
                ScalableDimension = ScalableDimension,
            }, cancellationToken).ConfigureAwait(false);
        }

        await _sageMaker.UpdateEndpointAsync(new()
        {
            EndpointName = _settings.EndpointName,
            EndpointConfigName = config.Name,
            // Keeps the autoscaled instance count; a new instance type starts from the config's count instead.
            RetainAllVariantProperties = !instanceTypeChanges,
            DeploymentConfig = DeploymentConfiguration(),
        }, cancellationToken).ConfigureAwait(false);
        _logger.Information("Blue/green update started.", ("endpointConfigName", config.Name), ("previousEndpointConfigName", current.Name));
        return Result(DeploymentAction.Updated, config, request,
            instanceTypeChanges ? $"Blue/green update started; instance type {current.InstanceType} -> {request.InstanceType}." : "Blue/green update started.");
    }

    public async Task<DeploymentResult> OnEndpointStateChangeAsync(EndpointStateChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.EndpointName != _settings.EndpointName)
        {
            return Skip(null, $"Endpoint '{change.EndpointName}' is not '{_settings.EndpointName}'.");
        }

        if (change.EndpointStatus != "IN_SERVICE")
        {
            return Skip(null, $"Endpoint state {change.EndpointStatus} needs no action: only IN_SERVICE is acted on.");
        }

        // The event may be late: act on the endpoint as it is now.
        var endpoint = await DescribeEndpointOrNullAsync(cancellationToken).ConfigureAwait(false);
        if (endpoint?.EndpointStatus != "InService")
        {
            return Skip(null, $"Endpoint is {endpoint?.EndpointStatus ?? "gone"} by now: its next IN_SERVICE event completes the work.");
        }

        var current = await DescribeConfigAsync(endpoint.EndpointConfigName!, cancellationToken).ConfigureAwait(false);
        await CompleteInServiceAsync(endpoint, current, cancellationToken).ConfigureAwait(false);

        var tags = await ListTagsAsync(endpoint.EndpointArn!, cancellationToken).ConfigureAwait(false);
        if (tags.TryGetValue(PendingPackageTag, out var pendingArn) && pendingArn.Length > 0)
        {
            var pending = new DeploymentRequest(pendingArn,
                tags.GetValueOrDefault(PendingInstanceTypeTag) ?? _settings.InstanceType,
                int.TryParse(tags.GetValueOrDefault(PendingInstanceCountTag), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                    ? count
                    : _settings.InitialInstanceCount);
            _logger.Information("Completing the deferred deployment.", ("modelPackageArn", pendingArn));
            var result = await DeployAsync(pending, cancellationToken).ConfigureAwait(false);
            await _sageMaker.DeleteTagsAsync(new()
            {
                ResourceArn = endpoint.EndpointArn!,
                TagKeys = [PendingPackageTag, PendingInstanceTypeTag, PendingInstanceCountTag],
            }, cancellationToken).ConfigureAwait(false);
            return result with { Reason = "Deferred deployment completed: " + result.Reason };
        }

        var removed = await CleanUpAsync(current, cancellationToken).ConfigureAwait(false);
        return new DeploymentResult(DeploymentAction.Unchanged, _settings.EndpointName, current.Name, current.ModelName, current.PackageArn,
            $"Endpoint is InService: autoscaling registered, deployed marker current, {removed} old models and configs deleted.");
    }

    private async Task CompleteInServiceAsync(DescribeEndpointResponse endpoint, ConfigInfo current, CancellationToken cancellationToken)
    {
        await RegisterAutoScalingAsync(cancellationToken).ConfigureAwait(false);
        if (current.PackageArn is not null)
        {
            await WriteMarkerAsync(endpoint, current, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RegisterAutoScalingAsync(CancellationToken cancellationToken)
    {
        await _scaling.RegisterScalableTargetAsync(new()
        {
            ServiceNamespace = ScalingNamespace,
            ResourceId = ResourceId,
            ScalableDimension = ScalableDimension,
            MinCapacity = _settings.MinCapacity,
            MaxCapacity = _settings.MaxCapacity,
        }, cancellationToken).ConfigureAwait(false);
        await _scaling.PutScalingPolicyAsync(new()
        {
            PolicyName = $"{_settings.EndpointName}-invocations-per-instance",
            ServiceNamespace = ScalingNamespace,
            ResourceId = ResourceId,
            ScalableDimension = ScalableDimension,
            PolicyType = "TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration = new()
            {
                TargetValue = _settings.TargetInvocationsPerInstance,
                PredefinedMetricSpecification = new() { PredefinedMetricType = "SageMakerVariantInvocationsPerInstance" },
                // Scale out fast on load, scale in slowly so a short lull does not drop capacity.
                ScaleOutCooldown = 60,
                ScaleInCooldown = 300,
            },
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> IsScalableTargetRegisteredAsync(CancellationToken cancellationToken)
    {
        var targets = await _scaling.DescribeScalableTargetsAsync(new()
        {
            ServiceNamespace = ScalingNamespace,
            ResourceIds = [ResourceId],
            ScalableDimension = ScalableDimension,
        }, cancellationToken).ConfigureAwait(false);
        return targets.ScalableTargets?.Any(target => target.ResourceId == ResourceId) == true;
    }

    private async Task WriteMarkerAsync(DescribeEndpointResponse endpoint, ConfigInfo current, CancellationToken cancellationToken)
    {
        var existing = await _store.GetAsync(_settings.ModelBucket, MarkerKey, cancellationToken).ConfigureAwait(false);
        if (existing is not null && MarkerConfigName(existing) == current.Name)
        {
            return;
        }

        var package = await _sageMaker.DescribeModelPackageAsync(new() { ModelPackageName = current.PackageArn! }, cancellationToken).ConfigureAwait(false);
        var metadata = package.CustomerMetadataProperties ?? new Dictionary<string, string>();
        // The proxy cannot serve a version without its preprocessing spec and profiles: no marker is better than a useless one.
        var profilesUri = RequiredMetadata(metadata, "SegmentProfilesUri", current.PackageArn!);
        RequiredMetadata(metadata, "PreprocessingSpecUri", current.PackageArn!);
        var (bucket, key) = ParseS3Uri(profilesUri, "SegmentProfilesUri");
        var profiles = await _store.GetAsync(bucket, key, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The segment profiles {profilesUri} of model package {current.PackageArn} do not exist.");
        await _store.PutAsync(_settings.ModelBucket, BaselineKey, profiles, "application/json", cancellationToken).ConfigureAwait(false);

        // Written last: the marker is what the proxy trusts, so it only names a version whose files are all in place.
        await _store.PutAsync(_settings.ModelBucket, MarkerKey, Marker(endpoint, current, package, metadata), "application/json", cancellationToken)
            .ConfigureAwait(false);
        _logger.Information("Deployed marker written.", ("endpointConfigName", current.Name), ("modelPackageArn", current.PackageArn));
    }

    private byte[] Marker(DescribeEndpointResponse endpoint, ConfigInfo current, DescribeModelPackageResponse package,
        IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("ModelPackageArn", current.PackageArn);
            if (package.ModelPackageVersion is { } version)
            {
                writer.WriteNumber("ModelPackageVersion", version);
            }
            else
            {
                writer.WriteNull("ModelPackageVersion");
            }

            writer.WriteString("ModelName", current.ModelName);
            writer.WriteString("EndpointName", endpoint.EndpointName ?? _settings.EndpointName);
            writer.WriteString("EndpointConfigName", current.Name);
            writer.WriteString("PreprocessingSpecUri", metadata.GetValueOrDefault("PreprocessingSpecUri"));
            writer.WriteString("SegmentProfilesUri", metadata.GetValueOrDefault("SegmentProfilesUri"));
            writer.WriteString("MetricsUri", metadata.GetValueOrDefault("MetricsUri"));
            writer.WriteString("PipelineExecutionArn", metadata.GetValueOrDefault("PipelineExecutionArn"));
            writer.WriteString("DeployedAt", _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string? MarkerConfigName(byte[] marker)
    {
        try
        {
            using var document = JsonDocument.Parse(marker);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("EndpointConfigName", out var name)
                && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task ReplaceFailedEndpointAsync(DescribeEndpointResponse endpoint, CancellationToken cancellationToken)
    {
        _logger.Warning("Endpoint is Failed: deleting it to create it again.", ("failureReason", endpoint.FailureReason));
        if (await IsScalableTargetRegisteredAsync(cancellationToken).ConfigureAwait(false))
        {
            await _scaling.DeregisterScalableTargetAsync(new()
            {
                ServiceNamespace = ScalingNamespace,
                ResourceId = ResourceId,
                ScalableDimension = ScalableDimension,
            }, cancellationToken).ConfigureAwait(false);
        }

        await _sageMaker.DeleteEndpointAsync(new() { EndpointName = _settings.EndpointName }, cancellationToken).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            if (await DescribeEndpointOrNullAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                return;
            }

            if (attempt >= _deletionWait.MaxPolls)
            {
                throw new TimeoutException(
                    $"Endpoint {_settings.EndpointName} was Failed and is still being deleted after {_deletionWait.MaxPolls} checks; invoke again to create it.");
            }

            await _deletionWait.Delay(_deletionWait.Interval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<int> CleanUpAsync(ConfigInfo current, CancellationToken cancellationToken)
    {
        var removed = 0;
        var configs = await OwnResourcesAsync(ListConfigsAsync, $"{_settings.ResourcePrefix}-c-", cancellationToken).ConfigureAwait(false);
        foreach (var config in configs.Skip(_settings.KeepVersions).Where(config => config.Name != current.Name))
        {
            await _sageMaker.DeleteEndpointConfigAsync(new() { EndpointConfigName = config.Name }, cancellationToken).ConfigureAwait(false);
            removed++;
        }

        var models = await OwnResourcesAsync(ListModelsPageAsync, $"{_settings.ResourcePrefix}-m-", cancellationToken).ConfigureAwait(false);
        var kept = configs.Take(_settings.KeepVersions).Select(config => config.Tags.GetValueOrDefault(ModelNameTag)).Append(current.ModelName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var model in models.Skip(_settings.KeepVersions).Where(model => !kept.Contains(model.Name)))
        {
            await _sageMaker.DeleteModelAsync(new() { ModelName = model.Name }, cancellationToken).ConfigureAwait(false);
            removed++;
        }

        if (removed > 0)
        {
            _logger.Information("Old models and endpoint configs deleted.", ("count", removed), ("keepVersions", _settings.KeepVersions));
        }

        return removed;
    }

    /// <summary>Resources named with our prefix and tagged with a package, newest first.</summary>
    private async Task<List<OwnResource>> OwnResourcesAsync(
        Func<string, string?, CancellationToken, Task<(IEnumerable<(string Name, string Arn, DateTimeOffset Created)> Items, string? Next)>> list,
        string prefix, CancellationToken cancellationToken)
    {
        var found = new List<OwnResource>();
        string? next = null;
        do
        {
            var (items, token) = await list(prefix, next, cancellationToken).ConfigureAwait(false);
            foreach (var (name, arn, created) in items.Where(item => item.Name.StartsWith(prefix, StringComparison.Ordinal)))
            {
                var tags = await ListTagsAsync(arn, cancellationToken).ConfigureAwait(false);
                if (tags.TryGetValue(PackageTag, out var package))
                {
                    found.Add(new OwnResource(name, created, package, tags));
                }
            }

            next = token;
        }
        while (next is not null);
        return [.. found.OrderByDescending(resource => resource.Created).ThenByDescending(resource => resource.Name, StringComparer.Ordinal)];
    }

    private async Task<(IEnumerable<(string, string, DateTimeOffset)>, string?)> ListConfigsAsync(string prefix, string? next, CancellationToken cancellationToken)
    {
        var page = await _sageMaker.ListEndpointConfigsAsync(new() { NameContains = prefix, NextToken = next, MaxResults = 100 }, cancellationToken)
            .ConfigureAwait(false);
        return ((page.EndpointConfigs ?? []).Select(config => (config.EndpointConfigName!, config.EndpointConfigArn!, config.CreationTime ?? default)),
            page.NextToken);
    }

    private async Task<(IEnumerable<(string, string, DateTimeOffset)>, string?)> ListModelsPageAsync(string prefix, string? next, CancellationToken cancellationToken)
    {
        var page = await _sageMaker.ListModelsAsync(new() { NameContains = prefix, NextToken = next, MaxResults = 100 }, cancellationToken)
            .ConfigureAwait(false);
        return ((page.Models ?? []).Select(model => (model.ModelName!, model.ModelArn!, model.CreationTime ?? default)), page.NextToken);
    }

    private async Task<string?> FindModelAsync(string packageArn, CancellationToken cancellationToken)
    {
        var models = await OwnResourcesAsync(ListModelsPageAsync, $"{_settings.ResourcePrefix}-m-", cancellationToken).ConfigureAwait(false);
        return models.FirstOrDefault(model => model.PackageArn == packageArn)?.Name;
    }

    private async Task<string> CreateModelAsync(string packageArn, int version, CancellationToken cancellationToken)
    {
        var name = $"{_settings.ResourcePrefix}-m-{version}-{Timestamp()}";
        await _sageMaker.CreateModelAsync(new()
        {
            ModelName = name,
            // The package carries image, artifact and environment: SageMaker resolves them from its ARN.
            PrimaryContainer = new() { ModelPackageName = packageArn },
            ExecutionRoleArn = _settings.ExecutionRoleArn,
            Tags = [new() { Key = PackageTag, Value = packageArn }],
        }, cancellationToken).ConfigureAwait(false);
        _logger.Information("Model created.", ("modelName", name), ("modelPackageArn", packageArn));
        return name;
    }

    private async Task<ConfigInfo?> FindConfigAsync(DeploymentRequest request, CancellationToken cancellationToken)
    {
        var configs = await OwnResourcesAsync(ListConfigsAsync, $"{_settings.ResourcePrefix}-c-", cancellationToken).ConfigureAwait(false);
        return configs.Select(config => config.AsConfig()).FirstOrDefault(config => config.Serves(request));
    }

    private async Task<ConfigInfo> CreateConfigAsync(DeploymentRequest request, int version, string modelName, CancellationToken cancellationToken)
    {
        var name = $"{_settings.ResourcePrefix}-c-{version}-{Timestamp()}";
        var count = request.InitialInstanceCount.ToString(CultureInfo.InvariantCulture);
        await _sageMaker.CreateEndpointConfigAsync(new()
        {
            EndpointConfigName = name,
            ProductionVariants =
            [
                new() { VariantName = VariantName, ModelName = modelName, InstanceType = request.InstanceType, InitialInstanceCount = request.InitialInstanceCount, InitialVariantWeight = 1 },
            ],
            DataCaptureConfig = _settings.DataCaptureS3Uri is { } destination
                ? new()
                {
                    EnableCapture = true,
                    InitialSamplingPercentage = _settings.DataCapturePercent,
                    DestinationS3Uri = destination,
                    CaptureOptions = [new() { CaptureMode = "Input" }, new() { CaptureMode = "Output" }],
                }
                : null,
            Tags =
            [
                new() { Key = PackageTag, Value = request.ModelPackageArn },
                new() { Key = ModelNameTag, Value = modelName },
                new() { Key = InstanceTypeTag, Value = request.InstanceType },
                new() { Key = InstanceCountTag, Value = count },
            ],
        }, cancellationToken).ConfigureAwait(false);
        _logger.Information("Endpoint config created.", ("endpointConfigName", name), ("instanceType", request.InstanceType));
        return new ConfigInfo(name, modelName, request.InstanceType, request.InitialInstanceCount, request.ModelPackageArn);
    }

    private async Task<ConfigInfo> DescribeConfigAsync(string name, CancellationToken cancellationToken)
    {
        var config = await _sageMaker.DescribeEndpointConfigAsync(new() { EndpointConfigName = name }, cancellationToken).ConfigureAwait(false);
        var variants = config.ProductionVariants ?? [];
        var variant = variants.FirstOrDefault(variant => variant.VariantName == VariantName) ?? (variants.Count > 0 ? variants[0] : null);
        var tags = await ListTagsAsync(config.EndpointConfigArn!, cancellationToken).ConfigureAwait(false);
        return new ConfigInfo(name, variant?.ModelName, variant?.InstanceType, variant?.InitialInstanceCount, tags.GetValueOrDefault(PackageTag));
    }

    private async Task<Dictionary<string, string>> ListTagsAsync(string arn, CancellationToken cancellationToken)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var page = await _sageMaker.ListTagsAsync(new() { ResourceArn = arn, NextToken = next }, cancellationToken).ConfigureAwait(false);
            foreach (var tag in page.Tags ?? [])
            {
                tags[tag.Key] = tag.Value;
            }

            next = page.NextToken;
        }
        while (next is not null);
        return tags;
    }

    private async Task<DescribeEndpointResponse?> DescribeEndpointOrNullAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _sageMaker.DescribeEndpointAsync(new() { EndpointName = _settings.EndpointName }, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException exception) when (exception.ErrorCode == "ValidationException"
            && exception.ErrorMessage.Contains("Could not find endpoint", StringComparison.Ordinal))
        {
            return null;
        }
    }

    private DeploymentConfig DeploymentConfiguration()
    {
        var routing = _settings.DeploymentStrategy switch
        {
            TrafficShift.Canary => new TrafficRoutingConfig
            {
                Type = "CANARY",
                WaitIntervalInSeconds = _settings.WaitSeconds,
                CanarySize = new() { Type = "CAPACITY_PERCENT", Value = _settings.CanaryPercent },
            },
            TrafficShift.Linear => new TrafficRoutingConfig
            {
                Type = "LINEAR",
                WaitIntervalInSeconds = _settings.WaitSeconds,
                LinearStepSize = new() { Type = "CAPACITY_PERCENT", Value = _settings.LinearStepPercent },
            },
            _ => new TrafficRoutingConfig { Type = "ALL_AT_ONCE", WaitIntervalInSeconds = _settings.WaitSeconds },
        };
        var steps = _settings.DeploymentStrategy switch
        {
            TrafficShift.Canary => 2,
            TrafficShift.Linear => (100 + _settings.LinearStepPercent - 1) / _settings.LinearStepPercent,
            _ => 1,
        };
        return new DeploymentConfig
        {
            BlueGreenUpdatePolicy = new()
            {
                TrafficRoutingConfiguration = routing,
                // Every bake wait plus an hour for provisioning, within SageMaker's 600..28800 s range.
                MaximumExecutionTimeoutInSeconds = Math.Clamp(steps * _settings.WaitSeconds + 3600, 600, 28800),
            },
            AutoRollbackConfiguration = _settings.RollbackAlarmNames.Count == 0
                ? null
                : new() { Alarms = [.. _settings.RollbackAlarmNames.Select(name => new SageMakerAlarm { AlarmName = name })] },
        };
    }

    private string Timestamp() => _time.GetUtcNow().ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);

    private DeploymentResult Skip(string? packageArn, string reason)
    {
        _logger.Information("Nothing to deploy.", ("reason", reason), ("modelPackageArn", packageArn));
        return new DeploymentResult(DeploymentAction.Skipped, _settings.EndpointName, null, null, packageArn, reason);
    }

    private DeploymentResult Result(DeploymentAction action, ConfigInfo config, DeploymentRequest request, string reason) =>
        new(action, _settings.EndpointName, config.Name, config.ModelName, request.ModelPackageArn, reason);

    private static string RequiredMetadata(IReadOnlyDictionary<string, string> metadata, string name, string packageArn) =>
        metadata.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new InvalidOperationException($"Model package {packageArn} has no CustomerMetadataProperties.{name}: the deployed marker cannot name it.");

    private static (string Bucket, string Key) ParseS3Uri(string uri, string what) =>
        uri.StartsWith("s3://", StringComparison.Ordinal) && uri[5..].Split('/', 2) is [{ Length: > 0 } bucket, { Length: > 0 } key]
            ? (bucket, key)
            : throw new InvalidOperationException($"{what} '{uri}' is not an s3://bucket/key URI.");

    private sealed record ConfigInfo(string Name, string? ModelName, string? InstanceType, int? InstanceCount, string? PackageArn)
    {
        public bool Serves(DeploymentRequest request) =>
            PackageArn == request.ModelPackageArn && InstanceType == request.InstanceType && InstanceCount == request.InitialInstanceCount;
    }

    private sealed record OwnResource(string Name, DateTimeOffset Created, string PackageArn, IReadOnlyDictionary<string, string> Tags)
    {
        public ConfigInfo AsConfig() => new(Name, Tags.GetValueOrDefault(ModelNameTag), Tags.GetValueOrDefault(InstanceTypeTag),
            int.TryParse(Tags.GetValueOrDefault(InstanceCountTag), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : null,
            PackageArn);
    }
}

/// <summary>
/// How long to wait for a Failed endpoint's deletion before creating it again. The defaults fit the function's 60 s
/// timeout; a slower deletion fails the invocation, and EventBridge's asynchronous retries (after about 1 and 2 minutes)
/// find the endpoint gone and create it.
/// </summary>
public sealed record EndpointDeletionWait
{
    /// <summary>DescribeEndpoint checks before giving up. Default: 4.</summary>
    public int MaxPolls { get; init; } = 4;

    /// <summary>The pause between checks. Default: 10 s (at most 30 s of waiting).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Waits between checks. Default: <see cref="Task.Delay(TimeSpan, CancellationToken)"/>.</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;
}
