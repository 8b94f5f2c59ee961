using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalAws.CloudFormation;

/// <summary>
/// Resolves CloudFormation intrinsic functions in a template fragment the way a deployment into
/// <see cref="LocalAccount"/> would. Anything it cannot resolve is an error naming the function or attribute:
/// passing an intrinsic through unresolved would only fail later, far from the cause.
/// </summary>
public sealed class IntrinsicResolver
{
    private const string BucketType = "AWS::S3::Bucket";
    private readonly JsonObject _resources;
    private readonly JsonObject _parameters;
    private readonly JsonObject _mappings;
    private readonly string _stackName;

    public IntrinsicResolver(JsonObject template, string stackName)
    {
        ArgumentNullException.ThrowIfNull(template);
        _resources = template["Resources"] as JsonObject ?? [];
        _parameters = template["Parameters"] as JsonObject ?? [];
        _mappings = template["Mappings"] as JsonObject ?? [];
        _stackName = stackName;
    }

    /// <summary>The logical ids of every <c>AWS::S3::Bucket</c> of the template.</summary>
    public IEnumerable<string> BucketLogicalIds =>
        _resources.Where(r => (string?)r.Value?["Type"] == BucketType).Select(r => r.Key);

    /// <summary>The local name of a bucket: its BucketName property, else its logical id in lower case.</summary>
    public string BucketName(string logicalId)
    {
        var declared = _resources[logicalId]?["Properties"]?["BucketName"];
        if (declared is not null)
        {
            return AsString(Resolve(declared), $"BucketName of {logicalId}");
        }

        var name = logicalId.ToLowerInvariant();
        return name.Length <= 63 ? name : name[..63];
    }

    /// <summary>A copy of <paramref name="node"/> with every intrinsic function replaced by its value.</summary>
    public JsonNode? Resolve(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj when obj.Count == 1 && IsIntrinsic(obj.First().Key):
                var (name, argument) = obj.First();
                return ResolveFunction(name, argument);
            case JsonObject obj:
                var resolved = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    var v = Resolve(value);
                    if (!IsNoValue(v))
                    {
                        resolved[key] = v;
                    }
                }

                return resolved;
            case JsonArray array:
                return new JsonArray(array.Select(Resolve).Where(v => !IsNoValue(v)).ToArray());
            default:
                return node?.DeepClone();
        }
    }

    private static readonly JsonValue NoValue = JsonValue.Create("__AWS::NoValue__");

    private static bool IsNoValue(JsonNode? node) => ReferenceEquals(node, NoValue);

    private static bool IsIntrinsic(string key) => key == "Ref" || key.StartsWith("Fn::", StringComparison.Ordinal);

    private JsonNode? ResolveFunction(string name, JsonNode? argument) => name switch
    {
        "Ref" => Ref(AsString(argument, "Ref")),
        "Fn::GetAtt" => GetAtt(argument),
        "Fn::Join" => Join(argument),
        "Fn::Sub" => Sub(argument),
        "Fn::FindInMap" => FindInMap(argument),
        "Fn::Select" => Select(argument),
        "Fn::Split" => Split(argument),
        _ => throw new LocalAwsException(
            $"{name} is not supported locally (supported: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::FindInMap, Fn::Select, Fn::Split)."),
    };

    private JsonNode? Ref(string target)
    {
        switch (target)
        {
            case "AWS::Region": return LocalAccount.Region;
            case "AWS::AccountId": return LocalAccount.AccountId;
            case "AWS::Partition": return LocalAccount.Partition;
            case "AWS::URLSuffix": return LocalAccount.UrlSuffix;
            case "AWS::StackName": return _stackName;
            case "AWS::StackId":
                return $"arn:aws:cloudformation:{LocalAccount.Region}:{LocalAccount.AccountId}:stack/{_stackName}/local";
            case "AWS::NoValue": return NoValue;
        }

        if (target.StartsWith("AWS::", StringComparison.Ordinal))
        {
            throw new LocalAwsException($"Ref {target} is not supported locally.");
        }

        if (_parameters[target] is JsonObject parameter)
        {
            return parameter["Default"]?.DeepClone()
                ?? throw new LocalAwsException($"Ref {target}: the template parameter has no Default to use locally.");
        }

        var type = ResourceType(target, $"Ref {target}");
        return type == BucketType ? BucketName(target) : PhysicalName(target);
    }

    /// <summary>
    /// What <c>Ref</c> returns for a resource whose Ref is its name: the declared name property (FunctionName,
    /// AlarmName, Name of a rule, TableName), else a local physical id.
    /// </summary>
    public string PhysicalName(string logicalId)
    {
        var type = ResourceType(logicalId, $"Resource {logicalId}");
        if (NameProperties.TryGetValue(type, out var property) && _resources[logicalId]?["Properties"]?[property] is { } declared)
        {
            return AsString(Resolve(declared), $"{property} of {logicalId}");
        }

        return FakePhysicalId(logicalId);
    }

    /// <summary>The ARN of a Lambda function of the template, as <c>Fn::GetAtt [id, Arn]</c> gives it.</summary>
    public string FunctionArn(string logicalId) =>
        $"arn:{LocalAccount.Partition}:lambda:{LocalAccount.Region}:{LocalAccount.AccountId}:function:{PhysicalName(logicalId)}";

    /// <summary>The logical ids of every resource of <paramref name="type"/>, in template order.</summary>
    public IEnumerable<string> LogicalIdsOfType(string type) =>
        _resources.Where(r => (string?)r.Value?["Type"] == type).Select(r => r.Key);

    /// <summary>The resource's <c>Properties</c> object as written in the template (unresolved); empty when it has none.</summary>
    public JsonObject Properties(string logicalId)
    {
        ResourceType(logicalId, $"Resource {logicalId}");
        return _resources[logicalId]?["Properties"] as JsonObject ?? [];
    }

    /// <summary>The resource's type, e.g. <c>AWS::Lambda::Function</c>.</summary>
    public string TypeOf(string logicalId) => ResourceType(logicalId, $"Resource {logicalId}");

    /// <summary>Stable across runs so records of two executions compare; marked "local" so nobody mistakes it for AWS.</summary>
    private string FakePhysicalId(string logicalId) => $"{_stackName}-{logicalId}-local";

    private static readonly Dictionary<string, string> NameProperties = new(StringComparer.Ordinal)
    {
        ["AWS::Lambda::Function"] = "FunctionName",
        ["AWS::CloudWatch::Alarm"] = "AlarmName",
        ["AWS::Events::Rule"] = "Name",
        ["AWS::Logs::LogGroup"] = "LogGroupName",
        ["AWS::DynamoDB::Table"] = "TableName",
    };

    private JsonNode GetAtt(JsonNode? argument)
    {
        string logicalId;
        string attribute;
        if (argument is JsonArray { Count: 2 } pair)
        {
            logicalId = AsString(pair[0], "Fn::GetAtt logical id");
            attribute = AsString(Resolve(pair[1]), "Fn::GetAtt attribute");
        }
        else if (argument is JsonValue && AsString(argument, "Fn::GetAtt").Split('.', 2) is [var id, var attr])
        {
            logicalId = id;
            attribute = attr;
        }
        else
        {
            throw new LocalAwsException($"Fn::GetAtt expects [LogicalId, Attribute] or \"LogicalId.Attribute\", got {argument?.ToJsonString()}.");
        }

        var type = ResourceType(logicalId, $"Fn::GetAtt {logicalId}.{attribute}");
        return (type, attribute) switch
        {
            ("AWS::IAM::Role", "Arn") => $"arn:aws:iam::{LocalAccount.AccountId}:role/{logicalId}",
            (BucketType, "Arn") => $"arn:aws:s3:::{BucketName(logicalId)}",
            (BucketType, "DomainName") => $"{BucketName(logicalId)}.s3.{LocalAccount.UrlSuffix}",
            (BucketType, "RegionalDomainName") => $"{BucketName(logicalId)}.s3.{LocalAccount.Region}.{LocalAccount.UrlSuffix}",
            ("AWS::Lambda::Function", "Arn") => FunctionArn(logicalId),
            ("AWS::Events::Rule", "Arn") => $"arn:{LocalAccount.Partition}:events:{LocalAccount.Region}:{LocalAccount.AccountId}:rule/{PhysicalName(logicalId)}",
            ("AWS::ApiGateway::RestApi", "RootResourceId") => $"{FakePhysicalId(logicalId)}-root",
            _ => throw new LocalAwsException(
                $"Fn::GetAtt {logicalId}.{attribute} ({type}) is not supported locally " +
                "(supported: AWS::IAM::Role Arn; AWS::S3::Bucket Arn, DomainName, RegionalDomainName; AWS::Lambda::Function Arn; " +
                "AWS::Events::Rule Arn; AWS::ApiGateway::RestApi RootResourceId)."),
        };
    }

    private JsonNode Join(JsonNode? argument)
    {
        if (argument is not JsonArray { Count: 2 } args)
        {
            throw new LocalAwsException($"Fn::Join expects [delimiter, [values]], got {argument?.ToJsonString()}.");
        }

        var delimiter = AsString(args[0], "Fn::Join delimiter");
        var values = Resolve(args[1]) as JsonArray
            ?? throw new LocalAwsException($"Fn::Join values must be a list, got {args[1]?.ToJsonString()}.");
        return string.Join(delimiter, values.Select(v => AsString(v, "Fn::Join value")));
    }

    private JsonNode Sub(JsonNode? argument)
    {
        string text;
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        if (argument is JsonArray { Count: 2 } args)
        {
            text = AsString(args[0], "Fn::Sub template");
            var map = args[1] as JsonObject
                ?? throw new LocalAwsException($"Fn::Sub variables must be an object, got {args[1]?.ToJsonString()}.");
            foreach (var (key, value) in map)
            {
                variables[key] = AsString(Resolve(value), $"Fn::Sub variable {key}");
            }
        }
        else
        {
            text = AsString(argument, "Fn::Sub");
        }

        var result = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var open = text.IndexOf("${", i, StringComparison.Ordinal);
            if (open < 0)
            {
                result.Append(text, i, text.Length - i);
                break;
            }

            result.Append(text, i, open - i);
            var close = text.IndexOf('}', open);
            if (close < 0)
            {
                throw new LocalAwsException($"Fn::Sub template '{text}' has an unterminated '${{'.");
            }

            var name = text[(open + 2)..close];
            result.Append(name.StartsWith('!') ? "${" + name[1..] + "}" : SubVariable(name, variables));
            i = close + 1;
        }

        return result.ToString();
    }

    private string SubVariable(string name, Dictionary<string, string> variables)
    {
        if (variables.TryGetValue(name, out var value))
        {
            return value;
        }

        if (!name.StartsWith("AWS::", StringComparison.Ordinal) && name.Split('.', 2) is [var id, var attribute])
        {
            return AsString(GetAtt(new JsonArray(id, attribute)), $"Fn::Sub ${{{name}}}");
        }

        return AsString(Ref(name), $"Fn::Sub ${{{name}}}");
    }

    private JsonNode? FindInMap(JsonNode? argument)
    {
        if (argument is not JsonArray { Count: 3 } args)
        {
            throw new LocalAwsException($"Fn::FindInMap expects [map, topKey, secondKey], got {argument?.ToJsonString()}.");
        }

        var map = AsString(Resolve(args[0]), "Fn::FindInMap map");
        var top = AsString(Resolve(args[1]), "Fn::FindInMap top-level key");
        var second = AsString(Resolve(args[2]), "Fn::FindInMap second-level key");
        var value = _mappings[map]?[top]?[second]
            ?? throw new LocalAwsException($"Fn::FindInMap: mapping {map} has no entry [{top}][{second}].");
        return value.DeepClone();
    }

    private JsonNode? Select(JsonNode? argument)
    {
        if (argument is not JsonArray { Count: 2 } args)
        {
            throw new LocalAwsException($"Fn::Select expects [index, [values]], got {argument?.ToJsonString()}.");
        }

        var indexText = AsString(Resolve(args[0]), "Fn::Select index");
        var values = Resolve(args[1]) as JsonArray
            ?? throw new LocalAwsException($"Fn::Select values must be a list, got {args[1]?.ToJsonString()}.");
        if (!int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= values.Count)
        {
            throw new LocalAwsException($"Fn::Select index {indexText} is out of range for a list of {values.Count}.");
        }

        return values[index]?.DeepClone();
    }

    private JsonArray Split(JsonNode? argument)
    {
        if (argument is not JsonArray { Count: 2 } args)
        {
            throw new LocalAwsException($"Fn::Split expects [delimiter, string], got {argument?.ToJsonString()}.");
        }

        var delimiter = AsString(args[0], "Fn::Split delimiter");
        var text = AsString(Resolve(args[1]), "Fn::Split source");
        return new JsonArray(text.Split(delimiter).Select(part => (JsonNode)part).ToArray());
    }

    private string ResourceType(string logicalId, string context) =>
        (string?)_resources[logicalId]?["Type"]
        ?? throw new LocalAwsException($"{context}: the template has no resource or parameter '{logicalId}'.");

    private static string AsString(JsonNode? node, string context) => node switch
    {
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        JsonValue value => value.ToJsonString(),
        _ => throw new LocalAwsException($"{context} must resolve to a string, got {node?.ToJsonString() ?? "null"}."),
    };
}
