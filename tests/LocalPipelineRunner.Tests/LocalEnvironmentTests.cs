using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Execution;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

/// <summary>
/// A hand-written cdk.out whose pipeline is one Lambda step, with the function (LocalAws.Tests' Python custom-runtime
/// function, bundled into an asset folder) also behind a one-method REST API: the runner's local services end to end,
/// in seconds.
/// </summary>
[Collection(S3Collection.Name)]
public class LocalEnvironmentTests(S3Fixture s3)
{
    private const string StackName = "LambdaStack";

    private static string CloudAssembly(bool bundled = true)
    {
        var directory = Directory.CreateTempSubdirectory("lambda-cdk-out-").FullName;
        var code = Directory.CreateDirectory(Path.Combine(directory, "asset.echo")).FullName;
        if (bundled)
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Functions", "python_function.py"), Path.Combine(code, "bootstrap"));
            File.SetUnixFileMode(Path.Combine(code, "bootstrap"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        File.WriteAllText(Path.Combine(directory, "manifest.json"), $$"""
            {"version": "36.0.0", "artifacts": {"{{StackName}}": {"type": "aws:cloudformation:stack",
              "properties": {"templateFile": "{{StackName}}.template.json", "stackName": "{{StackName}}"} } } }
            """);
        var definition = new JsonObject
        {
            ["Version"] = "2020-12-01",
            ["Parameters"] = JsonNode.Parse("""[{"Name": "Greeting", "Type": "String", "DefaultValue": "hello"}]"""),
            ["Steps"] = JsonNode.Parse("""
                [{"Name": "Greet", "Type": "Lambda", "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:echo",
                  "Arguments": {"action": "raw", "answer": {"Greeting": {"Get": "Parameters.Greeting"}}},
                  "OutputParameters": [{"OutputName": "Greeting", "OutputType": "String"}]}]
                """),
        };
        var template = new JsonObject
        {
            ["Resources"] = new JsonObject
            {
                ["Echo"] = JsonNode.Parse("""
                    {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "provided.al2023", "FunctionName": "echo", "Timeout": 10,
                      "Code": {"S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "echo.zip"}},
                     "Metadata": {"aws:asset:path": "asset.echo", "aws:asset:property": "Code"}}
                    """),
                ["Pipeline"] = new JsonObject
                {
                    ["Type"] = "AWS::SageMaker::Pipeline",
                    ["Properties"] = new JsonObject
                    {
                        ["PipelineName"] = "Lambda-Pipeline",
                        ["PipelineDefinition"] = new JsonObject { ["PipelineDefinitionBody"] = definition.ToJsonString() },
                    },
                },
                ["Api"] = JsonNode.Parse("""{"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "echo-api"}}"""),
                ["ApiStage"] = JsonNode.Parse("""{"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "v1"}}"""),
                ["ApiGet"] = JsonNode.Parse("""
                    {"Type": "AWS::ApiGateway::Method", "Properties": {"HttpMethod": "GET", "RestApiId": {"Ref": "Api"},
                      "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "AuthorizationType": "NONE",
                      "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST",
                        "Uri": {"Fn::Join": ["", ["arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/", {"Fn::GetAtt": ["Echo", "Arn"]}, "/invocations"]]}}}}
                    """),
            },
        };
        File.WriteAllText(Path.Combine(directory, $"{StackName}.template.json"), template.ToJsonString());
        return directory;
    }

    private PipelineRunOptions Options(string cdkOut, StringWriter log) => new()
    {
        CloudAssemblyDirectory = cdkOut,
        WorkDirectory = Directory.CreateTempSubdirectory("lambda-work-").FullName,
        S3Endpoint = s3.Endpoint,
        SearchRoot = AppContext.BaseDirectory,
        Python = S3Fixture.Python,
        Log = log,
    };

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task StartAsync_LambdaStepAndApi_RunsTheStepAndServesTheApiUntilDisposed()
    {
        var log = new StringWriter();
        var options = Options(CloudAssembly(), log) with { ApiPort = 0, Parameters = new Dictionary<string, string> { ["Greeting"] = "bonjour" } };

        var environment = await PipelineRun.StartAsync(options);
        int? functionProcess;
        Uri stage;
        try
        {
            Assert.True(environment.Execution.PipelineExecutionStatus == ExecutionRecord.Succeeded, log.ToString());
            Assert.Equal("bonjour", (string?)environment.Execution.Step("Greet").Metadata!["OutputParameters"]!["Greeting"]);
            stage = environment.Api!.StageUri;
            using var http = new HttpClient();
            var echoed = JsonNode.Parse(await http.GetStringAsync(stage))!;
            Assert.Equal(("/", "v1"), ((string?)echoed["resource"], (string?)echoed["requestContext"]!["stage"]));
            functionProcess = environment.Lambda.Function("echo").ProcessId;
            Assert.NotNull(functionProcess);
        }
        finally
        {
            await environment.DisposeAsync();
        }

        Assert.False(Directory.Exists($"/proc/{functionProcess}"));
        using var after = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => after.GetAsync(stage));
    }

    [Fact]
    public async Task RunAsync_FunctionNotBundled_FailsBeforeAnyStepRuns()
    {
        var log = new StringWriter();
        var options = Options(CloudAssembly(bundled: false), log);

        var error = await Assert.ThrowsAsync<PipelineRunnerException>(() => PipelineRun.RunAsync(options));

        Assert.StartsWith("Step Greet cannot run locally: Function echo (Echo): its code asset ", error.Message, StringComparison.Ordinal);
        Assert.Contains("(context aws:cdk:bundling-stacks)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Greet (Lambda) started", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ApiPortButNoRestApi_Fails()
    {
        var cdkOut = CloudAssembly();
        var templatePath = Path.Combine(cdkOut, $"{StackName}.template.json");
        var template = JsonNode.Parse(await File.ReadAllTextAsync(templatePath))!;
        foreach (var api in new[] { "Api", "ApiStage", "ApiGet" })
        {
            template["Resources"]!.AsObject().Remove(api);
        }

        await File.WriteAllTextAsync(templatePath, template.ToJsonString());

        var error = await Assert.ThrowsAsync<LocalAws.LocalAwsException>(() => PipelineRun.StartAsync(Options(cdkOut, new StringWriter()) with { ApiPort = 0 }));

        Assert.Equal("Stack LambdaStack has no REST API to serve.", error.Message);
    }

    [Fact]
    public async Task Main_Serve_ServesUntilInterruptedThenStopsEverything()
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "LocalPipelineRunner.dll"), "--cdk-out", CloudAssembly(), "--s3-endpoint", s3.Endpoint.ToString(),
            "--work-dir", Directory.CreateTempSubdirectory("lambda-cli-").FullName, "--serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SEGMENTATION_PYTHON"] = S3Fixture.Python;
        using var process = Process.Start(start)!;
        var serving = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, line) =>
        {
            lock (output)
            {
                output.AppendLine(line.Data);
            }

            if (line.Data?.StartsWith("API: ", StringComparison.Ordinal) == true)
            {
                serving.TrySetResult(line.Data["API: ".Length..]);
            }
        };
        process.BeginOutputReadLine();
        var errors = process.StandardError.ReadToEndAsync();

        var stage = await serving.Task.WaitAsync(TimeSpan.FromMinutes(2));
        using var http = new HttpClient();
        var answer = await http.GetAsync(new Uri(stage));
        using (var interrupt = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await interrupt.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal($"http://127.0.0.1:{port}/v1/", stage);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.True(process.ExitCode == 0, $"{output}{await errors}");
        Assert.Contains("Stopping the local services.", output.ToString(), StringComparison.Ordinal);
        using var probe = new TcpListener(IPAddress.Loopback, port);
        probe.Start();
    }

    [Fact]
    public void Main_PortWithoutServe_ExitsTwo()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "LocalPipelineRunner.dll"), "--cdk-out", CloudAssembly(), "--port", "8080" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.Equal(2, process.ExitCode);
        Assert.Equal("--port '8080': give a port from 0 to 65535, together with --serve.", error.Trim());
    }
}
