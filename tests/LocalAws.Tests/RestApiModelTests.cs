using CustomerSegmentation.LocalAws.ApiGateway;
using CustomerSegmentation.LocalAws.Tests.Support;

namespace CustomerSegmentation.LocalAws.Tests;

public class RestApiModelTests
{
    private static RestApiModel Model(bool gatewayResponses = false, string authorization = "NONE") =>
        RestApiModel.FromTemplate(ApiTemplate.Add(new TestStack().Function("Proxy", TestPaths.PythonFunction, "proxy"), "Proxy", gatewayResponses, authorization).Build());

    [Fact]
    public void FromTemplate_CdkShapedApi_ReadsStageMethodsAndFunction()
    {
        var api = Model();

        Assert.Equal(("RestApi", "TestStack-RestApi-local", "customer-segmentation-api", "prod"), (api.LogicalId, api.ApiId, api.Name, api.StageName));
        Assert.Equal(
            ["GET /", "POST /segment", "GET /segments", "GET /items/{id}", "GET /items/latest", "ANY /files/{proxy+}", "GET /slow"],
            api.AllMethods.Select(m => $"{m.Method.HttpMethod} {m.Path}"));
        Assert.All(api.AllMethods, m => Assert.Equal(TestStack.Arn("proxy"), m.Method.FunctionArn));
        Assert.Equal([false, true], api.AllMethods.Take(2).Select(m => m.Method.ApiKeyRequired));
        Assert.Equal(TimeSpan.FromSeconds(29), api.AllMethods.First().Method.IntegrationTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(500), api.AllMethods.Last().Method.IntegrationTimeout);
        Assert.Equal(["image/png"], api.BinaryMediaTypes);
    }

    [Fact]
    public void FromTemplate_ApiKeys_OnlyEnabledKeysOfThePlanWithAGeneratedValue()
    {
        var first = Model();
        var second = Model();

        var key = Assert.Single(first.ApiKeys);
        Assert.Equal(ApiTemplate.ApiKeyName, key.Key);
        Assert.Matches("^[A-Za-z0-9]{40}$", key.Value);
        Assert.NotEqual(key.Value, second.ApiKeys[ApiTemplate.ApiKeyName]);
    }

    [Fact]
    public void FromTemplate_FeaturesNotEmulated_AreListed()
    {
        Assert.Equal(
            [
                "OPTIONS /segment: its MOCK integration is not served (only Lambda proxy integrations are)",
                "request validator RequestValidator: bodies and parameters reach the function unvalidated",
                "usage plan UsagePlan: its throttle and quota are not enforced",
            ],
            Model().NotEmulated);
    }

    [Fact]
    public void FromTemplate_GatewayResponses_KeepStatusTemplateAndStaticHeaders()
    {
        var responses = Model(gatewayResponses: true).GatewayResponses;

        Assert.Equal(["DEFAULT_4XX", "DEFAULT_5XX", "INVALID_API_KEY"], responses.Keys.Order());
        Assert.Equal("{\"error\":$context.error.messageString}", responses["DEFAULT_4XX"].JsonTemplate);
        Assert.Null(responses["DEFAULT_4XX"].StatusCode);
        Assert.Equal(401, responses["INVALID_API_KEY"].StatusCode);
        Assert.Equal("x-api-key", responses["INVALID_API_KEY"].Headers["WWW-Authenticate"]);
    }

    [Fact]
    public void FromTemplate_IamAuthorization_IsRefusedNamingTheSetting()
    {
        var error = Assert.Throws<LocalAwsException>(() => Model(authorization: "AWS_IAM"));

        Assert.Equal(
            "Method GET /segments uses AWS_IAM authorization, which the local API front cannot verify; serve it locally with API-key or no " +
            "authorization (for this app: -c api:authorization=apiKey).",
            error.Message);
    }

    [Fact]
    public void FromTemplate_NoRestApi_Fails()
    {
        var error = Assert.Throws<LocalAwsException>(() => RestApiModel.FromTemplate(new TestStack().Build()));

        Assert.Equal("Stack TestStack has no REST API to serve.", error.Message);
    }

    [Fact]
    public void FromTemplate_SeveralApisAndNoName_ListsThem()
    {
        var stack = ApiTemplate.Add(new TestStack().Function("Proxy", TestPaths.PythonFunction), "Proxy")
            .Resource("AdminApi", """{"Type": "AWS::ApiGateway::RestApi"}""")
            .Build();

        var error = Assert.Throws<LocalAwsException>(() => RestApiModel.FromTemplate(stack));

        Assert.Equal("Stack TestStack has 2 REST APIs (RestApi, AdminApi); name the one to serve.", error.Message);
    }

    [Fact]
    public void FromTemplate_UnknownApiName_ListsTheApis()
    {
        var stack = ApiTemplate.Add(new TestStack().Function("Proxy", TestPaths.PythonFunction), "Proxy").Build();

        var error = Assert.Throws<LocalAwsException>(() => RestApiModel.FromTemplate(stack, "OtherApi"));

        Assert.Equal("Stack TestStack has no REST API 'OtherApi' (REST APIs: RestApi).", error.Message);
    }

    [Fact]
    public void FromTemplate_NoStage_Fails()
    {
        var stack = new TestStack().Resource("RestApi", """{"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "a"}}""").Build();

        var error = Assert.Throws<LocalAwsException>(() => RestApiModel.FromTemplate(stack));

        Assert.Equal("REST API RestApi has no stage; the local front serves exactly one.", error.Message);
    }

    [Fact]
    public void FromTemplate_ResourceOfAnotherParent_Fails()
    {
        var stack = new TestStack()
            .Resource("RestApi", """{"Type": "AWS::ApiGateway::RestApi"}""")
            .Resource("Orphan", """{"Type": "AWS::ApiGateway::Resource", "Properties": {"RestApiId": {"Ref": "RestApi"}, "ParentId": "elsewhere", "PathPart": "x"}}""")
            .Build();

        var error = Assert.Throws<LocalAwsException>(() => RestApiModel.FromTemplate(stack));

        Assert.Equal("REST API RestApi: resources Orphan have no parent in the API.", error.Message);
    }

    [Theory]
    [InlineData("/", "GET", "/", "")]
    [InlineData("/segment", "POST", "/segment", "")]
    [InlineData("/segment/", "POST", "/segment", "")]
    [InlineData("/items/42", "GET", "/items/{id}", "id=42")]
    [InlineData("/items/latest", "GET", "/items/latest", "")]
    [InlineData("/items/a%2Fb", "GET", "/items/{id}", "id=a/b")]
    [InlineData("/files/reports/2026/q4.csv", "DELETE", "/files/{proxy+}", "proxy=reports/2026/q4.csv")]
    [InlineData("/files/x", "PATCH", "/files/{proxy+}", "proxy=x")]
    public void Route_KnownPath_FindsTheResourceLiteralFirstThenParameterThenGreedy(string path, string method, string resource, string parameters)
    {
        var route = Model().Route(path, method);

        Assert.NotNull(route);
        Assert.Equal(resource, route.Value.Resource.Path);
        Assert.Equal(parameters, string.Join(",", route.Value.PathParameters.Select(p => $"{p.Key}={p.Value}")));
    }

    [Theory]
    [InlineData("/nothing", "GET")]
    [InlineData("/segment", "GET")]
    [InlineData("/segment", "OPTIONS")]
    [InlineData("/items", "GET")]
    [InlineData("/items/1/2", "GET")]
    [InlineData("/files", "GET")]
    [InlineData("/segments/extra", "GET")]
    public void Route_UnknownPathOrMethod_IsNull(string path, string method)
    {
        Assert.Null(Model().Route(path, method));
    }
}
