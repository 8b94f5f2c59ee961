using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime;

namespace CustomerSegmentation.Lambdas.Tests.Loopback;

/// <summary>
/// A strict stand-in for the SageMaker runtime's REST-JSON InvokeEndpoint: <c>POST /endpoints/{EndpointName}/invocations</c>,
/// the URI and header members (<c>Content-Type</c>, <c>Accept</c>, <c>X-Amzn-SageMaker-*</c>) and the raw body checked
/// against botocore's <c>InvokeEndpointInput</c>, and a correct SigV4 signature (signing name <c>sagemaker</c>).
/// Handlers see the call as a JSON object of the input members, with <c>Body</c> base64-encoded.
/// </summary>
public sealed class SageMakerRuntimeStandIn(string region = "us-east-1", AWSCredentials? credentials = null)
    : AwsServiceStandIn(BotocoreServiceModel.SageMakerRuntime, region, credentials)
{
    public const string Operation = "InvokeEndpoint";
    private static readonly string[] MustBeSigned = ["host", "x-amz-date", "content-type"];

    protected override (string Operation, List<string> Problems) Inspect(HttpListenerRequest request, byte[] body)
    {
        var problems = new List<string>();
        var segments = (request.RawUrl ?? "").Split('/');
        if (request.HttpMethod != "POST" || segments is not ["", "endpoints", _, "invocations"])
        {
            problems.Add($"{request.HttpMethod} {request.RawUrl} is not POST /endpoints/{{EndpointName}}/invocations");
            return (Operation, problems);
        }

        var input = new JsonObject
        {
            ["EndpointName"] = Uri.UnescapeDataString(segments[2]),
            ["Body"] = Convert.ToBase64String(body),
        };
        var members = Model.Shape(Model.InputShape(Operation)!).GetProperty("members");
        foreach (var member in members.EnumerateObject())
        {
            if (member.Value.TryGetProperty("location", out var location) && location.GetString() == "header"
                && request.Headers[member.Value.GetProperty("locationName").GetString()!] is { } value)
            {
                input[member.Name] = value;
            }
        }

        foreach (var header in request.Headers.AllKeys.Where(key => key!.StartsWith("X-Amzn-SageMaker-", StringComparison.OrdinalIgnoreCase)))
        {
            if (!members.EnumerateObject().Any(member => member.Value.TryGetProperty("locationName", out var name)
                    && string.Equals(name.GetString(), header, StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"header '{header}' is not an InvokeEndpoint input member");
            }
        }

        using var document = JsonDocument.Parse(input.ToJsonString());
        problems.AddRange(Validator.ValidateInput(Operation, document.RootElement));
        problems.AddRange(Verifier.Verify(request, body, MustBeSigned));
        return (Operation, problems);
    }

    protected override Task RenderAsync(HttpListenerResponse response, StandInResponse answer)
    {
        if (answer.ErrorCode is null)
        {
            return RespondAsync(response, answer.StatusCode, answer.Body, answer.ContentType ?? "application/json", WithRequestId(answer.Headers));
        }

        // REST-JSON errors name their code in x-amzn-ErrorType ("Code:namespace-url"), the message in the body.
        var headers = WithRequestId(answer.Headers);
        headers["x-amzn-ErrorType"] = $"{answer.ErrorCode}:http://internal.amazon.com/coral/com.amazon.sagemaker/";
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string> { ["Message"] = answer.ErrorMessage ?? "" }));
        return RespondAsync(response, answer.StatusCode, body, "application/json", headers);
    }
}
