using System.Net;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.LocalAws.AutoScaling;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>What the control plane is built from; every optional member's doc says its default.</summary>
public sealed record SageMakerControlPlaneOptions
{
    /// <summary>Where DescribeModelPackage and CreateModel find model packages.</summary>
    public required IModelPackageSource Packages { get; init; }

    /// <summary>Where endpoint variants run.</summary>
    public required IEndpointHost Host { get; init; }

    /// <summary>Application Auto Scaling's targets, which UpdateEndpoint's instance-type rule reads.</summary>
    public required ScalableTargetRegistry ScalableTargets { get; init; }

    /// <summary>The account in ARNs and runtime errors. Default: <see cref="LocalAccount.AccountId"/>.</summary>
    public string AccountId { get; init; } = LocalAccount.AccountId;

    /// <summary>The region in ARNs. Default: <see cref="LocalAccount.Region"/>.</summary>
    public string Region { get; init; } = LocalAccount.Region;

    /// <summary>Told of every endpoint status change, in order, while the control plane's lock is held: it must not block. Default: nobody.</summary>
    public Action<EndpointStateChanged> StateChanged { get; init; } = _ => { };

    /// <summary>Where transitions and background failures are reported. Default: nowhere.</summary>
    public TextWriter Log { get; init; } = TextWriter.Null;

    /// <summary>Creation and modification times. Default: the system clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How long a replaced or deleted variant may finish the requests it is answering before it is stopped. Default: 60 s.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>The outcome of InvokeEndpoint: which variant answered, and the container's answer whatever its status.</summary>
public sealed record EndpointInvocation(string VariantName, VariantAnswer Answer);

/// <summary>
/// SageMaker's control plane for models, endpoint configs, endpoints and tags with SageMaker's rules and error messages
/// (names are unique and well-formed, unknown names are ValidationExceptions naming the ARN, only an InService endpoint
/// is updated, an instance-type change is refused while the variant is a scalable target), and the endpoint lifecycle:
/// Creating -> InService or Failed, Updating -> InService on the new config (blue/green: traffic switches only once the
/// new variant is healthy, the old one finishes its requests before it stops) or RollingBack -> InService on the old
/// config with the FailureReason, Deleting -> gone once the host released the endpoint. The runtime's InvokeEndpoint goes
/// to the variant currently serving.
/// Locally every endpoint serves exactly one production variant, with one process whatever its instance count.
/// </summary>
public sealed class SageMakerControlPlane : IScalableResources, IAsyncDisposable
{
    public const string ServiceId = "SageMaker";
    public const string RuntimeServiceId = "SageMaker Runtime";
    public const string VariantInstanceCount = "sagemaker:variant:DesiredInstanceCount";
    private const string NamePattern = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}";
    private const string ModelNamePattern = "^[a-zA-Z0-9](-*[a-zA-Z0-9])*";
    private const string TagPattern = @"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";
    private const int DefaultListPage = 10;
    private const int DefaultTagPage = 50;
    private static readonly string[] SortKeys = ["Name", "CreationTime"];
    private static readonly string[] SortOrders = ["Ascending", "Descending"];

    private readonly object _gate = new();
    private readonly Dictionary<string, ModelRecord> _models = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ConfigRecord> _configs = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, EndpointRecord> _endpoints = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Dictionary<string, string>> _tags = new(StringComparer.Ordinal);
    private readonly HashSet<Task> _background = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly SageMakerControlPlaneOptions _options;
    private DateTimeOffset _lastCreation = DateTimeOffset.MinValue;
    private bool _disposed;

    public SageMakerControlPlane(SageMakerControlPlaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    public string ServiceNamespace => "sagemaker";

    public string ServiceLinkedRoleArn =>
        $"arn:aws:iam::{_options.AccountId}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint";

    public string EndpointArn(string endpointName) => Arn("endpoint", endpointName);

    public string ModelArn(string modelName) => Arn("model", modelName);

    public string EndpointConfigArn(string endpointConfigName) => Arn("endpoint-config", endpointConfigName);

    public Task<DescribeModelPackageResponse> DescribeModelPackageAsync(DescribeModelPackageRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(FindPackage(request.ModelPackageName, "DescribeModelPackage"));
    }

    public Task<CreateModelResponse> CreateModelAsync(CreateModelRequest request, CancellationToken cancellationToken) => Run("CreateModel", operation =>
    {
        var errors = new ValidationErrors();
        errors.Text(request.ModelName, nameof(request.ModelName), 63, ModelNamePattern);
        errors.Text(request.ExecutionRoleArn, nameof(request.ExecutionRoleArn), 2048, @"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$");
        ValidateTags(errors, request.Tags);
        errors.ThrowIfAny(ServiceId, operation);
        if (_models.ContainsKey(request.ModelName))
        {
            throw Validation(operation, $"Cannot create already existing model \"{ModelArn(request.ModelName)}\".");
        }

        var definition = (request.PrimaryContainer, request.Containers) switch
        {
            ({ } primary, null) => primary,
            (null, [var only]) => only,
            (null, { Count: > 1 }) => throw Validation(operation,
                "The local SageMaker serves single-container models: give PrimaryContainer or one entry in Containers, not an inference pipeline."),
            (null, _) => throw Validation(operation, "Either PrimaryContainer or Containers must be specified."),
            _ => throw Validation(operation, "PrimaryContainer and Containers cannot both be specified."),
        };
        var arn = ModelArn(request.ModelName);
        _models[request.ModelName] = new ModelRecord(request.ModelName, arn, NextCreationTime(), request, Resolve(definition, operation));
        _tags[arn] = TagMap(request.Tags);
        return new CreateModelResponse { ModelArn = arn };
    });

    public Task<DescribeModelResponse> DescribeModelAsync(DescribeModelRequest request, CancellationToken cancellationToken) => Run("DescribeModel", operation =>
    {
        var model = RequireModel(request.ModelName, operation);
        return new DescribeModelResponse
        {
            ModelName = model.Name,
            ModelArn = model.Arn,
            PrimaryContainer = model.Request.PrimaryContainer,
            Containers = model.Request.Containers,
            ExecutionRoleArn = model.Request.ExecutionRoleArn,
            EnableNetworkIsolation = model.Request.EnableNetworkIsolation ?? false,
            CreationTime = model.Created,
        };
    });

    public Task DeleteModelAsync(DeleteModelRequest request, CancellationToken cancellationToken) => Run("DeleteModel", operation =>
    {
        // SageMaker deletes a model that endpoint configs still name: what is served keeps running.
        var model = RequireModel(request.ModelName, operation);
        _models.Remove(model.Name);
        _tags.Remove(model.Arn);
        return true;
    });

    public Task<ListModelsResponse> ListModelsAsync(ListModelsRequest request, CancellationToken cancellationToken) => Run("ListModels", operation =>
    {
        var (page, next) = List(_models.Values, model => (model.Name, model.Created), request.SortBy, request.SortOrder, request.NameContains,
            request.CreationTimeBefore, request.CreationTimeAfter, request.MaxResults, request.NextToken, operation);
        return new ListModelsResponse
        {
            Models = [.. page.Select(model => new ModelSummary { ModelName = model.Name, ModelArn = model.Arn, CreationTime = model.Created })],
            NextToken = next,
        };
    });

    public Task<CreateEndpointConfigResponse> CreateEndpointConfigAsync(CreateEndpointConfigRequest request, CancellationToken cancellationToken) =>
        Run("CreateEndpointConfig", operation =>
        {
            var errors = new ValidationErrors();
            errors.Text(request.EndpointConfigName, nameof(request.EndpointConfigName), 63, NamePattern);
            if (request.ProductionVariants.Count is < 1 or > 10)
            {
                errors.Range(request.ProductionVariants.Count, "ProductionVariants.length", 1, 10);
            }

            for (var i = 0; i < request.ProductionVariants.Count; i++)
            {
                var variant = request.ProductionVariants[i];
                errors.Text(variant.VariantName, $"productionVariants.{i + 1}.member.variantName", 63, NamePattern);
                errors.Text(variant.ModelName, $"productionVariants.{i + 1}.member.modelName", 63, ModelNamePattern);
                errors.Range(variant.InitialInstanceCount, $"productionVariants.{i + 1}.member.initialInstanceCount", 1, int.MaxValue);
            }

            if (request.DataCaptureConfig is { } capture)
            {
                errors.Range(capture.InitialSamplingPercentage, "dataCaptureConfig.initialSamplingPercentage", 0, 100);
                errors.Text(capture.DestinationS3Uri, "dataCaptureConfig.destinationS3Uri", 512, "^(https|s3)://([^/])/?(.*)$");
            }

            ValidateTags(errors, request.Tags);
            errors.ThrowIfAny(ServiceId, operation);
            if (_configs.ContainsKey(request.EndpointConfigName))
            {
                throw Validation(operation, $"Cannot create already existing endpoint configuration \"{EndpointConfigArn(request.EndpointConfigName)}\".");
            }

            if (request.ProductionVariants.GroupBy(variant => variant.VariantName, StringComparer.OrdinalIgnoreCase).FirstOrDefault(group => group.Count() > 1) is { } duplicate)
            {
                throw Validation(operation, $"VariantName {duplicate.Key} is used by more than one production variant: variant names must be unique.");
            }

            foreach (var variant in request.ProductionVariants.Where(variant => !_models.ContainsKey(variant.ModelName)))
            {
                throw Validation(operation, $"Could not find model \"{ModelArn(variant.ModelName)}\".");
            }

            var arn = EndpointConfigArn(request.EndpointConfigName);
            _configs[request.EndpointConfigName] = new ConfigRecord(request.EndpointConfigName, arn, NextCreationTime(), request);
            _tags[arn] = TagMap(request.Tags);
            return new CreateEndpointConfigResponse { EndpointConfigArn = arn };
        });

    public Task<DescribeEndpointConfigResponse> DescribeEndpointConfigAsync(DescribeEndpointConfigRequest request, CancellationToken cancellationToken) =>
        Run("DescribeEndpointConfig", operation =>
        {
            var config = RequireConfig(request.EndpointConfigName, operation);
            return new DescribeEndpointConfigResponse
            {
                EndpointConfigName = config.Name,
                EndpointConfigArn = config.Arn,
                ProductionVariants = config.Request.ProductionVariants,
                KmsKeyId = config.Request.KmsKeyId,
                CreationTime = config.Created,
            };
        });

    public Task DeleteEndpointConfigAsync(DeleteEndpointConfigRequest request, CancellationToken cancellationToken) => Run("DeleteEndpointConfig", operation =>
    {
        // SageMaker allows deleting the config an endpoint serves; the endpoint keeps running on what it started with.
        var config = RequireConfig(request.EndpointConfigName, operation);
        _configs.Remove(config.Name);
        _tags.Remove(config.Arn);
        return true;
    });

    public Task<ListEndpointConfigsResponse> ListEndpointConfigsAsync(ListEndpointConfigsRequest request, CancellationToken cancellationToken) =>
        Run("ListEndpointConfigs", operation =>
        {
            var (page, next) = List(_configs.Values, config => (config.Name, config.Created), request.SortBy, request.SortOrder, request.NameContains,
                request.CreationTimeBefore, request.CreationTimeAfter, request.MaxResults, request.NextToken, operation);
            return new ListEndpointConfigsResponse
            {
                EndpointConfigs = [.. page.Select(config => new EndpointConfigSummary { EndpointConfigName = config.Name, EndpointConfigArn = config.Arn, CreationTime = config.Created })],
                NextToken = next,
            };
        });

    public Task<CreateEndpointResponse> CreateEndpointAsync(CreateEndpointRequest request, CancellationToken cancellationToken) => Run("CreateEndpoint", operation =>
    {
        var errors = new ValidationErrors();
        errors.Text(request.EndpointName, nameof(request.EndpointName), 63, NamePattern);
        errors.Text(request.EndpointConfigName, nameof(request.EndpointConfigName), 63, NamePattern);
        ValidateTags(errors, request.Tags);
        errors.ThrowIfAny(ServiceId, operation);
        if (_endpoints.ContainsKey(request.EndpointName))
        {
            throw Validation(operation, $"Cannot create already existing endpoint \"{EndpointArn(request.EndpointName)}\".");
        }

        var deployment = Deployment(request.EndpointName, RequireConfig(request.EndpointConfigName, operation), operation);
        var now = NextCreationTime();
        var endpoint = new EndpointRecord(request.EndpointName, EndpointArn(request.EndpointName), now, deployment.EndpointConfigName)
        {
            LastDeploymentConfig = request.DeploymentConfig,
        };
        _endpoints[endpoint.Name] = endpoint;
        _tags[endpoint.Arn] = TagMap(request.Tags);
        SetStatus(endpoint, "Creating");
        BeginTransition(endpoint, deployment, isUpdate: false);
        return new CreateEndpointResponse { EndpointArn = endpoint.Arn };
    });

    public Task<UpdateEndpointResponse> UpdateEndpointAsync(UpdateEndpointRequest request, CancellationToken cancellationToken) => Run("UpdateEndpoint", operation =>
    {
        var endpoint = RequireEndpoint(request.EndpointName, operation);
        if (endpoint.Status == "Failed")
        {
            throw Validation(operation, $"Cannot update failed endpoint \"{endpoint.Arn}\": DeleteEndpoint is the only operation that can be performed on a failed endpoint.");
        }

        if (endpoint.Status != "InService")
        {
            throw Validation(operation, $"Cannot update in-progress endpoint \"{endpoint.Arn}\".");
        }

        var next = RequireConfig(request.EndpointConfigName, operation);
        var deployment = Deployment(endpoint.Name, next, operation);
        var served = endpoint.Serving!.Deployment.Variant;
        var successor = next.Request.ProductionVariants.FirstOrDefault(variant => variant.VariantName == served.VariantName);
        if (_options.ScalableTargets.IsRegistered(ServiceNamespace, VariantResourceId(endpoint.Name, served.VariantName))
            && (successor is null || successor.InstanceType != served.InstanceType))
        {
            throw Validation(operation,
                $"The variant(s) \"[{served.VariantName}]\" must be deregistered as scalable targets with AWS Application Auto Scaling before they can be updated.");
        }

        endpoint.PendingConfigName = next.Name;
        endpoint.PendingSince = _options.Time.GetUtcNow();
        if (request.RetainDeploymentConfig != true)
        {
            endpoint.LastDeploymentConfig = request.DeploymentConfig;
        }

        SetStatus(endpoint, "Updating");
        BeginTransition(endpoint, deployment, isUpdate: true);
        return new UpdateEndpointResponse { EndpointArn = endpoint.Arn };
    });

    public Task<DescribeEndpointResponse> DescribeEndpointAsync(DescribeEndpointRequest request, CancellationToken cancellationToken) => Run("DescribeEndpoint", operation =>
    {
        var endpoint = RequireEndpoint(request.EndpointName, operation);
        return new DescribeEndpointResponse
        {
            EndpointName = endpoint.Name,
            EndpointArn = endpoint.Arn,
            EndpointConfigName = endpoint.ConfigName,
            ProductionVariants = Summaries(endpoint),
            EndpointStatus = endpoint.Status,
            FailureReason = endpoint.FailureReason,
            CreationTime = endpoint.Created,
            LastModifiedTime = endpoint.LastModified,
            LastDeploymentConfig = endpoint.LastDeploymentConfig,
            PendingDeploymentSummary = endpoint.PendingConfigName is { } pending
                ? new PendingDeploymentSummary { EndpointConfigName = pending, StartTime = endpoint.PendingSince }
                : null,
        };
    });

    public Task DeleteEndpointAsync(DeleteEndpointRequest request, CancellationToken cancellationToken) => Run("DeleteEndpoint", operation =>
    {
        var endpoint = RequireEndpoint(request.EndpointName, operation);
        if (endpoint.Status == "Deleting")
        {
            return true;
        }

        endpoint.Generation++;
        endpoint.Transition?.Cancel();
        endpoint.PendingConfigName = null;
        var serving = endpoint.Serving;
        endpoint.Serving = null;
        SetStatus(endpoint, "Deleting");
        InBackground(async () =>
        {
            try
            {
                if (serving is not null)
                {
                    await serving.RetireAsync(_options.DrainTimeout, _stopping.Token).ConfigureAwait(false);
                }

                await _options.Host.ReleaseEndpointAsync(endpoint.Name, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // What the host could not clean up stays behind; the endpoint is gone all the same.
                await _options.Log.WriteLineAsync($"[sagemaker] releasing endpoint {endpoint.Name} failed: {exception}").ConfigureAwait(false);
            }

            lock (_gate)
            {
                if (_endpoints.GetValueOrDefault(endpoint.Name) == endpoint)
                {
                    _endpoints.Remove(endpoint.Name);
                    _tags.Remove(endpoint.Arn);
                }
            }
        });
        return true;
    });

    public Task<ListTagsResponse> ListTagsAsync(ListTagsRequest request, CancellationToken cancellationToken) => Run("ListTags", operation =>
    {
        var errors = new ValidationErrors();
        errors.Range(request.MaxResults, nameof(request.MaxResults), 50, int.MaxValue);
        errors.ThrowIfAny(ServiceId, operation);
        var tags = RequireTags(request.ResourceArn, operation).Select(tag => new Tag { Key = tag.Key, Value = tag.Value }).ToList();
        var (page, next) = PageToken.Slice(tags, request.NextToken, request.MaxResults ?? DefaultTagPage, ServiceId, operation);
        return new ListTagsResponse { Tags = page, NextToken = next };
    });

    public Task<AddTagsResponse> AddTagsAsync(AddTagsRequest request, CancellationToken cancellationToken) => Run("AddTags", operation =>
    {
        var errors = new ValidationErrors();
        ValidateTags(errors, request.Tags);
        errors.ThrowIfAny(ServiceId, operation);
        var tags = RequireTags(request.ResourceArn, operation);
        foreach (var tag in request.Tags)
        {
            tags[tag.Key] = tag.Value;
        }

        return new AddTagsResponse { Tags = request.Tags };
    });

    public Task<DeleteTagsResponse> DeleteTagsAsync(DeleteTagsRequest request, CancellationToken cancellationToken) => Run("DeleteTags", operation =>
    {
        var tags = RequireTags(request.ResourceArn, operation);
        foreach (var key in request.TagKeys)
        {
            tags.Remove(key);
        }

        return new DeleteTagsResponse();
    });

    /// <summary>
    /// The runtime's InvokeEndpoint: the request goes to the variant serving now; a variant replaced while the request
    /// runs is stopped only after it answered.
    /// </summary>
    public async Task<EndpointInvocation> InvokeEndpointAsync(string endpointName, VariantInvocation invocation, CancellationToken cancellationToken)
    {
        ServingSlot slot;
        lock (_gate)
        {
            if (_endpoints.GetValueOrDefault(endpointName)?.Serving is not { } serving)
            {
                throw new AwsServiceException(RuntimeServiceId, "InvokeEndpoint", HttpStatusCode.BadRequest, "ValidationError",
                    $"Endpoint {endpointName} of account {_options.AccountId} not found.", null);
            }

            slot = serving;
            slot.Acquire();
        }

        try
        {
            var answer = await slot.Variant.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
            return new EndpointInvocation(slot.Deployment.Variant.VariantName, answer);
        }
        finally
        {
            slot.Release();
        }
    }

    public string? RegistrationProblem(string resourceId, string scalableDimension)
    {
        ArgumentNullException.ThrowIfNull(resourceId);
        if (resourceId.Split('/') is not ["endpoint", var endpointName, "variant", var variantName])
        {
            return $"Unsupported resource ID '{resourceId}': a SageMaker variant is endpoint/<endpoint name>/variant/<variant name>.";
        }

        if (scalableDimension != VariantInstanceCount)
        {
            return $"Unsupported scalable dimension '{scalableDimension}' for {resourceId}: the local SageMaker's variants scale by {VariantInstanceCount}.";
        }

        lock (_gate)
        {
            var endpoint = _endpoints.GetValueOrDefault(endpointName);
            if (endpoint?.Status != "InService" || endpoint.Name != endpointName)
            {
                return $"Endpoint {endpointName} is not InService: its variant cannot be a scalable target yet.";
            }

            return endpoint.Serving!.Deployment.Variant.VariantName == variantName
                ? null
                : $"Endpoint {endpointName} has no production variant {variantName}.";
        }
    }

    /// <summary>Stops every variant and waits for every transition; in-flight requests are not waited for.</summary>
    public async ValueTask DisposeAsync()
    {
        List<ServingSlot> serving;
        Task[] background;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            serving = [.. _endpoints.Values.Select(endpoint => endpoint.Serving).OfType<ServingSlot>()];
            foreach (var endpoint in _endpoints.Values)
            {
                endpoint.Serving = null;
            }

            background = [.. _background];
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(background).ConfigureAwait(false);
        await Task.WhenAll(serving.Select(slot => slot.RetireAsync(TimeSpan.Zero, CancellationToken.None))).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static string VariantResourceId(string endpointName, string variantName) => $"endpoint/{endpointName}/variant/{variantName}";

    private void BeginTransition(EndpointRecord endpoint, VariantDeployment deployment, bool isUpdate)
    {
        var generation = ++endpoint.Generation;
        endpoint.Transition?.Cancel();
        var transition = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        endpoint.Transition = transition;
        InBackground(async () =>
        {
            try
            {
                await TransitionAsync(endpoint, generation, deployment, isUpdate, transition.Token).ConfigureAwait(false);
            }
            finally
            {
                lock (_gate)
                {
                    if (endpoint.Transition == transition)
                    {
                        endpoint.Transition = null;
                    }
                }

                transition.Dispose();
            }
        });
    }

    private async Task TransitionAsync(EndpointRecord endpoint, int generation, VariantDeployment deployment, bool isUpdate, CancellationToken cancellationToken)
    {
        IServingVariant variant;
        try
        {
            variant = await _options.Host.StartAsync(deployment, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (EndpointStartException exception)
        {
            Fail(endpoint, generation, exception.Message, isUpdate);
            return;
        }
        catch (Exception exception)
        {
            await _options.Log.WriteLineAsync($"[sagemaker] starting {deployment.EndpointName}/{deployment.Variant.VariantName} failed unexpectedly: {exception}")
                .ConfigureAwait(false);
            Fail(endpoint, generation, $"An internal error occurred while starting production variant {deployment.Variant.VariantName}: {exception.Message}", isUpdate);
            return;
        }

        ServingSlot? replaced = null;
        var accepted = false;
        lock (_gate)
        {
            if (!_disposed && endpoint.Generation == generation && _endpoints.GetValueOrDefault(endpoint.Name) == endpoint)
            {
                replaced = endpoint.Serving;
                endpoint.Serving = new ServingSlot(variant, deployment, _options.Time.GetUtcNow());
                endpoint.ConfigName = deployment.EndpointConfigName;
                endpoint.PendingConfigName = null;
                endpoint.FailureReason = null;
                SetStatus(endpoint, "InService");
                accepted = true;
            }
        }

        if (!accepted)
        {
            await variant.DisposeAsync().ConfigureAwait(false);
            return;
        }

        if (replaced is not null)
        {
            await replaced.RetireAsync(_options.DrainTimeout, _stopping.Token).ConfigureAwait(false);
        }
    }

    private void Fail(EndpointRecord endpoint, int generation, string reason, bool isUpdate)
    {
        lock (_gate)
        {
            if (_disposed || endpoint.Generation != generation || _endpoints.GetValueOrDefault(endpoint.Name) != endpoint)
            {
                return;
            }

            endpoint.FailureReason = reason;
            endpoint.PendingConfigName = null;
            if (isUpdate)
            {
                // As an automatic rollback ends: the old variant never stopped serving.
                SetStatus(endpoint, "RollingBack");
                SetStatus(endpoint, "InService");
            }
            else
            {
                SetStatus(endpoint, "Failed");
            }
        }
    }

    private void InBackground(Func<Task> work)
    {
        Task task;
        // Background work must not inherit the API call's flow (and with it an event hold that ends with the call).
        using (ExecutionContext.SuppressFlow())
        {
            task = Task.Run(work);
        }

        _background.Add(task);
        task.ContinueWith(done =>
        {
            lock (_gate)
            {
                _background.Remove(done);
            }

            if (done.Exception is { } exception)
            {
                _options.Log.WriteLine($"[sagemaker] background work failed: {exception}");
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void SetStatus(EndpointRecord endpoint, string status)
    {
        endpoint.Status = status;
        endpoint.LastModified = _options.Time.GetUtcNow();
        var change = new EndpointStateChanged(endpoint.Name, endpoint.Arn, endpoint.ConfigName, status, endpoint.FailureReason, endpoint.Created,
            endpoint.LastModified, new Dictionary<string, string>(_tags.GetValueOrDefault(endpoint.Arn) ?? [], StringComparer.Ordinal), Summaries(endpoint));
        _options.Log.WriteLine($"[sagemaker] endpoint {change}");
        _options.StateChanged(change);
    }

    private List<ProductionVariantSummary> Summaries(EndpointRecord endpoint)
    {
        // The variant being served, else the one being created (a Failed endpoint reports what it tried).
        var variant = endpoint.Serving?.Deployment.Variant
            ?? _configs.GetValueOrDefault(endpoint.ConfigName)?.Request.ProductionVariants[0];
        if (variant is null)
        {
            return [];
        }

        var image = endpoint.Serving?.Deployment.Container.Image;
        return
        [
            new ProductionVariantSummary
            {
                VariantName = variant.VariantName,
                DeployedImages = image is null ? null : [new DeployedImage { SpecifiedImage = image, ResolvedImage = image, ResolutionTime = endpoint.Serving!.Started }],
                CurrentWeight = variant.InitialVariantWeight ?? 1,
                DesiredWeight = variant.InitialVariantWeight ?? 1,
                CurrentInstanceCount = endpoint.Serving is null ? 0 : variant.InitialInstanceCount ?? 1,
                DesiredInstanceCount = variant.InitialInstanceCount ?? 1,
            },
        ];
    }

    private VariantDeployment Deployment(string endpointName, ConfigRecord config, string operation)
    {
        if (config.Request.ProductionVariants is not [var variant])
        {
            throw Validation(operation,
                $"The local SageMaker serves one production variant per endpoint; endpoint config {config.Name} has {config.Request.ProductionVariants.Count}.");
        }

        var model = _models.GetValueOrDefault(variant.ModelName) ?? throw Validation(operation, $"Could not find model \"{ModelArn(variant.ModelName)}\".");
        return new VariantDeployment(endpointName, config.Name, variant, model.Container);
    }

    private ServingContainer Resolve(ContainerDefinition definition, string operation)
    {
        if (definition.ModelPackageName is not { } packageName)
        {
            return definition.Image is null
                ? throw Validation(operation, "A container needs an Image, or a ModelPackageName to take the image from.")
                : new ServingContainer(definition.Image, definition.ModelDataUrl, definition.Environment ?? new Dictionary<string, string>());
        }

        if (definition.Image is not null || definition.ModelDataUrl is not null)
        {
            throw Validation(operation, "A container with a ModelPackageName takes its Image and ModelDataUrl from the package: do not give them too.");
        }

        var package = FindPackage(packageName, operation);
        if (package.InferenceSpecification?.Containers is not [var container, ..])
        {
            throw Validation(operation, $"Model package {package.ModelPackageArn} has no InferenceSpecification.Containers to create a model from.");
        }

        // The package's environment, with what the model adds or overrides.
        var environment = new Dictionary<string, string>(container.Environment ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (name, value) in definition.Environment ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        return new ServingContainer(container.Image, container.ModelDataUrl, environment);
    }

    private DescribeModelPackageResponse FindPackage(string name, string operation) =>
        _options.Packages.Find(name) ?? throw Validation(operation, $"Model Package {name} does not exist.");

    private static (List<T> Page, string? Next) List<T>(IEnumerable<T> items, Func<T, (string Name, DateTimeOffset Created)> key, string? sortBy, string? sortOrder,
        string? nameContains, DateTimeOffset? createdBefore, DateTimeOffset? createdAfter, int? maxResults, string? nextToken, string operation)
    {
        var errors = new ValidationErrors();
        errors.OneOf(sortBy, "SortBy", SortKeys);
        errors.OneOf(sortOrder, "SortOrder", SortOrders);
        errors.Range(maxResults, "MaxResults", 1, 100);
        errors.ThrowIfAny(ServiceId, operation);
        var filtered = items
            .Where(item => nameContains is null || key(item).Name.Contains(nameContains, StringComparison.OrdinalIgnoreCase))
            .Where(item => createdBefore is null || key(item).Created < createdBefore)
            .Where(item => createdAfter is null || key(item).Created >= createdAfter);
        var ascending = sortBy == "Name"
            ? filtered.OrderBy(item => key(item).Name, StringComparer.Ordinal)
            : filtered.OrderBy(item => key(item).Created).ThenBy(item => key(item).Name, StringComparer.Ordinal);
        var sorted = sortOrder == "Ascending" ? ascending.ToList() : ascending.Reverse().ToList();
        return PageToken.Slice(sorted, nextToken, maxResults ?? DefaultListPage, ServiceId, operation);
    }

    private static void ValidateTags(ValidationErrors errors, IReadOnlyList<Tag>? tags)
    {
        for (var i = 0; i < (tags?.Count ?? 0); i++)
        {
            errors.Text(tags![i].Key, $"tags.{i + 1}.member.key", 128, TagPattern);
            errors.Text(tags[i].Value, $"tags.{i + 1}.member.value", 256, TagPattern);
        }

        if (tags?.Count > 50)
        {
            errors.Range(tags.Count, "tags.length", 0, 50);
        }
    }

    private static Dictionary<string, string> TagMap(IReadOnlyList<Tag>? tags)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags ?? [])
        {
            map[tag.Key] = tag.Value;
        }

        return map;
    }

    private Dictionary<string, string> RequireTags(string arn, string operation) =>
        _tags.TryGetValue(arn, out var tags) ? tags : throw Validation(operation, $"Resource {arn} does not exist.");

    private ModelRecord RequireModel(string name, string operation) =>
        _models.GetValueOrDefault(name) ?? throw Validation(operation, $"Could not find model \"{ModelArn(name)}\".");

    private ConfigRecord RequireConfig(string name, string operation) =>
        _configs.GetValueOrDefault(name) ?? throw Validation(operation, $"Could not find endpoint configuration \"{EndpointConfigArn(name)}\".");

    private EndpointRecord RequireEndpoint(string name, string operation) =>
        _endpoints.GetValueOrDefault(name) ?? throw Validation(operation, $"Could not find endpoint \"{EndpointArn(name)}\".");

    private string Arn(string kind, string name) => $"arn:aws:sagemaker:{_options.Region}:{_options.AccountId}:{kind}/{name.ToLowerInvariant()}";

    // Strictly increasing, so "newest first" is never a tie, even for resources created in the same millisecond.
    private DateTimeOffset NextCreationTime()
    {
        var now = _options.Time.GetUtcNow();
        _lastCreation = now > _lastCreation ? now : _lastCreation.AddMilliseconds(1);
        return _lastCreation;
    }

    private static AwsServiceException Validation(string operation, string message) =>
        new(ServiceId, operation, HttpStatusCode.BadRequest, "ValidationException", message, null);

    private Task<T> Run<T>(string operation, Func<string, T> action)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Task.FromResult(action(operation));
        }
    }

    private sealed record ModelRecord(string Name, string Arn, DateTimeOffset Created, CreateModelRequest Request, ServingContainer Container);

    private sealed record ConfigRecord(string Name, string Arn, DateTimeOffset Created, CreateEndpointConfigRequest Request);

    private sealed class EndpointRecord(string name, string arn, DateTimeOffset created, string configName)
    {
        public string Name { get; } = name;
        public string Arn { get; } = arn;
        public DateTimeOffset Created { get; } = created;
        public DateTimeOffset LastModified { get; set; } = created;
        public string ConfigName { get; set; } = configName;
        public string? PendingConfigName { get; set; }
        public DateTimeOffset? PendingSince { get; set; }
        public string Status { get; set; } = "Creating";
        public string? FailureReason { get; set; }
        public DeploymentConfig? LastDeploymentConfig { get; set; }
        public ServingSlot? Serving { get; set; }
        public int Generation { get; set; }
        public CancellationTokenSource? Transition { get; set; }
    }

    /// <summary>A running variant and the requests it is answering; retired, it stops once they are answered (or the drain timeout passed).</summary>
    private sealed class ServingSlot(IServingVariant variant, VariantDeployment deployment, DateTimeOffset started)
    {
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _inFlight;
        private int _retired;

        public IServingVariant Variant => variant;

        public VariantDeployment Deployment => deployment;

        public DateTimeOffset Started => started;

        /// <summary>Counts a request; called under the control plane's lock while this slot serves.</summary>
        public void Acquire() => Interlocked.Increment(ref _inFlight);

        public void Release()
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _retired) == 1)
            {
                _drained.TrySetResult();
            }
        }

        public async Task RetireAsync(TimeSpan drainTimeout, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _retired, 1) == 1)
            {
                return;
            }

            if (Volatile.Read(ref _inFlight) == 0)
            {
                _drained.TrySetResult();
            }

            try
            {
                await _drained.Task.WaitAsync(drainTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
            {
                // Stopping anyway: the requests still running see their connection close.
            }

            await variant.DisposeAsync().ConfigureAwait(false);
        }
    }
}
