using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

/// <summary>
/// A cdk.out folder written by hand in the shape `cdk synth` produces: manifest.json, the stack template with two
/// pipelines whose bodies are Fn::Join over intrinsics, and an asset manifest with a tar.gz file asset.
/// </summary>
internal static class HandWrittenCloudAssembly
{
    public const string StackName = "MiniStack";
    public const string AssetHash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    public const string AssetBucket = "cdk-hnb659fds-assets-000000000000-us-east-1";

    private const string CopyScript = """
        import os, sys
        greeting = sys.argv[sys.argv.index("--greeting") + 1]
        if greeting == "fail":
            open("/opt/ml/output/failure".replace("/opt/ml/", os.environ["OPT_ML"]), "w").write("asked to fail")
            sys.exit(1)
        out = os.environ["OPT_ML"] + "processing/output"
        os.makedirs(out, exist_ok=True)
        open(out + "/out.txt", "w").write(greeting.upper() + " " + os.environ["ROLE"])
        """;

    public static string Create()
    {
        var directory = Directory.CreateTempSubdirectory("cdk-out-").FullName;
        File.WriteAllBytes(Path.Combine(directory, $"asset.{AssetHash}.gz"), S3Fixture.TarGz(("copy.py", CopyScript)));
        File.WriteAllText(Path.Combine(directory, "manifest.json"), Fill("""
            {"version": "36.0.0", "artifacts": {
              "@STACK.assets": {"type": "cdk:asset-manifest", "properties": {"file": "@STACK.assets.json"}},
              "@STACK": {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
                "properties": {"templateFile": "@STACK.template.json", "stackName": "@STACK"}, "dependencies": ["@STACK.assets"]}
            }}
            """));
        File.WriteAllText(Path.Combine(directory, $"{StackName}.assets.json"), Fill("""
            {"version": "36.0.0", "files": {"@HASH": {
              "source": {"path": "asset.@HASH.gz", "packaging": "file"},
              "destinations": {"current_account-current_region": {"bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}", "objectKey": "@HASH.gz"}}
            }}, "dockerImages": {}}
            """));
        var template = new JsonObject
        {
            ["Mappings"] = JsonNode.Parse("""{"Images": {"us-east-1": {"Account": "683313688378"}}}"""),
            ["Resources"] = new JsonObject
            {
                ["DataBucketE3889A50"] = JsonNode.Parse("""{"Type": "AWS::S3::Bucket"}"""),
                ["ModelBucket5B2B7E4D"] = JsonNode.Parse("""{"Type": "AWS::S3::Bucket"}"""),
                ["PipelineRoleDCFDBB91"] = JsonNode.Parse("""{"Type": "AWS::IAM::Role"}"""),
                ["MiniPipeline"] = Pipeline("Mini-Pipeline"),
                ["OtherPipeline"] = Pipeline("Other-Pipeline"),
            },
        };
        File.WriteAllText(Path.Combine(directory, $"{StackName}.template.json"), template.ToJsonString());
        return directory;
    }

    private static string Fill(string text) => text.Replace("@STACK", StackName, StringComparison.Ordinal).Replace("@HASH", AssetHash, StringComparison.Ordinal);

    /// <summary>
    /// A one-step pipeline whose body is an Fn::Join of JSON text and intrinsics (Ref, GetAtt, Sub, FindInMap), as CDK
    /// synthesizes it: each «NAME» marker in the text becomes the intrinsic of that name.
    /// </summary>
    private static JsonObject Pipeline(string name)
    {
        const string body = """
            {"Version":"2020-12-01","Parameters":[{"Name":"Greeting","Type":"String","DefaultValue":"hello"}],"Steps":[{"Name":"Copy","Type":"Processing","Arguments":{
            "RoleArn":"«ROLE»","Environment":{"OPT_ML":"/opt/ml/","ROLE":"«ROLE»"},
            "AppSpecification":{"ImageUri":"«IMAGE»",
              "ContainerEntrypoint":["/bin/sh","-c","mkdir -p /opt/ml/processing/code /opt/ml/output && tar -xzf /opt/ml/processing/input/code/*.gz -C /opt/ml/processing/code && exec python3 /opt/ml/processing/code/copy.py \"$@\"","copy"],
              "ContainerArguments":["--greeting",{"Get":"Parameters.Greeting"}]},
            "ProcessingInputs":[{"InputName":"code","S3Input":{"S3Uri":"s3://«ASSETS»/@HASH.gz","LocalPath":"/opt/ml/processing/input/code","S3DataType":"S3Prefix","S3InputMode":"File"}}],
            "ProcessingOutputConfig":{"Outputs":[{"OutputName":"out","S3Output":{"S3Uri":{"Std:Join":{"On":"/","Values":["s3://«MODELS»/out",{"Get":"Execution.PipelineExecutionId"}]}},"LocalPath":"/opt/ml/processing/output","S3UploadMode":"EndOfJob"}}]}}}]}
            """;
        var intrinsics = new Dictionary<string, string>
        {
            ["ROLE"] = """{"Fn::GetAtt": ["PipelineRoleDCFDBB91", "Arn"]}""",
            ["IMAGE"] = """{"Fn::Sub": ["${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/sagemaker-scikit-learn:1.2-1-cpu-py3", {"Account": {"Fn::FindInMap": ["Images", {"Ref": "AWS::Region"}, "Account"]}}]}""",
            ["ASSETS"] = """{"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}""",
            ["MODELS"] = """{"Ref": "ModelBucket5B2B7E4D"}""",
        };
        var parts = new JsonArray();
        var pieces = Fill(body).Split('«', '»');
        for (var i = 0; i < pieces.Length; i++)
        {
            parts.Add(i % 2 == 0 ? JsonValue.Create(pieces[i]) : JsonNode.Parse(intrinsics[pieces[i]]));
        }

        return new JsonObject
        {
            ["Type"] = "AWS::SageMaker::Pipeline",
            ["Properties"] = new JsonObject
            {
                ["PipelineName"] = name,
                ["RoleArn"] = JsonNode.Parse(intrinsics["ROLE"]),
                ["PipelineDefinition"] = new JsonObject { ["PipelineDefinitionBody"] = new JsonObject { ["Fn::Join"] = new JsonArray("", parts) } },
            },
        };
    }
}
