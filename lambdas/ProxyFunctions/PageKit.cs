using System.Text.RegularExpressions;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// What every page of the functions shares (<c>Pages/</c>, embedded here): the stylesheet <c>page-kit.css</c>, the API client
/// <c>page-api.js</c> and the API-key form <c>api-key-form.html</c>. A page says where a part goes with a marker:
/// <c>&lt;!-- include: api-key-form.html --&gt;</c> in its markup, <c>/* include: page-kit.css */</c> inside a style element,
/// <c>/* include: page-api.js */</c> inside a script element. <see cref="Compose"/> puts each part in place of its marker,
/// verbatim, so the browser still gets one document with its style and script inline: the Content-Security-Policy of
/// <see cref="ProxyReply.Html"/> lets a page load nothing else.
/// </summary>
public static partial class PageKit
{
    private const string ResourcePrefix = "PageKit/";

    /// <summary>The parts a marker may name, in order.</summary>
    public static IReadOnlyList<string> PartNames { get; } =
    [
        .. typeof(PageKit).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(name => name[ResourcePrefix.Length..])
            .Order(StringComparer.Ordinal),
    ];

    private enum Place
    {
        Markup,
        Style,
        Script,
    }

    /// <summary>The text of the part <paramref name="name"/>, without the line break that ends its file.</summary>
    /// <exception cref="InvalidOperationException">No part has that name.</exception>
    public static string Part(string name)
    {
        if (!PartNames.Contains(name, StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"{name} is no part of the page kit; the parts are {string.Join(", ", PartNames)}.");
        }

        var text = System.Text.Encoding.UTF8.GetString(ProxyReply.EmbeddedFile(typeof(PageKit).Assembly, ResourcePrefix + name));
        return text.EndsWith('\n') ? text[..^1] : text;
    }

    /// <summary>
    /// <paramref name="page"/> with every marker replaced by its part. A page without markers comes back unchanged.
    /// </summary>
    /// <param name="pageName">The page's file name, for the errors.</param>
    /// <param name="page">The page's text.</param>
    /// <exception cref="InvalidOperationException">
    /// A marker names no part, stands where its part cannot go (a stylesheet outside a style element, markup inside a
    /// script), or is left unreplaced (misspelt, unclosed, or inside a part); the message names the page and the marker.
    /// These are mistakes in a page, found by its tests: a page is never served half composed.
    /// </exception>
    public static string Compose(string pageName, string page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var composed = Marker().Replace(page, marker => Replacement(pageName, page, marker));
        var left = LeftOver().Match(composed);
        if (left.Success)
        {
            var line = composed[left.Index..].Split('\n')[0];
            throw new InvalidOperationException($"{pageName}: the marker {(line.Length > 80 ? line[..80] + "…" : line)} is left unreplaced; a marker is "
                + "<!-- include: name.html --> in the markup, /* include: name.css */ in a style element or /* include: name.js */ in a script element.");
        }

        return composed;
    }

    private static string Replacement(string pageName, string page, Match marker)
    {
        var name = marker.Groups["name"].Value;
        if (!PartNames.Contains(name, StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"{pageName}: {marker.Value} names no part of the page kit; the parts are {string.Join(", ", PartNames)}.");
        }

        var belongs = Path.GetExtension(name) switch
        {
            ".css" => Place.Style,
            ".js" => Place.Script,
            _ => Place.Markup,
        };
        var isComment = marker.Value.StartsWith("<!--", StringComparison.Ordinal);
        if (PlaceAt(page, marker.Index) != belongs || isComment != (belongs == Place.Markup))
        {
            var where = belongs switch
            {
                Place.Style => $"inside a style element, as /* include: {name} */",
                Place.Script => $"inside a script element, as /* include: {name} */",
                _ => $"in the markup, as <!-- include: {name} -->",
            };
            throw new InvalidOperationException($"{pageName}: {marker.Value} cannot be replaced there; {name} goes {where}.");
        }

        return Part(name);
    }

    /// <summary>Whether <paramref name="index"/> is inside a style element, a script element or neither.</summary>
    private static Place PlaceAt(string page, int index)
    {
        var before = page.AsSpan(0, index);
        if (before.LastIndexOf("<style", StringComparison.OrdinalIgnoreCase) > before.LastIndexOf("</style", StringComparison.OrdinalIgnoreCase))
        {
            return Place.Style;
        }

        return before.LastIndexOf("<script", StringComparison.OrdinalIgnoreCase) > before.LastIndexOf("</script", StringComparison.OrdinalIgnoreCase)
            ? Place.Script
            : Place.Markup;
    }

    [GeneratedRegex(@"<!--[ \t]*include:[ \t]*(?<name>[A-Za-z0-9._-]+)[ \t]*-->|/\*[ \t]*include:[ \t]*(?<name>[A-Za-z0-9._-]+)[ \t]*\*/")]
    private static partial Regex Marker();

    /// <summary>Anything that still looks like a marker once the markers are replaced.</summary>
    [GeneratedRegex(@"(<!--|/\*)\s*include\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex LeftOver();
}
