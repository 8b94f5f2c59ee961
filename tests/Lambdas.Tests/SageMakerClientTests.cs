using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using static CustomerSegmentation.Lambdas.Tests.TestSupport;

namespace CustomerSegmentation.Lambdas.Tests;

public sealed class SageMakerClientTests : IDisposable
{
    private const string RoleArn = "arn:aws:iam::123456789012:role/segmentation-sagemaker";
    private const string EndpointArn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/segments";
    private readonly AwsJsonServiceStandIn _standIn = new(BotocoreServiceModel.SageMaker);

    public void Dispose() => _standIn.Dispose();

    [Fact]
    public async Task EveryOperation_RealisticRequests_PassTheStrictStandInAndParse()
    {
        var deployment = new DeploymentConfig
        {
            BlueGreenUpdatePolicy = new BlueGreenUpdatePolicy
            {
                TrafficRoutingConfiguration = new TrafficRoutingConfig
                {
                    Type = "CANARY",
                    WaitIntervalInSeconds = 300,
                    CanarySize = new CapacitySize { Type = "CAPACITY_PERCENT", Value = 10 },
                },
                TerminationWaitInSeconds = 120,
                MaximumExecutionTimeoutInSeconds = 3600,
            },
            AutoRollbackConfiguration = new AutoRollbackConfig { Alarms = [new Alarm { AlarmName = "segments-5xx" }] },
        };
        var tags = new List<Tag> { new() { Key = "platform", Value = "customer-segmentation" } };
        _standIn.Handle("DescribeModelPackage", _ => StandInResponse.Json(JsonNode.Parse("""
            {"ModelPackageName":"segments","ModelPackageGroupName":"segments","ModelPackageVersion":3,
             "ModelPackageArn":"arn:aws:sagemaker:us-east-1:123456789012:model-package/segments/3","CreationTime":1795086000.123,
             "InferenceSpecification":{"Containers":[{"Image":"683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
               "ModelDataUrl":"s3://models/run-3/model.tar.gz","Environment":{"SAGEMAKER_PROGRAM":"inference.py"}}],
               "SupportedContentTypes":["application/json"],"SupportedResponseMIMETypes":["application/json"]},
             "ModelPackageStatus":"Completed","ModelPackageStatusDetails":{"ValidationStatuses":[]},"ModelApprovalStatus":"Approved",
             "ModelMetrics":{"ModelQuality":{"Statistics":{"ContentType":"application/json","S3Uri":"s3://models/run-3/metrics.json"}}}}
            """)));
        _standIn.Handle("CreateModel", _ => StandInResponse.Json(new JsonObject { ["ModelArn"] = "arn:aws:sagemaker:us-east-1:123456789012:model/m-3" }));
        _standIn.Handle("DescribeModel", _ => StandInResponse.Json(JsonNode.Parse("""
            {"ModelName":"m-3","PrimaryContainer":{"Image":"img","ModelDataUrl":"s3://models/run-3/model.tar.gz"},
             "ExecutionRoleArn":"arn:aws:iam::123456789012:role/segmentation-sagemaker","CreationTime":1795086000,"ModelArn":"arn:aws:sagemaker:us-east-1:123456789012:model/m-3"}
            """)));
        _standIn.Handle("DeleteModel", _ => StandInResponse.Json(null));
        _standIn.Handle("ListModels", _ => StandInResponse.Json(JsonNode.Parse("""{"Models":[{"ModelName":"m-3","ModelArn":"arn:aws:sagemaker:us-east-1:123456789012:model/m-3","CreationTime":1795086000}],"NextToken":"t2"}""")));
        _standIn.Handle("CreateEndpointConfig", _ => StandInResponse.Json(new JsonObject { ["EndpointConfigArn"] = "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c-3" }));
        _standIn.Handle("DescribeEndpointConfig", _ => StandInResponse.Json(JsonNode.Parse("""
            {"EndpointConfigName":"c-3","EndpointConfigArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c-3",
             "ProductionVariants":[{"VariantName":"AllTraffic","ModelName":"m-3","InitialInstanceCount":1,"InstanceType":"ml.m5.large","InitialVariantWeight":1.0}],
             "CreationTime":1795086000}
            """)));
        _standIn.Handle("DeleteEndpointConfig", _ => StandInResponse.Json(null));
        _standIn.Handle("ListEndpointConfigs", _ => StandInResponse.Json(JsonNode.Parse("""{"EndpointConfigs":[]}""")));
        _standIn.Handle("CreateEndpoint", _ => StandInResponse.Json(new JsonObject { ["EndpointArn"] = EndpointArn }));
        _standIn.Handle("UpdateEndpoint", _ => StandInResponse.Json(new JsonObject { ["EndpointArn"] = EndpointArn }));
        _standIn.Handle("DescribeEndpoint", _ => StandInResponse.Json(JsonNode.Parse("""
            {"EndpointName":"segments","EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/segments","EndpointConfigName":"c-3",
             "ProductionVariants":[{"VariantName":"AllTraffic","CurrentWeight":1.0,"DesiredWeight":1.0,"CurrentInstanceCount":1,"DesiredInstanceCount":1,
               "DeployedImages":[{"SpecifiedImage":"img","ResolvedImage":"img@sha256:abc","ResolutionTime":1795086000}]}],
             "EndpointStatus":"InService","CreationTime":1795086000,"LastModifiedTime":1795089600.5}
            """)));
        _standIn.Handle("ListTags", _ => StandInResponse.Json(JsonNode.Parse("""{"Tags":[{"Key":"platform","Value":"customer-segmentation"}]}""")));
        _standIn.Handle("AddTags", request => StandInResponse.Json(new JsonObject { ["Tags"] = JsonNode.Parse(request.BodyJson.GetProperty("Tags").GetRawText()) }));
        var client = new SageMakerClient(OptionsFor(_standIn));

        var package = await client.DescribeModelPackageAsync(new() { ModelPackageName = "arn:aws:sagemaker:us-east-1:123456789012:model-package/segments/3" });
        var model = await client.CreateModelAsync(new()
        {
            ModelName = "m-3",
            ExecutionRoleArn = RoleArn,
            Tags = tags,
            EnableNetworkIsolation = true,
            PrimaryContainer = new ContainerDefinition
            {
                Image = package.InferenceSpecification!.Containers![0].Image,
                ModelDataUrl = package.InferenceSpecification.Containers[0].ModelDataUrl,
                Environment = package.InferenceSpecification.Containers[0].Environment,
                Mode = "SingleModel",
            },
        });
        var described = await client.DescribeModelAsync(new() { ModelName = "m-3" });
        var models = await client.ListModelsAsync(new()
        {
            NameContains = "m-",
            SortBy = "CreationTime",
            SortOrder = "Descending",
            MaxResults = 10,
            CreationTimeBefore = DateTimeOffset.FromUnixTimeSeconds(1795086000),
        });
        var config = await client.CreateEndpointConfigAsync(new()
        {
            EndpointConfigName = "c-3",
            Tags = tags,
            ProductionVariants = [new() { VariantName = "AllTraffic", ModelName = "m-3", InitialInstanceCount = 1, InstanceType = "ml.m5.large", InitialVariantWeight = 1 }],
        });
        var describedConfig = await client.DescribeEndpointConfigAsync(new() { EndpointConfigName = "c-3" });
        var configs = await client.ListEndpointConfigsAsync(new() { NameContains = "c-", SortBy = "CreationTime" });
        var created = await client.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = "c-3", Tags = tags });
        var updated = await client.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = "c-3", DeploymentConfig = deployment, RetainAllVariantProperties = false });
        var endpoint = await client.DescribeEndpointAsync(new() { EndpointName = "segments" });
        var listedTags = await client.ListTagsAsync(new() { ResourceArn = EndpointArn, MaxResults = 50 });
        var addedTags = await client.AddTagsAsync(new() { ResourceArn = EndpointArn, Tags = tags });
        await client.DeleteEndpointConfigAsync(new() { EndpointConfigName = "c-2" });
        await client.DeleteModelAsync(new() { ModelName = "m-2" });

        _standIn.AssertNoInvalidRequests();
        Assert.Equal(14, _standIn.Requests.Count);
        Assert.Equal("Approved", package.ModelApprovalStatus);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1795086000123), package.CreationTime);
        Assert.Equal("s3://models/run-3/metrics.json", package.ModelMetrics!.ModelQuality!.Statistics!.S3Uri);
        Assert.Equal("arn:aws:sagemaker:us-east-1:123456789012:model/m-3", model.ModelArn);
        Assert.Equal(RoleArn, described.ExecutionRoleArn);
        Assert.Equal("t2", models.NextToken);
        Assert.EndsWith("endpoint-config/c-3", config.EndpointConfigArn, StringComparison.Ordinal);
        Assert.Equal(1f, describedConfig.ProductionVariants![0].InitialVariantWeight);
        Assert.Empty(configs.EndpointConfigs!);
        Assert.Equal(EndpointArn, created.EndpointArn);
        Assert.Equal(EndpointArn, updated.EndpointArn);
        Assert.Equal("InService", endpoint.EndpointStatus);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1795089600500), endpoint.LastModifiedTime);
        Assert.Equal("img@sha256:abc", endpoint.ProductionVariants![0].DeployedImages![0].ResolvedImage);
        Assert.Equal(tags, listedTags.Tags);
        Assert.Equal(tags, addedTags.Tags);
        Assert.Equal(1795086000, _standIn.RequestsFor("ListModels")[0].BodyJson.GetProperty("CreationTimeBefore").GetDouble());
        Assert.Equal("CANARY", _standIn.RequestsFor("UpdateEndpoint")[0].BodyJson
            .GetProperty("DeploymentConfig").GetProperty("BlueGreenUpdatePolicy").GetProperty("TrafficRoutingConfiguration").GetProperty("Type").GetString());
    }

    [Fact]
    public async Task DescribeEndpoint_Request_CarriesJsonProtocolAndSigningHeaders()
    {
        _standIn.Handle("DescribeEndpoint", _ => StandInResponse.Json(new JsonObject { ["EndpointName"] = "segments" }));
        var client = new SageMakerClient(OptionsFor(_standIn));

        await client.DescribeEndpointAsync(new() { EndpointName = "segments" });

        _standIn.AssertNoInvalidRequests();
        var headers = Assert.Single(_standIn.Requests).Headers;
        Assert.Equal("SageMaker.DescribeEndpoint", headers["X-Amz-Target"]);
        Assert.Equal("application/x-amz-json-1.1", headers["Content-Type"]);
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential=AKIDLOOPBACKTEST/{headers["X-Amz-Date"][..8]}/us-east-1/sagemaker/aws4_request, SignedHeaders=",
            headers["Authorization"], StringComparison.Ordinal);
        Assert.True(headers.ContainsKey("X-Amz-Content-SHA256"));
        Assert.False(headers.ContainsKey("X-Amz-Security-Token"));
    }

    [Fact]
    public async Task DescribeEndpoint_SessionCredentials_SendsSignedSecurityToken()
    {
        var credentials = new Amazon.Runtime.SessionAWSCredentials("ASIALOOPBACK", "session-secret", "session-token-1");
        using var standIn = new AwsJsonServiceStandIn(BotocoreServiceModel.SageMaker, credentials: credentials);
        standIn.Handle("DescribeEndpoint", _ => StandInResponse.Json(new JsonObject { ["EndpointName"] = "segments" }));
        var client = new SageMakerClient(OptionsFor(standIn) with { Credentials = credentials });

        await client.DescribeEndpointAsync(new() { EndpointName = "segments" });

        standIn.AssertNoInvalidRequests();
        var headers = Assert.Single(standIn.Requests).Headers;
        Assert.Equal("session-token-1", headers["X-Amz-Security-Token"]);
        Assert.Contains("x-amz-security-token", headers["Authorization"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DescribeEndpoint_WrongSigningRegion_IsCaughtByTheStandIn()
    {
        _standIn.Handle("DescribeEndpoint", _ => StandInResponse.Json(new JsonObject { ["EndpointName"] = "segments" }));
        var client = new SageMakerClient(OptionsFor(_standIn) with { Region = "eu-west-1" });

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.DescribeEndpointAsync(new() { EndpointName = "segments" }));

        Assert.Equal("ValidationException", error.ErrorCode);
        Assert.Equal(["DescribeEndpoint: credential scope region is 'eu-west-1', expected 'us-east-1'"], _standIn.InvalidRequests);
    }

    [Fact]
    public async Task CreateModel_ServiceValidationError_IsMappedAndNotRetried()
    {
        var delays = new List<TimeSpan>();
        _standIn.Handle("CreateModel", _ => StandInResponse.Error(400, "ValidationException", "Could not access model data at s3://models/run-9/model.tar.gz."));
        var client = new SageMakerClient(OptionsFor(_standIn, delays));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() =>
            client.CreateModelAsync(new() { ModelName = "m-9", ExecutionRoleArn = RoleArn, PrimaryContainer = new() { Image = "img" } }));

        Assert.Equal("SageMaker", error.ServiceId);
        Assert.Equal("CreateModel", error.Operation);
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("ValidationException", error.ErrorCode);
        Assert.Equal("Could not access model data at s3://models/run-9/model.tar.gz.", error.ErrorMessage);
        Assert.Equal("SageMaker CreateModel failed: HTTP 400 ValidationException: Could not access model data at s3://models/run-9/model.tar.gz.", error.Message);
        Assert.NotNull(error.RequestId);
        Assert.Single(_standIn.Requests);
        Assert.Empty(delays);
        _standIn.AssertNoInvalidRequests();
    }

    [Theory]
    [InlineData(400, "ThrottlingException")]
    [InlineData(400, "ThrottledException")]
    [InlineData(400, "TooManyRequestsException")]
    [InlineData(400, "RequestLimitExceeded")]
    [InlineData(429, "SlowDown")]
    [InlineData(500, "InternalFailure")]
    [InlineData(503, "ServiceUnavailable")]
    public async Task DescribeEndpoint_TransientErrorThenSuccess_RetriesWithBoundedBackoff(int status, string code)
    {
        var delays = new List<TimeSpan>();
        _standIn.Handle("DescribeEndpoint", _ => StandInResponse.Json(new JsonObject { ["EndpointName"] = "segments", ["EndpointStatus"] = "Updating" }));
        _standIn.FailNext("DescribeEndpoint", 2, StandInResponse.Error(status, code, "try again"));
        var client = new SageMakerClient(OptionsFor(_standIn, delays));

        var endpoint = await client.DescribeEndpointAsync(new() { EndpointName = "segments" });

        Assert.Equal("Updating", endpoint.EndpointStatus);
        Assert.Equal(3, _standIn.Requests.Count);
        Assert.Equal(2, delays.Count);
        Assert.InRange(delays[0], TimeSpan.Zero, TimeSpan.FromMilliseconds(100));
        Assert.InRange(delays[1], TimeSpan.Zero, TimeSpan.FromMilliseconds(200));
        // Each attempt is signed afresh and validated by the stand-in.
        _standIn.AssertNoInvalidRequests();
    }

    [Fact]
    public async Task DescribeEndpoint_ThrottledOnEveryAttempt_GivesUpAfterMaxAttempts()
    {
        var delays = new List<TimeSpan>();
        _standIn.Handle("DescribeEndpoint", _ => StandInResponse.Json(new JsonObject { ["EndpointName"] = "segments" }));
        _standIn.FailNext("DescribeEndpoint", 10, StandInResponse.Throttling());
        var client = new SageMakerClient(OptionsFor(_standIn, delays, maxAttempts: 4));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.DescribeEndpointAsync(new() { EndpointName = "segments" }));

        Assert.Equal("ThrottlingException", error.ErrorCode);
        Assert.Equal("Rate exceeded", error.ErrorMessage);
        Assert.Equal(4, _standIn.Requests.Count);
        Assert.Equal(3, delays.Count);
        _standIn.AssertNoInvalidRequests();
    }

    [Fact]
    public async Task DescribeEndpoint_ConnectionRefused_RetriesThenSurfacesTheNetworkError()
    {
        var delays = new List<TimeSpan>();
        var closedPort = new TcpListener(IPAddress.Loopback, 0);
        closedPort.Start();
        var port = ((IPEndPoint)closedPort.LocalEndpoint).Port;
        closedPort.Stop();
        var client = new SageMakerClient(OptionsFor(_standIn, delays) with { ServiceUrl = new Uri($"http://127.0.0.1:{port}/") });

        await Assert.ThrowsAsync<HttpRequestException>(() => client.DescribeEndpointAsync(new() { EndpointName = "segments" }));

        Assert.Equal(2, delays.Count);
    }

    [Fact]
    public async Task DescribeEndpoint_CallerCancels_DoesNotRetry()
    {
        var delays = new List<TimeSpan>();
        using var cancellation = new CancellationTokenSource();
        _standIn.Handle("DescribeEndpoint", _ =>
        {
            cancellation.Cancel();
            Thread.Sleep(200);
            return StandInResponse.Json(new JsonObject { ["EndpointName"] = "segments" });
        });
        var client = new SageMakerClient(OptionsFor(_standIn, delays));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DescribeEndpointAsync(new() { EndpointName = "segments" }, cancellation.Token));

        Assert.Empty(delays);
    }

    [Fact]
    public async Task DescribeEndpoint_RequestOutsideTheModel_FailsAssertNoInvalidRequests()
    {
        // The deployer's own inputs can still break the model (here: a name SageMaker's pattern rejects).
        _standIn.Handle("DescribeEndpoint", _ => StandInResponse.Json(new JsonObject { ["EndpointName"] = "x" }));
        var client = new SageMakerClient(OptionsFor(_standIn));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.DescribeEndpointAsync(new() { EndpointName = "segments_v2" }));

        Assert.Equal("ValidationException", error.ErrorCode);
        var failure = Assert.Throws<Xunit.Sdk.TrueException>(_standIn.AssertNoInvalidRequests);
        Assert.Contains("DescribeEndpoint: DescribeEndpoint.EndpointName: 'segments_v2' does not match the EndpointName pattern", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DescribeEndpoint_NoHandlerRegistered_IsAnInvalidRequest()
    {
        var client = new SageMakerClient(OptionsFor(_standIn));

        await Assert.ThrowsAsync<AwsServiceException>(() => client.DescribeEndpointAsync(new() { EndpointName = "segments" }));

        Assert.Equal(["DescribeEndpoint: no handler registered for DescribeEndpoint: the test did not expect this call"], _standIn.InvalidRequests);
    }

    [Fact]
    public async Task DescribeEndpoint_EndpointFromServiceSpecificVariable_WinsOverGlobal()
    {
        _standIn.Handle("DescribeEndpoint", _ => StandInResponse.Json(new JsonObject { ["EndpointName"] = "segments" }));
        var client = new SageMakerClient(OptionsFor(_standIn, maxAttempts: 1) with
        {
            ServiceUrl = null,
            EnvironmentVariables = Environment(("AWS_ENDPOINT_URL", "http://127.0.0.1:9/"), ("AWS_ENDPOINT_URL_SAGEMAKER", _standIn.BaseUri.ToString())),
        });

        await client.DescribeEndpointAsync(new() { EndpointName = "segments" });

        Assert.Equal(_standIn.BaseUri, client.Endpoint);
        _standIn.AssertNoInvalidRequests();
    }
}
