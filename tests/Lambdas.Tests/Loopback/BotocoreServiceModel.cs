using System.Text.Json;

namespace CustomerSegmentation.Lambdas.Tests.Loopback;

/// <summary>
/// One botocore service model (<c>service-2.json</c>), the official request/response shapes the stand-ins and
/// conformance tests check against. Installed by Debian's python3-botocore (scripts/setup.sh); a missing model is a
/// test failure that says how to install it, never a skipped check.
/// </summary>
public sealed class BotocoreServiceModel
{
    public const string DataDirectory = "/usr/lib/python3/dist-packages/botocore/data";

    private static readonly Lazy<BotocoreServiceModel> SageMakerModel = new(() => Load("sagemaker", "2017-07-24"));
    private static readonly Lazy<BotocoreServiceModel> SageMakerRuntimeModel = new(() => Load("sagemaker-runtime", "2017-05-13"));
    private static readonly Lazy<BotocoreServiceModel> ApplicationAutoScalingModel = new(() => Load("application-autoscaling", "2016-02-06"));

    private readonly JsonElement _root;

    private BotocoreServiceModel(JsonElement root)
    {
        _root = root;
        var metadata = root.GetProperty("metadata");
        ServiceId = metadata.GetProperty("serviceId").GetString()!;
        SigningName = metadata.GetProperty("signingName").GetString()!;
        TargetPrefix = metadata.TryGetProperty("targetPrefix", out var prefix) ? prefix.GetString() : null;
    }

    public static BotocoreServiceModel SageMaker => SageMakerModel.Value;

    public static BotocoreServiceModel SageMakerRuntime => SageMakerRuntimeModel.Value;

    public static BotocoreServiceModel ApplicationAutoScaling => ApplicationAutoScalingModel.Value;

    public string ServiceId { get; }

    public string SigningName { get; }

    public string? TargetPrefix { get; }

    public static BotocoreServiceModel Load(string service, string apiVersion)
    {
        var path = Path.Combine(DataDirectory, service, apiVersion, "service-2.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The botocore model {path} is missing: install python3-botocore (scripts/setup.sh does) so requests can be checked against it.", path);
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return new BotocoreServiceModel(document.RootElement.Clone());
    }

    public bool HasOperation(string operation) => _root.GetProperty("operations").TryGetProperty(operation, out _);

    public JsonElement Operation(string operation) => _root.GetProperty("operations").GetProperty(operation);

    /// <summary>The operation's input shape name, or null when it takes no input.</summary>
    public string? InputShape(string operation) => ShapeReference(operation, "input");

    /// <summary>The operation's output shape name, or null when it returns nothing.</summary>
    public string? OutputShape(string operation) => ShapeReference(operation, "output");

    public JsonElement Shape(string name) => _root.GetProperty("shapes").GetProperty(name);

    private string? ShapeReference(string operation, string direction) =>
        Operation(operation).TryGetProperty(direction, out var reference) ? reference.GetProperty("shape").GetString() : null;
}
