using CustomerSegmentation.Lambdas.Tests.RecommendationsApi;
using Microsoft.Playwright;

namespace CustomerSegmentation.Lambdas.Tests.ProxyFunctions;

/// <summary>
/// The page kit's key handling (PageApi.create and PageApi.keyForm) in headless Chromium, on the RecommendationsApi's two
/// pages as the bootstrap serves them behind a front that asks for an API key as API Gateway does: one key entered on one
/// page serves the other page of the tab, a refused key is forgotten and asked for again, an empty one is never sent.
/// </summary>
[Collection(RecommendationsApiEndToEndCollection.Name)]
public sealed class PageApiInBrowserTests(RecommendationsPagesFixture fixture) : IClassFixture<RecommendationsPagesFixture>
{
    private const string ApiKey = "kit-test-key";
    private const string StorageKey = "segment-explorer.api-key";
    private static readonly LocatorAssertionsToHaveTextOptions Patiently = new() { Timeout = 15_000 };

    [Fact]
    public async Task KeyEnteredOnTheAccountManagersPage_ServesTheSalesLeadersPageOfTheSameTabWithoutAsking()
    {
        await using var tab = await OpenAsync("account-manager");
        await tab.Page.Locator("#customer-id").FillAsync("C001");
        await tab.Page.Locator("#lookup").ClickAsync();
        await EnterKeyAsync(tab.Page, ApiKey, "This API needs its key.");
        await Assertions.Expect(tab.Page.Locator("#answer-meta")).ToContainTextAsync("Customer C001", new() { Timeout = 15_000 });

        await tab.Page.GotoAsync(new Uri(tab.Front.StageUri, "sales-leader").ToString());

        await Assertions.Expect(tab.Page.Locator("#coverage-rate")).ToHaveTextAsync("75%", Patiently);
        Assert.True(await tab.Page.Locator("#api-key-form").IsHiddenAsync());
        Assert.Equal("", await tab.Page.Locator("#api-key-status").TextContentAsync());
        Assert.Equal(ApiKey, await StoredKeyAsync(tab.Page));
        tab.AssertNoPageErrors();
    }

    [Fact]
    public async Task WrongKey_IsRefusedForgottenAndAskedForAgainThenTheRightOneIsKept()
    {
        await using var tab = await OpenAsync("sales-leader");
        await EnterKeyAsync(tab.Page, "  wrong-key  ", "This API needs its key.");

        await Assertions.Expect(tab.Page.Locator("#api-key-status")).ToHaveTextAsync("The API refused this key; check it and enter it again.", Patiently);
        Assert.True(await tab.Page.Locator("#api-key-form").IsVisibleAsync());
        Assert.Equal("An API key is needed: enter it above.", await tab.Page.Locator("#message").TextContentAsync());
        Assert.Null(await StoredKeyAsync(tab.Page));

        await EnterKeyAsync(tab.Page, ApiKey, "The API refused this key; check it and enter it again.");
        await Assertions.Expect(tab.Page.Locator("#coverage-rate")).ToHaveTextAsync("75%", Patiently);
        Assert.Equal(ApiKey, await StoredKeyAsync(tab.Page));
        tab.AssertNoPageErrors();
    }

    [Fact]
    public async Task BlankKey_IsNotTakenAndTheFieldKeepsTheFocus()
    {
        await using var tab = await OpenAsync("sales-leader");
        await Assertions.Expect(tab.Page.Locator("#api-key-status")).ToHaveTextAsync("This API needs its key.", Patiently);

        await tab.Page.Locator("#api-key").FillAsync("   ");
        await tab.Page.Locator("#api-key-use").ClickAsync();

        Assert.True(await tab.Page.Locator("#api-key-form").IsVisibleAsync());
        Assert.Equal("api-key", await tab.Page.EvaluateAsync<string>("() => document.activeElement.id"));
        Assert.Null(await StoredKeyAsync(tab.Page));
        Assert.Equal("This API needs its key.", await tab.Page.Locator("#api-key-status").TextContentAsync());
        tab.AssertNoPageErrors();
    }

    private static async Task EnterKeyAsync(IPage page, string key, string asked)
    {
        await Assertions.Expect(page.Locator("#api-key-status")).ToHaveTextAsync(asked, Patiently);
        await page.Locator("#api-key").FillAsync(key);
        await page.Locator("#api-key-use").ClickAsync();
    }

    private static Task<string?> StoredKeyAsync(IPage page) => page.EvaluateAsync<string?>("name => sessionStorage.getItem(name)", StorageKey);

    private async Task<Tab> OpenAsync(string page)
    {
        var api = await RecommendationsApiHarness.StartAsync(fixture.BootstrapPath);
        await api.PublishAsync(TwoRuns.A);
        var front = api.StartHttpFront(ApiKey);
        var context = await fixture.Browser.NewContextAsync();
        var tab = new Tab(api, front, context, await context.NewPageAsync());
        await tab.Page.GotoAsync(new Uri(front.StageUri, page).ToString());
        return tab;
    }

    /// <summary>One browser tab on the API behind its front, and the script errors the tab reported.</summary>
    private sealed class Tab : IAsyncDisposable
    {
        private readonly RecommendationsApiHarness _api;
        private readonly IBrowserContext _context;
        private readonly List<string> _pageErrors = [];

        public Tab(RecommendationsApiHarness api, RecommendationsApiFront front, IBrowserContext context, IPage page)
        {
            _api = api;
            _context = context;
            Front = front;
            Page = page;
            page.PageError += (_, error) =>
            {
                lock (_pageErrors)
                {
                    _pageErrors.Add(error);
                }
            };
        }

        public RecommendationsApiFront Front { get; }

        public IPage Page { get; }

        public void AssertNoPageErrors()
        {
            lock (_pageErrors)
            {
                Assert.True(_pageErrors.Count == 0, "the page reported:\n" + string.Join("\n", _pageErrors));
            }

            Assert.Empty(Front.ServerFaults);
            _api.AssertCleanRun();
        }

        public async ValueTask DisposeAsync()
        {
            await _context.DisposeAsync();
            Front.Dispose();
            await _api.DisposeAsync();
        }
    }
}
