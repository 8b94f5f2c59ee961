using System.Globalization;
using System.Net;
using System.Text;
using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>Opaque NextToken values for list operations: the offset of the next page in the filtered, sorted list.</summary>
internal static class PageToken
{
    private const string Prefix = "local-page:";

    /// <summary>One page of <paramref name="items"/> from the token's offset, and the token of the page after it (null at the end).</summary>
    public static (List<T> Page, string? Next) Slice<T>(IReadOnlyList<T> items, string? token, int pageSize, string serviceId, string operation,
        string invalidTokenCode = "ValidationException")
    {
        var offset = token is null ? 0 : Offset(token) ?? throw new AwsServiceException(serviceId, operation, HttpStatusCode.BadRequest,
            invalidTokenCode, $"Invalid pagination token '{token}'.", null);
        var page = items.Skip(offset).Take(pageSize).ToList();
        var next = offset + page.Count < items.Count ? Encode(offset + page.Count) : null;
        return (page, next);
    }

    private static string Encode(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes(Prefix + offset.ToString(CultureInfo.InvariantCulture)));

    private static int? Offset(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            return text.StartsWith(Prefix, StringComparison.Ordinal)
                && int.TryParse(text[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
                ? offset
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
