using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.SegmentProxy;
using Xunit.Abstractions;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>One random raw customer and what scikit-learn answered for it (parity_customers.py).</summary>
internal sealed record ParityCase(int Index, string Kind, double Age, double Income, double Purchases, double[] Scaled, int Cluster, double Distance);

/// <summary>A trained model, its model server and its parity customers.</summary>
internal sealed record ParityModel(TrainedModel Model, ModelServerProcess Server, IReadOnlyList<ParityCase> Cases, string SklearnVersion);

/// <summary>
/// Trains two models with the real train.py (raw features with k chosen by silhouette; SpendingPower with PCA and a
/// fixed k), draws <see cref="CustomersPerModel"/> random raw customers for each with scikit-learn's own predictions
/// (tests/Lambdas.Tests/SegmentProxy/parity_customers.py) and serves each model with model_server.py + inference.py.
/// </summary>
public sealed class ParityFixture : IAsyncLifetime
{
    public const int CustomersPerModel = 3000;

    private readonly Dictionary<string, ParityModel> _models = [];

    internal ParityModel this[string name] => _models[name];

    public async Task InitializeAsync()
    {
        var trained = await Task.WhenAll(
            TrainedModel.TrainAsync("raw_features", "Age,Income,Purchases", components: 0, clusters: 0, seed: 11),
            TrainedModel.TrainAsync("spending_power_pca", "Age,Income,Purchases,SpendingPower", components: 2, clusters: 4, seed: 12));
        foreach (var model in trained)
        {
            var (cases, version) = await CasesAsync(model, seed: model.Name.Length);
            _models[model.Name] = new ParityModel(model, await ModelServerProcess.StartAsync(model.ModelDirectory), cases, version);
        }
    }

    public Task DisposeAsync()
    {
        foreach (var model in _models.Values)
        {
            model.Server.Dispose();
            model.Model.Dispose();
        }

        return Task.CompletedTask;
    }

    private static async Task<(ParityCase[] Cases, string SklearnVersion)> CasesAsync(TrainedModel model, int seed)
    {
        var output = Path.Combine(Path.GetTempPath(), $"parity-{model.Name}-{Guid.NewGuid():N}.json");
        await DebianPython.RunAsync(Path.Combine(Repository.Root, "tests", "Lambdas.Tests", "SegmentProxy", "parity_customers.py"),
            "--model-dir", model.ModelDirectory, "--count", CustomersPerModel.ToString(CultureInfo.InvariantCulture),
            "--seed", seed.ToString(CultureInfo.InvariantCulture), "--out", output);
        using var document = JsonDocument.Parse(await File.ReadAllBytesAsync(output));
        File.Delete(output);
        var root = document.RootElement;
        var customers = root.GetProperty("customers").EnumerateArray().ToList();
        var kinds = root.GetProperty("kinds").EnumerateArray().ToList();
        var scaled = root.GetProperty("scaled").EnumerateArray().ToList();
        var predictions = root.GetProperty("predictions").EnumerateArray().ToList();
        var cases = customers.Select((customer, index) => new ParityCase(index, kinds[index].GetString()!,
            customer.GetProperty("age").GetDouble(), customer.GetProperty("income").GetDouble(), customer.GetProperty("purchases").GetDouble(),
            [.. scaled[index].EnumerateArray().Select(value => value.GetDouble())],
            predictions[index].GetProperty("closest_cluster").GetInt32(), predictions[index].GetProperty("distance_to_cluster").GetDouble())).ToArray();
        return (cases, root.GetProperty("sklearn_version").GetString()!);
    }
}

/// <summary>
/// For thousands of random raw customers the API's segment is scikit-learn's: the real bootstrap, through the loopback
/// Runtime API with API Gateway proxy events, reading the trained model's spec from s3rver, scoring through the strict
/// SageMaker runtime stand-in and model_server.py + inference.py (endpoint mode) or from the exported centroids
/// (centroids mode). Bodies are single customers and batches of several sizes.
/// </summary>
[Collection(SegmentProxyEndToEndCollection.Name)]
public sealed class ParityTests(ProxyBootstrapFixture bootstrap, ParityFixture models, ITestOutputHelper output) : IClassFixture<ParityFixture>
{
    /// <summary>Distances agree to 1e-9: absolute below 1, relative above.</summary>
    private const double DistanceTolerance = 1e-9;

    /// <summary>The first customers go one by one as bare customer objects, the rest in batches of these sizes, cycled.</summary>
    private const int SingleCustomers = 20;
    private static readonly int[] BatchSizes = [1000, 333, 64, 1, 250];

    private static readonly string[] Names = ["raw_features", "spending_power_pca"];
    private static readonly string[] InputKinds = ["boundary", "extreme", "typical"];

    public static TheoryData<string> ModelNames => [.. Names];

    [Theory]
    [MemberData(nameof(ModelNames))]
    public async Task PostSegment_EndpointMode_EveryCustomerAgreesWithScikitLearn(string name)
    {
        var model = models[name];
        using var proxy = await ServedSegmentProxy.StartAsync(bootstrap.BootstrapPath, model.Model, ServingMode.Endpoint, model.Server);

        var requests = await AssertAgreementAsync(proxy, model, "endpoint", CustomerBodies(model.Cases));

        proxy.AssertCleanRun();
        var invocations = proxy.Runtime!.Requests;
        Assert.Equal(requests, invocations.Count);
        Assert.All(invocations, invocation => Assert.Equal($"/endpoints/{ServedSegmentProxy.EndpointName}/invocations", invocation.RawUrl));
        Assert.Equal(ParityFixture.CustomersPerModel, invocations.Sum(invocation => invocation.BodyJson.GetProperty("instances").GetArrayLength()));
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public async Task PostSegment_CentroidsMode_EveryCustomerAgreesWithScikitLearn(string name)
    {
        var model = models[name];
        using var proxy = await ServedSegmentProxy.StartAsync(bootstrap.BootstrapPath, model.Model, ServingMode.Centroids, modelServer: null);

        await AssertAgreementAsync(proxy, model, "centroids", CustomerBodies(model.Cases));

        proxy.AssertCleanRun();
        Assert.Null(proxy.Runtime);
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public async Task PostSegment_LegacyScaledFeatures_AgreeWithScikitLearn(string name)
    {
        var model = models[name];
        using var proxy = await ServedSegmentProxy.StartAsync(bootstrap.BootstrapPath, model.Model, ServingMode.Endpoint, model.Server);
        var bodies = model.Cases.Chunk(500).Select(chunk => (chunk, Body: Json(writer =>
        {
            writer.WriteStartArray("features");
            foreach (var row in chunk)
            {
                writer.WriteStartArray();
                Array.ForEach(row.Scaled, writer.WriteNumberValue);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        })));

        await AssertAgreementAsync(proxy, model, "endpoint", bodies);

        proxy.AssertCleanRun();
    }

    /// <summary>Values just outside the documented plausible ranges, or not valid for the model, in one customer of a batch.</summary>
    public static TheoryData<string, string, string, double, string> OutOfRange => new()
    {
        { "raw_features", "age", "customers[37].age", -0.5, "-0.5 must be within [0, 120]" },
        { "raw_features", "age", "customers[37].age", 120.25, "120.25 must be within [0, 120]" },
        { "raw_features", "income", "customers[37].income", -0.01, "-0.01 must be >= 0" },
        { "raw_features", "income", "customers[37].income", 1000000001, "1000000001 must be <= 1000000000" },
        { "raw_features", "purchases", "customers[37].purchases", -1, "-1 must be >= 0" },
        { "raw_features", "purchases", "customers[37].purchases", 1000000.5, "1000000.5 must be <= 1000000" },
        { "spending_power_pca", "purchases", "customers[37].purchases", 0, "0 must be > 0: this model's SpendingPower feature is income / purchases" },
        { "spending_power_pca", "age", "customers[37].age", 121, "121 must be within [0, 120]" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public async Task PostSegment_OneCustomerOutOfRange_Is400NamingItAndNoEndpointCall(string name, string attribute, string field, double value, string error)
    {
        var model = models[name];
        using var proxy = await ServedSegmentProxy.StartAsync(bootstrap.BootstrapPath, model.Model, ServingMode.Endpoint, model.Server);
        var customers = model.Cases.Take(100).Select(Customer).ToList();
        customers[37] = customers[37].Replace(attribute, value);

        var response = await proxy.InvokeAsync(ServedSegmentProxy.Event("POST", "/segment", CustomersBody(customers)));

        Assert.Equal(400, response.StatusCode);
        Assert.Equal($$"""{"error":{{JsonSerializer.Serialize(error)}},"field":"{{field}}"}""", response.Body);
        Assert.Empty(proxy.Runtime!.Requests);
        proxy.AssertCleanRun();
    }

    public static TheoryData<string, string, string> MalformedBatches => new()
    {
        { """{"features":[[0.1,0.2,0.3],[0.1,0.2]]}""", "features[1]", "has 2 values; this model takes 3 scaled features (Age, Income, Purchases)" },
        { """{"features":[[0.1,0.2,2000000]]}""", "features[0][2]", "2000000 is not a plausible scaled value (|value| <= 1000000)" },
        { """{"customers":[{"age":30,"income":50000,"purchases":3},{"age":30,"income":50000}]}""", "customers[1].purchases", "is missing: this model needs age, income, purchases" },
        { """{"customers":[{"age":30,"income":50000,"purchases":3,"gender":"f"}]}""", "customers[0].gender", "unknown field 'gender': a customer has age, income, purchases" },
    };

    [Theory]
    [MemberData(nameof(MalformedBatches))]
    public async Task PostSegment_MalformedBatch_Is400NamingTheFieldAndNoEndpointCall(string body, string field, string error)
    {
        var model = models["raw_features"];
        using var proxy = await ServedSegmentProxy.StartAsync(bootstrap.BootstrapPath, model.Model, ServingMode.Endpoint, model.Server);

        var response = await proxy.InvokeAsync(ServedSegmentProxy.Event("POST", "/segment", body));

        Assert.Equal(400, response.StatusCode);
        Assert.Equal($$"""{"error":{{JsonSerializer.Serialize(error)}},"field":"{{field}}"}""", response.Body);
        Assert.Empty(proxy.Runtime!.Requests);
        proxy.AssertCleanRun();
    }

    [Fact]
    public void Fixture_ParityCustomers_CoverTheSegmentsAndTheKindsOfInput()
    {
        foreach (var name in Names)
        {
            var model = models[name];
            var segments = JsonDocument.Parse(model.Model.Profiles).RootElement.GetProperty("segments").GetArrayLength();

            Assert.Equal("1.2.1", model.SklearnVersion);
            Assert.Equal(ParityFixture.CustomersPerModel, model.Cases.Count);
            Assert.Equal(InputKinds, model.Cases.Select(item => item.Kind).Distinct().Order());
            Assert.Equal(segments, model.Cases.Select(item => item.Cluster).Distinct().Count());
            Assert.All(model.Cases.GroupBy(item => item.Cluster), group => Assert.True(group.Count() >= 100, $"{name}: segment {group.Key} has {group.Count()} customers"));
            Assert.All(model.Cases, item => Assert.True(item.Age is >= 0 and <= 120 && item.Income is >= 0 and <= 1e9 && item.Purchases is >= 0 and <= 1e6,
                $"{name}: customer {item.Index} is outside the documented ranges"));
        }
    }

    private async Task<int> AssertAgreementAsync(ServedSegmentProxy proxy, ParityModel model, string scoredBy,
        IEnumerable<(ParityCase[] Cases, string Body)> bodies)
    {
        using var profiles = JsonDocument.Parse(model.Model.Profiles);
        var labels = profiles.RootElement.GetProperty("segments").EnumerateArray()
            .ToDictionary(segment => segment.GetProperty("id").GetInt32(), segment => segment.GetProperty("label").GetString());
        var mismatches = new List<string>();
        var compared = 0;
        var requests = 0;
        var worstDistance = 0.0;
        foreach (var (cases, body) in bodies)
        {
            var response = await proxy.InvokeAsync(ServedSegmentProxy.Event("POST", "/segment", body));
            requests++;
            Assert.True(response.StatusCode == 200, $"{model.Model.Name}: {response.StatusCode} {response.Body}");
            var answer = JsonDocument.Parse(response.Body!).RootElement;
            Assert.Equal(scoredBy, answer.GetProperty("scored_by").GetString());
            Assert.Equal("7", answer.GetProperty("model_version").GetString());
            Assert.Equal(cases.Length, answer.GetProperty("features_processed").GetInt32());
            var predictions = answer.GetProperty("predictions").EnumerateArray().ToList();
            Assert.Equal(cases.Length, predictions.Count);
            foreach (var (expected, prediction) in cases.Zip(predictions))
            {
                compared++;
                var cluster = prediction.GetProperty("closest_cluster").GetInt32();
                var distance = prediction.GetProperty("distance_to_cluster").GetDouble();
                var error = Math.Abs(distance - expected.Distance) / Math.Max(1, Math.Abs(expected.Distance));
                worstDistance = Math.Max(worstDistance, error);
                if (cluster != expected.Cluster || error > DistanceTolerance || prediction.GetProperty("segment_label").GetString() != labels[expected.Cluster])
                {
                    mismatches.Add($"customer {expected.Index} ({expected.Kind}: age {expected.Age:R}, income {expected.Income:R}, purchases {expected.Purchases:R}): "
                        + $"API {cluster} at {distance:R}, scikit-learn {expected.Cluster} at {expected.Distance:R}");
                }
            }
        }

        output.WriteLine($"{model.Model.Name}, {scoredBy}: {compared} customers in {requests} requests, {compared - mismatches.Count} agree with scikit-learn "
            + $"{model.SklearnVersion}; worst distance difference {worstDistance:E2} (absolute below 1, relative above)");
        Assert.Equal(ParityFixture.CustomersPerModel, compared);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {compared} customers disagree:\n" + string.Join("\n", mismatches.Take(10)));
        return requests;
    }

    /// <summary>The first customers one by one as bare objects, the rest as <c>{"customers":[...]}</c> batches.</summary>
    private static IEnumerable<(ParityCase[] Cases, string Body)> CustomerBodies(IReadOnlyList<ParityCase> cases)
    {
        foreach (var single in cases.Take(SingleCustomers))
        {
            yield return ([single], Customer(single).ToJsonString());
        }

        var next = SingleCustomers;
        for (var batch = 0; next < cases.Count; batch++)
        {
            var chunk = cases.Skip(next).Take(BatchSizes[batch % BatchSizes.Length]).ToArray();
            next += chunk.Length;
            yield return (chunk, CustomersBody(chunk.Select(Customer)));
        }
    }

    private static JsonObject Customer(ParityCase item) => new()
    {
        ["age"] = item.Age,
        ["income"] = item.Income,
        ["purchases"] = item.Purchases,
    };

    private static string CustomersBody(IEnumerable<JsonObject> customers) =>
        new JsonObject { ["customers"] = new JsonArray([.. customers]) }.ToJsonString();

    private static string Json(Action<Utf8JsonWriter> members)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            members(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

internal static class ParityJsonExtensions
{
    /// <summary>A copy of the customer with one attribute replaced.</summary>
    public static JsonObject Replace(this JsonObject customer, string attribute, double value)
    {
        var copy = (JsonObject)customer.DeepClone();
        copy[attribute] = value;
        return copy;
    }
}
