using System.Net;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;

namespace CustomerSegmentation.Lambdas.Tests.Loopback;

/// <summary>
/// A strict stand-in for an AWS JSON 1.1 service (SageMaker, Application Auto Scaling): <c>POST /</c> only,
/// <c>Content-Type: application/x-amz-json-1.1</c>, an <c>X-Amz-Target</c> of the model's target prefix and an existing
/// operation, a body valid against the operation's input shape, and a correct SigV4 signature for the model's signing
/// name and the stand-in's region that covers host, x-amz-date, content-type and x-amz-target.
/// </summary>
public sealed class AwsJsonServiceStandIn(BotocoreServiceModel model, string region = "us-east-1", AWSCredentials? credentials = null)
    : AwsServiceStandIn(model, region, credentials)
{
    private const string ContentType = "application/x-amz-json-1.1";
    private static readonly string[] MustBeSigned = ["host", "x-amz-date", "content-type", "x-amz-target"];

    protected override (string Operation, List<string> Problems) Inspect(HttpListenerRequest request, byte[] body)
    {
        var problems = new List<string>();
        var target = request.Headers["X-Amz-Target"] ?? "";
        var prefix = Model.TargetPrefix + ".";
        var operation = target.StartsWith(prefix, StringComparison.Ordinal) ? target[prefix.Length..] : target;
        if (request.HttpMethod != "POST" || request.RawUrl != "/")
        {
            problems.Add($"{request.HttpMethod} {request.RawUrl}: the JSON protocol only takes POST /");
        }

        if (request.Headers["Content-Type"] != ContentType)
        {
            problems.Add($"Content-Type is '{request.Headers["Content-Type"]}', expected '{ContentType}'");
        }

        if (!target.StartsWith(prefix, StringComparison.Ordinal))
        {
            problems.Add($"X-Amz-Target is '{target}', expected '{prefix}<Operation>'");
        }
        else
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                problems.AddRange(Validator.ValidateInput(operation, document.RootElement));
            }
            catch (JsonException exception)
            {
                problems.Add($"body is not JSON: {exception.Message}");
            }
        }

        problems.AddRange(Verifier.Verify(request, body, MustBeSigned));
        return (operation, problems);
    }

    protected override Task RenderAsync(HttpListenerResponse response, StandInResponse answer)
    {
        var body = answer.ErrorCode is null
            ? answer.Body
            : Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["__type"] = $"com.amazonaws.{Model.SigningName}#{answer.ErrorCode}",
                ["message"] = answer.ErrorMessage ?? "",
            }));
        return RespondAsync(response, answer.StatusCode, body, answer.ContentType ?? ContentType, WithRequestId(answer.Headers));
    }
}
