using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests.EndpointDeployer;

/// <summary>
/// The <see cref="SageMakerSimulation"/> (the local SageMaker's rules) behind the strict botocore-validating loopback
/// stand-ins of SageMaker and Application Auto Scaling, plus a real s3rver: everything the deployer bootstrap talks to.
/// All three accept the s3rver key pair, so one set of process credentials signs every request.
/// </summary>
public sealed class SimulatedAwsServices : IDisposable
{
    public static readonly BasicAWSCredentials Credentials = new("S3RVER", "S3RVER");

    private SimulatedAwsServices(S3rverProcess s3)
    {
        S3 = s3;
        SageMakerStandIn = new AwsJsonServiceStandIn(BotocoreServiceModel.SageMaker, SageMakerSimulation.Region, Credentials);
        ScalingStandIn = new AwsJsonServiceStandIn(BotocoreServiceModel.ApplicationAutoScaling, SageMakerSimulation.Region, Credentials);
        Bind();
    }

    public SageMakerSimulation Simulation { get; } = new(TimeProvider.System);

    public AwsJsonServiceStandIn SageMakerStandIn { get; }

    public AwsJsonServiceStandIn ScalingStandIn { get; }

    public S3rverProcess S3 { get; }

    public static async Task<SimulatedAwsServices> StartAsync(string bucket) => new(await S3rverProcess.StartAsync(bucket));

    /// <summary>The variables that point a function's SDK clients at these services.</summary>
    public IEnumerable<(string Name, string Value)> EndpointVariables =>
    [
        ("AWS_REGION", SageMakerSimulation.Region),
        ("AWS_ACCESS_KEY_ID", "S3RVER"),
        ("AWS_SECRET_ACCESS_KEY", "S3RVER"),
        ("AWS_ENDPOINT_URL_SAGEMAKER", SageMakerStandIn.BaseUri.ToString()),
        ("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING", ScalingStandIn.BaseUri.ToString()),
        ("AWS_ENDPOINT_URL_S3", S3.Endpoint.ToString()),
    ];

    public void AssertNoInvalidRequests()
    {
        SageMakerStandIn.AssertNoInvalidRequests();
        ScalingStandIn.AssertNoInvalidRequests();
    }

    public void Dispose()
    {
        SageMakerStandIn.Dispose();
        ScalingStandIn.Dispose();
        Simulation.DisposeAsync().AsTask().GetAwaiter().GetResult();
        S3.Dispose();
    }

    private void Bind()
    {
        var sm = SageMakerJsonContext.Default;
        var sim = Simulation;
        Bind(SageMakerStandIn, "DescribeModelPackage", sm.DescribeModelPackageRequest, sm.DescribeModelPackageResponse, sim.DescribeModelPackageAsync);
        Bind(SageMakerStandIn, "CreateModel", sm.CreateModelRequest, sm.CreateModelResponse, sim.CreateModelAsync);
        Bind(SageMakerStandIn, "DeleteModel", sm.DeleteModelRequest, sim.DeleteModelAsync);
        Bind(SageMakerStandIn, "ListModels", sm.ListModelsRequest, sm.ListModelsResponse, sim.ListModelsAsync);
        Bind(SageMakerStandIn, "CreateEndpointConfig", sm.CreateEndpointConfigRequest, sm.CreateEndpointConfigResponse, sim.CreateEndpointConfigAsync);
        Bind(SageMakerStandIn, "DescribeEndpointConfig", sm.DescribeEndpointConfigRequest, sm.DescribeEndpointConfigResponse, sim.DescribeEndpointConfigAsync);
        Bind(SageMakerStandIn, "DeleteEndpointConfig", sm.DeleteEndpointConfigRequest, sim.DeleteEndpointConfigAsync);
        Bind(SageMakerStandIn, "ListEndpointConfigs", sm.ListEndpointConfigsRequest, sm.ListEndpointConfigsResponse, sim.ListEndpointConfigsAsync);
        Bind(SageMakerStandIn, "CreateEndpoint", sm.CreateEndpointRequest, sm.CreateEndpointResponse, sim.CreateEndpointAsync);
        Bind(SageMakerStandIn, "UpdateEndpoint", sm.UpdateEndpointRequest, sm.UpdateEndpointResponse, sim.UpdateEndpointAsync);
        Bind(SageMakerStandIn, "DescribeEndpoint", sm.DescribeEndpointRequest, sm.DescribeEndpointResponse, sim.DescribeEndpointAsync);
        Bind(SageMakerStandIn, "DeleteEndpoint", sm.DeleteEndpointRequest, sim.DeleteEndpointAsync);
        Bind(SageMakerStandIn, "ListTags", sm.ListTagsRequest, sm.ListTagsResponse, sim.ListTagsAsync);
        Bind(SageMakerStandIn, "AddTags", sm.AddTagsRequest, sm.AddTagsResponse, sim.AddTagsAsync);
        Bind(SageMakerStandIn, "DeleteTags", sm.DeleteTagsRequest, sm.DeleteTagsResponse, sim.DeleteTagsAsync);
        var aas = ApplicationAutoScalingJsonContext.Default;
        Bind(ScalingStandIn, "DescribeScalableTargets", aas.DescribeScalableTargetsRequest, aas.DescribeScalableTargetsResponse, sim.DescribeScalableTargetsAsync);
        Bind(ScalingStandIn, "RegisterScalableTarget", aas.RegisterScalableTargetRequest, aas.RegisterScalableTargetResponse, sim.RegisterScalableTargetAsync);
        Bind(ScalingStandIn, "DeregisterScalableTarget", aas.DeregisterScalableTargetRequest, aas.DeregisterScalableTargetResponse, sim.DeregisterScalableTargetAsync);
        Bind(ScalingStandIn, "PutScalingPolicy", aas.PutScalingPolicyRequest, aas.PutScalingPolicyResponse, sim.PutScalingPolicyAsync);
    }

    private static void Bind<TRequest, TResponse>(AwsServiceStandIn standIn, string operation, JsonTypeInfo<TRequest> request,
        JsonTypeInfo<TResponse> response, Func<TRequest, CancellationToken, Task<TResponse>> call) =>
        standIn.Handle(operation, recorded => Answer(() =>
            JsonSerializer.SerializeToUtf8Bytes(call(JsonSerializer.Deserialize(recorded.Body, request)!, CancellationToken.None).GetAwaiter().GetResult(), response)));

    private static void Bind<TRequest>(AwsServiceStandIn standIn, string operation, JsonTypeInfo<TRequest> request, Func<TRequest, CancellationToken, Task> call) =>
        standIn.Handle(operation, recorded => Answer(() =>
        {
            call(JsonSerializer.Deserialize(recorded.Body, request)!, CancellationToken.None).GetAwaiter().GetResult();
            return "{}"u8.ToArray();
        }));

    private static StandInResponse Answer(Func<byte[]> body)
    {
        try
        {
            return new StandInResponse { Body = body() };
        }
        catch (AwsServiceException exception)
        {
            return StandInResponse.Error((int)exception.StatusCode, exception.ErrorCode, exception.ErrorMessage);
        }
    }
}

/// <summary>
/// npm s3rver (from the repository's node_modules) on a free loopback port with one bucket, in a temporary directory.
/// A missing node or s3rver fails the test with what to install.
/// </summary>
public sealed class S3rverProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private S3rverProcess(Process process, string directory, Uri endpoint, string bucket)
    {
        _process = process;
        _directory = directory;
        Endpoint = endpoint;
        Bucket = bucket;
        Client = new AmazonS3Client(SimulatedAwsServices.Credentials, new AmazonS3Config
        {
            ServiceURL = endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = SageMakerSimulation.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
    }

    public Uri Endpoint { get; }

    public string Bucket { get; }

    public AmazonS3Client Client { get; }

    public static async Task<S3rverProcess> StartAsync(string bucket)
    {
        var entryPoint = Path.Combine(Repository.Root, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(entryPoint))
        {
            throw new FileNotFoundException($"{entryPoint} is missing: run `npm ci` at the repository root (scripts/setup.sh does).", entryPoint);
        }

        var port = FreePort();
        var directory = Directory.CreateTempSubdirectory("deployer-s3rver-").FullName;
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { entryPoint, "-d", directory, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--configure-bucket", bucket },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start: install Node.js (scripts/setup.sh does).");
        var server = new S3rverProcess(process, directory, new Uri($"http://127.0.0.1:{port}/"), bucket);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return server;
            }
            catch (SocketException) when (attempt < 100 && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (SocketException)
            {
                server.Dispose();
                throw new InvalidOperationException($"s3rver did not listen on port {port}: {process.StandardError.ReadToEnd()}");
            }
        }
    }

    public async Task PutTextAsync(string key, string content) =>
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = content, UseChunkEncoding = false });

    public async Task<string?> GetTextAsync(string key)
    {
        try
        {
            using var response = await Client.GetObjectAsync(Bucket, key);
            using var reader = new StreamReader(response.ResponseStream);
            return await reader.ReadToEndAsync();
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
