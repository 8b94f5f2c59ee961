using System.Collections.Concurrent;
using System.Text;
using CustomerSegmentation.Lambdas.Tests.Loopback;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.Lambdas.Tests.ProxyFunctions;

public sealed class PageKitTests
{
    private static readonly string[] Parts = ["api-key-form.html", "page-api.js", "page-kit.css"];

    private const string Where = "a marker is <!-- include: name.html --> in the markup, /* include: name.css */ in a style element or "
        + "/* include: name.js */ in a script element.";

    [Fact]
    public void PartNames_AreEveryFileOfThePagesFolder()
    {
        string[] files = [.. Directory.GetFiles(PagesFolder).Select(file => Path.GetFileName(file)).Order(StringComparer.Ordinal)];

        Assert.Equal(files, PageKit.PartNames);
        Assert.Equal(Parts, PageKit.PartNames);
    }

    [Theory]
    [InlineData("api-key-form.html")]
    [InlineData("page-api.js")]
    [InlineData("page-kit.css")]
    public void Part_IsItsFileWithoutTheFinalLineBreak(string name)
    {
        var file = File.ReadAllText(Path.Combine(PagesFolder, name));

        var part = PageKit.Part(name);

        Assert.EndsWith("\n", file, StringComparison.Ordinal);
        Assert.Equal(file[..^1], part);
    }

    [Fact]
    public void Part_UnknownName_ThrowsListingTheParts()
    {
        var error = Assert.Throws<InvalidOperationException>(() => PageKit.Part("page-kit.js"));

        Assert.Equal("page-kit.js is no part of the page kit; the parts are api-key-form.html, page-api.js, page-kit.css.", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<!doctype html>\n<p>include: page-kit.css, a word and not a marker</p>\n")]
    [InlineData("<style>/* a comment */ p { margin: 0; }</style><script>/* include */ var a = 1;</script>")]
    public void Compose_NoMarkers_ReturnsThePageUnchanged(string page)
    {
        Assert.Equal(page, PageKit.Compose("Plain.html", page));
    }

    [Theory]
    [InlineData("<header>\n  <h1>t</h1>\n<!-- include: api-key-form.html -->\n</header>", "<!-- include: api-key-form.html -->", "api-key-form.html",
        "<form id=\"api-key-form\" hidden>")]
    [InlineData("<head><style>\n/* include: page-kit.css */\n  main { max-width: 900px; }\n</style></head>", "/* include: page-kit.css */", "page-kit.css",
        "--ink: #1d2733")]
    [InlineData("<body><script id=\"page-api\">/* include: page-api.js */</script><script>go();</script></body>", "/* include: page-api.js */", "page-api.js",
        "var PageApi = ")]
    public void Compose_MarkerOfEachKind_IsReplacedByItsPartAndNothingElseChanges(string page, string marker, string part, string partSays)
    {
        var composed = PageKit.Compose("Test.html", page);

        Assert.Equal(page.Replace(marker, PageKit.Part(part), StringComparison.Ordinal), composed);
        Assert.Contains(partSays, composed, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_EveryKindOfMarkerInOnePage_ReplacesEachWhereItStandsAndKeepsThePage()
    {
        const string Page = """
            <!doctype html>
            <html><head><STYLE>
            /*include:page-kit.css*/
              h1 { color: red; }
            </STYLE></head>
            <body><header><!--   include:   api-key-form.html   --></header>
            <script id="page-api">	/* include: page-api.js */	</script>
            <script>PageApi.create("/", fetch, null);</script>
            </body></html>
            """;

        var composed = PageKit.Compose("Test.html", Page);

        Assert.Equal(Page.Replace("/*include:page-kit.css*/", PageKit.Part("page-kit.css"), StringComparison.Ordinal)
            .Replace("<!--   include:   api-key-form.html   -->", PageKit.Part("api-key-form.html"), StringComparison.Ordinal)
            .Replace("/* include: page-api.js */", PageKit.Part("page-api.js"), StringComparison.Ordinal), composed);
    }

    [Fact]
    public void Compose_SameMarkerTwice_ReplacesBoth()
    {
        var composed = PageKit.Compose("Test.html", "<div><!-- include: api-key-form.html --></div><div><!-- include: api-key-form.html --></div>");

        Assert.Equal($"<div>{PageKit.Part("api-key-form.html")}</div><div>{PageKit.Part("api-key-form.html")}</div>", composed);
    }

    [Theory]
    [InlineData("<header><!-- include: api-key-form.htm --></header>", "<!-- include: api-key-form.htm -->")]
    [InlineData("<style>/* include: page-kit.CSS */</style>", "/* include: page-kit.CSS */")]
    [InlineData("<script>/* include: explorer-api.js */</script>", "/* include: explorer-api.js */")]
    public void Compose_UnknownPart_ThrowsNamingThePageAndTheMarker(string page, string marker)
    {
        var error = Assert.Throws<InvalidOperationException>(() => PageKit.Compose("Broken.html", page));

        Assert.Equal($"Broken.html: {marker} names no part of the page kit; the parts are api-key-form.html, page-api.js, page-kit.css.", error.Message);
    }

    [Theory]
    [InlineData("<p><!-- include: page-kit.css --></p>", "<!-- include: page-kit.css -->", "page-kit.css goes inside a style element, as /* include: page-kit.css */")]
    [InlineData("<p>/* include: page-kit.css */</p>", "/* include: page-kit.css */", "page-kit.css goes inside a style element, as /* include: page-kit.css */")]
    [InlineData("<style></style><script>/* include: page-kit.css */</script>", "/* include: page-kit.css */",
        "page-kit.css goes inside a style element, as /* include: page-kit.css */")]
    [InlineData("<script></script><style>/* include: page-api.js */</style>", "/* include: page-api.js */",
        "page-api.js goes inside a script element, as /* include: page-api.js */")]
    [InlineData("<p><!-- include: page-api.js --></p>", "<!-- include: page-api.js -->", "page-api.js goes inside a script element, as /* include: page-api.js */")]
    [InlineData("<header>/* include: api-key-form.html */</header>", "/* include: api-key-form.html */",
        "api-key-form.html goes in the markup, as <!-- include: api-key-form.html -->")]
    [InlineData("<script>var form = '<!-- include: api-key-form.html -->';</script>", "<!-- include: api-key-form.html -->",
        "api-key-form.html goes in the markup, as <!-- include: api-key-form.html -->")]
    [InlineData("<style><!-- include: page-kit.css --></style>", "<!-- include: page-kit.css -->", "page-kit.css goes inside a style element, as /* include: page-kit.css */")]
    public void Compose_MarkerWhereItsPartCannotGo_ThrowsNamingThePageTheMarkerAndWhereThePartGoes(string page, string marker, string goes)
    {
        var error = Assert.Throws<InvalidOperationException>(() => PageKit.Compose("Broken.html", page));

        Assert.Equal($"Broken.html: {marker} cannot be replaced there; {goes}.", error.Message);
    }

    [Theory]
    [InlineData("<style>/* include: page-kit.css\n  h1 { margin: 0; }</style>", "/* include: page-kit.css")]
    [InlineData("<header><!-- include: --></header>", "<!-- include: --></header>")]
    [InlineData("<header><!-- Include: api-key-form.html --></header>", "<!-- Include: api-key-form.html --></header>")]
    [InlineData("<style>/* include: page kit.css */</style>", "/* include: page kit.css */</style>")]
    [InlineData("<script>/* include page-api.js */</script><script>/*include :page-api.js*/</script>", "/*include :page-api.js*/</script>")]
    public void Compose_MarkerThatIsNotOneExactly_IsLeftUnreplacedAndThrowsNamingThePageAndTheMarker(string page, string left)
    {
        var error = Assert.Throws<InvalidOperationException>(() => PageKit.Compose("Broken.html", page));

        Assert.Equal($"Broken.html: the marker {left} is left unreplaced; {Where}", error.Message);
    }

    [Fact]
    public void Compose_LeftOverMarkerOnALongLine_IsNamedByItsFirst80Characters()
    {
        var page = "<style>/* include: page-kit.css " + new string('x', 100) + "</style>";

        var error = Assert.Throws<InvalidOperationException>(() => PageKit.Compose("Long.html", page));

        Assert.Equal($"Long.html: the marker {page[7..87]}… is left unreplaced; {Where}", error.Message);
    }

    [Fact]
    public void ComposedPage_AskedForManyTimesOnManyThreads_ComposesOnceAndAnswersTheSameBytes()
    {
        var reads = 0;
        var page = new ComposedPage("Test.html", () =>
        {
            Interlocked.Increment(ref reads);
            Thread.Sleep(50);
            return "<style>/* include: page-kit.css */</style>";
        });
        var answers = new ConcurrentBag<byte[]>();

        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => answers.Add(page.Bytes));

        Assert.Equal(1, reads);
        Assert.All(answers, bytes => Assert.Same(page.Bytes, bytes));
        Assert.Equal("<style>" + PageKit.Part("page-kit.css") + "</style>", Encoding.UTF8.GetString(page.Bytes));
        Assert.Equal("Test.html", page.Name);
    }

    [Fact]
    public void ComposedPage_IsNotComposedBeforeItIsFirstAskedFor()
    {
        var reads = 0;

        var page = new ComposedPage("Test.html", () => Interlocked.Increment(ref reads).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(0, reads);
        Assert.Equal("1"u8.ToArray(), page.Bytes);
    }

    [Fact]
    public void ComposedPage_PageThatCannotBeComposed_FailsEveryAskWithTheSameErrorAndNeverAnswersPartOfIt()
    {
        var reads = 0;
        var page = new ComposedPage("Broken.html", () =>
        {
            Interlocked.Increment(ref reads);
            return "<style>/* include: page-kit.css */</style><header><!-- include: api-key-form.htm --></header>";
        });

        var first = Assert.Throws<InvalidOperationException>(() => page.Bytes);
        var second = Assert.Throws<InvalidOperationException>(() => page.Bytes);

        Assert.Equal("Broken.html: <!-- include: api-key-form.htm --> names no part of the page kit; the parts are api-key-form.html, page-api.js, page-kit.css.",
            first.Message);
        Assert.Same(first, second);
        Assert.Equal(1, reads);
    }

    [Fact]
    public void ComposedPage_NotEmbedded_ThrowsNamingThePageAndTheAssembly()
    {
        var page = new ComposedPage(typeof(PageKit).Assembly, "Missing.html");

        var error = Assert.Throws<InvalidOperationException>(() => page.Bytes);

        Assert.Equal("Missing.html is not embedded in CustomerSegmentation.ProxyFunctions.", error.Message);
    }

    private static string PagesFolder => Path.Combine(Repository.Root, "lambdas", "ProxyFunctions", "Pages");
}
