using System.Net;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.LocalAws.DynamoDb;
using CustomerSegmentation.RecommendationsApi;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>
/// <see cref="DynamoDbTableClient"/> against a real DynamoDB-compatible server (dynalite on loopback), and against a
/// scripted SDK client for what dynalite never does (unprocessed keys, throttling).
/// </summary>
public sealed class DynamoDbTableClientTests
{
    private const string Table = "adapter-table";

    [Fact]
    public async Task AllOperations_AgainstDynalite_ReadAndWriteAsDynamoDbDoes()
    {
        using var dynalite = await DynaliteServer.StartAsync(DynaliteServer.FindEntryPoint(Repository.Root), CancellationToken.None);
        using var sdk = LocalTables.Client(dynalite.Endpoint);
        await sdk.CreateTableAsync(new CreateTableRequest
        {
            TableName = Table,
            BillingMode = BillingMode.PAY_PER_REQUEST,
            KeySchema = [new KeySchemaElement("idempotency_key", KeyType.HASH)],
            AttributeDefinitions = [new AttributeDefinition("idempotency_key", ScalarAttributeType.S)],
        });
        var client = new DynamoDbTableClient(sdk);
        var item = new Dictionary<string, AttributeValue> { ["idempotency_key"] = new() { S = "k1" }, ["rating"] = new() { S = "High" }, ["n"] = new() { N = "3" } };

        var firstPut = await client.PutIfAbsentAsync(Table, "idempotency_key", item, CancellationToken.None);
        var secondPut = await client.PutIfAbsentAsync(Table, "idempotency_key", new Dictionary<string, AttributeValue>(item) { ["rating"] = new() { S = "Low" } },
            CancellationToken.None);
        var got = await client.GetItemAsync(Table, "idempotency_key", "k1", CancellationToken.None);
        var missing = await client.GetItemAsync(Table, "idempotency_key", "k2", CancellationToken.None);
        var batch = await client.GetItemsAsync(Table, "idempotency_key", ["k2", "k1"], CancellationToken.None);

        Assert.True(firstPut);
        Assert.False(secondPut);
        Assert.Equal(("High", "3"), (got!["rating"].S, got["n"].N));
        Assert.Null(missing);
        Assert.Equal("k1", Assert.Single(batch)["idempotency_key"].S);
    }

    [Fact]
    public async Task AnyOperation_MissingTable_IsTableUnavailable()
    {
        using var dynalite = await DynaliteServer.StartAsync(DynaliteServer.FindEntryPoint(Repository.Root), CancellationToken.None);
        using var sdk = LocalTables.Client(dynalite.Endpoint);
        var client = new DynamoDbTableClient(sdk);

        var error = await Assert.ThrowsAsync<TableUnavailableException>(() => client.GetItemsAsync("no-such-table", "pk", ["pointer"], CancellationToken.None));

        Assert.Equal("no-such-table", error.Table);
        Assert.StartsWith("BatchGetItem on table no-such-table failed: ResourceNotFoundException: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyOperation_NothingListening_IsTableUnavailable()
    {
        using var sdk = new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"),
            new AmazonDynamoDBConfig { ServiceURL = "http://127.0.0.1:9/", AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });
        var client = new DynamoDbTableClient(sdk);

        var error = await Assert.ThrowsAsync<TableUnavailableException>(() => client.GetItemAsync(Table, "pk", "pointer", CancellationToken.None));

        Assert.Equal(Table, error.Table);
    }

    [Fact]
    public async Task GetItems_UnprocessedKeys_AreAskedForAgainWithBackoffUntilAnswered()
    {
        using var sdk = new ScriptedDynamoDb();
        sdk.BatchAnswers.Enqueue(request => Answer(request, answered: ["a"], unprocessed: ["b", "c"]));
        sdk.BatchAnswers.Enqueue(request => Answer(request, answered: ["b"], unprocessed: ["c"]));
        sdk.BatchAnswers.Enqueue(request => Answer(request, answered: ["c"], unprocessed: []));
        var delays = new List<TimeSpan>();
        var client = new DynamoDbTableClient(sdk, (delay, _) => { delays.Add(delay); return Task.CompletedTask; });

        var items = await client.GetItemsAsync(Table, "pk", ["a", "b", "c"], CancellationToken.None);

        Assert.Equal(["a", "b", "c"], items.Select(item => item["pk"].S));
        Assert.Equal([TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100)], delays);
        Assert.Equal([["a", "b", "c"], ["b", "c"], ["c"]], sdk.BatchRequests.Select(request => request.RequestItems[Table].Keys.Select(key => key["pk"].S).ToArray()));
        Assert.All(sdk.BatchRequests, request => Assert.True(request.RequestItems[Table].ConsistentRead));
    }

    [Fact]
    public async Task GetItems_KeysStillUnprocessedAfterThreeRetries_IsTableUnavailable()
    {
        using var sdk = new ScriptedDynamoDb();
        for (var i = 0; i < 4; i++)
        {
            sdk.BatchAnswers.Enqueue(request => Answer(request, answered: [], unprocessed: ["a"]));
        }

        var client = new DynamoDbTableClient(sdk, (_, _) => Task.CompletedTask);

        var error = await Assert.ThrowsAsync<TableUnavailableException>(() => client.GetItemsAsync(Table, "pk", ["a"], CancellationToken.None));

        Assert.Equal($"BatchGetItem on table {Table} failed: ProvisionedThroughputExceededException: 1 keys were still unprocessed after 3 retries", error.Message);
        Assert.Equal(4, sdk.BatchRequests.Count);
    }

    [Fact]
    public async Task PutIfAbsent_SendsTheConditionOnTheKey()
    {
        using var sdk = new ScriptedDynamoDb();
        var client = new DynamoDbTableClient(sdk);

        Assert.True(await client.PutIfAbsentAsync(Table, "idempotency_key", new Dictionary<string, AttributeValue> { ["idempotency_key"] = new() { S = "k" } },
            CancellationToken.None));

        var put = Assert.Single(sdk.PutRequests);
        Assert.Equal((Table, "attribute_not_exists(idempotency_key)", "k"), (put.TableName, put.ConditionExpression, put.Item["idempotency_key"].S));
    }

    [Fact]
    public async Task GetItem_Throttled_IsTableUnavailableAndCancellationStaysCancellation()
    {
        using var sdk = new ScriptedDynamoDb { GetFailure = new ProvisionedThroughputExceededException("Rate exceeded") { StatusCode = HttpStatusCode.BadRequest } };
        var client = new DynamoDbTableClient(sdk);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var throttled = await Assert.ThrowsAsync<TableUnavailableException>(() => client.GetItemAsync(Table, "pk", "pointer", CancellationToken.None));
        sdk.GetFailure = new OperationCanceledException(cancelled.Token);
        await Assert.ThrowsAsync<OperationCanceledException>(() => client.GetItemAsync(Table, "pk", "pointer", cancelled.Token));
        sdk.GetFailure = new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout");
        var timedOut = await Assert.ThrowsAsync<TableUnavailableException>(() => client.GetItemAsync(Table, "pk", "pointer", CancellationToken.None));

        Assert.Equal($"GetItem on table {Table} failed: ProvisionedThroughputExceededException: Rate exceeded", throttled.Message);
        Assert.StartsWith($"GetItem on table {Table} failed: TaskCanceledException: ", timedOut.Message, StringComparison.Ordinal);
    }

    private static BatchGetItemResponse Answer(BatchGetItemRequest request, string[] answered, string[] unprocessed) => new()
    {
        Responses = new Dictionary<string, List<Dictionary<string, AttributeValue>>>
        {
            [Table] = [.. answered.Select(key => new Dictionary<string, AttributeValue> { ["pk"] = new() { S = key } })],
        },
        UnprocessedKeys = unprocessed.Length == 0
            ? []
            : new Dictionary<string, KeysAndAttributes>
            {
                [Table] = new()
                {
                    ConsistentRead = request.RequestItems[Table].ConsistentRead,
                    Keys = [.. unprocessed.Select(key => new Dictionary<string, AttributeValue> { ["pk"] = new() { S = key } })],
                },
            },
    };

    /// <summary>The SDK client with BatchGetItem, GetItem and PutItem answered by the test (nothing goes over the network).</summary>
    private sealed class ScriptedDynamoDb() : AmazonDynamoDBClient(new BasicAWSCredentials("test", "test"), Amazon.RegionEndpoint.USEast1)
    {
        public Queue<Func<BatchGetItemRequest, BatchGetItemResponse>> BatchAnswers { get; } = new();

        public List<BatchGetItemRequest> BatchRequests { get; } = [];

        public List<PutItemRequest> PutRequests { get; } = [];

        public Exception? GetFailure { get; set; }

        public override Task<BatchGetItemResponse> BatchGetItemAsync(BatchGetItemRequest request, CancellationToken cancellationToken = default)
        {
            BatchRequests.Add(request);
            return Task.FromResult(BatchAnswers.Dequeue()(request));
        }

        public override Task<GetItemResponse> GetItemAsync(GetItemRequest request, CancellationToken cancellationToken = default) =>
            GetFailure is { } failure ? Task.FromException<GetItemResponse>(failure) : Task.FromResult(new GetItemResponse());

        public override Task<PutItemResponse> PutItemAsync(PutItemRequest request, CancellationToken cancellationToken = default)
        {
            PutRequests.Add(request);
            return Task.FromResult(new PutItemResponse());
        }
    }
}
