using System.Text.Json;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using static CustomerSegmentation.Lambdas.Tests.TestSupport;

namespace CustomerSegmentation.Lambdas.Tests;

public class BotocoreShapeValidatorTests
{
    private const string ValidCreateModel = """
        {"ModelName":"segments-20261125-1105","ExecutionRoleArn":"arn:aws:iam::123456789012:role/segmentation-sagemaker",
         "PrimaryContainer":{"Image":"683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
           "ModelDataUrl":"s3://models/run-1/model.tar.gz","Environment":{"SAGEMAKER_PROGRAM":"inference.py"}},
         "Tags":[{"Key":"platform","Value":"customer-segmentation"}],"EnableNetworkIsolation":false}
        """;

    private static readonly string[] ModelPaths = ["sagemaker/2017-07-24", "sagemaker-runtime/2017-05-13", "application-autoscaling/2016-02-06"];

    private readonly BotocoreShapeValidator _sageMaker = new(BotocoreServiceModel.SageMaker);

    [Fact]
    public void ValidateInput_BotocoreShapedCreateModel_HasNoProblems()
    {
        Assert.Empty(_sageMaker.ValidateInput("CreateModel", Json(ValidCreateModel)));
    }

    [Fact]
    public void ValidateInput_ValidCreateEndpointConfigWithNumbers_HasNoProblems()
    {
        var input = Json("""
            {"EndpointConfigName":"segments-config-1","ProductionVariants":[{"VariantName":"AllTraffic","ModelName":"m-1",
             "InitialInstanceCount":1,"InstanceType":"ml.m5.large","InitialVariantWeight":1.0}]}
            """);

        Assert.Empty(_sageMaker.ValidateInput("CreateEndpointConfig", input));
    }

    [Fact]
    public void ValidateInput_UnknownOperation_NamesIt()
    {
        Assert.Equal(["SageMaker has no operation 'CreateModels'"], _sageMaker.ValidateInput("CreateModels", Json("{}")));
    }

    [Fact]
    public void ValidateInput_MissingRequiredMember_NamesMemberAndShape()
    {
        Assert.Equal(["CreateModel: missing required member 'ExecutionRoleArn' of CreateModelInput"],
            _sageMaker.ValidateInput("CreateModel", Json("""{"ModelName":"m-1"}""")));
    }

    [Fact]
    public void ValidateInput_UnknownMember_NamesMemberAndValidOnes()
    {
        var problems = _sageMaker.ValidateInput("DescribeModel", Json("""{"ModelName":"m-1","Name":"m-1"}"""));

        Assert.Equal(["DescribeModel: unknown member 'Name' for DescribeModelInput (valid: ModelName)"], problems);
    }

    [Theory]
    [InlineData("""{"ModelName":42}""", "DescribeModel.ModelName: expected a string (ModelName), got number 42")]
    [InlineData("""{"ModelName":null}""", "DescribeModel.ModelName: null is not a valid string (ModelName); omit the member instead")]
    [InlineData("""{"ModelName":["m"]}""", "DescribeModel.ModelName: expected a string (ModelName), got a list")]
    public void ValidateInput_WrongStringType_IsRejected(string input, string expected)
    {
        Assert.Equal([expected], _sageMaker.ValidateInput("DescribeModel", Json(input)));
    }

    [Theory]
    [InlineData("\"InitialInstanceCount\":1.5", "CreateEndpointConfig.ProductionVariants[0].InitialInstanceCount: expected an integer in [-2147483648, 2147483647] (InitialTaskCount), got number 1.5")]
    [InlineData("\"InitialInstanceCount\":\"1\"", "CreateEndpointConfig.ProductionVariants[0].InitialInstanceCount: expected an integer in [-2147483648, 2147483647] (InitialTaskCount), got the string '1'")]
    [InlineData("\"InitialInstanceCount\":0", "CreateEndpointConfig.ProductionVariants[0].InitialInstanceCount: 0 as value is below the InitialTaskCount minimum of 1")]
    [InlineData("\"InitialVariantWeight\":\"1\"", "CreateEndpointConfig.ProductionVariants[0].InitialVariantWeight: expected a number (VariantWeight), got the string '1'")]
    [InlineData("\"InitialVariantWeight\":-0.5", "CreateEndpointConfig.ProductionVariants[0].InitialVariantWeight: -0.5 as value is below the VariantWeight minimum of 0")]
    [InlineData("\"InstanceType\":\"ml.m5.huge\"", "CreateEndpointConfig.ProductionVariants[0].InstanceType: 'ml.m5.huge' is not one of the ProductionVariantInstanceType values (")]
    public void ValidateInput_BadProductionVariantMember_IsRejected(string member, string expected)
    {
        var input = Json($$"""{"EndpointConfigName":"c-1","ProductionVariants":[{"VariantName":"AllTraffic","ModelName":"m-1",{{member}}}]}""");

        var problem = Assert.Single(_sageMaker.ValidateInput("CreateEndpointConfig", input));

        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateInput_ListGivenAsObject_IsRejected()
    {
        var problems = _sageMaker.ValidateInput("AddTags", Json("""{"ResourceArn":"arn:aws:sagemaker:us-east-1:123456789012:model/m-1","Tags":{"Key":"a","Value":"b"}}"""));

        Assert.Equal(["AddTags.Tags: expected a list (TagList), got an object"], problems);
    }

    [Fact]
    public void ValidateInput_TooManyListItems_IsRejected()
    {
        var tags = string.Join(",", Enumerable.Range(0, 51).Select(i => $$"""{"Key":"k{{i}}","Value":"v"}"""));

        var problems = _sageMaker.ValidateInput("AddTags", Json($$"""{"ResourceArn":"arn:aws:sagemaker:us-east-1:123456789012:model/m-1","Tags":[{{tags}}]}"""));

        Assert.Equal(["AddTags.Tags: 51 items is above the TagList maximum of 50"], problems);
    }

    [Fact]
    public void ValidateInput_MapWithWrongValueTypeAndBadKey_ReportsBoth()
    {
        var input = Json("""{"ModelName":"m-1","ExecutionRoleArn":"arn:aws:iam::123456789012:role/r","PrimaryContainer":{"Environment":{"1BAD":"x","GOOD":7}}}""");

        var problems = _sageMaker.ValidateInput("CreateModel", input);

        Assert.Equal([
            "CreateModel.PrimaryContainer.Environment key '1BAD': '1BAD' does not match the EnvironmentKey pattern [a-zA-Z_][a-zA-Z0-9_]*",
            "CreateModel.PrimaryContainer.Environment['GOOD']: expected a string (EnvironmentValue), got number 7",
        ], problems);
    }

    [Fact]
    public void ValidateInput_StringTooLong_IsRejected()
    {
        var problems = _sageMaker.ValidateInput("DescribeModel", Json($$"""{"ModelName":"{{new string('a', 64)}}"}"""));

        Assert.Equal(["DescribeModel.ModelName: 64 characters is above the ModelName maximum of 63"], problems);
    }

    [Fact]
    public void ValidateInput_StringTooShort_IsRejected()
    {
        var problems = _sageMaker.ValidateInput("DescribeModelPackage", Json("""{"ModelPackageName":""}"""));

        Assert.Contains("DescribeModelPackage.ModelPackageName: 0 characters is below the VersionedArnOrName minimum of 1", problems);
    }

    [Fact]
    public void ValidateInput_PatternMismatch_IsRejectedAsAWholeValueMatch()
    {
        // "^[a-zA-Z0-9](-*[a-zA-Z0-9])*" matches the prefix "model" of "model_1"; Java's matches() (and SageMaker) require all of it.
        var problems = _sageMaker.ValidateInput("DescribeModel", Json("""{"ModelName":"model_1"}"""));

        Assert.Equal(["DescribeModel.ModelName: 'model_1' does not match the ModelName pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9])*"], problems);
    }

    [Fact]
    public void ValidateInput_EnumOutsideItsValues_IsRejected()
    {
        var problems = _sageMaker.ValidateInput("ListModels", Json("""{"SortBy":"Size"}"""));

        Assert.Equal(["ListModels.SortBy: 'Size' is not one of the ModelSortKey values (Name, CreationTime)"], problems);
    }

    [Fact]
    public void ValidateInput_BooleanAsString_IsRejected()
    {
        var input = Json("""{"ModelName":"m-1","ExecutionRoleArn":"arn:aws:iam::123456789012:role/r","EnableNetworkIsolation":"true"}""");

        Assert.Equal(["CreateModel.EnableNetworkIsolation: expected a boolean (Boolean), got the string 'true'"],
            _sageMaker.ValidateInput("CreateModel", input));
    }

    [Fact]
    public void ValidateInput_TimestampAsIsoString_IsRejectedBecauseJsonProtocolSendsEpochSeconds()
    {
        var problems = _sageMaker.ValidateInput("ListModels", Json("""{"CreationTimeBefore":"2026-11-25T11:00:00Z"}"""));

        Assert.Equal(["ListModels.CreationTimeBefore: expected a timestamp in unixTimestamp format (Timestamp), got the string '2026-11-25T11:00:00Z'"], problems);
    }

    [Fact]
    public void ValidateInput_TimestampAsEpochSeconds_Passes()
    {
        Assert.Empty(_sageMaker.ValidateInput("ListModels", Json("""{"CreationTimeBefore":1795086000.5}""")));
    }

    [Fact]
    public void ValidateInput_BlobNotBase64_IsRejected()
    {
        var runtime = new BotocoreShapeValidator(BotocoreServiceModel.SageMakerRuntime);

        var problems = runtime.ValidateInput("InvokeEndpoint", Json("""{"EndpointName":"segments","Body":"not base64!"}"""));

        Assert.Equal(["InvokeEndpoint.Body: expected base64 bytes (BodyBlob), got the string 'not base64!'"], problems);
    }

    [Theory]
    [InlineData("endpoint/segments/variant/AllTraffic", true)]
    [InlineData("endpoint/segments\u0001", false)]
    public void ValidateInput_JavaSupplementaryRangePattern_IsTranslatedAndEnforced(string resourceId, bool valid)
    {
        // ResourceIdMaxLen1600 is [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*, Java code-point syntax.
        var autoscaling = new BotocoreShapeValidator(BotocoreServiceModel.ApplicationAutoScaling);
        var input = Json(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["ServiceNamespace"] = "sagemaker",
            ["ResourceId"] = resourceId,
            ["ScalableDimension"] = "sagemaker:variant:DesiredInstanceCount",
        }));

        Assert.Equal(valid, autoscaling.ValidateInput("DeregisterScalableTarget", input).Count == 0);
        Assert.Empty(autoscaling.UncheckablePatterns);
    }

    [Theory]
    [InlineData("model-v1.tar.gz", true)]
    [InlineData("model\tv1", false)]
    [InlineData(" leading-space", false)]
    public void ValidateInput_JavaPosixClassPattern_IsTranslatedAndEnforced(string targetModel, bool valid)
    {
        // TargetModelHeader's pattern is \A\S[\p{Print}]*\z: \p{Print} is a Java POSIX class .NET does not know.
        var runtime = new BotocoreShapeValidator(BotocoreServiceModel.SageMakerRuntime);
        var input = Json(JsonSerializer.Serialize(new Dictionary<string, string> { ["EndpointName"] = "segments", ["Body"] = "e30=", ["TargetModel"] = targetModel }));

        var problems = runtime.ValidateInput("InvokeEndpoint", input);

        Assert.Equal(valid, problems.Count == 0);
        Assert.Empty(runtime.UncheckablePatterns);
    }

    [Fact]
    public void CompilePattern_EveryPatternOfTheThreeModels_Compiles()
    {
        var uncompilable = ModelPaths
            .Select(path => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(BotocoreServiceModel.DataDirectory, path, "service-2.json"))))
            .SelectMany(document => document.RootElement.GetProperty("shapes").EnumerateObject())
            .Where(shape => shape.Value.TryGetProperty("pattern", out _))
            .Select(shape => shape.Value.GetProperty("pattern").GetString()!)
            .Distinct()
            .Where(pattern => BotocoreShapeValidator.CompilePattern(pattern) is null)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Empty(uncompilable);
    }
}
