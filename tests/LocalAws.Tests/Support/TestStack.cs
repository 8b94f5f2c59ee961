using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.Tests.Support;

/// <summary>
/// A hand-written stack in a temporary cdk.out folder: functions get an asset folder holding the given bootstrap and the
/// <c>aws:asset:path</c> metadata CDK writes, so the local services find their code as they do in a synthesized app.
/// </summary>
internal sealed class TestStack
{
    public const string StackName = "TestStack";

    private readonly JsonObject _resources = [];

    public TestStack()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("localaws-cdk-out-").FullName;
    }

    public string Directory { get; }

    /// <summary>Adds a provided.al2023 function whose bootstrap is a copy of <paramref name="bootstrap"/>.</summary>
    public TestStack Function(string logicalId, string bootstrap, string? functionName = null, int timeoutSeconds = 10,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var asset = $"asset.{logicalId.ToLowerInvariant()}";
        var code = System.IO.Directory.CreateDirectory(Path.Combine(Directory, asset)).FullName;
        File.Copy(bootstrap, Path.Combine(code, "bootstrap"));
        File.SetUnixFileMode(Path.Combine(code, "bootstrap"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var properties = new JsonObject
        {
            ["Runtime"] = "provided.al2023",
            ["Handler"] = "bootstrap",
            ["MemorySize"] = 256,
            ["Timeout"] = timeoutSeconds,
            ["Code"] = new JsonObject { ["S3Bucket"] = "assets", ["S3Key"] = $"{logicalId}.zip" },
            ["Environment"] = new JsonObject
            {
                ["Variables"] = new JsonObject((environment ?? new Dictionary<string, string>()).Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value))),
            },
        };
        if (functionName is not null)
        {
            properties["FunctionName"] = functionName;
        }

        _resources[logicalId] = new JsonObject
        {
            ["Type"] = "AWS::Lambda::Function",
            ["Properties"] = properties,
            ["Metadata"] = new JsonObject { ["aws:asset:path"] = asset, ["aws:asset:property"] = "Code" },
        };
        return this;
    }

    /// <summary>Adds any resource, written as template JSON.</summary>
    public TestStack Resource(string logicalId, string json)
    {
        _resources[logicalId] = JsonNode.Parse(json);
        return this;
    }

    public StackTemplate Build() => new(new JsonObject { ["Resources"] = _resources.DeepClone() }, StackName, Directory);

    /// <summary>The ARN the local account gives a function named <paramref name="functionName"/>.</summary>
    public static string Arn(string functionName) => $"arn:aws:lambda:us-east-1:000000000000:function:{functionName}";
}
