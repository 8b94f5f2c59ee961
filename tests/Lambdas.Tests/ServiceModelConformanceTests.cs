using System.Text.Json.Serialization;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;
using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests;

/// <summary>
/// The typed records against botocore: every JSON member name exists in the operation's shape with a compatible type,
/// and every botocore-required member of an input structure is present, so a typo or a wrong type cannot reach AWS.
/// </summary>
public class ServiceModelConformanceTests
{
    public static TheoryData<string, Type, Type?> SageMakerOperations => new()
    {
        { "DescribeModelPackage", typeof(DescribeModelPackageRequest), typeof(DescribeModelPackageResponse) },
        { "CreateModel", typeof(CreateModelRequest), typeof(CreateModelResponse) },
        { "DescribeModel", typeof(DescribeModelRequest), typeof(DescribeModelResponse) },
        { "DeleteModel", typeof(DeleteModelRequest), null },
        { "ListModels", typeof(ListModelsRequest), typeof(ListModelsResponse) },
        { "CreateEndpointConfig", typeof(CreateEndpointConfigRequest), typeof(CreateEndpointConfigResponse) },
        { "DescribeEndpointConfig", typeof(DescribeEndpointConfigRequest), typeof(DescribeEndpointConfigResponse) },
        { "DeleteEndpointConfig", typeof(DeleteEndpointConfigRequest), null },
        { "ListEndpointConfigs", typeof(ListEndpointConfigsRequest), typeof(ListEndpointConfigsResponse) },
        { "CreateEndpoint", typeof(CreateEndpointRequest), typeof(CreateEndpointResponse) },
        { "UpdateEndpoint", typeof(UpdateEndpointRequest), typeof(UpdateEndpointResponse) },
        { "DescribeEndpoint", typeof(DescribeEndpointRequest), typeof(DescribeEndpointResponse) },
        { "ListTags", typeof(ListTagsRequest), typeof(ListTagsResponse) },
        { "AddTags", typeof(AddTagsRequest), typeof(AddTagsResponse) },
    };

    public static TheoryData<string, Type, Type?> ApplicationAutoScalingOperations => new()
    {
        { "RegisterScalableTarget", typeof(RegisterScalableTargetRequest), typeof(RegisterScalableTargetResponse) },
        { "DeregisterScalableTarget", typeof(DeregisterScalableTargetRequest), typeof(DeregisterScalableTargetResponse) },
        { "DescribeScalableTargets", typeof(DescribeScalableTargetsRequest), typeof(DescribeScalableTargetsResponse) },
        { "PutScalingPolicy", typeof(PutScalingPolicyRequest), typeof(PutScalingPolicyResponse) },
        { "DeleteScalingPolicy", typeof(DeleteScalingPolicyRequest), typeof(DeleteScalingPolicyResponse) },
    };

    [Theory]
    [MemberData(nameof(SageMakerOperations))]
    public void SageMakerRecords_Operation_MatchBotocoreShapes(string operation, Type request, Type? response)
    {
        Assert.Equal([], Mismatches(BotocoreServiceModel.SageMaker, SageMakerJsonContext.Default, operation, request, response));
    }

    [Theory]
    [MemberData(nameof(ApplicationAutoScalingOperations))]
    public void ApplicationAutoScalingRecords_Operation_MatchBotocoreShapes(string operation, Type request, Type? response)
    {
        Assert.Equal([], Mismatches(BotocoreServiceModel.ApplicationAutoScaling, ApplicationAutoScalingJsonContext.Default, operation, request, response));
    }

    [Fact]
    public void Mismatches_RecordWithMisnamedAndMistypedMembers_AreReported()
    {
        var problems = Mismatches(BotocoreServiceModel.SageMaker, WrongShapesJsonContext.Default, "DescribeModel", typeof(WrongDescribeModelRequest), null)
            .Where(problem => problem.StartsWith("DescribeModelInput", StringComparison.Ordinal));

        Assert.Equal([
            "DescribeModelInput: botocore-required member 'ModelName' is missing",
            "DescribeModelInput.Name: no such member in DescribeModelInput",
        ], problems);
        Assert.Equal(["DescribeModelOutput.CreationTime: C# type String cannot carry a timestamp (Timestamp)"],
            Mismatches(BotocoreServiceModel.SageMaker, WrongShapesJsonContext.Default, "DescribeModel", typeof(DescribeModelRequest), typeof(WrongDescribeModelResponse))
                .Where(problem => problem.StartsWith("DescribeModelOutput", StringComparison.Ordinal)));
    }

    private static List<string> Mismatches(BotocoreServiceModel model, JsonSerializerContext context, string operation, Type request, Type? response)
    {
        var problems = new List<string>();
        Check(model, context, request, model.InputShape(operation)!, model.InputShape(operation)!, requireRequired: true, problems);
        var output = model.OutputShape(operation);
        if (response is null != output is null)
        {
            problems.Add($"{operation}: botocore output shape is '{output ?? "none"}' but the record is '{response?.Name ?? "none"}'");
        }
        else if (response is not null)
        {
            Check(model, context, response, output!, output!, requireRequired: false, problems);
        }

        return problems;
    }

    private static void Check(BotocoreServiceModel model, JsonSerializerContext context, Type type, string shapeName, string path,
        bool requireRequired, List<string> problems)
    {
        var shape = model.Shape(shapeName);
        var clrType = Nullable.GetUnderlyingType(type) ?? type;
        var kind = shape.GetProperty("type").GetString()!;
        switch (kind)
        {
            case "structure":
                var info = context.GetTypeInfo(clrType) ?? throw new InvalidOperationException($"{clrType.Name} is not in {context.GetType().Name}");
                var members = shape.GetProperty("members");
                if (requireRequired && shape.TryGetProperty("required", out var required))
                {
                    foreach (var name in required.EnumerateArray().Select(item => item.GetString()!)
                                 .Where(name => info.Properties.All(property => property.Name != name)))
                    {
                        problems.Add($"{path}: botocore-required member '{name}' is missing");
                    }
                }

                foreach (var property in info.Properties)
                {
                    if (members.TryGetProperty(property.Name, out var member))
                    {
                        Check(model, context, property.PropertyType, member.GetProperty("shape").GetString()!, $"{path}.{property.Name}", requireRequired, problems);
                    }
                    else
                    {
                        problems.Add($"{path}.{property.Name}: no such member in {shapeName}");
                    }
                }

                break;
            case "list" when Element(clrType, typeof(IReadOnlyList<>)) is { } element:
                Check(model, context, element, shape.GetProperty("member").GetProperty("shape").GetString()!, $"{path}[]", requireRequired, problems);
                break;
            case "map" when clrType.IsGenericType && clrType.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) && clrType.GetGenericArguments()[0] == typeof(string):
                Check(model, context, clrType.GetGenericArguments()[1], shape.GetProperty("value").GetProperty("shape").GetString()!, $"{path}{{}}", requireRequired, problems);
                break;
            default:
                var expected = kind switch
                {
                    "string" => typeof(string),
                    "integer" => typeof(int),
                    "long" => typeof(long),
                    "float" => typeof(float),
                    "double" => typeof(double),
                    "boolean" => typeof(bool),
                    "timestamp" => typeof(DateTimeOffset),
                    "blob" => typeof(byte[]),
                    _ => null,
                };
                if (expected != clrType)
                {
                    problems.Add($"{path}: C# type {clrType.Name} cannot carry a {kind} ({shapeName})");
                }

                break;
        }
    }

    private static Type? Element(Type type, Type genericList) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == genericList ? type.GetGenericArguments()[0] : null;
}

public sealed record WrongDescribeModelRequest
{
    public string? Name { get; init; }
}

public sealed record WrongDescribeModelResponse
{
    public string? CreationTime { get; init; }
}

[JsonSerializable(typeof(WrongDescribeModelRequest))]
[JsonSerializable(typeof(WrongDescribeModelResponse))]
[JsonSerializable(typeof(DescribeModelRequest))]
internal sealed partial class WrongShapesJsonContext : JsonSerializerContext;
