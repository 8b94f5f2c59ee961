using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.Lambdas.Tests.Contract;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>The handler's Lambda entry point (event bytes in, response document out), driven in process.</summary>
internal static class LambdaEntryPoint
{
    /// <summary>
    /// Hands <paramref name="eventJson"/> to <see cref="CustomerSegmentation.SegmentProxy.SegmentProxyFunction.HandleAsync(Stream, LambdaInvocationContext, CancellationToken)"/>
    /// as the runtime does (a memory stream exposing its buffer), or as <paramref name="input"/>; returns the response and the document as written.
    /// The response must conform to the OpenAPI document.
    /// </summary>
    public static async Task<(APIGatewayProxyResponse Response, string Document)> InvokeAsync(this ProxyHarness harness, byte[] eventJson, Stream? input = null)
    {
        var context = new LambdaInvocationContext("request-1", DateTimeOffset.UtcNow.AddMinutes(1), null, null, harness.Logger, TimeProvider.System);
        using var output = await harness.Function.HandleAsync(input ?? new MemoryStream(eventJson, 0, eventJson.Length, writable: false, publiclyVisible: true),
            context, CancellationToken.None);
        using var reader = new StreamReader(output, Encoding.UTF8);
        var document = await reader.ReadToEndAsync();
        var response = JsonSerializer.Deserialize(document, APIGatewayEventsJsonContext.Default.APIGatewayProxyResponse)!;
        OpenApiContract.Product.AssertConforms(eventJson, response);
        return (response, document);
    }

    /// <summary>Status, headers (sorted) and body on one line, for comparing answers.</summary>
    public static string Show(APIGatewayProxyResponse response) =>
        $"{response.StatusCode} {string.Join(";", (response.Headers ?? new Dictionary<string, string>()).OrderBy(header => header.Key, StringComparer.Ordinal).Select(header => $"{header.Key}={header.Value}"))} {response.Body}";
}
