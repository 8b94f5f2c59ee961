using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

public sealed class DeployedModelSourceTests : IDisposable
{
    private static readonly S3Location MarkerLocation = new(ProxyModels.Bucket, DeployedMarker.Key);
    private readonly ProxyHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private Task<SegmentModel> GetAsync() => _harness.Models.GetAsync(CancellationToken.None);

    [Fact]
    public async Task GetAsync_FirstCall_LoadsMarkerSpecProfilesAndMetrics()
    {
        var model = await GetAsync();

        Assert.Equal("7", model.Marker.ModelVersion);
        Assert.Equal(["Age", "Income", "Purchases"], model.Features);
        Assert.Equal([0, 1, 4], model.Segments.Select(segment => segment.Id));
        Assert.Equal(0.61, model.Metrics!.Value.GetProperty("silhouette").GetDouble());
        Assert.Equal([MarkerLocation, S3Location.Parse(ProxyModels.SpecUri), S3Location.Parse(ProxyModels.ProfilesUri), S3Location.Parse(ProxyModels.MetricsUri)],
            _harness.Store.Reads.Select(read => read.Location));
        Assert.Null(_harness.Store.Reads[0].IfNoneMatch);
    }

    [Fact]
    public async Task GetAsync_WithinTheRefreshInterval_MakesNoS3Request()
    {
        var first = await GetAsync();
        var reads = _harness.Store.Reads.Count;

        _harness.Clock.Advance(TimeSpan.FromSeconds(59));
        for (var i = 0; i < 100; i++)
        {
            Assert.Same(first, await GetAsync());
        }

        Assert.Equal(reads, _harness.Store.Reads.Count);
    }

    [Fact]
    public async Task GetAsync_AfterTheIntervalWithAnUnchangedMarker_CostsOneConditionalGet()
    {
        var first = await GetAsync();
        var reads = _harness.Store.Reads.Count;

        _harness.Clock.Advance(TimeSpan.FromSeconds(60));
        var second = await GetAsync();

        Assert.Same(first, second);
        var check = Assert.Single(_harness.Store.Reads.Skip(reads));
        Assert.Equal(MarkerLocation, check.Location);
        Assert.Equal("\"etag-1\"", check.IfNoneMatch);
    }

    [Fact]
    public async Task GetAsync_MarkerChanged_LoadsTheNewVersion()
    {
        await GetAsync();
        var newSpec = "s3://model-bucket/runs/exec-2/artifacts/preprocessing_spec.json";
        _harness.Store.Put(S3Location.Parse(newSpec), ProxyModels.Spec(mean: "[41, 61000, 21]"));
        _harness.Store.Put(MarkerLocation, ProxyModels.Marker(version: 8, specUri: newSpec));

        _harness.Clock.Advance(TimeSpan.FromSeconds(61));
        var model = await GetAsync();

        Assert.Equal("8", model.Marker.ModelVersion);
        Assert.Equal([41.0, 61000, 21], model.Mean);
    }

    [Fact]
    public async Task GetAsync_MetricsNotPublished_LoadsTheModelWithoutMetrics()
    {
        _harness.Store.Delete(S3Location.Parse(ProxyModels.MetricsUri));

        var model = await GetAsync();

        Assert.Null(model.Metrics);
        Assert.Equal(3, model.Segments.Count);
    }

    [Fact]
    public async Task GetAsync_NoMarker_IsServiceUnavailableAndCheckedAgainOnlyAfterTheInterval()
    {
        _harness.Store.Delete(MarkerLocation);

        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(GetAsync);
        await Assert.ThrowsAsync<ServiceUnavailableException>(GetAsync);

        Assert.Equal("no model is deployed yet (s3://model-bucket/deployed/version.json does not exist)", error.Message);
        Assert.Single(_harness.Store.Reads);
        _harness.Store.Put(MarkerLocation, ProxyModels.Marker());
        _harness.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal("7", (await GetAsync()).Marker.ModelVersion);
    }

    [Fact]
    public async Task GetAsync_MarkerAccessDenied_IsNoModelDeployedYetOrNotReadableAndCheckedAgainAfterTheInterval()
    {
        _harness.Store.Deny(MarkerLocation);

        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(GetAsync);

        Assert.Equal("no model is deployed yet (or this function may not read s3://model-bucket/deployed/version.json)", error.Message);
        var line = Assert.Single(_harness.LogLines);
        Assert.Equal(("Warning", "No deployed model marker.", "s3://model-bucket/deployed/version.json", "AccessDenied"),
            (line.GetProperty("level").GetString(), line.GetProperty("message").GetString(), line.GetProperty("marker").GetString(), line.GetProperty("s3Answer").GetString()));
        Assert.Single(_harness.Store.Reads);
        _harness.Clock.Advance(TimeSpan.FromSeconds(60));
        await Assert.ThrowsAsync<ServiceUnavailableException>(GetAsync);
        Assert.Equal(2, _harness.Store.Reads.Count);
    }

    [Fact]
    public async Task GetAsync_MarkerDeniedAfterAModelWasLoaded_StopsServingItLikeARemovedMarker()
    {
        await GetAsync();
        _harness.Store.Deny(MarkerLocation);

        _harness.Clock.Advance(TimeSpan.FromSeconds(60));
        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(GetAsync);

        Assert.Equal("no model is deployed yet (or this function may not read s3://model-bucket/deployed/version.json)", error.Message);
    }

    [Fact]
    public async Task GetAsync_SpecAccessDenied_IsServiceUnavailableSayingItCannotBeRead()
    {
        _harness.Store.Deny(S3Location.Parse(ProxyModels.SpecUri));

        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(GetAsync);

        Assert.Equal("the deployed model cannot be loaded: s3://model-bucket/runs/exec-1/artifacts/preprocessing_spec.json named by the deployed marker "
            + "cannot be read: S3 denied access (it does not exist, or this function may not read it).", error.Message);
    }

    [Fact]
    public async Task GetAsync_MetricsAccessDenied_LoadsTheModelWithoutMetrics()
    {
        _harness.Store.Deny(S3Location.Parse(ProxyModels.MetricsUri));

        var model = await GetAsync();

        Assert.Null(model.Metrics);
        Assert.Equal("7", model.Marker.ModelVersion);
    }

    [Fact]
    public async Task GetAsync_NewVersionWithAMissingSpec_KeepsServingTheLoadedVersionAndLogsTheError()
    {
        await GetAsync();
        _harness.Store.Put(MarkerLocation, ProxyModels.Marker(version: 9, specUri: "s3://model-bucket/runs/missing/preprocessing_spec.json"));

        _harness.Clock.Advance(TimeSpan.FromSeconds(60));
        var model = await GetAsync();

        Assert.Equal("7", model.Marker.ModelVersion);
        var line = Assert.Single(_harness.LogLines, line => line.GetProperty("level").GetString() == "Error");
        Assert.Equal("Model refresh failed; serving the version already loaded.", line.GetProperty("message").GetString());
        Assert.Equal("s3://model-bucket/runs/missing/preprocessing_spec.json named by the deployed marker does not exist.", line.GetProperty("errorMessage").GetString());
    }

    [Fact]
    public async Task GetAsync_S3FailsBeforeAnyModelIsLoaded_IsServiceUnavailable()
    {
        _harness.Store.FailWith = _ => new HttpRequestException("connection refused");

        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(GetAsync);

        Assert.Equal("the deployed model cannot be loaded: connection refused", error.Message);
    }

    [Theory]
    [InlineData("""{"column_order":["Age","Height"],"scaler":{"mean":[1,2],"scale":[1,1]}}""",
        "s3://model-bucket/runs/exec-1/artifacts/preprocessing_spec.json: feature(s) Height have no recipe here; known: Age, Income, Purchases, SpendingPower.")]
    [InlineData("""{"column_order":["Age","Income","Purchases"],"scaler":{"mean":[1,2],"scale":[1,1,1]}}""",
        "s3://model-bucket/runs/exec-1/artifacts/preprocessing_spec.json: 'mean' has 2 values, expected 3.")]
    [InlineData("""{"column_order":["Age","Income","Purchases"]}""",
        "s3://model-bucket/runs/exec-1/artifacts/preprocessing_spec.json: 'scaler' is missing or not a JSON object.")]
    [InlineData("[1]", "s3://model-bucket/runs/exec-1/artifacts/preprocessing_spec.json is not a JSON object.")]
    public async Task GetAsync_UnusableSpec_IsServiceUnavailableNamingTheProblem(string spec, string problem)
    {
        _harness.Store.Put(S3Location.Parse(ProxyModels.SpecUri), spec);

        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(GetAsync);

        Assert.Equal("the deployed model cannot be loaded: " + problem, error.Message);
    }

    [Theory]
    [InlineData("""{"segments":[{"id":1.5,"label":"A","centroid":{"Age":1,"Income":2,"Purchases":3}}]}""",
        "s3://model-bucket/runs/exec-1/artifacts/segment_profiles.json: segments[0]: 'id' must be a whole number >= 0.")]
    [InlineData("""{"segments":[{"id":1,"label":"A","centroid":{"Age":1,"Income":2}}]}""",
        "s3://model-bucket/runs/exec-1/artifacts/segment_profiles.json: segments[0].centroid: 'Purchases' is missing or not a JSON number.")]
    [InlineData("""{"segments":[]}""", "s3://model-bucket/runs/exec-1/artifacts/segment_profiles.json: segments must be a non-empty list with distinct ids.")]
    public async Task GetAsync_UnusableProfiles_IsServiceUnavailableNamingTheProblem(string profiles, string problem)
    {
        _harness.Store.Put(S3Location.Parse(ProxyModels.ProfilesUri), profiles);

        var error = await Assert.ThrowsAsync<ServiceUnavailableException>(GetAsync);

        Assert.Equal("the deployed model cannot be loaded: " + problem, error.Message);
    }

    [Fact]
    public void S3LocationParse_NotAnS3Uri_IsAModelDocumentError()
    {
        var error = Assert.Throws<ModelDocumentException>(() => S3Location.Parse("https://bucket/key"));

        Assert.Equal("'https://bucket/key' is not an s3://bucket/key URI.", error.Message);
        Assert.Equal(new S3Location("b", "a/b.json"), S3Location.Parse("s3://b/a/b.json"));
    }
}
