using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.LocalAws.SageMaker;
using static CustomerSegmentation.LocalAws.Tests.LocalSageMakerHarness;

namespace CustomerSegmentation.LocalAws.Tests;

/// <summary>The wire: JSON 1.1 and REST-JSON framing, signatures, unknown operations, and the runtime's answers and errors.</summary>
public sealed class LocalSageMakerServerTests
{
    [Fact]
    public async Task Post_WithoutAuthorization_MissingAuthenticationToken()
    {
        await using var harness = Controlled();
        using var request = JsonRequest(harness, "SageMaker.ListModels", "{}");

        var (status, body) = await harness.SendAsync(request);

        Assert.Equal((403, "MissingAuthenticationTokenException", "Missing Authentication Token"), (status, (string?)body["__type"], (string?)body["message"]));
    }

    [Fact]
    public async Task Post_OtherAuthorizationScheme_IncompleteSignature()
    {
        await using var harness = Controlled();
        using var request = JsonRequest(harness, "SageMaker.ListModels", "{}");
        request.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz");

        var (status, body) = await harness.SendAsync(request);

        Assert.Equal((403, "IncompleteSignatureException", "Unsupported Authorization scheme 'Basic': sign requests with Signature Version 4 (AWS4-HMAC-SHA256)."),
            (status, (string?)body["__type"], (string?)body["message"]));
    }

    [Fact]
    public async Task Post_SigV4WithoutSignatureOrDate_IncompleteSignatureListingWhatIsMissing()
    {
        await using var harness = Controlled();
        using var request = JsonRequest(harness, "SageMaker.ListModels", "{}");
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/sagemaker/aws4_request, SignedHeaders=host");

        var (status, body) = await harness.SendAsync(request);

        Assert.Equal((403, "IncompleteSignatureException",
            "Authorization header requires 'Signature' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."),
            (status, (string?)body["__type"], (string?)body["message"]));
    }

    [Fact]
    public async Task Post_SignedForAnotherService_InvalidSignature()
    {
        await using var harness = Controlled();

        var (status, body) = await harness.SignedJsonAsync("SageMaker.ListModels", "{}", signingName: "s3");

        Assert.Equal((403, "InvalidSignatureException", "Credential should be scoped to correct service: 'sagemaker'. "), (status, (string?)body["__type"], (string?)body["message"]));
    }

    [Fact]
    public async Task Post_AutoScalingSignedAsSageMaker_InvalidSignature()
    {
        await using var harness = Controlled();

        var (status, body) = await harness.SignedJsonAsync("AnyScaleFrontendService.DescribeScalableTargets", """{"ServiceNamespace":"sagemaker"}""", signingName: "sagemaker");

        Assert.Equal((403, "Credential should be scoped to correct service: 'application-autoscaling'. "), (status, (string?)body["message"]));
    }

    [Fact]
    public async Task Post_SignedForAnotherRegion_InvalidSignature()
    {
        await using var harness = Controlled();

        var (status, body) = await harness.SignedJsonAsync("SageMaker.ListModels", "{}", region: "eu-west-1");

        Assert.Equal((403, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'. "), (status, (string?)body["__type"], (string?)body["message"]));
    }

    [Fact]
    public async Task Post_SignedWithAnyCredentials_Answered()
    {
        await using var harness = Controlled();

        var (status, body) = await harness.SignedJsonAsync("SageMaker.ListModels", "{}");

        Assert.Equal(200, status);
        Assert.Empty(body["Models"]!.AsArray());
    }

    [Fact]
    public async Task Post_OperationTheLocalServiceDoesNotImplement_UnknownOperation()
    {
        await using var harness = Controlled();

        var (status, body) = await harness.SignedJsonAsync("SageMaker.CreateTrainingJob", "{}");

        Assert.Equal((400, "UnknownOperationException", "Unknown operation SageMaker.CreateTrainingJob."), (status, (string?)body["__type"], (string?)body["message"]));
    }

    [Fact]
    public async Task Post_TargetOfAnotherService_UnknownOperation()
    {
        await using var harness = Controlled();

        var (status, body) = await harness.SignedJsonAsync("DynamoDB_20120810.ListTables", "{}");

        Assert.Equal((400, "UnknownOperationException",
            "X-Amz-Target 'DynamoDB_20120810.ListTables' names no operation: expected SageMaker.<Operation> or AnyScaleFrontendService.<Operation>."),
            (status, (string?)body["__type"], (string?)body["message"]));
    }

    [Fact]
    public async Task Post_PlainJsonContentType_UnknownOperation()
    {
        await using var harness = Controlled();

        var (status, body) = await harness.SignedJsonAsync("SageMaker.ListModels", "{}", contentType: "application/json");

        Assert.Equal((400, "UnknownOperationException", "Content-Type 'application/json' is not application/x-amz-json-1.1, the protocol of SageMaker.ListModels."),
            (status, (string?)body["__type"], (string?)body["message"]));
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("{\"ModelName\":")]
    public async Task Post_BodyNotAJsonObject_SerializationException(string body)
    {
        await using var harness = Controlled();

        var (status, answer) = await harness.SignedJsonAsync("SageMaker.DescribeModel", body);

        Assert.Equal((400, "SerializationException"), (status, (string?)answer["__type"]));
    }

    [Fact]
    public async Task Post_RequiredMembersMissing_ValidationExceptionListingEach()
    {
        await using var harness = Controlled();

        var (status, body) = await harness.SignedJsonAsync("SageMaker.CreateEndpoint", """{"EndpointName":null}""");

        Assert.Equal((400, "ValidationException",
            "2 validation errors detected: Value null at 'endpointName' failed to satisfy constraint: Member must not be null; Value null at 'endpointConfigName' failed to satisfy constraint: Member must not be null"),
            (status, (string?)body["__type"], (string?)body["message"]));
    }

    [Fact]
    public async Task Post_WrongMemberType_SerializationException()
    {
        await using var harness = Controlled();

        var (status, body) = await harness.SignedJsonAsync("SageMaker.ListModels", """{"MaxResults":"ten"}""");

        Assert.Equal((400, "SerializationException"), (status, (string?)body["__type"]));
    }

    [Fact]
    public async Task Get_Root_UnknownOperation404()
    {
        await using var harness = Controlled();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(harness.Service.Endpoint, "ping"));

        var (status, body) = await harness.SendAsync(request);

        Assert.Equal((404, "UnknownOperationException"), (status, (string?)body["__type"]));
    }

    [Fact]
    public async Task InvokeEndpoint_InService_ForwardsBodyContentTypeAndAcceptAndNamesTheVariant()
    {
        await using var harness = Controlled();
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, "s3://models/model.tar.gz"));
        await harness.ServeAsync("segments", config);
        harness.Host.Answer = (_, invocation) => Task.FromResult(new VariantAnswer(200, "1,2\n"u8.ToArray(), "text/csv"));

        var response = await harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = "0.5,1.5\n"u8.ToArray(), ContentType = "text/csv", Accept = "text/csv" });

        var invocation = Assert.Single(harness.Host.Variants[0].Invocations);
        Assert.Equal(("0.5,1.5\n", "text/csv", "text/csv"), (Encoding.UTF8.GetString(invocation.Body.Span), invocation.ContentType, invocation.Accept));
        Assert.Equal(("1,2\n", "text/csv", "AllTraffic"), (Encoding.UTF8.GetString(response.Body.Span), response.ContentType, response.InvokedProductionVariant));
        harness.AssertNoServerFaults();
    }

    [Fact]
    public async Task InvokeEndpoint_UnknownEndpoint_ValidationErrorNotFound()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = "{}"u8.ToArray() }));

        Assert.Equal((HttpStatusCode.BadRequest, "ValidationError", $"Endpoint segments of account {Account} not found."), (error.StatusCode, error.ErrorCode, error.ErrorMessage));
    }

    [Fact]
    public async Task InvokeEndpoint_StillCreating_ValidationErrorNotFound()
    {
        var host = new ControlledEndpointHost { StartsOnItsOwn = false };
        await using var harness = Controlled(host);
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, "s3://models/model.tar.gz"));
        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config });

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = "{}"u8.ToArray() }));

        Assert.Equal(("ValidationError", $"Endpoint segments of account {Account} not found."), (error.ErrorCode, error.ErrorMessage));
    }

    [Theory]
    [InlineData(400, "client")]
    [InlineData(500, "server")]
    public async Task InvokeEndpoint_ContainerAnswersAnError_ModelError424WithTheOriginal(int containerStatus, string kind)
    {
        await using var harness = Controlled();
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, "s3://models/model.tar.gz"));
        await harness.ServeAsync("segments", config);
        harness.Host.Answer = (_, _) => Task.FromResult(new VariantAnswer(containerStatus, """{"error":"ValueError","error-message":"row 0: expected 3 values"}"""u8.ToArray(), "application/json"));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(harness.Service.Endpoint, "endpoints/segments/invocations")) { Content = new StringContent("{}") };
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/sagemaker/aws4_request, SignedHeaders=host;x-amz-date, Signature=00");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20261125T120000Z");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = "{}"u8.ToArray() }));
        using var raw = await new HttpClient().SendAsync(request);
        var body = JsonNode.Parse(await raw.Content.ReadAsStringAsync())!;

        const string original = """{"error":"ValueError","error-message":"row 0: expected 3 values"}""";
        var message = $"Received {kind} error ({containerStatus}) from primary with message \"{original}\". See the model server's log lines prefixed [segments/AllTraffic] for more information.";
        Assert.Equal((HttpStatusCode.FailedDependency, "ModelError", message), (error.StatusCode, error.ErrorCode, error.ErrorMessage));
        Assert.Equal("ModelError:http://internal.amazon.com/coral/com.amazon.sagemaker/", raw.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Equal((containerStatus, original), ((int)body["OriginalStatusCode"]!, (string?)body["OriginalMessage"]));
    }

    [Fact]
    public async Task InvokeEndpoint_Unsigned_MissingAuthenticationTokenInTheRestErrorHeader()
    {
        await using var harness = Controlled();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(harness.Service.Endpoint, "endpoints/segments/invocations")) { Content = new StringContent("{}") };
        using var client = new HttpClient();

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("MissingAuthenticationTokenException:", response.Headers.GetValues("x-amzn-ErrorType").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeEndpoint_ContainerConnectionFails_InternalFailure()
    {
        await using var harness = Controlled();
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, "s3://models/model.tar.gz"));
        await harness.ServeAsync("segments", config);
        harness.Host.Answer = (_, _) => throw new HttpRequestException("Connection refused (127.0.0.1:1)");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = "{}"u8.ToArray() }));

        Assert.Equal((HttpStatusCode.InternalServerError, "InternalFailure",
            "An exception occurred while sending the request to the model container of endpoint segments: Connection refused (127.0.0.1:1)"),
            (error.StatusCode, error.ErrorCode, error.ErrorMessage));
        harness.AssertNoServerFaults();
    }

    private static HttpRequestMessage JsonRequest(LocalSageMakerHarness harness, string target, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, harness.Service.Endpoint) { Content = new StringContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        return request;
    }
}
