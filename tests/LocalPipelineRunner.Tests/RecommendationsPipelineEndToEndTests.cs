using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.LocalAws;
using CustomerSegmentation.LocalAws.ApiGateway;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalAws.DynamoDb;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

/// <summary>
/// The recommendations pipeline of the real CDK app, executed by the local runner on generated B2B data
/// (scripts/sample_data/b2b.py): every step runs its script as in the SageMaker container, Publish loads dynalite, and
/// feedback stored in the feedback table (as the API stores it) changes the next run's ranking.
/// </summary>
[Collection(S3Collection.Name)]
public class RecommendationsPipelineEndToEndTests(S3Fixture s3, SynthesizedAppFixture app) : IClassFixture<SynthesizedAppFixture>
{
    private const string Pipeline = "customer-segmentation-recommendations";
    private const string ModelGroup = "customer-segmentation-recommendation-models";

    private const string ServingTable = "CustomerSegmentation-RecommendationsPipelineServingTableCEDB228F-local";
    private const string FeedbackTable = "CustomerSegmentation-RecommendationsPipelineFeedbackTable1C8E94BA-local";

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
            await AssertPublishedAsync(dynamoDb!, record, final);
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
        Assert.Equal([FeedbackTable, ServingTable], (await client.ListTablesAsync()).TableNames.Order(StringComparer.Ordinal));
        Assert.Equal(0, (await client.ScanAsync(new ScanRequest { TableName = ServingTable })).Count);
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

    /// <summary>
    /// The feedback loop: ratings put into the feedback table between two runs (as the API stores them) are read by the
    /// next run's FeedbackCalibration and weigh that customer's recommendation as the seed says: Low x WeightLow (0.1),
    /// so the product drops below ScoreCutoff or falls; High x WeightHigh (1.3, capped at 1). The second run's pointer
    /// names the first as the run it replaced.
    /// </summary>
    [Fact]
    public async Task RunAsync_FeedbackInTheFeedbackTable_WeighsTheNextRunsRecommendationsByTheSeedsWeights()
    {
        var data = GenerateData();
        await UploadInputsAsync(data);
        using var dynalite = await DynaliteServer.StartAsync(DynaliteServer.FindEntryPoint(app.RepositoryRoot), CancellationToken.None);
        var log = new StringWriter();
        var options = Options(Directory.CreateTempSubdirectory("e2e-recommendations-").FullName, log) with { DynamoDbEndpoint = dynalite.Endpoint };

        var first = await PipelineRun.RunAsync(options);
        Assert.True(first.PipelineExecutionStatus == ExecutionRecord.Succeeded, log.ToString());
        var ranked = Csv(await s3.GetTextAsync(RunUri(first, "ranking/recommendations/recommendations.csv")));
        var firstFinal = Csv(await s3.GetTextAsync(RunUri(first, "feedback-calibration/final/recommendations.csv")));
        var referenceDate = (string)JsonNode.Parse(await s3.GetTextAsync(RunUri(first, "market-basket/reference/basket_report.json")))!["reference_date"]!;
        var rated = await RatedPairsAsync(data);
        // Two customers' top recommendations that no feedback CSV row rates, so the table's rows alone decide.
        var top = firstFinal.Where(r => r["rank"] == "1" && !rated.Contains((r["customer_id"], r["recommended_product"]))).Take(2).ToList();
        Assert.Equal(2, top.Count);
        var (low, high) = (top[0], top[1]);
        using var client = LocalTables.Client(dynalite.Endpoint);
        await PutFeedbackAsync(client, first.PipelineExecutionId, low["customer_id"], low["recommended_product"], "Low", "not_relevant", referenceDate);
        await PutFeedbackAsync(client, first.PipelineExecutionId, high["customer_id"], high["recommended_product"], "High", null, referenceDate);

        var second = await PipelineRun.RunAsync(options);

        Assert.True(second.PipelineExecutionStatus == ExecutionRecord.Succeeded, log.ToString());
        var secondFinal = Csv(await s3.GetTextAsync(RunUri(second, "feedback-calibration/final/recommendations.csv")));
        double RankingScore(Dictionary<string, string> row) => Score(ranked.Single(r => r["customer_id"] == row["customer_id"] && r["recommended_product"] == row["recommended_product"]));
        Dictionary<string, string>? After(Dictionary<string, string> row) =>
            secondFinal.SingleOrDefault(r => r["customer_id"] == row["customer_id"] && r["recommended_product"] == row["recommended_product"]);

        var lowScore = RankingScore(low) * 0.1;
        if (After(low) is { } stillThere)
        {
            Assert.True(lowScore >= 0.08, $"{low["recommended_product"]} scores {lowScore} after the Low rating, below ScoreCutoff, yet stayed");
            Assert.Equal(("0.1", lowScore), (stillThere["feedback_weight"], Score(stillThere)), new ScoreComparer());
            Assert.NotEqual("1", stillThere["rank"]);
        }
        else
        {
            Assert.True(lowScore < 0.08, $"{low["recommended_product"]} scores {lowScore} after the Low rating, not below ScoreCutoff, yet was removed");
        }

        var boosted = Assert.IsType<Dictionary<string, string>>(After(high));
        Assert.Equal(("1.3", Math.Min(RankingScore(high) * 1.3, 1.0)), (boosted["feedback_weight"], Score(boosted)), new ScoreComparer());
        Assert.Equal("1", boosted["rank"]);
        // Everything else of the two customers is as the first run had it: the same data ranks the same way.
        static IEnumerable<string> Others(IEnumerable<Dictionary<string, string>> rows, Dictionary<string, string> rated) => rows
            .Where(r => r["customer_id"] == rated["customer_id"] && r["recommended_product"] != rated["recommended_product"])
            .Select(r => $"{r["recommended_product"]}={r["score"]}");
        Assert.Equal(Others(firstFinal, low), Others(secondFinal, low));

        var summary = JsonNode.Parse(await s3.GetTextAsync(RunUri(second, "feedback-calibration/feedback/feedback_summary.json")))!;
        Assert.Equal(FeedbackTable, (string?)summary["feedback_table"]);
        Assert.Equal(2, (int)summary["input_validation"]!["files"]!.AsArray().Single(f => (string?)f!["file"] == $"dynamodb:{FeedbackTable}")!["rows_read"]!);
        var pointer = await GetAsync(client, "pointer");
        Assert.Equal((second.PipelineExecutionId, first.PipelineExecutionId), (pointer["run_id"].S, pointer["previous_run_id"].S));
        var published = JsonNode.Parse((await GetAsync(client, $"run#{second.PipelineExecutionId}#customer#{low["customer_id"]}"))["recommendations"].S)!.AsArray();
        Assert.Equal(
            secondFinal.Where(r => r["customer_id"] == low["customer_id"]).Select(r => r["recommended_product"]),
            published.Select(r => (string)r!["recommended_product"]!));
    }

    /// <summary>
    /// Issue 9's loop through the real RecommendationsApi function behind the local API Gateway front: what an account
    /// manager sees (GET /recommendations/{customerId}) and rates (POST /feedback, with an Idempotency-Key) is read by the
    /// next local run, and the API then answers with the seed's weights applied: Low x WeightLow (0.1), so the product
    /// drops below ScoreCutoff (0.08) or falls; High x WeightHigh (1.3), capped at 1.
    /// </summary>
    [Fact]
    public async Task StartAsync_FeedbackPostedThroughTheApi_NextRunServesTheSeedsWeights()
    {
        var data = GenerateData();
        await UploadInputsAsync(data);
        using var dynalite = await DynaliteServer.StartAsync(DynaliteServer.FindEntryPoint(app.RepositoryRoot), CancellationToken.None);
        var log = new StringWriter();
        var options = Options(Directory.CreateTempSubdirectory("e2e-recommendations-").FullName, log) with
        {
            DynamoDbEndpoint = dynalite.Endpoint,
            Parameters = new Dictionary<string, string> { ["ModelApprovalStatus"] = "Approved" },
            ApiPort = 0,
        };
        await using var environment = await PipelineRun.StartAsync(options);
        var first = environment.Execution;
        Assert.True(first.PipelineExecutionStatus == ExecutionRecord.Succeeded, log.ToString());
        using var http = new HttpClient();
        var api = new ServedApi(http, environment.Api!, log);
        var firstFinal = Csv(await s3.GetTextAsync(RunUri(first, "feedback-calibration/final/recommendations.csv")));
        var referenceDate = (string)JsonNode.Parse(await s3.GetTextAsync(RunUri(first, "market-basket/reference/basket_report.json")))!["reference_date"]!;
        var rated = await RatedPairsAsync(data);
        // The Low rating goes to a customer's rank-1 product, the High one to another customer's product that scores
        // under 1 / 1.3, so the boost shows in the score; no feedback CSV row rates either, so the API's rows alone decide.
        var low = firstFinal.First(r => r["rank"] == "1" && !rated.Contains((r["customer_id"], r["recommended_product"])));
        var high = firstFinal.First(r => r["customer_id"] != low["customer_id"] && Score(r) < 0.7 && !rated.Contains((r["customer_id"], r["recommended_product"])));

        var lowBefore = await api.RecommendationsAsync(low["customer_id"], first);
        var highBefore = await api.RecommendationsAsync(high["customer_id"], first);
        Assert.Equal(
            firstFinal.Where(r => r["customer_id"] == low["customer_id"]).Select(r => r["recommended_product"]),
            lowBefore.Select(r => (string)r["product_id"]!));
        Assert.Equal(low["recommended_product"], (string?)lowBefore[0]["product_id"]);
        var lowScore = ScoreOf(lowBefore, low["recommended_product"])!.Value;
        var highScore = ScoreOf(highBefore, high["recommended_product"])!.Value;
        var keys = (Low: $"e2e-low-{Guid.NewGuid():N}", High: $"e2e-high-{Guid.NewGuid():N}");
        await api.PostFeedbackAsync(keys.Low, first, new JsonObject
        {
            ["customer_id"] = low["customer_id"],
            ["product_id"] = low["recommended_product"],
            ["rating"] = "Low",
            ["reason_code"] = "not_relevant",
            ["feedback_date"] = referenceDate,
        });
        await api.PostFeedbackAsync(keys.High, first, new JsonObject
        {
            ["customer_id"] = high["customer_id"],
            ["product_id"] = high["recommended_product"],
            ["rating"] = "High",
            ["feedback_date"] = referenceDate,
        });
        var lastServed = Stopwatch.StartNew();

        var second = await PipelineRun.RunAsync(options);

        Assert.True(second.PipelineExecutionStatus == ExecutionRecord.Succeeded, log.ToString());
        var summary = JsonNode.Parse(await s3.GetTextAsync(RunUri(second, "feedback-calibration/feedback/feedback_summary.json")))!;
        Assert.Equal(2, (int)summary["input_validation"]!["files"]!.AsArray().Single(f => (string?)f!["file"] == $"dynamodb:{FeedbackTable}")!["rows_read"]!);
        // The warm function reuses the pointer it read for POINTER_CACHE_SECONDS; past that it must serve the new run.
        var stale = PointerCache(environment) - lastServed.Elapsed;
        if (stale > TimeSpan.Zero)
        {
            await Task.Delay(stale + TimeSpan.FromMilliseconds(100));
        }

        var lowAfter = await api.RecommendationsAsync(low["customer_id"], second);
        var highAfter = await api.RecommendationsAsync(high["customer_id"], second);

        Assert.NotEqual(first.PipelineExecutionId, second.PipelineExecutionId);
        var weighed = lowScore * 0.1;
        if (ScoreOf(lowAfter, low["recommended_product"]) is { } stayed)
        {
            Assert.True(weighed >= 0.08, $"{low["recommended_product"]} scores {weighed} after the Low rating, below ScoreCutoff, yet is still served");
            Assert.Equal(weighed, stayed, 1e-9);
            Assert.NotEqual(1, (int)lowAfter.Single(r => (string?)r["product_id"] == low["recommended_product"])["rank"]!);
        }
        else
        {
            Assert.True(weighed < 0.08, $"{low["recommended_product"]} scores {weighed} after the Low rating, not below ScoreCutoff, yet is no longer served");
        }

        var boosted = Math.Min(highScore * 1.3, 1.0);
        Assert.Equal(boosted, ScoreOf(highAfter, high["recommended_product"])!.Value, 1e-9);
        Assert.Equal(
            1 + highAfter.Count(r => (string?)r["product_id"] != high["recommended_product"] && (double)r["score"]! > boosted),
            (int)highAfter.Single(r => (string?)r["product_id"] == high["recommended_product"])["rank"]!);
        Assert.All(new[] { lowAfter, highAfter }, answer =>
        {
            Assert.Equal(Enumerable.Range(1, answer.Count), answer.Select(r => (int)r["rank"]!));
            Assert.Equal(answer.Select(r => (double)r["score"]!).OrderDescending(), answer.Select(r => (double)r["score"]!));
        });
    }

    /// <summary>The GET /recommendations and POST /feedback calls of the test above, with the stack's API key, each asserting the contract's status and run.</summary>
    private sealed class ServedApi(HttpClient http, LocalApiGateway api, StringWriter log)
    {
        /// <summary>The customer's served recommendations, in rank order, asserted to come from <paramref name="run"/>.</summary>
        public async Task<List<JsonObject>> RecommendationsAsync(string customer, ExecutionRecord run)
        {
            var answer = await SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(api.StageUri, $"recommendations/{Uri.EscapeDataString(customer)}")), HttpStatusCode.OK);
            Assert.Equal((customer, run.PipelineExecutionId, false), ((string?)answer["customer_id"], (string?)answer["run_id"], (bool)answer["cold_start"]!));
            return answer["recommendations"]!.AsArray().Select(r => r!.AsObject()).ToList();
        }

        /// <summary>Posts <paramref name="feedback"/> under <paramref name="key"/>; asserts it was stored (201) for <paramref name="run"/>.</summary>
        public async Task PostFeedbackAsync(string key, ExecutionRecord run, JsonObject feedback)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api.StageUri, "feedback"))
            {
                Content = new StringContent(feedback.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", key);
            var answer = await SendAsync(request, HttpStatusCode.Created);
            Assert.Equal((true, key, run.PipelineExecutionId), ((bool)answer["stored"]!, (string?)answer["idempotency_key"], (string?)answer["run_id"]));
            Assert.Equal((string?)feedback["rating"], (string?)answer["feedback"]!["rating"]);
        }

        private async Task<JsonNode> SendAsync(HttpRequestMessage request, HttpStatusCode expected)
        {
            using (request)
            {
                request.Headers.Add("x-api-key", api.Api.ApiKeys.Values.Single());
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == expected, $"{request.Method} {request.RequestUri} answered {(int)response.StatusCode}: {body}{Environment.NewLine}{log}");
                return JsonNode.Parse(body)!;
            }
        }
    }

    private static double? ScoreOf(List<JsonObject> recommendations, string product) =>
        recommendations.SingleOrDefault(r => (string?)r["product_id"] == product)?["score"] is { } score ? (double)score : null;

    /// <summary>How long the served RecommendationsApi function reuses the current-run pointer (its POINTER_CACHE_SECONDS).</summary>
    private static TimeSpan PointerCache(LocalEnvironment environment)
    {
        var seconds = environment.Assembly.Template["Resources"]!.AsObject()
            .Select(r => r.Value!["Properties"]?["Environment"]?["Variables"]?["POINTER_CACHE_SECONDS"])
            .OfType<JsonNode>()
            .Single();
        return TimeSpan.FromSeconds(int.Parse((string)seconds!, CultureInfo.InvariantCulture));
    }

    /// <summary>The (customer, product) pairs the generated data's feedback CSV rates.</summary>
    private static async Task<HashSet<(string Customer, string Product)>> RatedPairsAsync(string data) =>
        Csv(await File.ReadAllTextAsync(Path.Combine(data, "feedback", "feedback.csv"))).Select(r => (r["customer_id"], r["product_id"])).ToHashSet();

    /// <summary>
    /// The pointer names this run; every customer of the run has its item (its final recommendations in rank order, or
    /// none) with its segment, every segment its popular in-stock products, the run its summary; the manifest points at
    /// the run.
    /// </summary>
    private async Task AssertPublishedAsync(Uri endpoint, ExecutionRecord record, IReadOnlyList<string[]> final)
    {
        var runId = record.PipelineExecutionId;
        using var client = LocalTables.Client(endpoint);
        Assert.Equal([FeedbackTable, ServingTable], (await client.ListTablesAsync()).TableNames.Order(StringComparer.Ordinal));

        var pointer = await GetAsync(client, "pointer");
        var byCustomer = final.GroupBy(r => r[0]).ToDictionary(g => g.Key, g => g.Select(r => r[1]).ToList(), StringComparer.Ordinal);
        Assert.Equal(runId, pointer["run_id"].S);
        Assert.False(pointer.ContainsKey("previous_run_id"), "the first publish into a new table replaces no run");
        Assert.Equal(byCustomer.Count.ToString(CultureInfo.InvariantCulture), pointer["customers"].N);
        Assert.Equal(final.Count.ToString(CultureInfo.InvariantCulture), pointer["recommendations"].N);
        var customers = Csv(await s3.GetTextAsync(RunUri(record, "market-basket/reference/customers.csv")));
        Assert.InRange(byCustomer.Count, customers.Count * 0.8, customers.Count);

        var items = new List<Dictionary<string, AttributeValue>>();
        var request = new ScanRequest { TableName = ServingTable };
        do
        {
            var page = await client.ScanAsync(request);
            items.AddRange(page.Items);
            request.ExclusiveStartKey = page.LastEvaluatedKey;
        }
        while (request.ExclusiveStartKey is { Count: > 0 });

        var expiry = DateTimeOffset.UtcNow.AddDays(35).ToUnixTimeSeconds();
        var runItems = items.Where(i => i["pk"].S != "pointer").ToList();
        Assert.All(runItems, item =>
        {
            Assert.Equal(runId, item["run_id"].S);
            Assert.InRange(long.Parse(item["expires_at"].N, CultureInfo.InvariantCulture), expiry - 3600, expiry + 60);
        });
        var customerItems = runItems.Where(i => i["pk"].S.StartsWith($"run#{runId}#customer#", StringComparison.Ordinal)).ToList();
        Assert.Equal(customers.Select(c => c["customer_id"]).Order(StringComparer.Ordinal), customerItems.Select(i => i["customer_id"].S).Order(StringComparer.Ordinal));
        var segmentOf = customers.ToDictionary(c => c["customer_id"], c => (c["segment"], c["region"], c["end_use"]), StringComparer.Ordinal);
        Assert.All(customerItems, item =>
        {
            var customer = item["customer_id"].S;
            Assert.Equal($"run#{runId}#customer#{customer}", item["pk"].S);
            Assert.Equal(segmentOf[customer], (item["segment"].S, item["region"].S, item["end_use"].S));
            var recommendations = JsonNode.Parse(item["recommendations"].S)!.AsArray();
            Assert.Equal(byCustomer.GetValueOrDefault(customer) ?? [], recommendations.Select(r => (string)r!["recommended_product"]!));
            Assert.Equal(Enumerable.Range(1, recommendations.Count), recommendations.Select(r => (int)r!["rank"]!));
            Assert.All(recommendations, r => Assert.InRange((double)r!["score"]!, 0.0, 1.0));
        });

        var products = Csv(await s3.GetTextAsync(RunUri(record, "market-basket/reference/products.csv")));
        var inStock = products.Where(p => p["in_stock"] == "True").Select(p => p["product_id"]).ToHashSet(StringComparer.Ordinal);
        Assert.True(inStock.Count < products.Count, "the sample data has products out of stock");
        var segmentItems = runItems.Where(i => i["pk"].S.StartsWith($"run#{runId}#segment#", StringComparison.Ordinal)).ToList();
        var sizes = customers.GroupBy(c => c["segment"]).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        Assert.Equal(sizes.Keys.Order(StringComparer.Ordinal), segmentItems.Select(i => i["segment"].S).Order(StringComparer.Ordinal));
        Assert.All(segmentItems, item =>
        {
            var segment = item["segment"].S;
            Assert.Equal(sizes[segment].ToString(CultureInfo.InvariantCulture), item["customers"].N);
            Assert.Equal(segment, $"{item["region"].S}_{item["end_use"].S}");
            var popular = JsonNode.Parse(item["popular"].S)!.AsArray();
            Assert.InRange(popular.Count, 1, 20);
            var buyers = popular.Select(p => (int)p!["buyers"]!).ToList();
            Assert.Equal(buyers.OrderDescending(), buyers);
            Assert.All(popular, p =>
            {
                Assert.Contains((string)p!["product_id"]!, inStock);
                Assert.Equal((double)(int)p["buyers"]! / sizes[segment], (double)p["share"]!, 12);
                Assert.True((int)p["recommended_qty"]! >= 1);
            });
        });

        var summary = JsonNode.Parse(runItems.Single(i => i["pk"].S == $"run#{runId}#summary")["summary"].S)!;
        var ranking = JsonNode.Parse(await s3.GetTextAsync(RunUri(record, "ranking/recommendations/ranking_report.json")))!;
        Assert.Equal(runId, (string?)summary["run_id"]);
        Assert.Equal(pointer["published_at"].S, (string?)summary["published_at"]);
        Assert.Equal(
            ["customers", "customers_covered", "coverage", "recommendations", "customers_via_association", "customers_via_fallback", "customers_with_fewer_than_top_k"],
            summary["coverage"]!.AsObject().Select(p => p.Key));
        Assert.All(summary["coverage"]!.AsObject(), p => Assert.Equal(ranking[p.Key]!.ToJsonString(), p.Value!.ToJsonString()));
        var feedbackSummary = JsonNode.Parse(await s3.GetTextAsync(RunUri(record, "feedback-calibration/feedback/feedback_summary.json")))!;
        Assert.True(JsonNode.DeepEquals(feedbackSummary, summary["feedback_summary"]));
        Assert.Equal(customers.Count + sizes.Count + 1, runItems.Count);

        var manifest = JsonNode.Parse(await s3.GetTextAsync($"s3://{app.DataBucket}/recommendations/latest.json"))!;
        Assert.Equal(runId, (string?)manifest["run_id"]);
        Assert.Equal(ServingTable, (string?)manifest["table"]);
        Assert.Equal(RunUri(record, "feedback-calibration/final/recommendations.csv"), (string?)manifest["final_recommendations"]);
        Assert.Equal(RunUri(record, "feedback-calibration/feedback/feedback_summary.json"), (string?)manifest["feedback_summary"]);
    }

    private static async Task<Dictionary<string, AttributeValue>> GetAsync(AmazonDynamoDBClient client, string key) => (await client.GetItemAsync(new GetItemRequest
    {
        TableName = ServingTable,
        Key = new Dictionary<string, AttributeValue> { ["pk"] = new() { S = key } },
        ConsistentRead = true,
    })).Item;

    /// <summary>A rating as the API stores it (contract section 2): content-addressed key, written once.</summary>
    private static async Task PutFeedbackAsync(AmazonDynamoDBClient client, string runId, string customer, string product, string rating, string? reasonCode, string date)
    {
        var canonical = new JsonObject
        {
            ["customer_id"] = customer,
            ["product_id"] = product,
            ["rating"] = rating,
            ["reason_code"] = reasonCode,
            ["sentiment"] = null,
            ["feedback_date"] = date,
        }.ToJsonString();
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical)));
        var item = new Dictionary<string, AttributeValue>
        {
            ["idempotency_key"] = new() { S = "sha256:" + sha },
            ["customer_id"] = new() { S = customer },
            ["product_id"] = new() { S = product },
            ["rating"] = new() { S = rating },
            ["feedback_date"] = new() { S = date },
            ["received_at"] = new() { S = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) },
            ["run_id"] = new() { S = runId },
            ["request_sha256"] = new() { S = sha },
        };
        if (reasonCode is not null)
        {
            item["reason_code"] = new() { S = reasonCode };
        }

        await client.PutItemAsync(new PutItemRequest { TableName = FeedbackTable, Item = item, ConditionExpression = "attribute_not_exists(idempotency_key)" });
    }

    private static double Score(Dictionary<string, string> row) => double.Parse(row["score"], CultureInfo.InvariantCulture);

    /// <summary>The rows of a CSV pandas wrote (quoted fields may hold commas; no field holds a line break), by header.</summary>
    private static List<Dictionary<string, string>> Csv(string text)
    {
        var lines = text.TrimEnd('\n').Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var header = Fields(lines[0]);
        return lines.Skip(1).Select(line => header.Zip(Fields(line)).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal)).ToList();
    }

    private static List<string> Fields(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"')
            {
                field.Append('"');
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>Equal weight text and scores equal to 1e-9 (the CSV holds the score pandas printed).</summary>
    private sealed class ScoreComparer : IEqualityComparer<(string Weight, double Score)>
    {
        public bool Equals((string Weight, double Score) x, (string Weight, double Score) y) => x.Weight == y.Weight && Math.Abs(x.Score - y.Score) < 1e-9;

        public int GetHashCode((string Weight, double Score) obj) => obj.Weight.GetHashCode(StringComparison.Ordinal);
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
