using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.LocalAws.AutoScaling;
using CustomerSegmentation.LocalAws.Http;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>
/// One loopback HTTP server for three AWS protocols: SageMaker's control plane and Application Auto Scaling (JSON 1.1,
/// <c>POST /</c> with <c>X-Amz-Target: SageMaker.*</c> or <c>AnyScaleFrontendService.*</c>) and the SageMaker runtime's
/// REST InvokeEndpoint (<c>POST /endpoints/{EndpointName}/invocations</c>). Every request must be SigV4-signed for its
/// service (<see cref="SigV4Authorization"/>). Events a control-plane call raises are delivered after its answer was sent.
/// </summary>
internal sealed class LocalSageMakerServer : LoopbackHttpServer
{
    private const string JsonContentType = "application/x-amz-json-1.1";
    private readonly List<(JsonOperationTable Table, string SigningName)> _services;
    private readonly SageMakerControlPlane _sageMaker;
    private readonly OrderedEventDelivery _events;
    private readonly string _region;

    public LocalSageMakerServer(SageMakerControlPlane sageMaker, ApplicationAutoScalingService autoScaling, OrderedEventDelivery events, string region)
    {
        _sageMaker = sageMaker;
        _events = events;
        _region = region;
        _services = [(SageMakerOperations(sageMaker), "sagemaker"), (AutoScalingOperations(autoScaling), "application-autoscaling")];
    }

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var body = await ReadBodyAsync(request);
        var path = (request.RawUrl ?? "/").Split('?')[0];
        if (request.HttpMethod == "POST" && path == "/")
        {
            await HandleJsonAsync(context, body);
        }
        else if (request.HttpMethod == "POST" && path.Split('/') is ["", "endpoints", { Length: > 0 } name, "invocations"])
        {
            await HandleInvocationAsync(context, Uri.UnescapeDataString(name), body);
        }
        else
        {
            await RespondJsonAsync(context.Response, JsonAnswer.Error(HttpStatusCode.NotFound, "UnknownOperationException",
                $"{request.HttpMethod} {path} is no operation of this service: use POST / (SageMaker, Application Auto Scaling) or POST /endpoints/{{EndpointName}}/invocations."));
        }
    }

    private static JsonOperationTable SageMakerOperations(SageMakerControlPlane sageMaker)
    {
        var json = SageMakerJsonContext.Default;
        var table = new JsonOperationTable(SageMakerControlPlane.ServiceId, "SageMaker");
        table.Add("DescribeModelPackage", json.DescribeModelPackageRequest, json.DescribeModelPackageResponse, sageMaker.DescribeModelPackageAsync);
        table.Add("CreateModel", json.CreateModelRequest, json.CreateModelResponse, sageMaker.CreateModelAsync);
        table.Add("DescribeModel", json.DescribeModelRequest, json.DescribeModelResponse, sageMaker.DescribeModelAsync);
        table.Add("DeleteModel", json.DeleteModelRequest, sageMaker.DeleteModelAsync);
        table.Add("ListModels", json.ListModelsRequest, json.ListModelsResponse, sageMaker.ListModelsAsync);
        table.Add("CreateEndpointConfig", json.CreateEndpointConfigRequest, json.CreateEndpointConfigResponse, sageMaker.CreateEndpointConfigAsync);
        table.Add("DescribeEndpointConfig", json.DescribeEndpointConfigRequest, json.DescribeEndpointConfigResponse, sageMaker.DescribeEndpointConfigAsync);
        table.Add("DeleteEndpointConfig", json.DeleteEndpointConfigRequest, sageMaker.DeleteEndpointConfigAsync);
        table.Add("ListEndpointConfigs", json.ListEndpointConfigsRequest, json.ListEndpointConfigsResponse, sageMaker.ListEndpointConfigsAsync);
        table.Add("CreateEndpoint", json.CreateEndpointRequest, json.CreateEndpointResponse, sageMaker.CreateEndpointAsync);
        table.Add("UpdateEndpoint", json.UpdateEndpointRequest, json.UpdateEndpointResponse, sageMaker.UpdateEndpointAsync);
        table.Add("DescribeEndpoint", json.DescribeEndpointRequest, json.DescribeEndpointResponse, sageMaker.DescribeEndpointAsync);
        table.Add("DeleteEndpoint", json.DeleteEndpointRequest, sageMaker.DeleteEndpointAsync);
        table.Add("ListTags", json.ListTagsRequest, json.ListTagsResponse, sageMaker.ListTagsAsync);
        table.Add("AddTags", json.AddTagsRequest, json.AddTagsResponse, sageMaker.AddTagsAsync);
        table.Add("DeleteTags", json.DeleteTagsRequest, json.DeleteTagsResponse, sageMaker.DeleteTagsAsync);
        return table;
    }

    private static JsonOperationTable AutoScalingOperations(ApplicationAutoScalingService autoScaling)
    {
        var json = ApplicationAutoScalingJsonContext.Default;
        var table = new JsonOperationTable(ApplicationAutoScalingService.ServiceId, "AnyScaleFrontendService");
        table.Add("DescribeScalableTargets", json.DescribeScalableTargetsRequest, json.DescribeScalableTargetsResponse, autoScaling.DescribeScalableTargetsAsync);
        table.Add("RegisterScalableTarget", json.RegisterScalableTargetRequest, json.RegisterScalableTargetResponse, autoScaling.RegisterScalableTargetAsync);
        table.Add("DeregisterScalableTarget", json.DeregisterScalableTargetRequest, json.DeregisterScalableTargetResponse, autoScaling.DeregisterScalableTargetAsync);
        table.Add("PutScalingPolicy", json.PutScalingPolicyRequest, json.PutScalingPolicyResponse, autoScaling.PutScalingPolicyAsync);
        return table;
    }

    private async Task HandleJsonAsync(HttpListenerContext context, byte[] body)
    {
        var target = context.Request.Headers["X-Amz-Target"] ?? "";
        var service = _services.FirstOrDefault(service => target.StartsWith(service.Table.TargetPrefix + ".", StringComparison.Ordinal));
        if (service.Table is null)
        {
            await RespondJsonAsync(context.Response, JsonAnswer.Error(HttpStatusCode.BadRequest, "UnknownOperationException",
                $"X-Amz-Target '{target}' names no operation: expected {string.Join(" or ", _services.Select(s => s.Table.TargetPrefix + ".<Operation>"))}."));
            return;
        }

        if (context.Request.ContentType?.Split(';')[0].Trim() != JsonContentType)
        {
            await RespondJsonAsync(context.Response, JsonAnswer.Error(HttpStatusCode.BadRequest, "UnknownOperationException",
                $"Content-Type '{context.Request.ContentType}' is not {JsonContentType}, the protocol of {target}."));
            return;
        }

        if (SigV4Authorization.Check(context.Request.Headers, service.SigningName, _region) is { } problem)
        {
            await RespondJsonAsync(context.Response, JsonAnswer.Error((HttpStatusCode)problem.StatusCode, problem.Code, problem.Message));
            return;
        }

        using (_events.HoldUntilDisposed())
        {
            var answer = await service.Table.InvokeAsync(target, body, Stopping);
            await RespondJsonAsync(context.Response, answer);
        }
    }

    private async Task HandleInvocationAsync(HttpListenerContext context, string endpointName, byte[] body)
    {
        if (SigV4Authorization.Check(context.Request.Headers, "sagemaker", _region) is { } problem)
        {
            await RespondRestErrorAsync(context.Response, problem.StatusCode, problem.Code, new JsonObject { ["message"] = problem.Message });
            return;
        }

        EndpointInvocation invocation;
        try
        {
            invocation = await _sageMaker.InvokeEndpointAsync(endpointName,
                new VariantInvocation(body, context.Request.ContentType, context.Request.Headers["Accept"]), Stopping);
        }
        catch (AwsServiceException exception)
        {
            await RespondRestErrorAsync(context.Response, (int)exception.StatusCode, exception.ErrorCode, new JsonObject { ["message"] = exception.ErrorMessage });
            return;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !Stopping.IsCancellationRequested)
        {
            await RespondRestErrorAsync(context.Response, 500, "InternalFailure",
                new JsonObject { ["message"] = $"An exception occurred while sending the request to the model container of endpoint {endpointName}: {exception.Message}" });
            return;
        }

        var answer = invocation.Answer;
        if (answer.StatusCode is >= 200 and < 300)
        {
            await RespondAsync(context.Response, 200, answer.Body, answer.ContentType ?? "application/json",
                new Dictionary<string, string> { ["x-Amzn-Invoked-Production-Variant"] = invocation.VariantName, ["x-amzn-RequestId"] = Guid.NewGuid().ToString() });
            return;
        }

        var original = Encoding.UTF8.GetString(answer.Body);
        var kind = answer.StatusCode < 500 ? "client" : "server";
        await RespondRestErrorAsync(context.Response, 424, "ModelError", new JsonObject
        {
            ["Message"] = string.Create(CultureInfo.InvariantCulture,
                $"Received {kind} error ({answer.StatusCode}) from primary with message \"{original}\". See the model server's log lines prefixed [{endpointName}/{invocation.VariantName}] for more information."),
            ["OriginalStatusCode"] = answer.StatusCode,
            ["OriginalMessage"] = original,
        });
    }

    private static Task RespondJsonAsync(HttpListenerResponse response, JsonAnswer answer) =>
        RespondAsync(response, answer.StatusCode, answer.Body, JsonContentType, new Dictionary<string, string> { ["x-amzn-RequestId"] = Guid.NewGuid().ToString() });

    // REST-JSON errors name their code in x-amzn-ErrorType, the message in the body.
    private static Task RespondRestErrorAsync(HttpListenerResponse response, int statusCode, string code, JsonObject body) =>
        RespondAsync(response, statusCode, Encoding.UTF8.GetBytes(body.ToJsonString()), "application/json", new Dictionary<string, string>
        {
            ["x-amzn-ErrorType"] = $"{code}:http://internal.amazon.com/coral/com.amazon.sagemaker/",
            ["x-amzn-RequestId"] = Guid.NewGuid().ToString(),
        });
}
