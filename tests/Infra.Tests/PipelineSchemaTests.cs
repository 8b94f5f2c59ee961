using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;
using CustomerSegmentation.Infra.Pipelines;
using Json.Schema;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>
/// Validates the definition CDK synthesizes (intrinsics resolved the way the local runner resolves them) against
/// SageMaker's published pipeline-definition schema. The schema is older than the service: it lacks Std:Join outside
/// its own unused definition, Std:JsonGet, property files and more. Each such gap is one entry of <c>Deviations</c> below,
/// with a test proving the schema rejects exactly it: with every deviation rewritten into a form the schema knows, the
/// definition is valid; leaving any single one in place makes it invalid.
/// </summary>
public sealed class PipelineSchemaTests
{
    private static readonly Lazy<JsonSchema> Schema = new(LoadSchema);

    // Each Conform rewrites one construct the service accepts into the nearest shape the schema accepts.
    private static readonly Dictionary<string, Action<JsonNode>> Deviations = new(StringComparer.Ordinal)
    {
        ["Std:Join"] = root => ReplaceFunctionCalls(root, "Std:Join"),
        ["Std:JsonGet"] = root => ReplaceFunctionCalls(root, "Std:JsonGet"),
        ["EnumValues"] = root =>
        {
            foreach (var parameter in root["Parameters"]!.AsArray())
            {
                parameter!.AsObject().Remove("EnumValues");
            }
        },
        ["PropertyFiles"] = root =>
        {
            foreach (var step in AllSteps(root))
            {
                step.Remove("PropertyFiles");
            }
        },
        ["ModelStepInIfSteps"] = root => MoveOutOfIfSteps(root, "Model"),
        ["LambdaStepInIfSteps"] = root => MoveOutOfIfSteps(root, "Lambda"),
        ["ModelDataUrlExpression"] = root =>
        {
            foreach (var step in AllSteps(root).Where(s => (string?)s["Type"] == "Model"))
            {
                step["Arguments"]!["PrimaryContainer"]!["ModelDataUrl"] = "s3://model-bucket/model.tar.gz";
            }
        },
        ["ModelApprovalStatus"] = root => RemoveRegisterModelArgument(root, "ModelApprovalStatus"),
        ["CustomerMetadataProperties"] = root => RemoveRegisterModelArgument(root, "CustomerMetadataProperties"),
        ["RegisterModelContainerEnvironment"] = root =>
        {
            foreach (var step in AllSteps(root).Where(s => (string?)s["Type"] == "RegisterModel"))
            {
                foreach (var container in step["Arguments"]!["InferenceSpecification"]!["Containers"]!.AsArray())
                {
                    container!.AsObject().Remove("Environment");
                }
            }
        },
    };

    [Fact]
    public void Definition_EveryDeviationConformed_IsValid()
    {
        var definition = ConformedExcept(null);

        var result = Evaluate(definition);

        Assert.True(result.IsValid, Describe(result));
    }

    [Fact]
    public void Deviations_EachOne_IsPresentInTheSynthesizedDefinition()
    {
        var original = SynthesizedPipeline.Definition().ToJsonString();

        var unchanged = Deviations.Where(d =>
        {
            var definition = SynthesizedPipeline.Definition();
            d.Value(definition);
            return definition.ToJsonString() == original;
        }).Select(d => d.Key);

        Assert.Empty(unchanged);
    }

    // The service evaluates Std:Join wherever a string is expected (the SageMaker Python SDK renders every
    // parameter.to_string() and every Join this way); the schema defines Std:Join but references it nowhere.
    [Fact]
    public void Schema_StdJoinInArguments_IsTheOnlyRejection() => AssertOnlyDeviationRejected("Std:Join");

    // Std:JsonGet is how the SDK's JsonGet (conditions on a property file) is rendered; the schema has no definition for it.
    [Fact]
    public void Schema_StdJsonGetInConditions_IsTheOnlyRejection() => AssertOnlyDeviationRejected("Std:JsonGet");

    // ParameterString(enum_values=...) renders EnumValues and the service enforces it on StartPipelineExecution;
    // the schema's StringParameter forbids additional properties.
    [Fact]
    public void Schema_StringParameterEnumValues_IsTheOnlyRejection() => AssertOnlyDeviationRejected("EnumValues");

    // ProcessingStep(property_files=...) renders PropertyFiles on the step; the schema's ProcessingStep lacks it.
    [Fact]
    public void Schema_ProcessingStepPropertyFiles_IsTheOnlyRejection() => AssertOnlyDeviationRejected("PropertyFiles");

    // The service runs any step type inside a Condition step's branches (the SDK's ModelStep is usually placed there);
    // the schema lists only Training, Fail, Processing, Transform and RegisterModel.
    [Fact]
    public void Schema_ModelStepInIfSteps_IsTheOnlyRejection() => AssertOnlyDeviationRejected("ModelStepInIfSteps");

    // The service runs a Lambda step inside a Condition step's branches (the SDK's LambdaStep goes wherever any step
    // goes); the schema's IfSteps list has no LambdaStep. The Deploy step belongs there: only a model that passed the
    // quality gate and was registered may be deployed.
    [Fact]
    public void Schema_LambdaStepInIfSteps_IsTheOnlyRejection() => AssertOnlyDeviationRejected("LambdaStepInIfSteps");

    // CreateModel takes the training step's S3ModelArtifacts property at run time (the SDK's ModelStep does exactly this);
    // the schema types ContainerDefinition.ModelDataUrl as a literal S3 URL only.
    [Fact]
    public void Schema_ModelDataUrlExpression_IsTheOnlyRejection() => AssertOnlyDeviationRejected("ModelDataUrlExpression");

    // CreateModelPackage's ModelPackageContainerDefinition has Environment (SAGEMAKER_PROGRAM etc. are needed to serve a
    // registered script-mode model); the schema's container lists only hostname, image, digest, data URL and product id.
    [Fact]
    public void Schema_RegisterModelContainerEnvironment_IsTheOnlyRejection() => AssertOnlyDeviationRejected("RegisterModelContainerEnvironment");

    // CreateModelPackage takes ModelApprovalStatus (the SDK's RegisterModel(approval_status=...) renders it, and the
    // model registry needs it to start a version as PendingManualApproval); the schema's arguments forbid it.
    [Fact]
    public void Schema_RegisterModelApprovalStatus_IsTheOnlyRejection() => AssertOnlyDeviationRejected("ModelApprovalStatus");

    // CreateModelPackage takes CustomerMetadataProperties (RegisterModel(customer_metadata_properties=...)); the deployer
    // reads the run's artifact URIs from there. The schema's arguments forbid it.
    [Fact]
    public void Schema_RegisterModelCustomerMetadataProperties_IsTheOnlyRejection() => AssertOnlyDeviationRejected("CustomerMetadataProperties");

    [Fact]
    public void Schema_UnknownStepMember_IsRejected()
    {
        var definition = ConformedExcept(null);
        definition["Steps"]![0]!.AsObject()["Retries"] = 3;

        Assert.False(Evaluate(definition).IsValid);
    }

    [Fact]
    public void Schema_ParameterNameWithSpace_IsRejected()
    {
        var definition = ConformedExcept(null);
        definition["Parameters"]![0]!["Name"] = "Data File";

        Assert.False(Evaluate(definition).IsValid);
    }

    private static void AssertOnlyDeviationRejected(string deviation)
    {
        var conformed = ConformedExcept(null);
        var withDeviation = ConformedExcept(deviation);

        Assert.True(Evaluate(conformed).IsValid, Describe(Evaluate(conformed)));
        Assert.False(Evaluate(withDeviation).IsValid);
    }

    private static JsonNode ConformedExcept(string? kept)
    {
        var definition = SynthesizedPipeline.Definition();
        foreach (var (name, conform) in Deviations)
        {
            if (name != kept)
            {
                conform(definition);
            }
        }

        return definition;
    }

    internal static EvaluationResults Evaluate(JsonNode definition) =>
        Schema.Value.Evaluate(JsonSerializer.SerializeToElement(definition), new EvaluationOptions { OutputFormat = OutputFormat.List });

    internal static string Describe(EvaluationResults results) =>
        string.Join(Environment.NewLine, (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}"))
            .Take(40));

    // Moves the Condition branches' steps of one type to the top level, where the schema accepts every step type.
    private static void MoveOutOfIfSteps(JsonNode root, string stepType)
    {
        var steps = root["Steps"]!.AsArray();
        foreach (var condition in steps.Where(s => (string?)s!["Type"] == "Condition").ToList())
        {
            var ifSteps = condition!["Arguments"]!["IfSteps"]!.AsArray();
            foreach (var step in ifSteps.Where(s => (string?)s!["Type"] == stepType).ToList())
            {
                ifSteps.Remove(step);
                steps.Add(step);
            }
        }
    }

    internal static void RemoveRegisterModelArgument(JsonNode root, string argument)
    {
        foreach (var step in AllSteps(root).Where(s => (string?)s["Type"] == "RegisterModel"))
        {
            step["Arguments"]!.AsObject().Remove(argument);
        }
    }

    internal static IEnumerable<JsonObject> AllSteps(JsonNode root)
    {
        foreach (var step in root["Steps"]!.AsArray().Select(s => s!.AsObject()))
        {
            yield return step;
            if ((string?)step["Type"] == "Condition")
            {
                foreach (var branch in new[] { "IfSteps", "ElseSteps" })
                {
                    foreach (var nested in step["Arguments"]![branch]!.AsArray())
                    {
                        yield return nested!.AsObject();
                    }
                }
            }
        }
    }

    // Replaces {"<function>": {...}} with its JSON text: a string stands where the schema expects a string argument.
    internal static void ReplaceFunctionCalls(JsonNode node, string function)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    if (child is JsonObject call && call.Count == 1 && call.ContainsKey(function))
                    {
                        obj[key] = call.ToJsonString();
                    }
                    else if (child is not null)
                    {
                        ReplaceFunctionCalls(child, function);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonObject call && call.Count == 1 && call.ContainsKey(function))
                    {
                        array[i] = call.ToJsonString();
                    }
                    else if (array[i] is { } child)
                    {
                        ReplaceFunctionCalls(child, function);
                    }
                }

                break;
        }
    }

    private static JsonSchema LoadSchema()
    {
        var path = Path.GetFullPath(Path.Combine(RepositoryLayout.Root().FullName, "..", "shared", "reference",
            "sagemaker-pipeline-definition.schema.json"));
        if (!File.Exists(path))
        {
            Assert.Fail($"SageMaker's pipeline-definition schema is missing at {path}: it is read from ../shared/reference/ " +
                "next to the repository and never copied into it.");
        }

        var schema = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        // The published file declares "http://json-schema.org/schema#", which names no draft; its keywords are draft-07.
        schema["$schema"] = "http://json-schema.org/draft-07/schema#";
        return JsonSchema.FromText(schema.ToJsonString());
    }
}

/// <summary>
/// The pipeline definition as CloudFormation would pass it to SageMaker: the synthesized PipelineDefinitionBody with its
/// intrinsics resolved like the local runner does (us-east-1, account 000000000000, a bucket's Ref = its lower-case
/// logical id, a role's Arn built from its logical id).
/// </summary>
internal static class SynthesizedPipeline
{
    private static readonly Lazy<(JsonElement Body, JsonElement Template)> Default = new(() => Synthesize(TestStacks.Template()));

    public static JsonNode Definition() => Resolve(Default.Value.Body, Default.Value.Template);

    /// <param name="template">The synthesized stack.</param>
    /// <param name="construct">The id of the construct that holds the pipeline (the start of its logical id).</param>
    public static JsonNode Definition(Template template, string construct = "TrainingPipeline")
    {
        var (body, root) = Synthesize(template, construct);
        return Resolve(body, root);
    }

    public static (JsonElement Body, JsonElement Template) Synthesize(Template template, string construct = "TrainingPipeline")
    {
        var root = JsonSerializer.SerializeToElement(template.ToJSON());
        var pipeline = root.GetProperty("Resources").EnumerateObject()
            .Single(r => r.Value.GetProperty("Type").GetString() == "AWS::SageMaker::Pipeline" && r.Name.StartsWith(construct, StringComparison.Ordinal)).Value;
        return (pipeline.GetProperty("Properties").GetProperty("PipelineDefinition").GetProperty("PipelineDefinitionBody"), root);
    }

    private static JsonNode Resolve(JsonElement body, JsonElement template)
    {
        var text = ResolveString(body, template);
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("The resolved definition is JSON null.");
    }

    public static string ResolveString(JsonElement value, JsonElement template)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }

        var function = value.EnumerateObject().Single();
        var argument = function.Value;
        return function.Name switch
        {
            "Ref" => Pseudo(argument.GetString()!),
            "Fn::GetAtt" => argument[1].GetString() == "Arn"
                ? "arn:aws:iam::000000000000:role/" + argument[0].GetString()!.ToLowerInvariant()
                : throw new NotSupportedException("Fn::GetAtt " + argument.GetRawText()),
            "Fn::Join" => string.Join(argument[0].GetString(), argument[1].EnumerateArray().Select(v => ResolveString(v, template))),
            "Fn::Sub" => System.Text.RegularExpressions.Regex.Replace(argument.GetString()!, @"\$\{([^}]+)\}", m => Pseudo(m.Groups[1].Value)),
            "Fn::FindInMap" => template.GetProperty("Mappings").GetProperty(ResolveString(argument[0], template))
                .GetProperty(ResolveString(argument[1], template)).GetProperty(ResolveString(argument[2], template)).GetString()!,
            _ => throw new NotSupportedException("Unexpected intrinsic " + function.Name),
        };
    }

    private static string Pseudo(string name) => name switch
    {
        "AWS::Region" => "us-east-1",
        "AWS::AccountId" => "000000000000",
        "AWS::Partition" => "aws",
        "AWS::URLSuffix" => "amazonaws.com",
        _ when name.StartsWith("AWS::", StringComparison.Ordinal) => throw new NotSupportedException("Unexpected pseudo parameter " + name),
        _ => name.ToLowerInvariant(),
    };
}
