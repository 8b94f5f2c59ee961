using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.ApiGateway;

/// <summary>One resource of the API: a path part under its parent (<c>segment</c>, <c>{id}</c>, <c>{proxy+}</c>).</summary>
public sealed class ApiResource(string id, string path, string pathPart)
{
    public string Id { get; } = id;

    /// <summary>The full resource path, e.g. <c>/segments/{id}</c>; <c>/</c> for the root.</summary>
    public string Path { get; } = path;

    public string PathPart { get; } = pathPart;

    public List<ApiResource> Children { get; } = [];

    public Dictionary<string, ApiMethod> Methods { get; } = new(StringComparer.Ordinal);

    /// <summary>The parameter name of a <c>{name}</c> or <c>{name+}</c> part; null for a literal part.</summary>
    public string? ParameterName => PathPart.StartsWith('{') && PathPart.EndsWith('}') ? PathPart[1..^1].TrimEnd('+') : null;

    public bool IsGreedy => PathPart.EndsWith("+}", StringComparison.Ordinal);
}

/// <summary>A method with a Lambda proxy (<c>AWS_PROXY</c>) integration.</summary>
/// <param name="HttpMethod">GET, POST, ... or ANY.</param>
/// <param name="FunctionArn">The function the integration invokes.</param>
/// <param name="ApiKeyRequired">Callers must send a valid <c>x-api-key</c>.</param>
/// <param name="IntegrationTimeout">How long API Gateway waits for the function (TimeoutInMillis, 29 s by default).</param>
public sealed record ApiMethod(string HttpMethod, string FunctionArn, bool ApiKeyRequired, TimeSpan IntegrationTimeout);

/// <summary>A customized gateway response (<c>AWS::ApiGateway::GatewayResponse</c>) for one response type.</summary>
/// <param name="StatusCode">The status it answers with instead of the type's default; null keeps the default.</param>
/// <param name="JsonTemplate">The <c>application/json</c> body template; null keeps <c>{"message": ...}</c>.</param>
/// <param name="Headers">Static headers from <c>gatewayresponse.header.*</c> parameters.</param>
public sealed record GatewayResponse(int? StatusCode, string? JsonTemplate, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// One REST API of a template as the local front serves it: the resource tree and its proxy methods, the stage, the
/// API keys that open its key-protected methods, binary media types and customized gateway responses. What the front
/// does not emulate (other integration types, request validation, usage-plan throttling) is listed in
/// <see cref="NotEmulated"/>; what it cannot serve faithfully (IAM or authorizer-protected methods) is refused.
/// </summary>
public sealed class RestApiModel
{
    private const string ApiType = "AWS::ApiGateway::RestApi";
    private static readonly TimeSpan DefaultIntegrationTimeout = TimeSpan.FromMilliseconds(29_000);

    private RestApiModel(string logicalId, string apiId, string name)
    {
        LogicalId = logicalId;
        ApiId = apiId;
        Name = name;
    }

    public string LogicalId { get; }

    /// <summary>The API's id as <c>Ref</c> resolves it locally.</summary>
    public string ApiId { get; }

    public string Name { get; }

    public string StageName { get; private set; } = string.Empty;

    public ApiResource Root { get; private set; } = null!;

    public IReadOnlyList<string> BinaryMediaTypes { get; private set; } = [];

    /// <summary>The values of the enabled API keys tied to this API's stage by a usage plan, by key name.</summary>
    public IReadOnlyDictionary<string, string> ApiKeys { get; private set; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, GatewayResponse> GatewayResponses { get; private set; } = new Dictionary<string, GatewayResponse>();

    /// <summary>Template features this front leaves out, one line each.</summary>
    public IReadOnlyList<string> NotEmulated { get; private set; } = [];

    /// <summary>Every method, with its resource path.</summary>
    public IEnumerable<(string Path, ApiMethod Method)> AllMethods => Walk(Root).SelectMany(r => r.Methods.Values.Select(m => (r.Path, m)));

    /// <summary>Reads the REST API <paramref name="logicalId"/> of <paramref name="stack"/>, or its only one when null.</summary>
    /// <exception cref="LocalAwsException">No such API, no stage, an authorization the front cannot verify, or a broken resource tree.</exception>
    public static RestApiModel FromTemplate(StackTemplate stack, string? logicalId = null)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var resolver = stack.Resolver;
        var apis = resolver.LogicalIdsOfType(ApiType).ToList();
        var chosen = logicalId ?? apis.Count switch
        {
            1 => apis[0],
            0 => throw new LocalAwsException($"Stack {stack.StackName} has no REST API to serve."),
            _ => throw new LocalAwsException($"Stack {stack.StackName} has {apis.Count} REST APIs ({string.Join(", ", apis)}); name the one to serve."),
        };
        if (!apis.Contains(chosen))
        {
            throw new LocalAwsException($"Stack {stack.StackName} has no REST API '{chosen}' (REST APIs: {string.Join(", ", apis)}).");
        }

        var properties = resolver.Properties(chosen);
        var model = new RestApiModel(chosen, resolver.PhysicalName(chosen), (string?)resolver.Resolve(properties[nameof(Name)]) ?? chosen)
        {
            BinaryMediaTypes = (resolver.Resolve(properties[nameof(BinaryMediaTypes)]) as JsonArray ?? []).Select(t => (string)t!).ToList(),
        };
        var notEmulated = new List<string>();
        model.Root = model.ReadResources(stack);
        model.ReadMethods(stack, notEmulated);
        model.StageName = model.ReadStage(stack);
        model.ApiKeys = model.ReadApiKeys(stack);
        model.GatewayResponses = model.ReadGatewayResponses(stack);
        foreach (var validator in Owned(stack, "AWS::ApiGateway::RequestValidator", model.ApiId))
        {
            notEmulated.Add($"request validator {validator}: bodies and parameters reach the function unvalidated");
        }

        foreach (var plan in Owned(stack, "AWS::ApiGateway::UsagePlan", model.ApiId, "ApiStages"))
        {
            notEmulated.Add($"usage plan {plan}: its throttle and quota are not enforced");
        }

        model.NotEmulated = notEmulated;
        return model;
    }

    /// <summary>
    /// The resource and method for a request path (after the stage) and HTTP method, with the path parameters; a literal
    /// part wins over <c>{param}</c>, which wins over <c>{proxy+}</c>. Null when API Gateway would answer 403.
    /// </summary>
    public (ApiResource Resource, ApiMethod Method, IReadOnlyDictionary<string, string> PathParameters)? Route(string path, string httpMethod)
    {
        ArgumentNullException.ThrowIfNull(path);
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        var resource = Match(Root, segments, 0, parameters);
        if (resource is null)
        {
            return null;
        }

        var method = resource.Methods.GetValueOrDefault(httpMethod) ?? resource.Methods.GetValueOrDefault("ANY");
        return method is null ? null : (resource, method, parameters);
    }

    private static ApiResource? Match(ApiResource node, string[] segments, int index, Dictionary<string, string> parameters)
    {
        if (index == segments.Length)
        {
            return node;
        }

        foreach (var child in node.Children.Where(c => c.ParameterName is null && c.PathPart == segments[index]))
        {
            if (Match(child, segments, index + 1, parameters) is { } found)
            {
                return found;
            }
        }

        foreach (var child in node.Children.Where(c => c.ParameterName is not null && !c.IsGreedy))
        {
            parameters[child.ParameterName!] = segments[index];
            if (Match(child, segments, index + 1, parameters) is { } found)
            {
                return found;
            }

            parameters.Remove(child.ParameterName!);
        }

        var greedy = node.Children.FirstOrDefault(c => c.IsGreedy);
        if (greedy is not null)
        {
            parameters[greedy.ParameterName!] = string.Join('/', segments[index..]);
            return greedy;
        }

        return null;
    }

    private static IEnumerable<ApiResource> Walk(ApiResource node) => node.Children.SelectMany(Walk).Prepend(node);

    /// <summary>The logical ids of the resources of <paramref name="type"/> whose RestApiId (or, for usage plans, an ApiStages entry) is this API.</summary>
    private static IEnumerable<string> Owned(StackTemplate stack, string type, string apiId, string? stagesProperty = null) =>
        stack.Resolver.LogicalIdsOfType(type).Where(id =>
        {
            var properties = stack.Resolver.Properties(id);
            return stagesProperty is null
                ? (string?)stack.Resolver.Resolve(properties["RestApiId"]) == apiId
                : (properties[stagesProperty] as JsonArray ?? []).Any(s => (string?)stack.Resolver.Resolve(s?[nameof(ApiId)]) == apiId);
        });

    private ApiResource ReadResources(StackTemplate stack)
    {
        var resolver = stack.Resolver;
        var rootId = (string)resolver.Resolve(new JsonObject { ["Fn::GetAtt"] = new JsonArray(LogicalId, "RootResourceId") })!;
        var root = new ApiResource(rootId, "/", string.Empty);
        var pending = Owned(stack, "AWS::ApiGateway::Resource", ApiId)
            .Select(id => (Id: resolver.PhysicalName(id), LogicalId: id, Parent: (string?)resolver.Resolve(resolver.Properties(id)["ParentId"]),
                PathPart: (string?)resolver.Resolve(resolver.Properties(id)["PathPart"]) ?? string.Empty))
            .ToList();
        var placed = new Dictionary<string, ApiResource>(StringComparer.Ordinal) { [rootId] = root };
        while (pending.Count > 0)
        {
            var ready = pending.Where(r => r.Parent is not null && placed.ContainsKey(r.Parent)).ToList();
            if (ready.Count == 0)
            {
                throw new LocalAwsException($"REST API {LogicalId}: resources {string.Join(", ", pending.Select(r => r.LogicalId))} have no parent in the API.");
            }

            foreach (var resource in ready)
            {
                var parent = placed[resource.Parent!];
                var node = new ApiResource(resource.Id, parent.Path == "/" ? "/" + resource.PathPart : $"{parent.Path}/{resource.PathPart}", resource.PathPart);
                parent.Children.Add(node);
                placed[resource.Id] = node;
                pending.Remove(resource);
            }
        }

        return root;
    }

    private void ReadMethods(StackTemplate stack, List<string> notEmulated)
    {
        var resolver = stack.Resolver;
        var resources = Walk(Root).ToDictionary(r => r.Id, StringComparer.Ordinal);
        foreach (var logicalId in Owned(stack, "AWS::ApiGateway::Method", ApiId))
        {
            var properties = resolver.Properties(logicalId);
            var httpMethod = ((string?)resolver.Resolve(properties["HttpMethod"]) ?? string.Empty).ToUpperInvariant();
            var resourceId = (string?)resolver.Resolve(properties["ResourceId"]) ?? string.Empty;
            var resource = resources.GetValueOrDefault(resourceId)
                ?? throw new LocalAwsException($"Method {logicalId} ({httpMethod}) is on resource {resourceId}, which is not in REST API {LogicalId}.");
            var where = $"{httpMethod} {resource.Path}";
            var authorization = (string?)resolver.Resolve(properties["AuthorizationType"]) ?? "NONE";
            if (authorization != "NONE")
            {
                throw new LocalAwsException(
                    $"Method {where} uses {authorization} authorization, which the local API front cannot verify; serve it locally with " +
                    "API-key or no authorization (for this app: -c api:authorization=apiKey).");
            }

            var integration = properties["Integration"] as JsonObject ?? [];
            var type = (string?)resolver.Resolve(integration["Type"]) ?? "(none)";
            if (type != "AWS_PROXY")
            {
                notEmulated.Add($"{where}: its {type} integration is not served (only Lambda proxy integrations are)");
                continue;
            }

            var uri = (string?)resolver.Resolve(integration["Uri"]) ?? string.Empty;
            const string functions = "/functions/";
            var start = uri.IndexOf(functions, StringComparison.Ordinal);
            var end = uri.LastIndexOf("/invocations", StringComparison.Ordinal);
            if (!uri.Contains(":lambda:path/", StringComparison.Ordinal) || start < 0 || end <= start)
            {
                throw new LocalAwsException($"Method {where}: AWS_PROXY integration URI '{uri}' does not invoke a Lambda function.");
            }

            var timeout = resolver.Resolve(integration["TimeoutInMillis"]) is JsonValue millis
                ? TimeSpan.FromMilliseconds(int.Parse(millis.ToString(), NumberStyles.None, CultureInfo.InvariantCulture))
                : DefaultIntegrationTimeout;
            resource.Methods[httpMethod] = new ApiMethod(httpMethod, uri[(start + functions.Length)..end],
                resolver.Resolve(properties["ApiKeyRequired"]) is JsonValue required && (required.ToString() is "true" or "True"),
                timeout);
        }
    }

    private string ReadStage(StackTemplate stack)
    {
        var resolver = stack.Resolver;
        var stages = Owned(stack, "AWS::ApiGateway::Stage", ApiId)
            .Select(id => (string?)resolver.Resolve(resolver.Properties(id)[nameof(StageName)]))
            .Concat(Owned(stack, "AWS::ApiGateway::Deployment", ApiId).Select(id => (string?)resolver.Resolve(resolver.Properties(id)[nameof(StageName)])))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return stages.Count == 1
            ? stages[0]
            : throw new LocalAwsException(
                $"REST API {LogicalId} has {(stages.Count == 0 ? "no stage" : $"the stages {string.Join(", ", stages)}")}; the local front serves exactly one.");
    }

    private Dictionary<string, string> ReadApiKeys(StackTemplate stack)
    {
        var resolver = stack.Resolver;
        var plans = Owned(stack, "AWS::ApiGateway::UsagePlan", ApiId, "ApiStages").Select(resolver.PhysicalName).ToHashSet(StringComparer.Ordinal);
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var planKey in resolver.LogicalIdsOfType("AWS::ApiGateway::UsagePlanKey"))
        {
            var properties = resolver.Properties(planKey);
            if (!plans.Contains((string?)resolver.Resolve(properties["UsagePlanId"]) ?? string.Empty))
            {
                continue;
            }

            var keyId = properties["KeyId"]?["Ref"] is JsonValue reference ? (string)reference! : null;
            if (keyId is null || resolver.TypeOf(keyId) != "AWS::ApiGateway::ApiKey")
            {
                continue;
            }

            var key = resolver.Properties(keyId);
            if (resolver.Resolve(key["Enabled"]) is not JsonValue enabled || enabled.ToString() is not ("true" or "True"))
            {
                continue;
            }

            var name = (string?)resolver.Resolve(key[nameof(Name)]) ?? resolver.PhysicalName(keyId);
            // API Gateway generates a value when the template gives none; so does the local front, once per start.
            keys[name] = (string?)resolver.Resolve(key["Value"]) ?? RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 40);
        }

        return keys;
    }

    private Dictionary<string, GatewayResponse> ReadGatewayResponses(StackTemplate stack)
    {
        var resolver = stack.Resolver;
        var responses = new Dictionary<string, GatewayResponse>(StringComparer.Ordinal);
        foreach (var logicalId in Owned(stack, "AWS::ApiGateway::GatewayResponse", ApiId))
        {
            var properties = resolver.Resolve(resolver.Properties(logicalId)) as JsonObject ?? [];
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (parameter, value) in properties["ResponseParameters"] as JsonObject ?? [])
            {
                const string headerPrefix = "gatewayresponse.header.";
                if (parameter.StartsWith(headerPrefix, StringComparison.Ordinal) && (string?)value is { Length: >= 2 } quoted && quoted[0] == '\'' && quoted[^1] == '\'')
                {
                    headers[parameter[headerPrefix.Length..]] = quoted[1..^1];
                }
            }

            responses[(string?)properties["ResponseType"] ?? string.Empty] = new GatewayResponse(
                (string?)properties["StatusCode"] is { } status ? int.Parse(status, NumberStyles.None, CultureInfo.InvariantCulture) : null,
                (string?)properties["ResponseTemplates"]?["application/json"],
                headers);
        }

        return responses;
    }
}
