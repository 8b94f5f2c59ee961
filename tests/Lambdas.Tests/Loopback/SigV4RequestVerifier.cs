using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace CustomerSegmentation.Lambdas.Tests.Loopback;

/// <summary>
/// Checks a received request's SigV4 signature: the Authorization header's form, its credential scope (access key,
/// date, region, signing service), the headers that must be signed, and the signature itself, recomputed with AWSSDK.Core's
/// signer from what actually arrived (so a header changed after signing, e.g. a charset HttpClient appended, is caught).
/// </summary>
public sealed partial class SigV4RequestVerifier(AWSCredentials credentials, string region, string signingName)
{
    private static readonly HashSet<string> SignerOwnedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token",
    };

    public IReadOnlyList<string> Verify(HttpListenerRequest request, byte[] body, IReadOnlyCollection<string> mustBeSigned)
    {
        ArgumentNullException.ThrowIfNull(request);
        var authorization = request.Headers["Authorization"];
        if (string.IsNullOrEmpty(authorization))
        {
            return ["no Authorization header: the request is not SigV4-signed"];
        }

        var match = AuthorizationPattern().Match(authorization);
        if (!match.Success)
        {
            return [$"Authorization header '{authorization}' is not 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...'"];
        }

        var problems = new List<string>();
        var expectedKey = credentials.GetCredentials().AccessKey;
        Expect(problems, "credential scope access key", expectedKey, match.Groups["key"].Value);
        Expect(problems, "credential scope region", region, match.Groups["region"].Value);
        Expect(problems, "credential scope signing service", signingName, match.Groups["service"].Value);
        var amzDate = request.Headers["X-Amz-Date"];
        if (!DateTime.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var signedAt))
        {
            problems.Add($"X-Amz-Date is '{amzDate}', not yyyyMMddTHHmmssZ");
            return problems;
        }

        Expect(problems, "credential scope date", signedAt.ToString("yyyyMMdd", CultureInfo.InvariantCulture), match.Groups["date"].Value);
        var signedHeaders = match.Groups["signed"].Value.Split(';');
        foreach (var header in mustBeSigned.Where(header => !signedHeaders.Contains(header, StringComparer.OrdinalIgnoreCase)))
        {
            problems.Add($"header '{header}' is not signed (SignedHeaders={match.Groups["signed"].Value})");
        }

        if (problems.Count == 0)
        {
            var recomputed = Recompute(request, body, signedHeaders, signedAt);
            if (!string.Equals(recomputed, authorization, StringComparison.Ordinal))
            {
                problems.Add($"signature does not match the request as received: got '{authorization}', expected '{recomputed}'");
            }
        }

        return problems;
    }

    private string Recompute(HttpListenerRequest request, byte[] body, string[] signedHeaders, DateTime signedAt)
    {
        var signing = new AWSSigningRequest
        {
            HttpMethod = new HttpMethod(request.HttpMethod),
            RequestUri = new Uri($"http://{request.Headers["Host"]}{request.RawUrl}"),
            Content = body,
        };
        foreach (var name in signedHeaders.Where(name => !SignerOwnedHeaders.Contains(name)))
        {
            signing.Headers[name] = request.Headers[name] ?? string.Empty;
        }

        var result = AWSSigV4Signer.Sign(signing, new AWSSigV4Parameters
        {
            Credentials = credentials,
            Region = RegionEndpoint.GetBySystemName(region),
            Service = signingName,
            SignedAt = signedAt,
        });
        return result.Headers.First(header => string.Equals(header.Key, "Authorization", StringComparison.OrdinalIgnoreCase)).Value;
    }

    private static void Expect(List<string> problems, string what, string expected, string actual)
    {
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            problems.Add($"{what} is '{actual}', expected '{expected}'");
        }
    }

    [GeneratedRegex("^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/(?<date>[0-9]{8})/(?<region>[^/]+)/(?<service>[^/]+)/aws4_request, ?SignedHeaders=(?<signed>[a-z0-9;-]+), ?Signature=[0-9a-f]{64}$")]
    private static partial Regex AuthorizationPattern();
}
