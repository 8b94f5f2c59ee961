using System.Globalization;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.Lambda;

/// <summary>
/// What the local Lambda service needs to know about one <c>AWS::Lambda::Function</c> of a template: its identity, its
/// limits, its resolved environment and the asset folder holding its <c>bootstrap</c>.
/// </summary>
public sealed record LambdaFunctionDefinition
{
    private const string FunctionType = "AWS::Lambda::Function";
    private static readonly string[] CustomRuntimes = ["provided.al2023", "provided.al2", "provided"];

    public required string LogicalId { get; init; }

    /// <summary>The function name: its FunctionName property, else the local physical id.</summary>
    public required string FunctionName { get; init; }

    public required string FunctionArn { get; init; }

    public required string Runtime { get; init; }

    /// <summary>The Handler property (<c>_HANDLER</c>); custom runtimes may ignore it. Empty when not set.</summary>
    public string Handler { get; init; } = string.Empty;

    /// <summary>MemorySize in MB; CloudFormation's default is 128.</summary>
    public int MemorySize { get; init; } = 128;

    /// <summary>How long one invocation may run; CloudFormation's default is 3 seconds.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The asset folder that Lambda would unpack to <c>/var/task</c> (<c>LAMBDA_TASK_ROOT</c>).</summary>
    public required string CodeDirectory { get; init; }

    /// <summary>Environment.Variables with every intrinsic resolved for the local account.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The executable Lambda starts for a custom runtime.</summary>
    public string BootstrapPath => Path.Combine(CodeDirectory, "bootstrap");

    /// <summary>Reads the function <paramref name="logicalId"/> of <paramref name="stack"/>.</summary>
    /// <exception cref="LocalAwsException">It is not a function, or not one that runs locally (a managed runtime, an image, inline code).</exception>
    public static LambdaFunctionDefinition FromTemplate(StackTemplate stack, string logicalId)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var resolver = stack.Resolver;
        var type = resolver.TypeOf(logicalId);
        if (type != FunctionType)
        {
            throw new LocalAwsException($"{logicalId} is a {type}, not an {FunctionType}.");
        }

        var properties = resolver.Properties(logicalId);
        var name = resolver.PhysicalName(logicalId);
        if ((string?)properties["PackageType"] == "Image")
        {
            throw new LocalAwsException($"Function {name} ({logicalId}) is a container image; only custom-runtime functions with a bootstrap run locally.");
        }

        var runtime = (string?)resolver.Resolve(properties[nameof(Runtime)]) ?? string.Empty;
        if (!CustomRuntimes.Contains(runtime))
        {
            throw new LocalAwsException(
                $"Function {name} ({logicalId}) uses runtime '{runtime}'; only the custom runtimes ({string.Join(", ", CustomRuntimes)}) run locally, as their bootstrap process.");
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (variable, value) in resolver.Resolve(properties[nameof(Environment)]?["Variables"]) as JsonObject ?? [])
        {
            environment[variable] = value switch
            {
                JsonValue v when v.TryGetValue<string>(out var text) => text,
                JsonValue v => v.ToJsonString(),
                _ => throw new LocalAwsException($"Function {name}: environment variable {variable} is not a string ({JsonText.Show(value)})."),
            };
        }

        return new LambdaFunctionDefinition
        {
            LogicalId = logicalId,
            FunctionName = name,
            FunctionArn = resolver.FunctionArn(logicalId),
            Runtime = runtime,
            Handler = (string?)resolver.Resolve(properties[nameof(Handler)]) ?? string.Empty,
            MemorySize = Number(resolver.Resolve(properties[nameof(MemorySize)]), 128, $"Function {name} MemorySize"),
            Timeout = TimeSpan.FromSeconds(Number(resolver.Resolve(properties[nameof(Timeout)]), 3, $"Function {name} Timeout")),
            CodeDirectory = stack.AssetPath(logicalId, "Code", "S3Key"),
            Environment = environment,
        };
    }

    private static int Number(JsonNode? node, int fallback, string what) => node switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue<int>(out var number) => number,
        JsonValue v when v.TryGetValue<string>(out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => throw new LocalAwsException($"{what} is {JsonText.Show(node)}, not a whole number."),
    };
}
