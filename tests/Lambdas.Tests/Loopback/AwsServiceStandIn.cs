using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime;

namespace CustomerSegmentation.Lambdas.Tests.Loopback;

/// <summary>
/// A stand-in's answer. An error (<see cref="ErrorCode"/> set) is rendered in the service's protocol: a JSON
/// <c>__type</c> body for JSON 1.1, an <c>x-amzn-ErrorType</c> header for REST-JSON.
/// </summary>
public sealed record StandInResponse
{
    public int StatusCode { get; init; } = 200;
    public byte[] Body { get; init; } = "{}"u8.ToArray();
    public string? ContentType { get; init; }
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }

    public static StandInResponse Json(JsonNode? body) => new() { Body = Encoding.UTF8.GetBytes(body?.ToJsonString() ?? "{}") };

    public static StandInResponse Error(int statusCode, string errorCode, string message) =>
        new() { StatusCode = statusCode, ErrorCode = errorCode, ErrorMessage = message };

    public static StandInResponse Throttling() => Error(400, "ThrottlingException", "Rate exceeded");

    public static StandInResponse ServiceUnavailable() => Error(503, "ServiceUnavailable", "Service is temporarily unavailable.");
}

/// <summary>One request as the stand-in received it, with every problem found in it.</summary>
public sealed record RecordedAwsRequest(string Operation, string Method, string RawUrl, IReadOnlyDictionary<string, string> Headers,
    byte[] Body, IReadOnlyList<string> Problems)
{
    public JsonElement BodyJson => JsonDocument.Parse(Body).RootElement.Clone();
}

/// <summary>
/// The shared part of the strict AWS stand-ins: SigV4 verification, request recording, fault injection and the
/// <see cref="AssertNoInvalidRequests"/> check. A request with any problem is answered like the service's own validation
/// failure (400) and recorded, and fails the test at <see cref="AssertNoInvalidRequests"/>.
/// </summary>
public abstract class AwsServiceStandIn : LoopbackHttpServer
{
    public static readonly BasicAWSCredentials TestCredentials = new("AKIDLOOPBACKTEST", "loopback-test-secret-key");

    private readonly ConcurrentQueue<RecordedAwsRequest> _requests = new();
    private readonly ConcurrentDictionary<string, Func<RecordedAwsRequest, StandInResponse>> _handlers = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<StandInResponse>> _faults = new();

    protected AwsServiceStandIn(BotocoreServiceModel model, string region, AWSCredentials? credentials)
    {
        Model = model;
        Validator = new BotocoreShapeValidator(model);
        Verifier = new SigV4RequestVerifier(credentials ?? TestCredentials, region, model.SigningName);
    }

    public BotocoreServiceModel Model { get; }

    public BotocoreShapeValidator Validator { get; }

    protected SigV4RequestVerifier Verifier { get; }

    public IReadOnlyList<RecordedAwsRequest> Requests => [.. _requests];

    public IReadOnlyList<RecordedAwsRequest> RequestsFor(string operation) => [.. _requests.Where(request => request.Operation == operation)];

    public IReadOnlyList<string> InvalidRequests =>
        [.. _requests.SelectMany(request => request.Problems.Select(problem => $"{request.Operation}: {problem}"))];

    /// <summary>Answers valid <paramref name="operation"/> requests with <paramref name="handler"/>.</summary>
    public void Handle(string operation, Func<RecordedAwsRequest, StandInResponse> handler)
    {
        if (!Model.HasOperation(operation))
        {
            throw new ArgumentException($"{Model.ServiceId} has no operation '{operation}'.", nameof(operation));
        }

        _handlers[operation] = handler;
    }

    /// <summary>Answers the next <paramref name="times"/> valid <paramref name="operation"/> requests with <paramref name="fault"/>.</summary>
    public void FailNext(string operation, int times, StandInResponse fault)
    {
        var queue = _faults.GetOrAdd(operation, _ => new ConcurrentQueue<StandInResponse>());
        for (var i = 0; i < times; i++)
        {
            queue.Enqueue(fault);
        }
    }

    /// <summary>Fails the test when any request broke the service model, the signing rules or had no handler.</summary>
    public void AssertNoInvalidRequests()
    {
        var problems = InvalidRequests.Concat(ServerFaults).ToList();
        Assert.True(problems.Count == 0, $"{Model.ServiceId} stand-in received invalid requests:\n" + string.Join("\n", problems));
    }

    /// <summary>Works out the operation and every problem of a request (model, protocol and signing).</summary>
    protected abstract (string Operation, List<string> Problems) Inspect(HttpListenerRequest request, byte[] body);

    protected abstract Task RenderAsync(HttpListenerResponse response, StandInResponse answer);

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var body = await ReadBodyAsync(context.Request);
        var (operation, problems) = Inspect(context.Request, body);
        _handlers.TryGetValue(operation, out var handler);
        if (problems.Count == 0 && handler is null)
        {
            problems.Add($"no handler registered for {operation}: the test did not expect this call");
        }

        var headers = context.Request.Headers.AllKeys.Where(key => key is not null)
            .ToDictionary(key => key!, key => context.Request.Headers[key]!, StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedAwsRequest(operation, context.Request.HttpMethod, context.Request.RawUrl ?? "", headers, body, problems);
        _requests.Enqueue(recorded);

        StandInResponse answer;
        if (problems.Count > 0)
        {
            answer = StandInResponse.Error(400, "ValidationException", string.Join("; ", problems));
        }
        else if (_faults.TryGetValue(operation, out var faults) && faults.TryDequeue(out var fault))
        {
            answer = fault;
        }
        else
        {
            answer = handler!(recorded);
        }

        await RenderAsync(context.Response, answer);
    }

    protected static Dictionary<string, string> WithRequestId(IReadOnlyDictionary<string, string> headers) =>
        new(headers) { ["x-amzn-RequestId"] = Guid.NewGuid().ToString() };
}
