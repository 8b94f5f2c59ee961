using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.Lambdas.Tests.RecommendationsApi;
using CustomerSegmentation.Lambdas.Tests.SegmentProxy;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.Lambdas.Tests.ProxyFunctions;

/// <summary>
/// The three pages as their functions serve them: each is its own file with every part of the page kit in place of its
/// marker, and no page keeps a copy of what the kit holds (so one key, one client and one look serve every page).
/// </summary>
public sealed class ServedPagesTests
{
    private static readonly (string Marker, string Part)[] Markers =
    [
        ("/* include: page-kit.css */", "page-kit.css"),
        ("<!-- include: api-key-form.html -->", "api-key-form.html"),
        ("/* include: page-api.js */", "page-api.js"),
    ];

    public static TheoryData<string, string> ServedPages => new()
    {
        { "/", "lambdas/SegmentProxy/ExplorerPage.html" },
        { "/account-manager", "lambdas/RecommendationsApi/Pages/AccountManager.html" },
        { "/sales-leader", "lambdas/RecommendationsApi/Pages/SalesLeader.html" },
    };

    public static TheoryData<string> PageFiles => new(ServedPages.Select(row => (string)row[1]));

    [Theory]
    [MemberData(nameof(ServedPages))]
    public async Task ServedPage_IsItsFileWithEveryPartOfTheKitInPlaceOfItsMarker(string route, string file)
    {
        var source = await File.ReadAllTextAsync(Path.Combine(Repository.Root, file));

        var served = await ServeAsync(route);

        Assert.Equal(PageKit.Compose(Path.GetFileName(file), source), served);
        foreach (var (marker, part) in Markers)
        {
            Assert.Equal((marker, 1), (marker, Occurrences(source, marker)));
            Assert.Equal((part, 1), (part, Occurrences(served, PageKit.Part(part))));
        }

        Assert.DoesNotMatch(@"(<!--|/\*)\s*include", served);
    }

    [Theory]
    [MemberData(nameof(PageFiles))]
    public async Task PageFile_KeepsNoCopyOfTheKit(string file)
    {
        var source = await File.ReadAllTextAsync(Path.Combine(Repository.Root, file));

        // Each is defined by one part of the kit only: the key's storage name, its header and refusal, the colours and the form.
        foreach (var kitOnly in new[] { "segment-explorer.api-key", "x-api-key", "Forbidden", ":root", "box-sizing", "#api-key-form", "id=\"api-key", "get-api-key" })
        {
            Assert.False(source.Contains(kitOnly, StringComparison.Ordinal), $"{file} holds its own copy of {kitOnly}");
        }
    }

    private static int Occurrences(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static async Task<string> ServeAsync(string route)
    {
        if (route == "/")
        {
            using var proxy = new ProxyHarness(new RecordingEndpoint(_ => "{}"));
            return (await proxy.GetAsync(route)).Body!;
        }

        using var api = new InProcessApi();
        return (await api.InvokeAsync(ApiEvents.Event("GET", route))).Body!;
    }
}
