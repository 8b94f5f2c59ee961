using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.LocalAws;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalAws.DynamoDb;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

/// <summary>
/// The recommendations pipeline of the real CDK app, executed by the local runner on generated B2B data
/// (scripts/sample_data/b2b.py): every step runs its script as in the SageMaker container, Publish loads dynalite.
/// </summary>
[Collection(S3Collection.Name)]
public class RecommendationsPipelineEndToEndTests(S3Fixture s3, SynthesizedAppFixture app) : IClassFixture<SynthesizedAppFixture>
{
    private const string Pipeline = "customer-segmentation-recommendations";
    private const string ModelGroup = "customer-segmentation-recommendation-models";

    private static readonly string[] Tables = ["customers", "products", "invoices", "feedback"];

    [Fact]
    public async Task StartAsync_GeneratedB2BData_RunsEveryStepUnderItsRunPrefixAndPublishesToDynalite()
    {
        var data = GenerateData();
        await UploadInputsAsync(data);
        var log = new StringWriter();
        var work = Directory.CreateTempSubdirectory("e2e-recommendations-").FullName;

        var clock = Stopwatch.StartNew();
        var environment = await PipelineRun.StartAsync(Options(work, log));
        clock.Stop();
        var record = environment.Execution;
        var dynamoDb = environment.DynamoDbEndpoint;
        try
        {
            Assert.True(record.PipelineExecutionStatus == ExecutionRecord.Succeeded, log.ToString());
            Assert.Equal(
                ["MarketBasket:Succeeded", "TrainClustering:Succeeded", "RegisterModel:Succeeded", "Associations:Succeeded", "Ranking:Succeeded",
                    "FeedbackCalibration:Succeeded", "CheckApproval:Succeeded", "Publish:Succeeded"],
                record.Steps.Select(s => $"{s.StepName}:{s.StepStatus}"));
            Assert.Contains("(dynalite started for this run)", log.ToString(), StringComparison.Ordinal);
            var final = await AssertRunArtifactsAsync(record, work);
            await AssertPublishedAsync(dynamoDb!, record, final, data);
        }
        finally
        {
            await environment.DisposeAsync();
        }

        Assert.False(await AcceptsConnectionsAsync(dynamoDb!), $"dynalite at {dynamoDb} still answers after the environment was disposed");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Recommendations end to end: synthesis {app.SynthesisTime.TotalSeconds:F1} s, pipeline {clock.Elapsed.TotalSeconds:F1} s"));
    }

    /// <summary>
    /// PendingManualApproval gates deployment: the run computes everything and registers the model, and Publish does not
    /// run. Also the path with a DynamoDB the caller runs: the runner creates the stack's table there and starts none.
    /// </summary>
    [Fact]
    public async Task RunAsync_PendingManualApproval_RegistersTheModelButLeavesTheServingTableAlone()
    {
        await UploadInputsAsync(GenerateData());
        using var dynalite = await DynaliteServer.StartAsync(DynaliteServer.FindEntryPoint(app.RepositoryRoot), CancellationToken.None);
        var log = new StringWriter();
        var work = Directory.CreateTempSubdirectory("e2e-recommendations-").FullName;
        var options = Options(work, log) with
        {
            DynamoDbEndpoint = dynalite.Endpoint,
            Parameters = new Dictionary<string, string> { ["ModelApprovalStatus"] = "PendingManualApproval" },
        };

        var record = await PipelineRun.RunAsync(options);

        Assert.True(record.PipelineExecutionStatus == ExecutionRecord.Succeeded, log.ToString());
        Assert.Equal("CheckApproval:Succeeded,Publish:NotExecuted", string.Join(',', record.Steps.Skip(6).Select(s => $"{s.StepName}:{s.StepStatus}")));
        var package = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work, "model-registry", ModelGroup, "1.json")))!;
        Assert.Equal("PendingManualApproval", (string?)package["ModelApprovalStatus"]);
        Assert.DoesNotContain("dynalite started", log.ToString(), StringComparison.Ordinal);
        using var client = LocalTables.Client(dynalite.Endpoint);
        var table = Assert.Single((await client.ListTablesAsync()).TableNames);
        Assert.Equal(0, (await client.ScanAsync(new ScanRequest { TableName = table })).Count);
        Assert.True(await s3.Store.ExistsAsync(S3Location.Parse(RunUri(record, "feedback-calibration/final/recommendations.csv")), CancellationToken.None));
    }

    /// <summary>Every file the steps promise, under this execution's prefix only; returns the final recommendations.</summary>
    private async Task<IReadOnlyList<string[]>> AssertRunArtifactsAsync(ExecutionRecord record, string work)
    {
        var modelArtifacts = (string)record.Step("TrainClustering").Metadata!["ModelArtifacts"]!["S3ModelArtifacts"]!;
        Assert.Equal(RunUri(record, $"train-clustering/pipelines-{record.PipelineExecutionId}-TrainClustering/output/model.tar.gz"), modelArtifacts);
        var expected = new[]
        {
            "market-basket/basket/market_basket.csv", "market-basket/invoices/invoices.csv", "market-basket/reference/basket_report.json",
            "market-basket/reference/customers.csv", "market-basket/reference/products.csv",
            $"train-clustering/pipelines-{record.PipelineExecutionId}-TrainClustering/output/model.tar.gz",
            "associations/associations/associations.csv", "associations/associations/associations_report.json",
            "ranking/recommendations/recommendations.csv", "ranking/recommendations/ranking_report.json",
            "feedback-calibration/final/recommendations.csv", "feedback-calibration/feedback/feedback_summary.json",
        }.Select(k => $"recommendations/runs/{record.PipelineExecutionId}/{k}").Order(StringComparer.Ordinal);

        var written = (await s3.Store.ListKeysAsync(new S3Location(app.DataBucket, $"recommendations/runs/{record.PipelineExecutionId}/"), CancellationToken.None))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, written);

        var model = await s3.ReadTarGzAsync(modelArtifacts);
        Assert.Contains("model_registry.json", model.Keys);
        Assert.Contains("customer_clusters.csv", model.Keys);
        Assert.Contains(model.Keys, k => k.EndsWith("_kmeans.pkl", StringComparison.Ordinal));
        var trainingMetrics = record.Step("TrainClustering").Metadata!["FinalMetricDataList"]!.AsArray().Select(m => (string)m!["MetricName"]!).Order();
        Assert.Equal(["Clusters", "MeanSilhouette", "PoorSilhouetteSegments", "Segments"], trainingMetrics);

        var package = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work, "model-registry", ModelGroup, "1.json")))!;
        Assert.Equal("Approved", (string?)package["ModelApprovalStatus"]);
        Assert.Equal(modelArtifacts, (string?)package["InferenceSpecification"]!["Containers"]![0]!["ModelDataUrl"]);
        Assert.Equal(RunUri(record, string.Empty), (string?)package["CustomerMetadataProperties"]!["RunUri"]);

        var summary = JsonNode.Parse(await s3.GetTextAsync(RunUri(record, "feedback-calibration/feedback/feedback_summary.json")))!;
        Assert.InRange((double)summary["calibration"]!["coverage"]!, 0.95, 1.0);
        Assert.NotNull(summary["overall"]!["acceptance_rate"]);

        var lines = (await s3.GetTextAsync(RunUri(record, "feedback-calibration/final/recommendations.csv"))).TrimEnd('\n').Split('\n');
        var header = lines[0].Split(',');
        Assert.Equal(0, Array.IndexOf(header, "customer_id"));
        Assert.Equal(1, Array.IndexOf(header, "recommended_product"));
        return lines.Skip(1).Select(l => l.Split(',')).ToList();
    }

    /// <summary>The pointer names this run, each customer's item holds its final recommendations in rank order, the manifest points at the run.</summary>
    private async Task AssertPublishedAsync(Uri endpoint, ExecutionRecord record, IReadOnlyList<string[]> final, string data)
    {
        var runId = record.PipelineExecutionId;
        using var client = LocalTables.Client(endpoint);
        var table = Assert.Single((await client.ListTablesAsync()).TableNames);
        Assert.Equal("CustomerSegmentation-RecommendationsPipelineServingTableCEDB228F-local", table);

        var pointer = (await client.GetItemAsync(new GetItemRequest
        {
            TableName = table,
            Key = new Dictionary<string, AttributeValue> { ["pk"] = new() { S = "pointer" } },
            ConsistentRead = true,
        })).Item;
        var byCustomer = final.GroupBy(r => r[0]).ToDictionary(g => g.Key, g => g.Select(r => r[1]).ToList(), StringComparer.Ordinal);
        Assert.Equal(runId, pointer["run_id"].S);
        Assert.Equal(byCustomer.Count.ToString(CultureInfo.InvariantCulture), pointer["customers"].N);
        Assert.Equal(final.Count.ToString(CultureInfo.InvariantCulture), pointer["recommendations"].N);
        var customers = File.ReadAllLines(Path.Combine(data, "customers", "customers.csv")).Length - 1;
        Assert.InRange(byCustomer.Count, customers * 0.8, customers);

        var items = new List<Dictionary<string, AttributeValue>>();
        var request = new ScanRequest { TableName = table };
        do
        {
            var page = await client.ScanAsync(request);
            items.AddRange(page.Items);
            request.ExclusiveStartKey = page.LastEvaluatedKey;
        }
        while (request.ExclusiveStartKey is { Count: > 0 });

        var expiry = DateTimeOffset.UtcNow.AddDays(35).ToUnixTimeSeconds();
        var published = items.Where(i => i["pk"].S != "pointer").ToList();
        Assert.Equal(byCustomer.Count, published.Count);
        Assert.All(published, item =>
        {
            var customer = item["customer_id"].S;
            Assert.Equal($"run#{runId}#customer#{customer}", item["pk"].S);
            Assert.Equal(runId, item["run_id"].S);
            Assert.InRange(long.Parse(item["expires_at"].N, CultureInfo.InvariantCulture), expiry - 3600, expiry + 60);
            var recommendations = JsonNode.Parse(item["recommendations"].S)!.AsArray();
            Assert.Equal(byCustomer[customer], recommendations.Select(r => (string)r!["recommended_product"]!));
            Assert.Equal(Enumerable.Range(1, recommendations.Count), recommendations.Select(r => (int)r!["rank"]!));
            Assert.All(recommendations, r => Assert.InRange((double)r!["score"]!, 0.0, 1.0));
        });

        var manifest = JsonNode.Parse(await s3.GetTextAsync($"s3://{app.DataBucket}/recommendations/latest.json"))!;
        Assert.Equal(runId, (string?)manifest["run_id"]);
        Assert.Equal(table, (string?)manifest["table"]);
        Assert.Equal(RunUri(record, "feedback-calibration/final/recommendations.csv"), (string?)manifest["final_recommendations"]);
        Assert.Equal(RunUri(record, "feedback-calibration/feedback/feedback_summary.json"), (string?)manifest["feedback_summary"]);
    }

    private string RunUri(ExecutionRecord record, string path) => $"s3://{app.DataBucket}/recommendations/runs/{record.PipelineExecutionId}/{path}";

    private PipelineRunOptions Options(string work, TextWriter log) => new()
    {
        CloudAssemblyDirectory = app.CloudAssemblyDirectory,
        WorkDirectory = work,
        Pipeline = Pipeline,
        S3Endpoint = s3.Endpoint,
        SearchRoot = app.RepositoryRoot,
        Python = S3Fixture.Python,
        Log = log,
    };

    /// <summary>A small seeded B2B data set with planted structure, feedback and one bad row per rule; returns its folder.</summary>
    private string GenerateData()
    {
        var output = Directory.CreateTempSubdirectory("e2e-b2b-").FullName;
        var start = new ProcessStartInfo(S3Fixture.Python)
        {
            WorkingDirectory = Path.Combine(app.RepositoryRoot, "scripts"),
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var argument in new[]
        {
            "-B", "-m", "sample_data.b2b", "--invoices", "5000", "--customers", "400", "--products", "150", "--seed", "7",
            "--bad-rows", "1", "--feedback-rows", "300", "--out", output,
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"sample_data.b2b failed: {error.Result}");
        return output;
    }

    /// <summary>The inputs where the pipeline's parameters point by default: <c>recommendations/input/&lt;table&gt;/</c>.</summary>
    private async Task UploadInputsAsync(string data)
    {
        await s3.Store.EnsureBucketAsync(app.DataBucket, CancellationToken.None);
        foreach (var table in Tables)
        {
            await s3.Store.UploadFileAsync(
                new S3Location(app.DataBucket, $"recommendations/input/{table}/{table}.csv"), Path.Combine(data, table, $"{table}.csv"), CancellationToken.None);
        }
    }

    private static async Task<bool> AcceptsConnectionsAsync(Uri endpoint)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>
/// The local DynamoDB: the dynalite process the runner and the tests start (found from any folder below the
/// repository, stopped on dispose), and a stack's tables created in it as CloudFormation would create them.
/// </summary>
public class LocalDynamoDbTests
{
    private const string PayPerRequestTable = """
        {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST",
          "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
          "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": true}}}
        """;

    [Fact]
    public async Task StartAsync_EntryPointOfTheRepository_ServesDynamoDbUntilDisposed()
    {
        var server = await DynaliteServer.StartAsync(DynaliteServer.FindEntryPoint(AppContext.BaseDirectory), CancellationToken.None);
        var processId = server.ProcessId;

        using (var client = LocalTables.Client(server.Endpoint))
        {
            await client.CreateTableAsync(new CreateTableRequest
            {
                TableName = "probe",
                KeySchema = [new KeySchemaElement("pk", "HASH")],
                AttributeDefinitions = [new AttributeDefinition("pk", "S")],
                BillingMode = "PAY_PER_REQUEST",
            });
            Assert.Equal("ACTIVE", (await client.DescribeTableAsync("probe")).Table.TableStatus.Value);
        }

        Assert.Equal("127.0.0.1", server.Endpoint.Host);
        server.Dispose();
        Assert.False(Directory.Exists($"/proc/{processId}"), $"dynalite process {processId} outlived its server");
    }

    [Fact]
    public async Task CreateAsync_StackWithTables_CreatesEachUnderItsLocalNameAndKeepsThemOnlyWhenAllowed()
    {
        var stack = Stack(("Serving", PayPerRequestTable), ("Bucket", """{"Type": "AWS::S3::Bucket"}"""), ("Named", """
            {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "orders"]]},
              "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
              "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}}}
            """));
        using var server = await DynaliteServer.StartAsync(DynaliteServer.FindEntryPoint(AppContext.BaseDirectory), CancellationToken.None);

        var created = await LocalTables.CreateAsync(stack, server.Endpoint, existing: false, CancellationToken.None);
        var again = await LocalTables.CreateAsync(stack, server.Endpoint, existing: true, CancellationToken.None);

        Assert.Equal(["Test-Serving-local", "Test-orders"], created);
        Assert.Equal(created, again);
        using var client = LocalTables.Client(server.Endpoint);
        var orders = (await client.DescribeTableAsync("Test-orders")).Table;
        Assert.Equal("pk:HASH,sk:RANGE", string.Join(',', orders.KeySchema.Select(k => $"{k.AttributeName}:{k.KeyType.Value}")));
        Assert.Equal((2L, 3L), (orders.ProvisionedThroughput.ReadCapacityUnits!.Value, orders.ProvisionedThroughput.WriteCapacityUnits!.Value));
        Assert.Equal("PAY_PER_REQUEST", (await client.DescribeTableAsync("Test-Serving-local")).Table.BillingModeSummary.BillingMode.Value);
        await Assert.ThrowsAsync<ResourceInUseException>(() => LocalTables.CreateAsync(stack, server.Endpoint, existing: false, CancellationToken.None));
    }

    [Theory]
    [InlineData("""{"BillingMode": "ON_DEMAND", "KeySchema": [], "AttributeDefinitions": []}""",
        "Table Serving has BillingMode 'ON_DEMAND'; expected PAY_PER_REQUEST or PROVISIONED.")]
    [InlineData("""{"KeySchema": [], "AttributeDefinitions": []}""", "Table Serving is PROVISIONED without ProvisionedThroughput.")]
    [InlineData("""{"BillingMode": "PAY_PER_REQUEST", "AttributeDefinitions": []}""", "Table Serving has no KeySchema list.")]
    [InlineData("""{"BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"KeyType": "HASH"}], "AttributeDefinitions": []}""",
        "Table Serving: an entry has no AttributeName ({\"KeyType\":\"HASH\"}).")]
    [InlineData("""{"BillingMode": "PAY_PER_REQUEST", "KeySchema": [], "AttributeDefinitions": [], "GlobalSecondaryIndexes": []}""",
        "Table Serving has GlobalSecondaryIndexes, which the local tables do not create.")]
    public void CreateTableRequest_TableTheLocalTablesCannotHave_FailsNamingTheTableAndWhy(string properties, string expected)
    {
        var stack = Stack(("Serving", $$"""{"Type": "AWS::DynamoDB::Table", "Properties": {{properties}}}"""));

        var error = Assert.Throws<LocalAwsException>(() => LocalTables.CreateTableRequest(stack, "Serving"));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void FindEntryPoint_FolderOutsideTheRepository_FailsSayingHowToInstallIt()
    {
        var folder = Directory.CreateTempSubdirectory("no-node-modules-").FullName;

        var error = Assert.Throws<LocalAwsException>(() => DynaliteServer.FindEntryPoint(folder));

        Assert.Equal(
            $"node_modules/dynalite/cli.js was not found in '{folder}' or any parent directory; run scripts/setup.sh (it installs dynalite from package-lock.json).",
            error.Message);
    }

    private static StackTemplate Stack(params (string LogicalId, string Resource)[] resources)
    {
        var template = new JsonObject { ["Resources"] = new JsonObject() };
        foreach (var (logicalId, resource) in resources)
        {
            template["Resources"]![logicalId] = JsonNode.Parse(resource);
        }

        return new StackTemplate(template, "Test", AppContext.BaseDirectory);
    }
}
