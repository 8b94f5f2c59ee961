namespace CustomerSegmentation.LocalAws.Tests.Support;

/// <summary>
/// A REST API written as CDK's RestApi synthesizes it (resources under the root's RootResourceId, methods with
/// AWS_PROXY integrations whose URI joins the function's ARN, a deployment and a stage, an API key tied to the stage
/// by a usage plan, a request validator, a CORS-style MOCK method), in front of one function.
/// </summary>
internal static class ApiTemplate
{
    public const string ApiKeyName = "customer-segmentation-api-key";

    /// <param name="stack">The stack to add the API to; it must have the function <paramref name="functionLogicalId"/>.</param>
    /// <param name="functionLogicalId">The function every method invokes.</param>
    /// <param name="gatewayResponses">Add the SegmentApi construct's gateway responses ({"error": ...} bodies).</param>
    /// <param name="authorization">AuthorizationType of GET /segments.</param>
    public static TestStack Add(TestStack stack, string functionLogicalId, bool gatewayResponses = false, string authorization = "NONE")
    {
        ArgumentNullException.ThrowIfNull(stack);
        var uri = $$"""
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:", {"Ref": "AWS::Region"}, ":lambda:path/2015-03-31/functions/",
              {"Fn::GetAtt": ["{{functionLogicalId}}", "Arn"]}, "/invocations"]]}
            """;
        string Method(string verb, string resource, bool apiKey = false, string auth = "NONE", string extra = "") => $$"""
            {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "{{verb}}", "RestApiId": {"Ref": "RestApi"},
              "ResourceId": {{(resource == "root" ? """{"Fn::GetAtt": ["RestApi", "RootResourceId"]}""" : $$"""{"Ref": "{{resource}}"}""")}},
              "AuthorizationType": "{{auth}}", "ApiKeyRequired": {{(apiKey ? "true" : "false")}},
              "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": {{uri}} {{extra}} } } }
            """;
        string Resource(string parent, string pathPart) => $$"""
            {"Type": "AWS::ApiGateway::Resource", "Properties": {"RestApiId": {"Ref": "RestApi"}, "PathPart": "{{pathPart}}",
              "ParentId": {{(parent == "root" ? """{"Fn::GetAtt": ["RestApi", "RootResourceId"]}""" : $$"""{"Ref": "{{parent}}"}""")}} } }
            """;

        stack
            .Resource("RestApi", """{"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "customer-segmentation-api", "BinaryMediaTypes": ["image/png"]}}""")
            .Resource("RestApiDeployment", """{"Type": "AWS::ApiGateway::Deployment", "Properties": {"RestApiId": {"Ref": "RestApi"}}}""")
            .Resource("RestApiStage", """
                {"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": {"Ref": "RestApi"}, "DeploymentId": {"Ref": "RestApiDeployment"}, "StageName": "prod"}}
                """)
            .Resource("RootGet", Method("GET", "root"))
            .Resource("Segment", Resource("root", "segment"))
            .Resource("SegmentPost", Method("POST", "Segment", apiKey: true))
            .Resource("SegmentOptions", """
                {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "OPTIONS", "RestApiId": {"Ref": "RestApi"}, "ResourceId": {"Ref": "Segment"},
                  "AuthorizationType": "NONE", "Integration": {"Type": "MOCK", "RequestTemplates": {"application/json": "{ statusCode: 200 }"}}}}
                """)
            .Resource("Segments", Resource("root", "segments"))
            .Resource("SegmentsGet", Method("GET", "Segments", auth: authorization))
            .Resource("Items", Resource("root", "items"))
            .Resource("ItemsId", Resource("Items", "{id}"))
            .Resource("ItemsIdGet", Method("GET", "ItemsId"))
            .Resource("ItemsLatest", Resource("Items", "latest"))
            .Resource("ItemsLatestGet", Method("GET", "ItemsLatest"))
            .Resource("Files", Resource("root", "files"))
            .Resource("FilesProxy", Resource("Files", "{proxy+}"))
            .Resource("FilesProxyAny", Method("ANY", "FilesProxy"))
            .Resource("Slow", Resource("root", "slow"))
            .Resource("SlowGet", Method("GET", "Slow", extra: """, "TimeoutInMillis": 500"""))
            .Resource("ApiKey", $$"""{"Type": "AWS::ApiGateway::ApiKey", "Properties": {"Enabled": true, "Name": "{{ApiKeyName}}"} }""")
            .Resource("DisabledKey", """{"Type": "AWS::ApiGateway::ApiKey", "Properties": {"Enabled": false, "Name": "old-key", "Value": "old-key-value-0123456789"}}""")
            .Resource("UsagePlan", """
                {"Type": "AWS::ApiGateway::UsagePlan", "Properties": {"ApiStages": [{"ApiId": {"Ref": "RestApi"}, "Stage": {"Ref": "RestApiStage"}}],
                  "Throttle": {"RateLimit": 50, "BurstLimit": 100}}}
                """)
            .Resource("UsagePlanKey", """{"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {"KeyId": {"Ref": "ApiKey"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "UsagePlan"}}}""")
            .Resource("OldPlanKey", """{"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {"KeyId": {"Ref": "DisabledKey"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "UsagePlan"}}}""")
            .Resource("RequestValidator", """
                {"Type": "AWS::ApiGateway::RequestValidator", "Properties": {"RestApiId": {"Ref": "RestApi"}, "Name": "body-and-parameters", "ValidateRequestBody": true}}
                """);
        if (gatewayResponses)
        {
            stack
                .Resource("Default4xx", """
                    {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {"RestApiId": {"Ref": "RestApi"}, "ResponseType": "DEFAULT_4XX",
                      "ResponseTemplates": {"application/json": "{\"error\":$context.error.messageString}"}}}
                    """)
                .Resource("Default5xx", """
                    {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {"RestApiId": {"Ref": "RestApi"}, "ResponseType": "DEFAULT_5XX",
                      "ResponseTemplates": {"application/json": "{\"error\":$context.error.messageString}"}}}
                    """)
                .Resource("InvalidKey", """
                    {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": {"RestApiId": {"Ref": "RestApi"}, "ResponseType": "INVALID_API_KEY",
                      "StatusCode": "401", "ResponseParameters": {"gatewayresponse.header.WWW-Authenticate": "'x-api-key'"},
                      "ResponseTemplates": {"application/json": "{\"error\":\"$context.error.responseType\",\"request\":\"$context.requestId\"}"}}}
                    """);
        }

        return stack;
    }
}
