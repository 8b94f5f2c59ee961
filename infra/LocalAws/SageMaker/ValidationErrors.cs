using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>
/// Collects the constraint violations of one request and reports them the way AWS's request validation does:
/// <c>2 validation errors detected: Value 'a_b' at 'endpointName' failed to satisfy constraint: Member must satisfy
/// regular expression pattern: ...; Value null at ...</c> (member paths in lower camel case).
/// </summary>
internal sealed class ValidationErrors
{
    private readonly List<string> _errors = [];

    public static string MemberPath(string member) => char.ToLowerInvariant(member[0]) + member[1..];

    public void Required(object? value, string member)
    {
        if (value is null)
        {
            _errors.Add($"Value null at '{MemberPath(member)}' failed to satisfy constraint: Member must not be null");
        }
    }

    /// <summary>A name or string member: at most <paramref name="maxLength"/> characters and matching all of <paramref name="pattern"/> (as AWS matches its patterns).</summary>
    public void Text(string? value, string member, int maxLength, string pattern)
    {
        if (value is null)
        {
            return;
        }

        if (value.Length > maxLength)
        {
            _errors.Add($"Value '{value}' at '{MemberPath(member)}' failed to satisfy constraint: Member must have length less than or equal to {maxLength}");
        }

        if (!Regex.IsMatch(value, $"^(?:{pattern.TrimStart('^').TrimEnd('$')})$", RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            _errors.Add($"Value '{value}' at '{MemberPath(member)}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}");
        }
    }

    public void OneOf(string? value, string member, IReadOnlyList<string> allowed)
    {
        if (value is not null && !allowed.Contains(value, StringComparer.Ordinal))
        {
            _errors.Add($"Value '{value}' at '{MemberPath(member)}' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", allowed)}]");
        }
    }

    public void Range(int? value, string member, int minimum, int maximum)
    {
        if (value < minimum)
        {
            _errors.Add($"Value '{value.Value.ToString(CultureInfo.InvariantCulture)}' at '{MemberPath(member)}' failed to satisfy constraint: Member must have value greater than or equal to {minimum}");
        }
        else if (value > maximum)
        {
            _errors.Add($"Value '{value.Value.ToString(CultureInfo.InvariantCulture)}' at '{MemberPath(member)}' failed to satisfy constraint: Member must have value less than or equal to {maximum}");
        }
    }

    public void ThrowIfAny(string serviceId, string operation)
    {
        if (_errors.Count > 0)
        {
            var count = _errors.Count == 1 ? "1 validation error" : $"{_errors.Count} validation errors";
            throw new AwsServiceException(serviceId, operation, HttpStatusCode.BadRequest, "ValidationException",
                $"{count} detected: {string.Join("; ", _errors)}", null);
        }
    }
}
