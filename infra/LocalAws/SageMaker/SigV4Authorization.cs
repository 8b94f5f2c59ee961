using System.Collections.Specialized;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>Why a request's signature is refused: an AWS error code, its message and the HTTP status.</summary>
internal sealed record AuthorizationProblem(int StatusCode, string Code, string Message);

/// <summary>
/// Local mode accepts any credentials (it does not recompute signatures), but a request must be SigV4-signed the way an
/// AWS SDK signs it for this service: an <c>Authorization: AWS4-HMAC-SHA256 Credential=.../&lt;date&gt;/&lt;region&gt;/&lt;service&gt;/aws4_request,
/// SignedHeaders=..., Signature=...</c> header and an <c>X-Amz-Date</c>. An unsigned client, or one signing for another
/// service or region, is refused with the error AWS answers it with.
/// </summary>
internal static class SigV4Authorization
{
    private const string Algorithm = "AWS4-HMAC-SHA256";
    private static readonly string[] RequiredParameters = ["Credential", "SignedHeaders", "Signature"];

    /// <summary>Null when the request is signed for <paramref name="signingName"/> in <paramref name="region"/>.</summary>
    public static AuthorizationProblem? Check(NameValueCollection headers, string signingName, string region)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var authorization = headers["Authorization"];
        if (string.IsNullOrWhiteSpace(authorization))
        {
            return new AuthorizationProblem(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        }

        if (!authorization.StartsWith(Algorithm + " ", StringComparison.Ordinal))
        {
            return new AuthorizationProblem(403, "IncompleteSignatureException",
                $"Unsupported Authorization scheme '{authorization.Split(' ')[0]}': sign requests with Signature Version 4 ({Algorithm}).");
        }

        var parameters = authorization[(Algorithm.Length + 1)..]
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        var missing = RequiredParameters.Where(name => !parameters.ContainsKey(name)).ToList();
        if (headers["X-Amz-Date"] is null && headers["Date"] is null)
        {
            missing.Add("existence of either a 'X-Amz-Date' or a 'Date' header");
        }

        if (missing.Count > 0)
        {
            return new AuthorizationProblem(403, "IncompleteSignatureException",
                string.Join(" ", missing.Select(name => name.StartsWith("existence", StringComparison.Ordinal)
                    ? $"Authorization header requires {name}."
                    : $"Authorization header requires '{name}' parameter.")));
        }

        if (parameters["Credential"].Split('/') is not [_, _, var scopeRegion, var scopeService, "aws4_request"])
        {
            return new AuthorizationProblem(403, "IncompleteSignatureException",
                $"Credential '{parameters["Credential"]}' is not <access key>/<date>/<region>/<service>/aws4_request.");
        }

        if (scopeService != signingName)
        {
            return new AuthorizationProblem(403, "InvalidSignatureException", $"Credential should be scoped to correct service: '{signingName}'. ");
        }

        return scopeRegion != region
            ? new AuthorizationProblem(403, "InvalidSignatureException", $"Credential should be scoped to a valid region, not '{scopeRegion}'. ")
            : null;
    }
}
