using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.SegmentProxy;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// Debian's chromium, headless, driven by Playwright (which never downloads a browser of its own here), and a model the
/// real train.py trained, served by model_server.py + inference.py. A missing chromium fails every test that needs it.
/// </summary>
public sealed class ExplorerPageFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>The flags docs/environment.md gives for chromium on this machine kind.</summary>
    private static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

    private IPlaywright? _playwright;

    internal TrainedModel Model { get; private set; } = null!;

    internal ModelServerProcess Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: run scripts/setup.sh (it installs Debian's chromium) to run the explorer page tests.");
        }

        Model = await TrainedModel.TrainAsync("explorer", "Age,Income,Purchases", components: 0, clusters: 4, seed: 21);
        Server = await ModelServerProcess.StartAsync(Model.ModelDirectory);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ChromiumArgs });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        Server?.Dispose();
        Model?.Dispose();
    }
}

/// <summary>
/// The segment explorer page (GET /) in headless Chromium against the real bootstrap: the page and its API calls go
/// through <see cref="ApiGatewayFront"/> on its own origin, under the stage path, to the function behind the loopback
/// Runtime API, with s3rver and the strict SageMaker runtime stand-in in front of model_server.py. Every figure the page
/// shows is compared with what the API answers for the same values. Screenshots are saved under
/// tests/Lambdas.Tests/TestResults/explorer-page (dotnet test's default results directory) and their paths printed.
/// </summary>
[Collection(SegmentProxyEndToEndCollection.Name)]
public sealed class ExplorerPageTests(ProxyBootstrapFixture bootstrap, ExplorerPageFixture fixture, ITestOutputHelper output)
    : IClassFixture<ExplorerPageFixture>
{
    private static readonly string[] Sliders = ["age", "income", "purchases"];
    private static readonly PageWaitForFunctionOptions Patiently = new() { Timeout = 15_000 };

    [Fact]
    public async Task Sliders_MovedTowardsAnotherSegment_PageShowsTheSegmentTheApiAnswers()
    {
        await using var session = await OpenAsync(1280, 900);
        var initial = await session.ApiScoreAsync(await session.InputsAsync());
        await session.WaitForResultAsync(initial);
        var target = (await session.SegmentsAsync()).First(segment => segment.Id != initial.Cluster);

        foreach (var slider in Sliders)
        {
            await session.ClickSliderAtAsync(slider, target.Centroid[slider]);
        }

        var moved = await session.InputsAsync();
        var expected = await session.ApiScoreAsync(moved);
        await session.WaitForResultAsync(expected);
        Assert.Equal(target.Id, expected.Cluster);
        Assert.NotEqual(initial.Cluster, expected.Cluster);
        Assert.Equal(expected.Label, await session.Page.Locator("#result .label").TextContentAsync());
        Assert.StartsWith($"{expected.Cluster}: {expected.Label} (", await session.Page.Locator("#legend li.current").TextContentAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await session.Page.Locator("#plot circle[stroke-width='3']").CountAsync());
        output.WriteLine($"moved {Describe(await session.InputsAsync())}: segment {initial.Cluster} -> {expected.Cluster} ({expected.Label})");
        await session.ScreenshotAsync("desktop-after-slider-move");
        session.AssertNoBrowserErrors();
        session.Proxy.AssertCleanRun();
    }

    [Fact]
    public async Task PhoneWidth_375px_NoHorizontalScrollAndSlidersStillScore()
    {
        await using var session = await OpenAsync(375, 812, mobile: true);
        var before = await session.ApiScoreAsync(await session.InputsAsync());
        await session.WaitForResultAsync(before);

        var widths = await session.Page.EvaluateAsync<int[]>(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth, document.body.scrollWidth, window.innerWidth]");
        Assert.True(widths[0] <= widths[1] && widths[2] <= widths[3], $"horizontal scroll at 375 px: scrollWidth {widths[0]} > clientWidth {widths[1]} or body {widths[2]} > {widths[3]}");
        foreach (var selector in new[] { "#age", "#income", "#purchases", "#age-n", "#income-n", "#purchases-n", "#plot", "#result" })
        {
            var box = await session.Page.Locator(selector).BoundingBoxAsync() ?? throw new InvalidOperationException($"{selector} is not rendered");
            Assert.True(box.X >= 0 && box.X + box.Width <= 375.5, $"{selector} spans {box.X:F1}..{box.X + box.Width:F1} px, outside the 375 px viewport");
        }

        var target = (await session.SegmentsAsync()).First(segment => segment.Id != before.Cluster);
        foreach (var slider in Sliders)
        {
            await session.TapSliderAtAsync(slider, target.Centroid[slider]);
        }

        var expected = await session.ApiScoreAsync(await session.InputsAsync());
        await session.WaitForResultAsync(expected);
        Assert.NotEqual(before.Cluster, expected.Cluster);
        await session.ScreenshotAsync("phone-375px", fullPage: true);
        session.AssertNoBrowserErrors();
        session.Proxy.AssertCleanRun();
    }

    [Theory]
    [InlineData("age", "130", "130 must be within [0, 120]")]
    [InlineData("income", "-5", "-5 must be >= 0")]
    [InlineData("purchases", "2000000", "2000000 must be <= 1000000")]
    public async Task TypedValueOutOfRange_PageShowsTheApisErrorAndItsFieldThenRecovers(string field, string typed, string error)
    {
        await using var session = await OpenAsync(1280, 900);
        await session.WaitForResultAsync(await session.ApiScoreAsync(await session.InputsAsync()));

        await session.Page.Locator($"#{field}-n").FillAsync(typed);

        var rejected = await session.ApiAsync(await session.InputsAsync());
        Assert.Equal(400, (int)rejected.Status);
        Assert.Equal(error, rejected.Body.GetProperty("error").GetString());
        Assert.Equal(field, rejected.Body.GetProperty("field").GetString());
        await session.WaitForErrorAsync($"{error} ({field})");
        Assert.Equal(0, await session.Page.Locator("#result .label").CountAsync());
        Assert.Equal(0, await session.Page.Locator("#legend li.current").CountAsync());
        await session.ScreenshotAsync($"rejected-{field}");

        await session.Page.Locator($"#{field}-n").FillAsync(field == "income" ? "50000" : "40");
        await session.WaitForResultAsync(await session.ApiScoreAsync(await session.InputsAsync()));
        session.Proxy.AssertCleanRun();
    }

    [Fact]
    public async Task EndpointUnavailable_PageShowsTheApisErrorThenRecovers()
    {
        await using var session = await OpenAsync(1280, 900);
        await session.WaitForResultAsync(await session.ApiScoreAsync(await session.InputsAsync()));
        var runtime = session.Proxy.Runtime!;
        runtime.FailNext(SageMakerRuntimeStandIn.Operation, 1,
            StandInResponse.Error(400, "ValidationError", $"Endpoint {ServedSegmentProxy.EndpointName} of account 123456789012 not found."));

        await session.ClickSliderAtAsync("age", 80);

        await session.WaitForErrorAsync($"the endpoint {ServedSegmentProxy.EndpointName} is unavailable (ValidationError: Endpoint {ServedSegmentProxy.EndpointName} of account 123456789012 not found.)");
        await session.ScreenshotAsync("endpoint-unavailable");
        await session.ClickSliderAtAsync("age", 30);
        await session.WaitForResultAsync(await session.ApiScoreAsync(await session.InputsAsync()));
        session.Proxy.AssertCleanRun();
    }

    [Fact]
    public async Task NoModelDeployed_PageSaysSegmentsUnavailableAndShowsNoSegment()
    {
        await using var session = await OpenAsync(1280, 900, deployed: false);
        var segments = await session.ApiAsync(null);
        Assert.Equal(503, (int)segments.Status);
        var reason = segments.Body.GetProperty("error").GetString();
        Assert.Equal($"no model is deployed yet (s3://{ProxyModels.Bucket}/{DeployedMarker.Key} does not exist)", reason);

        await session.Page.WaitForFunctionAsync("text => document.getElementById('model').textContent === text", $"Segments unavailable: {reason}", Patiently);
        await session.WaitForErrorAsync(reason!);
        Assert.Equal(0, await session.Page.Locator("#plot circle").CountAsync());
        await session.ScreenshotAsync("no-model-deployed");
        session.Proxy.AssertCleanRun();
        Assert.Empty(session.Proxy.Runtime!.Requests);
    }

    [Fact]
    public void Fixture_Browser_IsDebiansChromium()
    {
        Assert.True(fixture.Browser.IsConnected);
        Assert.Matches(@"^\d+\.", fixture.Browser.Version);
        output.WriteLine($"{ExplorerPageFixture.Chromium} {fixture.Browser.Version}");
    }

    private static string Describe(IReadOnlyDictionary<string, double> inputs) =>
        string.Join(", ", inputs.Select(input => $"{input.Key} {input.Value.ToString(CultureInfo.InvariantCulture)}"));

    private async Task<PageSession> OpenAsync(int width, int height, bool mobile = false, bool deployed = true)
    {
        var proxy = await ServedSegmentProxy.StartAsync(bootstrap.BootstrapPath, fixture.Model, ServingMode.Endpoint, fixture.Server, deployed);
        var front = new ApiGatewayFront(proxy.RuntimeApi);
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            IsMobile = mobile,
            HasTouch = mobile,
            DeviceScaleFactor = mobile ? 2 : 1,
        });
        var page = await context.NewPageAsync();
        var session = new PageSession(proxy, front, context, page, output);
        await page.GotoAsync(front.StageUri.ToString());
        return session;
    }

    /// <summary>A segment of GET /segments: its id and its raw centroid by slider name.</summary>
    private sealed record Segment(int Id, IReadOnlyDictionary<string, double> Centroid);

    /// <summary>What POST /segment answered for one customer.</summary>
    private sealed record Score(int Cluster, double Distance, string Label);

    /// <summary>One page in its own browser context, its proxy and front, and everything the browser reported.</summary>
    private sealed class PageSession : IAsyncDisposable
    {
        private readonly ApiGatewayFront _front;
        private readonly IBrowserContext _context;
        private readonly ITestOutputHelper _output;
        private readonly List<string> _browserErrors = [];
        private readonly HttpClient _client = new();

        public PageSession(ServedSegmentProxy proxy, ApiGatewayFront front, IBrowserContext context, IPage page, ITestOutputHelper output)
        {
            Proxy = proxy;
            _front = front;
            _context = context;
            Page = page;
            _output = output;
            page.Console += (_, message) =>
            {
                if (message.Type == "error")
                {
                    lock (_browserErrors)
                    {
                        _browserErrors.Add($"console: {message.Text}");
                    }
                }
            };
            page.PageError += (_, error) =>
            {
                lock (_browserErrors)
                {
                    _browserErrors.Add($"page error: {error}");
                }
            };
        }

        public ServedSegmentProxy Proxy { get; }

        public IPage Page { get; }

        /// <summary>The values the page will send: its number boxes, which the sliders write to.</summary>
        public async Task<IReadOnlyDictionary<string, double>> InputsAsync()
        {
            var inputs = new Dictionary<string, double>();
            foreach (var name in Sliders)
            {
                inputs[name] = double.Parse(await Page.Locator($"#{name}-n").InputValueAsync(), CultureInfo.InvariantCulture);
            }

            return inputs;
        }

        /// <summary>Calls the API through the same front: POST /segment with <paramref name="inputs"/>, or GET /segments when null.</summary>
        public async Task<(System.Net.HttpStatusCode Status, JsonElement Body)> ApiAsync(IReadOnlyDictionary<string, double>? inputs)
        {
            using var response = inputs is null
                ? await _client.GetAsync(new Uri(_front.StageUri, "segments"))
                : await _client.PostAsJsonAsync(new Uri(_front.StageUri, "segment"), inputs);
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }

        public async Task<Score> ApiScoreAsync(IReadOnlyDictionary<string, double> inputs)
        {
            var (status, body) = await ApiAsync(inputs);
            Assert.True(status == System.Net.HttpStatusCode.OK, $"POST /segment {Describe(inputs)}: {(int)status} {body}");
            var prediction = body.GetProperty("predictions")[0];
            return new Score(prediction.GetProperty("closest_cluster").GetInt32(), prediction.GetProperty("distance_to_cluster").GetDouble(),
                prediction.GetProperty("segment_label").GetString()!);
        }

        public async Task<IReadOnlyList<Segment>> SegmentsAsync()
        {
            var (status, body) = await ApiAsync(null);
            Assert.Equal(System.Net.HttpStatusCode.OK, status);
            return [.. body.GetProperty("segments").EnumerateArray().Select(segment => new Segment(segment.GetProperty("id").GetInt32(),
                Sliders.ToDictionary(name => name, name => segment.GetProperty("centroid").GetProperty(char.ToUpperInvariant(name[0]) + name[1..]).GetDouble())))];
        }

        /// <summary>Waits until the result box shows exactly <paramref name="score"/>: label, segment id and distance as the page formats them.</summary>
        public async Task WaitForResultAsync(Score score)
        {
            var meta = $"segment {score.Cluster} · distance {score.Distance.ToString("F3", CultureInfo.InvariantCulture)} · scored by endpoint · model 7";
            try
            {
                await Page.WaitForFunctionAsync(
                    "([label, meta]) => { const box = document.getElementById('result'); const l = box.querySelector('.label'), m = box.querySelector('.meta');"
                    + " return box.className === '' && l && m && l.textContent === label && m.textContent === meta; }",
                    new[] { score.Label, meta }, Patiently);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"the page never showed '{score.Label}' / '{meta}'; it shows '{await Page.Locator("#result").TextContentAsync()}'");
            }
        }

        public async Task WaitForErrorAsync(string text)
        {
            try
            {
                await Page.WaitForFunctionAsync("text => { const box = document.getElementById('result'); return box.className === 'error' && box.textContent === text; }",
                    text, Patiently);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"the page never showed the error '{text}'; it shows '{await Page.Locator("#result").TextContentAsync()}'");
            }
        }

        /// <summary>Moves a slider the way a user does: one click on its track where <paramref name="value"/> lies.</summary>
        public async Task ClickSliderAtAsync(string slider, double value)
        {
            var (x, y) = await TrackPointAsync(slider, value);
            await Page.Mouse.ClickAsync(x, y);
        }

        /// <summary>Moves a slider with a finger: one tap on its track where <paramref name="value"/> lies.</summary>
        public async Task TapSliderAtAsync(string slider, double value)
        {
            var (x, y) = await TrackPointAsync(slider, value);
            await Page.Touchscreen.TapAsync(x, y);
        }

        public async Task ScreenshotAsync(string name, bool fullPage = false)
        {
            var directory = Directory.CreateDirectory(Path.Combine(Repository.Root, "tests", "Lambdas.Tests", "TestResults", "explorer-page")).FullName;
            var path = Path.Combine(directory, name + ".png");
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
            Assert.True(new FileInfo(path).Length > 1000, $"{path} is almost empty");
            _output.WriteLine($"screenshot: {path}");
        }

        public void AssertNoBrowserErrors()
        {
            lock (_browserErrors)
            {
                Assert.True(_browserErrors.Count == 0, "the browser reported:\n" + string.Join("\n", _browserErrors));
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _context.DisposeAsync();
            _client.Dispose();
            _front.Dispose();
            Proxy.Dispose();
        }

        private async Task<(float X, float Y)> TrackPointAsync(string slider, double value)
        {
            var input = Page.Locator($"#{slider}");
            var box = await input.BoundingBoxAsync() ?? throw new InvalidOperationException($"slider {slider} is not rendered");
            var min = double.Parse(await input.GetAttributeAsync("min") ?? "0", CultureInfo.InvariantCulture);
            var max = double.Parse(await input.GetAttributeAsync("max") ?? "100", CultureInfo.InvariantCulture);
            var fraction = Math.Clamp((value - min) / (max - min), 0.02, 0.98);
            return ((float)(box.X + fraction * box.Width), (float)(box.Y + box.Height / 2));
        }
    }
}
