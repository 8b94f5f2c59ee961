using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using CustomerSegmentation.AwsPackageReplacements.Core;
using Xunit.Abstractions;

namespace CustomerSegmentation.LocalAws.Tests;

/// <summary>
/// The local SageMaker end to end: models trained by the real train.py, registered as the local runner registers them,
/// served by scripts/local/model_server.py with the real inference.py, called through the platform's own clients.
/// </summary>
[Collection(ServedModelsCollection.Name)]
public sealed class LocalSageMakerTests(ServedModelsFixture models, ITestOutputHelper output)
{
    [Fact]
    public async Task InvokeEndpoint_RegisteredPackage_AnswersExactlyAsInferencePyDoes()
    {
        var events = new RecordingEventPublisher();
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, events);
        var config = await harness.ModelAndConfigAsync("a", harness.AddPackage(1, ServedModelsFixture.ModelA, ServedModelsFixture.Serving()));

        await harness.ServeAsync("segments", config);
        var response = await harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = Encoding.UTF8.GetBytes(ServedModelsFixture.Request) });

        Assert.Equal(models.ExpectedAnswerA, Encoding.UTF8.GetString(response.Body.Span));
        Assert.Equal(("application/json", "AllTraffic"), (response.ContentType, response.InvokedProductionVariant));
        Assert.Equal(["CREATING", "IN_SERVICE"], await events.WaitForStatusesAsync("segments", 2));
        Assert.Single(harness.Service.ModelServerProcessIds);
        harness.AssertNoServerFaults();
    }

    [Fact]
    public async Task InvokeEndpoint_CodeInsideTheModelArchive_ServedWithoutASubmitDirectory()
    {
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, new RecordingEventPublisher());
        var config = await harness.ModelAndConfigAsync("a", harness.AddPackage(1, ServedModelsFixture.ModelAWithCode, new Dictionary<string, string> { ["SAGEMAKER_PROGRAM"] = "inference.py" }));

        await harness.ServeAsync("segments", config);
        var response = await harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = Encoding.UTF8.GetBytes(ServedModelsFixture.Request) });

        Assert.Equal(models.ExpectedAnswerA, Encoding.UTF8.GetString(response.Body.Span));
    }

    [Fact]
    public async Task InvokeEndpoint_RowsOfTheWrongWidth_ModelErrorWithInferencePysMessage()
    {
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, new RecordingEventPublisher());
        await harness.ServeAsync("segments", await harness.ModelAndConfigAsync("a", harness.AddPackage(1, ServedModelsFixture.ModelA, ServedModelsFixture.Serving())));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Runtime.InvokeEndpointAsync(new()
        {
            EndpointName = "segments",
            Body = """{"instances": [[1.0, 2.0]]}"""u8.ToArray(),
        }));

        Assert.Equal((HttpStatusCode.FailedDependency, "ModelError"), (error.StatusCode, error.ErrorCode));
        Assert.StartsWith("Received client error (400) from primary with message \"", error.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("row 0: expected 3 values (Age, Income, Purchases), got 2", error.ErrorMessage, StringComparison.Ordinal);
        harness.AssertNoServerFaults();
    }

    [Fact]
    public async Task UpdateEndpoint_UnderConcurrentInvocations_NoRequestLostAndTrafficMovesToTheNewModel()
    {
        var events = new RecordingEventPublisher();
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, events);
        await harness.ServeAsync("segments", await harness.ModelAndConfigAsync("a", harness.AddPackage(1, ServedModelsFixture.ModelA, ServedModelsFixture.Serving())));
        var next = await harness.ModelAndConfigAsync("b", harness.AddPackage(2, ServedModelsFixture.ModelB, ServedModelsFixture.Serving()));
        var oldServer = Assert.Single(harness.Service.ModelServerProcessIds);
        var answers = new ConcurrentQueue<(bool AfterSwitch, string Answer)>();
        var failures = new ConcurrentQueue<string>();
        var switched = 0;
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var afterSwitch = Volatile.Read(ref switched) == 1;
                try
                {
                    var response = await harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = Encoding.UTF8.GetBytes(ServedModelsFixture.Request) });
                    answers.Enqueue((afterSwitch, Encoding.UTF8.GetString(response.Body.Span)));
                }
                catch (Exception exception)
                {
                    failures.Enqueue(exception.Message);
                }
            }
        })).ToList();
        await Task.Delay(300);

        await harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = next });
        await harness.WaitForStatusAsync("segments", "InService");
        Volatile.Write(ref switched, 1);
        await Task.Delay(500);
        await stop.CancelAsync();
        await Task.WhenAll(callers);

        output.WriteLine($"{answers.Count} invocations during the update, {answers.Count(answer => answer.AfterSwitch)} after the switch, {failures.Count} failed");
        Assert.Empty(failures);
        Assert.All(answers, answer => Assert.True(answer.Answer == models.ExpectedAnswerA || answer.Answer == models.ExpectedAnswerB, answer.Answer));
        Assert.Contains(answers, answer => answer.Answer == models.ExpectedAnswerA);
        Assert.All(answers.Where(answer => answer.AfterSwitch), answer => Assert.Equal(models.ExpectedAnswerB, answer.Answer));
        Assert.Contains(answers, answer => answer.AfterSwitch);
        Assert.Equal(["CREATING", "IN_SERVICE", "UPDATING", "IN_SERVICE"], await events.WaitForStatusesAsync("segments", 4));
        // The old server stops once its last request is answered, and is forgotten once its directory is deleted.
        await SageMakerControlPlaneTests.WaitUntilAsync(() => !IsRunning(oldServer) && !harness.Service.ModelServerProcessIds.Contains(oldServer));
        Assert.Single(harness.Service.ModelServerProcessIds);
        harness.AssertNoServerFaults();
    }

    [Fact]
    public async Task UpdateEndpoint_ModelThatCannotLoad_RollsBackWithTheServersStderrInTheReason()
    {
        var events = new RecordingEventPublisher();
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, events);
        var first = await harness.ModelAndConfigAsync("a", harness.AddPackage(1, ServedModelsFixture.ModelA, ServedModelsFixture.Serving()));
        await harness.ServeAsync("segments", first);
        var broken = await harness.ModelAndConfigAsync("broken", harness.AddPackage(2, ServedModelsFixture.BrokenModel, ServedModelsFixture.Serving()));

        await harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = broken });
        var statuses = await events.WaitForStatusesAsync("segments", 5);
        var endpoint = await harness.SageMaker.DescribeEndpointAsync(new() { EndpointName = "segments" });
        var response = await harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = Encoding.UTF8.GetBytes(ServedModelsFixture.Request) });

        Assert.Equal(["CREATING", "IN_SERVICE", "UPDATING", "ROLLING_BACK", "IN_SERVICE"], statuses);
        Assert.Equal(("InService", first), (endpoint.EndpointStatus, endpoint.EndpointConfigName));
        Assert.StartsWith("The primary container for production variant AllTraffic did not pass the ping health check: the model server exited with code 1. Last lines of its stderr: ",
            endpoint.FailureReason, StringComparison.Ordinal);
        Assert.Contains("model.joblib", endpoint.FailureReason, StringComparison.Ordinal);
        Assert.InRange(endpoint.FailureReason!.Length, 1, 1024);
        Assert.Equal(models.ExpectedAnswerA, Encoding.UTF8.GetString(response.Body.Span));
        Assert.Equal(endpoint.FailureReason, (string?)events.Events[^1].Detail["FailureReason"]);
    }

    [Fact]
    public async Task CreateEndpoint_ModelThatCannotLoad_FailedWithTheServersStderrAndNoProcessLeft()
    {
        var events = new RecordingEventPublisher();
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, events);
        var config = await harness.ModelAndConfigAsync("broken", harness.AddPackage(1, ServedModelsFixture.BrokenModel, ServedModelsFixture.Serving()));

        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config });
        var failed = await harness.WaitForStatusAsync("segments", "Failed");

        Assert.StartsWith("The primary container for production variant AllTraffic did not pass the ping health check: the model server exited with code 1.",
            failed!.FailureReason, StringComparison.Ordinal);
        Assert.Contains("model.joblib", failed.FailureReason, StringComparison.Ordinal);
        Assert.Equal(["CREATING", "FAILED"], await events.WaitForStatusesAsync("segments", 2));
        Assert.Empty(harness.Service.ModelServerProcessIds);
        Assert.Empty(ServedModelsFixture.ProcessesMentioning(harness.WorkDirectory));
    }

    [Fact]
    public async Task CreateEndpoint_ServerNeverHealthy_FailedAfterTheVariantsHealthCheckTimeout()
    {
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, new RecordingEventPublisher());
        await harness.SageMaker.CreateModelAsync(new()
        {
            ModelName = "slow",
            PrimaryContainer = new() { ModelPackageName = harness.AddPackage(1, ServedModelsFixture.ModelA, ServedModelsFixture.Serving(ServedModelsFixture.NeverReadyCodeUri)) },
            ExecutionRoleArn = LocalSageMakerHarness.Role,
        });
        await harness.SageMaker.CreateEndpointConfigAsync(new()
        {
            EndpointConfigName = "slow",
            ProductionVariants = [new() { VariantName = "AllTraffic", ModelName = "slow", InstanceType = "ml.m5.large", InitialInstanceCount = 1, ContainerStartupHealthCheckTimeoutInSeconds = 3 }],
        });
        var clock = Stopwatch.StartNew();

        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = "slow" });
        var failed = await harness.WaitForStatusAsync("segments", "Failed");

        Assert.Equal("The primary container for production variant AllTraffic did not pass the ping health check within 3 seconds.", failed!.FailureReason);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30));
        Assert.Empty(ServedModelsFixture.ProcessesMentioning(harness.WorkDirectory));
    }

    [Fact]
    public async Task CreateEndpoint_ModelDataMissing_FailedWithTheDownloadError()
    {
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, new RecordingEventPublisher());
        var missing = $"s3://{ServedModelsFixture.Bucket}/nothing/model.tar.gz";
        var config = await harness.ModelAndConfigAsync("missing", harness.AddPackage(1, missing, ServedModelsFixture.Serving()));

        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config });
        var failed = await harness.WaitForStatusAsync("segments", "Failed");

        Assert.Equal($"Failed to download model data for container \"container_1\" from URL: \"{missing}\". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the object.",
            failed!.FailureReason);
    }

    [Fact]
    public async Task CreateEndpoint_ImageOtherThanScikitLearn_FailedNamingTheImage()
    {
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, new RecordingEventPublisher());
        const string image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1";
        await harness.SageMaker.CreateModelAsync(new()
        {
            ModelName = "xgb",
            PrimaryContainer = new() { Image = image, ModelDataUrl = ServedModelsFixture.ModelA },
            ExecutionRoleArn = LocalSageMakerHarness.Role,
        });
        await harness.SageMaker.CreateEndpointConfigAsync(new() { EndpointConfigName = "xgb", ProductionVariants = [new() { VariantName = "AllTraffic", ModelName = "xgb" }] });

        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = "xgb" });
        var failed = await harness.WaitForStatusAsync("segments", "Failed");

        Assert.Equal($"The local SageMaker serves the SageMaker scikit-learn container's contract only (an image of the sagemaker-scikit-learn repository), not image '{image}'.",
            failed!.FailureReason);
    }

    [Fact]
    public async Task CreateEndpoint_PythonMissing_FailedSayingWhatToSet()
    {
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, new RecordingEventPublisher(), options => options with { Python = "/nonexistent/python3" });
        var config = await harness.ModelAndConfigAsync("a", harness.AddPackage(1, ServedModelsFixture.ModelA, ServedModelsFixture.Serving()));

        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config });
        var failed = await harness.WaitForStatusAsync("segments", "Failed");

        Assert.StartsWith("The model server could not be started with '/nonexistent/python3': ", failed!.FailureReason, StringComparison.Ordinal);
        Assert.EndsWith("Set SEGMENTATION_PYTHON to a Python with scikit-learn (scripts/setup.sh installs Debian's /usr/bin/python3 with it).", failed.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteEndpoint_Serving_StopsItsModelServer()
    {
        await using var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, new RecordingEventPublisher());
        await harness.ServeAsync("segments", await harness.ModelAndConfigAsync("a", harness.AddPackage(1, ServedModelsFixture.ModelA, ServedModelsFixture.Serving())));
        var server = Assert.Single(harness.Service.ModelServerProcessIds);

        await harness.SageMaker.DeleteEndpointAsync(new() { EndpointName = "segments" });
        await harness.WaitForStatusAsync("segments", null);

        Assert.False(IsRunning(server));
        Assert.Empty(harness.Service.ModelServerProcessIds);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(harness.WorkDirectory, "variants")));
        Assert.Empty(ServedModelsFixture.ProcessesMentioning(harness.WorkDirectory));
    }

    [Fact]
    public async Task DisposeAsync_EndpointsServingAndStarting_NoModelServerProcessLeft()
    {
        var harness = LocalSageMakerHarness.WithModelServers(models.S3Endpoint, new RecordingEventPublisher());
        var work = harness.WorkDirectory;
        var config = await harness.ModelAndConfigAsync("a", harness.AddPackage(1, ServedModelsFixture.ModelA, ServedModelsFixture.Serving()));
        await harness.ServeAsync("first", config);
        await harness.ServeAsync("second", config);
        var slow = await harness.ModelAndConfigAsync("slow", harness.AddPackage(2, ServedModelsFixture.ModelA, ServedModelsFixture.Serving(ServedModelsFixture.NeverReadyCodeUri)));
        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "third", EndpointConfigName = slow });
        await SageMakerControlPlaneTests.WaitUntilAsync(() => ServedModelsFixture.ProcessesMentioning(work).Count == 3);
        var servers = harness.Service.ModelServerProcessIds;

        await harness.DisposeAsync();

        Assert.Equal(2, servers.Count);
        Assert.All(servers, server => Assert.False(IsRunning(server), $"model server {server} still runs"));
        Assert.Empty(ServedModelsFixture.ProcessesMentioning(work));
    }

    private static bool IsRunning(int processId) => File.Exists($"/proc/{processId}/cmdline") && File.ReadAllText($"/proc/{processId}/cmdline").Contains("model_server.py", StringComparison.Ordinal);
}
