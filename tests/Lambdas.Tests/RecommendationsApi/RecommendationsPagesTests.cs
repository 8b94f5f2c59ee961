using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.Lambdas.Tests.SegmentProxy;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>Debian's chromium, headless, driven by Playwright, and the RecommendationsApi bootstrap published once.</summary>
public sealed class RecommendationsPagesFixture : IAsyncLifetime
{
    /// <summary>The flags docs/environment.md gives for chromium on this machine kind.</summary>
    private static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public string BootstrapPath { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExplorerPageFixture.Chromium))
        {
            throw new InvalidOperationException($"{ExplorerPageFixture.Chromium} is missing: run scripts/setup.sh (it installs Debian's chromium) to run the page tests.");
        }

        BootstrapPath = (await RecommendationsApiBootstrap.PublishedAsync()).BootstrapPath;
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExplorerPageFixture.Chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>
/// The account manager's and the sales leader's pages in headless Chromium against the real bootstrap: pages and API calls go
/// through <see cref="RecommendationsApiFront"/> (with an API key, as API Gateway asks for it) to the function behind the
/// loopback Runtime API, over dynalite. What the pages show is compared with what the API answers and what the feedback
/// table holds. Screenshots are kept under artifacts/screenshots/ and their paths printed.
/// </summary>
[Collection(RecommendationsApiEndToEndCollection.Name)]
public sealed class RecommendationsPagesTests(RecommendationsPagesFixture fixture, ITestOutputHelper output) : IClassFixture<RecommendationsPagesFixture>
{
    private const string ApiKey = "pages-test-key";

    /// <summary>How long a page may take to show an answer, in ms: the bootstrap shares the host with other test runs.</summary>
    private const float Patience = 15_000;

    private static readonly LocatorAssertionsToHaveTextOptions Patiently = new() { Timeout = Patience };

    [Fact]
    public async Task AccountManager_LookUpAndRate_ShowsTheApisRecommendationsAndSavesTheRatingOnce()
    {
        await using var session = await OpenAsync("account-manager", 1280, 900, TwoRuns.A, TwoRuns.B);
        await session.EnterApiKeyAfterLookingUpAsync("C001");

        var expected = await session.GetJsonAsync("recommendations/C001");
        var cards = session.Page.Locator("#recommendations > li");
        await Assertions.Expect(cards).ToHaveCountAsync(expected.GetProperty("recommendations").GetArrayLength(), new() { Timeout = Patience });
        var index = 0;
        foreach (var recommendation in expected.GetProperty("recommendations").EnumerateArray())
        {
            var card = cards.Nth(index++);
            Assert.Equal(recommendation.GetProperty("product_id").GetString(), await card.GetAttributeAsync("data-product"));
            Assert.Equal($"#{recommendation.GetProperty("rank").GetInt32()}", await card.Locator(".rank").TextContentAsync());
            Assert.Equal(recommendation.GetProperty("reason").GetString(), await card.Locator(".reason").TextContentAsync());
            Assert.Equal(Figure(recommendation, "score", 3), await card.Locator(".figure-score").TextContentAsync());
            Assert.Equal(Figure(recommendation, "confidence", 3), await card.Locator(".figure-confidence").TextContentAsync());
            Assert.Equal(Figure(recommendation, "lift", 2), await card.Locator(".figure-lift").TextContentAsync());
            Assert.Equal(Figure(recommendation, "recommended_qty", 0), await card.Locator(".figure-qty").TextContentAsync());
            Assert.Equal(recommendation.GetProperty("trigger_product").GetString(), await card.Locator(".figure-trigger").TextContentAsync());
        }

        Assert.Equal($"Customer C001 · segment West_Plumbing · run {TwoRuns.RunB} published {TwoRuns.B.PublishedAt}",
            await session.Page.Locator("#answer-meta").TextContentAsync());
        await session.ScreenshotAsync("account-manager-recommendations");

        var first = cards.Nth(0);
        await first.Locator("button[data-rating=High]").ClickAsync();
        await first.Locator("button.save").ClickAsync();
        await Assertions.Expect(first.Locator(".status.saved")).ToHaveTextAsync("Saved: High", Patiently);
        var stored = Assert.Single(await session.Api.ScanFeedbackAsync());
        Assert.Equal(("C001", "PB100", "High", TwoRuns.RunB), (stored["customer_id"].S, stored["product_id"].S, stored["rating"].S, stored["run_id"].S));
        Assert.False(stored.ContainsKey("reason_code"));
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), stored["feedback_date"].S);

        await first.Locator("button.save").ClickAsync();
        await Assertions.Expect(first.Locator(".status.saved")).ToHaveTextAsync("Already saved", Patiently);
        Assert.Single(await session.Api.ScanFeedbackAsync());
        await session.ScreenshotAsync("account-manager-rated");
        session.AssertClean();
    }

    [Fact]
    public async Task AccountManager_MediumWithoutReason_ShowsTheApisErrorAndItsFieldThenSavesAFreeReasonCode()
    {
        await using var session = await OpenAsync("account-manager", 1280, 900, TwoRuns.A, TwoRuns.B);
        await session.EnterApiKeyAfterLookingUpAsync("C001");
        var second = session.Page.Locator("#recommendations > li[data-product=PB101]");

        await second.Locator("button[data-rating=Medium]").ClickAsync();
        await second.Locator("button.save").ClickAsync();

        await Assertions.Expect(second.Locator(".status.error")).ToHaveTextAsync(
            "reason_code is required when rating is Medium or Low: say why, e.g. price_too_high or not_relevant (reason_code)", Patiently);
        Assert.Equal("true", await second.Locator("select.reason-code").GetAttributeAsync("aria-invalid"));
        Assert.Empty(await session.Api.ScanFeedbackAsync());
        await session.ScreenshotAsync("account-manager-missing-reason");

        await second.Locator("select.reason-code").SelectOptionAsync("other");
        await second.Locator("input.reason-other").FillAsync(" Seasonal_Demand ");
        await second.Locator(".sentiment input[value=negative]").CheckAsync();
        await second.Locator("button.save").ClickAsync();

        await Assertions.Expect(second.Locator(".status.saved")).ToHaveTextAsync("Saved: Medium, seasonal_demand", Patiently);
        var stored = Assert.Single(await session.Api.ScanFeedbackAsync());
        Assert.Equal(("PB101", "Medium", "seasonal_demand", "negative"), (stored["product_id"].S, stored["rating"].S, stored["reason_code"].S, stored["sentiment"].S));
        session.AssertClean();
    }

    [Fact]
    public async Task AccountManager_NewCustomer_NeedsRegionAndEndUseThenShowsTheSegmentsPopularProducts()
    {
        await using var session = await OpenAsync("account-manager", 1280, 900, TwoRuns.A, TwoRuns.B);
        await session.EnterApiKeyAfterLookingUpAsync("C999", expectRecommendations: false);

        await Assertions.Expect(session.Page.Locator("#lookup-message.error")).ToHaveTextAsync(
            $"customer C999 is not in run {TwoRuns.RunB}; add ?region=&end_use= for a cold-start answer from the customer's segment (customerId)", Patiently);
        Assert.Equal("true", await session.Page.Locator("#customer-id").GetAttributeAsync("aria-invalid"));

        await session.Page.Locator("#region").FillAsync("South");
        await session.Page.Locator("#end-use").FillAsync("Plumbing");
        await session.Page.Locator("#lookup").ClickAsync();
        await Assertions.Expect(session.Page.Locator("#lookup-message.error")).ToHaveTextAsync(
            $"customer C999 is not in run {TwoRuns.RunB}, and the run has no segment South_Plumbing (region South, end_use Plumbing): check region and end_use against the customers file (region)",
            Patiently);
        Assert.Equal("true", await session.Page.Locator("#region").GetAttributeAsync("aria-invalid"));

        await session.Page.Locator("#region").FillAsync("West");
        await session.Page.Locator("#lookup").ClickAsync();
        await Assertions.Expect(session.Page.Locator("#answer-meta .badge")).ToHaveTextAsync("New customer: popular in the segment", Patiently);
        var expected = await session.GetJsonAsync("recommendations/C999?region=West&end_use=Plumbing");
        Assert.True(expected.GetProperty("cold_start").GetBoolean());
        var products = await session.Page.Locator("#recommendations > li").EvaluateAllAsync<string[]>("items => items.map(item => item.dataset.product)");
        Assert.Equal(expected.GetProperty("recommendations").EnumerateArray().Select(item => item.GetProperty("product_id").GetString()), products);
        Assert.Equal(["PB300", "PB301"], products);
        Assert.Equal("–", await session.Page.Locator("#recommendations > li").First.Locator(".figure-trigger").TextContentAsync());
        await session.ScreenshotAsync("account-manager-cold-start");
        session.AssertClean();
    }

    [Fact]
    public async Task SalesLeader_SummaryItemChanges_DashboardFollowsFromEmptyStateToCharts()
    {
        await using var session = await OpenAsync("sales-leader", 1280, 1000, TwoRuns.A);
        await session.EnterApiKeyAsync();

        await Assertions.Expect(session.Page.Locator("#message")).ToHaveTextAsync(
            $"No feedback summary for run {TwoRuns.RunA} yet: the ratings saved on the account manager's page are summarised by the next pipeline run.", Patiently);
        Assert.True(await session.Page.Locator("#overall-section").IsHiddenAsync());
        await Assertions.Expect(session.Page.Locator("#coverage-rate")).ToHaveTextAsync("75%", Patiently);
        Assert.Equal("3 of 4 customers have a recommendation", await session.Page.Locator("#coverage-note").TextContentAsync());
        await session.ScreenshotAsync("sales-leader-no-feedback");

        var withFeedback = TwoRuns.B with
        {
            RunId = "pipelines-run-c",
            PublishedAt = "2026-11-30T06:12:40Z",
            PreviousRunId = TwoRuns.RunB,
            FeedbackSummaryJson = FeedbackSummary,
        };
        await session.Api.PublishAsync(withFeedback);
        await session.Page.Locator("#refresh").ClickAsync();

        await Assertions.Expect(session.Page.Locator("#acceptance-rate")).ToHaveTextAsync("62.5%", Patiently);
        Assert.True(await session.Page.Locator("#message").IsHiddenAsync());
        Assert.StartsWith("Run pipelines-run-c · published 2026-11-30T06:12:40Z · feedback summarised 2026-11-29T06:10:02Z",
            await session.Page.Locator("#run").TextContentAsync(), StringComparison.Ordinal);
        Assert.Equal("of 8 ratings were High or Medium with a positive signal", await session.Page.Locator("#acceptance-note").TextContentAsync());
        Assert.Equal(["North_Mining", "West_Plumbing"], await Labels(session.Page, "#by-segment"));
        Assert.Equal(["100% of 2", "50% of 6"], await Values(session.Page, "#by-segment"));
        Assert.Equal(["Mining", "Plumbing", "Tools"], await Labels(session.Page, "#by-category"));
        Assert.Equal(["price_too_high", "good_fit", "not_relevant"], await Labels(session.Page, "#reasons"));
        Assert.Equal(["3", "2", "1"], await Values(session.Page, "#reasons"));
        // Every class is in the legend; the bar has a part for each class that has ratings (none is Medium without a signal).
        Assert.Equal(["High 37.5%", "Medium, positive 25%", "Medium, no signal 0%", "Medium, negative 12.5%", "Low 25%"],
            await session.Page.Locator("#mix-legend li").EvaluateAllAsync<string[]>("items => items.map(item => item.textContent)"));
        Assert.Equal(["High", "Medium, positive", "Medium, negative", "Low"],
            await session.Page.Locator("#mix rect.part").EvaluateAllAsync<string[]>("parts => parts.map(part => part.dataset.label)"));
        Assert.Equal(["MinConfidence", "0.05", "ScoreCutoff", "0.08"],
            await session.Page.Locator("#thresholds > *").EvaluateAllAsync<string[]>("nodes => nodes.map(node => node.textContent)"));
        Assert.Equal("Acceptance rate=0.62. Holding thresholds.", await session.Page.Locator("#rationale").TextContentAsync());
        var widths = await session.Page.Locator("#by-segment rect.bar").EvaluateAllAsync<double[]>("bars => bars.map(bar => bar.width.baseVal.value)");
        Assert.True(widths[0] > 1.9 * widths[1] && widths[0] < 2.1 * widths[1], $"bars of 100% and 50% are {widths[0]} and {widths[1]} wide");
        await Assertions.Expect(session.Page.Locator("#coverage-rate")).ToHaveTextAsync("100%", Patiently);
        await session.ScreenshotAsync("sales-leader-dashboard", fullPage: true);
        session.AssertClean();
    }

    [Fact]
    public async Task SalesLeader_RunWithoutUsableFeedback_SaysSoAndShowsTheThresholds()
    {
        var noneUsable = TwoRuns.B with
        {
            FeedbackSummaryJson = """
                {"generated_at":"2026-11-23T06:10:02Z","overall":null,"by_segment":{},"by_l2_category":{},"reason_code_distribution":{},
                 "threshold_suggestions":{"MinConfidence":0.05,"ScoreCutoff":0.08,"rationale":"No feedback. Holding thresholds."}}
                """,
        };
        await using var session = await OpenAsync("sales-leader", 1280, 900, TwoRuns.A, noneUsable);
        await session.EnterApiKeyAsync();

        await Assertions.Expect(session.Page.Locator("#message")).ToHaveTextAsync(
            $"Run {TwoRuns.RunB} had no usable feedback: nobody rated a recommendation within the feedback window.", Patiently);
        Assert.Equal("No feedback. Holding thresholds.", await session.Page.Locator("#rationale").TextContentAsync());
        Assert.True(await session.Page.Locator("#by-segment").IsHiddenAsync());
        session.AssertClean();
    }

    [Theory]
    [InlineData("account-manager")]
    [InlineData("sales-leader")]
    public async Task Page_PhoneWidth375px_NoHorizontalScrollAndEverythingInView(string page)
    {
        var run = TwoRuns.B with { FeedbackSummaryJson = FeedbackSummary };
        await using var session = await OpenAsync(page, 375, 812, TwoRuns.A, run, mobile: true);
        if (page == "account-manager")
        {
            await session.EnterApiKeyAfterLookingUpAsync("C001");
            await session.Page.Locator("#recommendations > li").First.Locator("button[data-rating=Medium]").ClickAsync();
        }
        else
        {
            await session.EnterApiKeyAsync();
            await Assertions.Expect(session.Page.Locator("#acceptance-rate")).ToHaveTextAsync("62.5%", Patiently);
        }

        var widths = await session.Page.EvaluateAsync<int[]>(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth, document.body.scrollWidth, window.innerWidth]");
        Assert.True(widths[0] <= widths[1] && widths[2] <= widths[3], $"horizontal scroll at 375 px: scrollWidth {widths[0]} > clientWidth {widths[1]} or body {widths[2]} > {widths[3]}");
        var outside = await session.Page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('main *, header *')]
              .filter(node => node.getClientRects().length > 0)
              .filter(node => { const box = node.getBoundingClientRect(); return box.left < -0.5 || box.right > 375.5; })
              .map(node => node.tagName + (node.id ? '#' + node.id : '') + ' ' + node.getBoundingClientRect().left.toFixed(1) + '..' + node.getBoundingClientRect().right.toFixed(1))
            """);
        Assert.True(outside.Length == 0, "outside the 375 px viewport: " + string.Join(", ", outside));
        await session.ScreenshotAsync($"{page}-phone-375px", fullPage: true);
        session.AssertClean();
    }

    /// <summary>A summary with two segments, three categories and three reason codes: acceptance 5 of 8.</summary>
    private const string FeedbackSummary = """
        {"generated_at":"2026-11-29T06:10:02Z","reference_date":"2026-11-29","feedback_source":"s3://data/recommendations/feedback/",
         "overall":{"feedback":8,"acceptance_rate":0.625,"high_rate":0.375,"medium_positive_rate":0.25,"medium_negative_rate":0.125,"medium_no_signal_rate":0.0,"low_rate":0.25},
         "by_segment":{
          "West_Plumbing":{"feedback":6,"acceptance_rate":0.5,"high_rate":0.25,"medium_positive_rate":0.25,"medium_negative_rate":0.166667,"medium_no_signal_rate":0.0,"low_rate":0.333333},
          "North_Mining":{"feedback":2,"acceptance_rate":1.0,"high_rate":1.0,"medium_positive_rate":0.0,"medium_negative_rate":0.0,"medium_no_signal_rate":0.0,"low_rate":0.0}},
         "by_l2_category":{
          "Plumbing":{"feedback":5,"acceptance_rate":0.6,"high_rate":0.4,"medium_positive_rate":0.2,"medium_negative_rate":0.2,"medium_no_signal_rate":0.0,"low_rate":0.2},
          "Tools":{"feedback":1,"acceptance_rate":0.0,"high_rate":0.0,"medium_positive_rate":0.0,"medium_negative_rate":0.0,"medium_no_signal_rate":0.0,"low_rate":1.0},
          "Mining":{"feedback":2,"acceptance_rate":1.0,"high_rate":1.0,"medium_positive_rate":0.0,"medium_negative_rate":0.0,"medium_no_signal_rate":0.0,"low_rate":0.0}},
         "reason_code_distribution":{"good_fit":2,"not_relevant":1,"price_too_high":3},
         "threshold_suggestions":{"MinConfidence":0.05,"ScoreCutoff":0.08,"rationale":"Acceptance rate=0.62. Holding thresholds."},
         "calibration":{"recommendations_in":4,"with_feedback":3},"input_validation":{"rows_read":9},"parameters":{"TopK":5}}
        """;

    /// <summary>A figure as the account manager's page formats it: en-US grouping, at most <paramref name="digits"/> decimals, "–" for null.</summary>
    private static string Figure(JsonElement recommendation, string name, int digits)
    {
        var value = recommendation.GetProperty(name);
        return value.ValueKind == JsonValueKind.Null
            ? "–"
            : Math.Round(value.GetDouble(), digits, MidpointRounding.AwayFromZero).ToString("#,0." + new string('#', digits), CultureInfo.InvariantCulture);
    }

    private static Task<string[]> Labels(IPage page, string chart) =>
        page.Locator($"{chart} g.row").EvaluateAllAsync<string[]>("rows => rows.map(row => row.dataset.label)");

    private static Task<string[]> Values(IPage page, string chart) =>
        page.Locator($"{chart} g.row text.value").EvaluateAllAsync<string[]>("texts => texts.map(text => text.textContent)");

    /// <summary>Starts the bootstrap over dynalite with <paramref name="first"/>, then <paramref name="second"/>, published, its front with an API key, and the page.</summary>
    private async Task<PageSession> OpenAsync(string page, int width, int height, PublishedRunData first, PublishedRunData? second = null, bool mobile = false)
    {
        var api = await RecommendationsApiHarness.StartAsync(fixture.BootstrapPath);
        await api.PublishAsync(first);
        if (second is not null)
        {
            await api.PublishAsync(second);
        }

        var front = api.StartHttpFront(ApiKey);
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            IsMobile = mobile,
            HasTouch = mobile,
            DeviceScaleFactor = mobile ? 2 : 1,
        });
        var session = new PageSession(api, front, context, await context.NewPageAsync(), output);
        await session.Page.GotoAsync(new Uri(front.StageUri, page).ToString());
        return session;
    }

    /// <summary>One page in its own browser context, its API and front, and everything the browser reported.</summary>
    private sealed class PageSession : IAsyncDisposable
    {
        private readonly RecommendationsApiFront _front;
        private readonly IBrowserContext _context;
        private readonly ITestOutputHelper _output;
        private readonly List<string> _browserErrors = [];
        private readonly HttpClient _client = new();

        public PageSession(RecommendationsApiHarness api, RecommendationsApiFront front, IBrowserContext context, IPage page, ITestOutputHelper output)
        {
            Api = api;
            _front = front;
            _context = context;
            Page = page;
            _output = output;
            // A refused request (403 before the key, 404 for an unknown customer) is logged by the browser as a failed
            // resource load; that is the API answering, not the page failing. Any other console error or page error is.
            page.Console += (_, message) =>
            {
                if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource: the server responded with a status of 4", StringComparison.Ordinal))
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

        public RecommendationsApiHarness Api { get; }

        public IPage Page { get; }

        /// <summary>The API's answer through the same front, with the key.</summary>
        public async Task<JsonElement> GetJsonAsync(string relative)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_front.StageUri, relative));
            request.Headers.Add("x-api-key", ApiKey);
            using var response = await _client.SendAsync(request);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.IsSuccessStatusCode, $"GET {relative}: {(int)response.StatusCode} {body}");
            return body;
        }

        /// <summary>The sales leader's page loads at once: it asks for the key, which is entered.</summary>
        public async Task EnterApiKeyAsync()
        {
            await Assertions.Expect(Page.Locator("#api-key-status")).ToHaveTextAsync("This API needs its key.", Patiently);
            await Page.Locator("#api-key").FillAsync(ApiKey);
            await Page.Locator("#api-key-use").ClickAsync();
            await Assertions.Expect(Page.Locator("#api-key-form")).ToBeHiddenAsync(new() { Timeout = Patience });
        }

        /// <summary>Looks <paramref name="customerId"/> up, is asked for the key, enters it; the look-up runs again with it.</summary>
        public async Task EnterApiKeyAfterLookingUpAsync(string customerId, bool expectRecommendations = true)
        {
            await Page.Locator("#customer-id").FillAsync(customerId);
            await Page.Locator("#lookup").ClickAsync();
            await Assertions.Expect(Page.Locator("#lookup-message.error")).ToHaveTextAsync("An API key is needed: enter it above.", Patiently);
            await EnterApiKeyAsync();
            if (expectRecommendations)
            {
                await Assertions.Expect(Page.Locator("#answer")).ToBeVisibleAsync(new() { Timeout = Patience });
                await Assertions.Expect(Page.Locator("#answer-meta")).ToContainTextAsync($"Customer {customerId}", new() { Timeout = Patience });
            }
        }

        public async Task ScreenshotAsync(string name, bool fullPage = false)
        {
            var directory = Directory.CreateDirectory(Path.Combine(Repository.Root, "artifacts", "screenshots")).FullName;
            var path = Path.Combine(directory, name + ".png");
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
            Assert.True(new FileInfo(path).Length > 1000, $"{path} is almost empty");
            _output.WriteLine($"screenshot: {path}");
        }

        /// <summary>No browser error, no fault in the front (an answer the OpenAPI document does not allow is one), no Runtime API violation.</summary>
        public void AssertClean()
        {
            lock (_browserErrors)
            {
                Assert.True(_browserErrors.Count == 0, "the browser reported:\n" + string.Join("\n", _browserErrors));
            }

            Assert.Empty(_front.ServerFaults);
            Api.AssertCleanRun();
        }

        public async ValueTask DisposeAsync()
        {
            await _context.DisposeAsync();
            _client.Dispose();
            _front.Dispose();
            await Api.DisposeAsync();
        }
    }
}
