using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// Runs tests/python/proxy_vectors.py under Debian's /usr/bin/python3 (scikit-learn 1.2.1, the serving container's
/// version) once per class: real train.fit_segmentation models, StandardScaler output and inference.py answers. A
/// missing interpreter or library fails every test that uses it, with the reason.
/// </summary>
public sealed class PythonVectorsFixture : IAsyncLifetime
{
    public const string Python = "/usr/bin/python3";

    public JsonElement Vectors { get; private set; }

    public async Task InitializeAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), $"proxy-vectors-{Guid.NewGuid():N}.json");
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is missing: run scripts/setup.sh (it installs python3-sklearn) to produce the proxy test vectors.");
        }

        var start = new ProcessStartInfo(Python)
        {
            ArgumentList = { Path.Combine(Repository.Root, "tests", "python", "proxy_vectors.py"), "--out", output },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0 || !File.Exists(output))
        {
            throw new InvalidOperationException($"proxy_vectors.py failed (exit {process.ExitCode}):\n{await stdout}{await stderr}");
        }

        using (var document = JsonDocument.Parse(await File.ReadAllBytesAsync(output)))
        {
            Vectors = document.RootElement.Clone();
        }

        File.Delete(output);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

public sealed class PythonVectorsTests(PythonVectorsFixture fixture) : IClassFixture<PythonVectorsFixture>
{
    private const double Relative = 1e-12;

    private IEnumerable<JsonElement> Models => fixture.Vectors.GetProperty("models").EnumerateArray();

    private static SegmentModel Load(JsonElement vectors) => SegmentModel.Load(
        DeployedMarker.Parse(Encoding.UTF8.GetBytes(ProxyModels.Marker()), "marker"),
        Encoding.UTF8.GetBytes(vectors.GetProperty("spec").GetRawText()),
        Encoding.UTF8.GetBytes(vectors.GetProperty("profiles").GetRawText()),
        null);

    private static CustomerInput[] Customers(JsonElement vectors) =>
        [.. vectors.GetProperty("customers").EnumerateArray().Select((customer, index) => new CustomerInput($"customers[{index}]",
            customer.GetProperty("age").GetDouble(), customer.GetProperty("income").GetDouble(), customer.GetProperty("purchases").GetDouble()))];

    private static double[][] Matrix(JsonElement rows) =>
        [.. rows.EnumerateArray().Select(row => row.EnumerateArray().Select(value => value.GetDouble()).ToArray())];

    private static void AssertClose(double expected, double actual, double relative, string where)
    {
        var tolerance = relative * Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{where}: expected {expected:R}, got {actual:R} (|diff| {Math.Abs(expected - actual):R} > {tolerance:R})");
    }

    [Fact]
    public void Vectors_CoverEveryModelKind()
    {
        Assert.Equal(["raw_features", "spending_power", "pca", "constant_age"], Models.Select(model => model.GetProperty("name").GetString()));
        Assert.Equal("1.2.1", fixture.Vectors.GetProperty("sklearn_version").GetString());
    }

    [Fact]
    public void Features_MatchSegmentsComputeFeatures_Exactly()
    {
        foreach (var vectors in Models)
        {
            var model = Load(vectors);
            var expected = Matrix(vectors.GetProperty("features"));
            var customers = Customers(vectors);
            for (var row = 0; row < customers.Length; row++)
            {
                Assert.Equal(expected[row], FeatureScaler.Features(customers[row], model));
            }
        }
    }

    [Fact]
    public void Scale_MatchesStandardScalerTransform_To1e12Relative()
    {
        var compared = 0;
        foreach (var vectors in Models)
        {
            var name = vectors.GetProperty("name").GetString();
            var scaled = FeatureScaler.Scale(new SegmentRequest(Customers(vectors), null), Load(vectors));
            var expected = Matrix(vectors.GetProperty("scaled"));
            Assert.Equal(expected.Length, scaled.Length);
            for (var row = 0; row < expected.Length; row++)
            {
                for (var column = 0; column < expected[row].Length; column++)
                {
                    AssertClose(expected[row][column], scaled[row][column], Relative, $"{name} row {row} column {column}");
                    compared++;
                }
            }
        }

        Assert.True(compared > 500, $"only {compared} values compared");
    }

    [Fact]
    public void EndpointPayload_IsTheBodyInferencePyWasGiven()
    {
        foreach (var vectors in Models)
        {
            var payload = EndpointScorer.Payload(Matrix(vectors.GetProperty("scaled")));

            using var ours = JsonDocument.Parse(payload);
            using var theirs = JsonDocument.Parse(vectors.GetProperty("endpoint_body").GetString()!);
            Assert.Equal(Matrix(theirs.RootElement.GetProperty("instances")), Matrix(ours.RootElement.GetProperty("instances")));
        }
    }

    [Fact]
    public void CentroidScoring_EqualsInferencePyAnswers()
    {
        foreach (var vectors in Models)
        {
            var name = vectors.GetProperty("name").GetString();
            var model = Load(vectors);
            var predictions = CentroidScorer.Score(Matrix(vectors.GetProperty("scaled")), model);
            var expected = vectors.GetProperty("predictions").EnumerateArray().ToList();
            Assert.Equal(expected.Count, predictions.Length);
            for (var row = 0; row < predictions.Length; row++)
            {
                Assert.Equal(expected[row].GetProperty("closest_cluster").GetInt32(), predictions[row].ClosestCluster);
                // Centroids come back from raw units (profiles) through the scaler and PCA, and the distance formula
                // cancels for near points: agreement to 1e-9 relative is what float64 allows here, not bit equality.
                AssertClose(expected[row].GetProperty("distance_to_cluster").GetDouble(), predictions[row].DistanceToCluster, 1e-9, $"{name} row {row}");
            }
        }
    }

    [Fact]
    public void Labels_AreTheProfilesLabelsOfThePredictedIds()
    {
        foreach (var vectors in Models)
        {
            var model = Load(vectors);
            var profiles = vectors.GetProperty("profiles").GetProperty("segments").EnumerateArray()
                .ToDictionary(segment => segment.GetProperty("id").GetInt32(), segment => segment.GetProperty("label").GetString());
            foreach (var prediction in vectors.GetProperty("predictions").EnumerateArray())
            {
                var id = prediction.GetProperty("closest_cluster").GetInt32();
                Assert.Equal(profiles[id], model.LabelOf(id));
            }
        }
    }
}
