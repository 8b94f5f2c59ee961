using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;

namespace CustomerSegmentation.EndpointDeployer;

/// <summary>The thin handler: parse the event, let <see cref="EndpointDeploymentService"/> decide, answer its result as JSON.</summary>
public sealed class DeployerFunction(EndpointDeploymentService service)
{
    /// <summary>Reads and validates the settings and builds the clients; any problem is the function's init error.</summary>
    public static DeployerFunction Create(Func<string, string?> environment, LambdaLogger logger)
    {
        var settings = DeployerSettings.FromEnvironment(environment);
        var options = new AwsClientOptions { EnvironmentVariables = environment };
        var service = new EndpointDeploymentService(settings, new SageMakerOperations(new SageMakerClient(options)),
            new ScalingOperations(new ApplicationAutoScalingClient(options)), new S3ObjectStore(environment), logger);
        logger.Information("EndpointDeployer initialized.", ("endpointName", settings.EndpointName), ("strategy", settings.DeploymentStrategy.ToString()));
        return new DeployerFunction(service);
    }

    public LambdaHandler Handler => HandleAsync;

    /// <exception cref="EndpointDeploymentException">The event was unreadable or an AWS call failed; the message names which.</exception>
    public async Task<Stream> HandleAsync(Stream input, LambdaInvocationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        using var buffer = new MemoryStream();
        await input.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        DeployerEvent deployerEvent;
        try
        {
            deployerEvent = DeployerEvent.Parse(buffer.ToArray());
        }
        catch (DeployerEventException exception)
        {
            throw new EndpointDeploymentException($"Unreadable event: {exception.Message}", exception);
        }

        context.Logger.Information("Event received.", ("event", deployerEvent.GetType().Name));
        DeploymentResult result;
        try
        {
            result = await service.HandleAsync(deployerEvent, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is AwsServiceException or HttpRequestException or InvalidOperationException or TimeoutException
            or Amazon.Runtime.AmazonServiceException)
        {
            throw new EndpointDeploymentException($"{deployerEvent.GetType().Name} failed: {exception.Message}", exception);
        }

        context.Logger.Information("Event handled.", ("action", result.Action.ToString()), ("reason", result.Reason),
            ("endpointConfigName", result.EndpointConfigName));
        return new MemoryStream(result.ToJson());
    }
}

/// <summary>An invocation failed; the message says which event and which call, as the Lambda error response shows it.</summary>
public sealed class EndpointDeploymentException(string message, Exception innerException) : Exception(message, innerException);
