using System.Text;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMakerRuntime;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using static CustomerSegmentation.Lambdas.Tests.TestSupport;

namespace CustomerSegmentation.Lambdas.Tests;

public sealed class SageMakerRuntimeClientTests : IDisposable
{
    private const string Features = """{"instances":[[-1.14,-1.13,0.68]]}""";
    private const string Prediction = """{"predictions":[{"closest_cluster":1.0,"distance_to_cluster":3.0}]}""";
    private readonly SageMakerRuntimeStandIn _standIn = new();

    public void Dispose() => _standIn.Dispose();

    [Fact]
    public async Task InvokeEndpoint_JsonPayload_SendsRawBodyHeadersAndReadsVariant()
    {
        _standIn.Handle("InvokeEndpoint", _ => new StandInResponse
        {
            Body = Encoding.UTF8.GetBytes(Prediction),
            ContentType = "application/json",
            Headers = new Dictionary<string, string> { ["x-Amzn-Invoked-Production-Variant"] = "AllTraffic" },
        });
        var client = new SageMakerRuntimeClient(OptionsFor(_standIn));

        var response = await client.InvokeEndpointAsync(new()
        {
            EndpointName = "segments-endpoint",
            Body = Encoding.UTF8.GetBytes(Features),
            Accept = "application/json",
        });

        _standIn.AssertNoInvalidRequests();
        var request = Assert.Single(_standIn.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/endpoints/segments-endpoint/invocations", request.RawUrl);
        Assert.Equal(Features, Encoding.UTF8.GetString(request.Body));
        Assert.Equal("application/json", request.Headers["Content-Type"]);
        Assert.Equal("application/json", request.Headers["Accept"]);
        Assert.Contains("/us-east-1/sagemaker/aws4_request", request.Headers["Authorization"], StringComparison.Ordinal);
        Assert.Equal(Prediction, Encoding.UTF8.GetString(response.Body.Span));
        Assert.Equal("AllTraffic", response.InvokedProductionVariant);
        Assert.Equal("application/json", response.ContentType);
    }

    [Fact]
    public async Task InvokeEndpoint_TargetVariant_IsSentAsItsModelledHeader()
    {
        _standIn.Handle("InvokeEndpoint", _ => new StandInResponse { Body = Encoding.UTF8.GetBytes(Prediction) });
        var client = new SageMakerRuntimeClient(OptionsFor(_standIn));

        await client.InvokeEndpointAsync(new() { EndpointName = "segments", Body = Encoding.UTF8.GetBytes(Features), TargetVariant = "Canary" });

        _standIn.AssertNoInvalidRequests();
        Assert.Equal("Canary", Assert.Single(_standIn.Requests).Headers["X-Amzn-SageMaker-Target-Variant"]);
    }

    [Fact]
    public async Task InvokeEndpoint_NameOutsideTheModelPattern_IsEncodedAndRejected()
    {
        _standIn.Handle("InvokeEndpoint", _ => new StandInResponse { Body = Encoding.UTF8.GetBytes(Prediction) });
        var client = new SageMakerRuntimeClient(OptionsFor(_standIn));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() =>
            client.InvokeEndpointAsync(new() { EndpointName = "segments/../x y", Body = Encoding.UTF8.GetBytes(Features) }));

        Assert.Equal("ValidationException", error.ErrorCode);
        Assert.Equal("/endpoints/segments%2F..%2Fx%20y/invocations", Assert.Single(_standIn.Requests).RawUrl);
        Assert.Equal(["InvokeEndpoint: InvokeEndpoint.EndpointName: 'segments/../x y' does not match the EndpointName pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9])*"],
            _standIn.InvalidRequests);
    }

    [Fact]
    public async Task InvokeEndpoint_ModelError_IsMappedFromTheErrorTypeHeaderWithoutRetry()
    {
        var delays = new List<TimeSpan>();
        _standIn.Handle("InvokeEndpoint", _ => StandInResponse.Error(424, "ModelError", "Received server error (500) from primary"));
        var client = new SageMakerRuntimeClient(OptionsFor(_standIn, delays));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() =>
            client.InvokeEndpointAsync(new() { EndpointName = "segments", Body = Encoding.UTF8.GetBytes(Features) }));

        Assert.Equal("SageMaker Runtime InvokeEndpoint failed: HTTP 424 ModelError: Received server error (500) from primary", error.Message);
        Assert.Empty(delays);
        _standIn.AssertNoInvalidRequests();
    }

    [Fact]
    public async Task InvokeEndpoint_ServiceUnavailableOnce_IsRetried()
    {
        var delays = new List<TimeSpan>();
        _standIn.Handle("InvokeEndpoint", _ => new StandInResponse { Body = Encoding.UTF8.GetBytes(Prediction) });
        _standIn.FailNext("InvokeEndpoint", 1, StandInResponse.ServiceUnavailable());
        var client = new SageMakerRuntimeClient(OptionsFor(_standIn, delays));

        var response = await client.InvokeEndpointAsync(new() { EndpointName = "segments", Body = Encoding.UTF8.GetBytes(Features) });

        Assert.Equal(Prediction, Encoding.UTF8.GetString(response.Body.Span));
        Assert.Equal(2, _standIn.Requests.Count);
        Assert.Single(delays);
        _standIn.AssertNoInvalidRequests();
    }
}
