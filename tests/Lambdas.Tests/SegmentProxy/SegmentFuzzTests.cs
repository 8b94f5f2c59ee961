using System.Globalization;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// Seeded random and malformed POST /segment bodies through the whole handler: nothing a caller sends may produce a 5xx
/// or an exception, every 4xx names a field ("body" when the body is not JSON), no answer leaks internals, and the Lambda
/// entry point (the event's bytes) answers exactly as the request object is answered.
/// </summary>
public sealed class SegmentFuzzTests
{
    private const int Bodies = 12_000;
    private const string MutationAlphabet = "{}[]\",:0-e.aZ \\";
    private static readonly string[] Keys = ["age", "income", "purchases", "customers", "features", "Age", "INCOME", "id", "", "age ", "\u00e4ge", "__proto__"];

    [Theory]
    [InlineData(ServingMode.Endpoint, 20261125)]
    [InlineData(ServingMode.Centroids, 42)]
    public async Task PostSegment_RandomAndMalformedBodies_NeverA5xxAndEvery4xxNamesAField(ServingMode mode, int seed)
    {
        var random = new Random(seed);
        // The endpoint double answers in inference.py's format with one prediction per instance it was sent.
        var endpoint = new RecordingEndpoint(body =>
        {
            var rows = JsonDocument.Parse(body).RootElement.GetProperty("instances").GetArrayLength();
            return "{\"predictions\":[" + string.Join(",", Enumerable.Repeat("""{"closest_cluster":1,"distance_to_cluster":0.5}""", rows)) + "]}";
        });
        using var harness = new ProxyHarness(endpoint, mode, maxBatchSize: 50, maxBodyBytes: 16 * 1024);
        var counts = new Dictionary<int, int>();
        var failures = new List<string>();

        for (var i = 0; i < Bodies; i++)
        {
            var (request, bodyBytes) = RandomRequest(random);
            APIGatewayProxyResponse response;
            try
            {
                response = await harness.SendAsync(request);
            }
            catch (Exception exception)
            {
                failures.Add($"#{i} threw {exception.GetType().Name}: {exception.Message} for body {Show(bodyBytes)}");
                continue;
            }

            counts[response.StatusCode] = counts.GetValueOrDefault(response.StatusCode) + 1;
            var problem = Check(response, bodyBytes) ?? await SameThroughTheLambdaEntryPointAsync(harness, request, response);
            if (problem is not null)
            {
                failures.Add($"#{i} {problem}: {response.StatusCode} {response.Body} for body {Show(bodyBytes)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} bad answers, first ones:\n" + string.Join("\n", failures.Take(10)));
        Assert.True(counts.GetValueOrDefault(200) > 500, "too few valid bodies were generated: " + string.Join(", ", counts));
        Assert.True(counts.GetValueOrDefault(400) > 5000, "too few invalid bodies were generated: " + string.Join(", ", counts));
        Assert.Equal(Bodies, counts.Values.Sum());
    }

    private static string? Check(APIGatewayProxyResponse response, byte[] body)
    {
        if (response.StatusCode >= 500)
        {
            return "a 5xx for a caller's body";
        }

        JsonElement json;
        try
        {
            json = JsonDocument.Parse(response.Body!).RootElement.Clone();
        }
        catch (JsonException)
        {
            return "an answer that is not JSON";
        }

        if (response.Body!.Contains("   at ", StringComparison.Ordinal) || response.Body.Contains("Exception", StringComparison.Ordinal))
        {
            return "an answer that leaks a stack trace or exception name";
        }

        if (response.StatusCode == 200)
        {
            return json.GetProperty("predictions").EnumerateArray().All(p => double.IsFinite(p.GetProperty("distance_to_cluster").GetDouble()))
                ? null
                : "a non-finite distance";
        }

        if (response.StatusCode != 400)
        {
            return "a status other than 200 or 400";
        }

        if (!json.TryGetProperty("field", out var field) || field.GetString() is not { Length: > 0 } name
            || !json.TryGetProperty("error", out var error) || error.GetString() is not { Length: > 0 })
        {
            return "a 400 without a field and an error";
        }

        return IsJson(body) || name == "body" ? null : "unparseable input not reported as 'body'";
    }

    /// <summary>The event's bytes through the Lambda entry point must give the very answer the request object got.</summary>
    private static async Task<string?> SameThroughTheLambdaEntryPointAsync(ProxyHarness harness, APIGatewayProxyRequest request, APIGatewayProxyResponse expected)
    {
        try
        {
            var (response, _) = await harness.InvokeAsync(JsonSerializer.SerializeToUtf8Bytes(request, APIGatewayEventsJsonContext.Default.APIGatewayProxyRequest));
            return LambdaEntryPoint.Show(response) == LambdaEntryPoint.Show(expected) ? null : $"a different answer through the Lambda entry point: {response.StatusCode} {response.Body}";
        }
        catch (Exception exception)
        {
            return $"the Lambda entry point threw {exception.GetType().Name}: {exception.Message}";
        }
    }

    private static bool IsJson(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static (APIGatewayProxyRequest Request, byte[] Body) RandomRequest(Random random)
    {
        var kind = random.Next(12);
        byte[] body = kind switch
        {
            0 or 1 => Encoding.UTF8.GetBytes(ValidCustomers(random)),
            2 => Encoding.UTF8.GetBytes(RandomValue(random, 0)),
            3 => Encoding.UTF8.GetBytes(Truncate(random, ValidCustomers(random))),
            4 => RandomBytes(random),
            5 => Encoding.UTF8.GetBytes(DeepNesting(random)),
            6 => Encoding.UTF8.GetBytes(CustomerWith(random, RandomNumberText(random))),
            7 => Encoding.UTF8.GetBytes(CustomerWith(random, RandomValue(random, 2))),
            8 => Encoding.UTF8.GetBytes(RandomObject(random, 0)),
            9 => Encoding.UTF8.GetBytes(Features(random)),
            10 => Encoding.UTF8.GetBytes(Mutate(random, ValidCustomers(random))),
            _ => Encoding.UTF8.GetBytes(Oversized(random)),
        };
        var base64 = kind == 4 ? random.Next(2) == 0 : random.Next(20) == 0;
        var request = new APIGatewayProxyRequest
        {
            HttpMethod = "POST",
            Resource = "/segment",
            Path = "/segment",
            IsBase64Encoded = base64,
            Body = base64 ? Convert.ToBase64String(body) : Encoding.UTF8.GetString(body),
        };
        // A text body goes through UTF-16: what the handler sees is the UTF-8 of that string.
        return (request, base64 ? body : Encoding.UTF8.GetBytes(request.Body!));
    }

    private static string ValidCustomers(Random random)
    {
        var count = random.Next(1, 8);
        var customers = Enumerable.Range(0, count).Select(_ => string.Create(CultureInfo.InvariantCulture,
            $$"""{"age":{{random.NextDouble() * 120:R}},"income":{{random.NextDouble() * 1e9:R}},"purchases":{{random.NextDouble() * 1e6:R}}}"""));
        return random.Next(4) == 0 && count == 1 ? customers.First() : "{\"customers\":[" + string.Join(",", customers) + "]}";
    }

    private static string Features(Random random)
    {
        var rows = Enumerable.Range(0, random.Next(0, 6)).Select(_ => "[" + string.Join(",",
            Enumerable.Range(0, random.Next(2, 5)).Select(_ => random.Next(6) == 0 ? RandomNumberText(random) : (random.NextDouble() * 8 - 4).ToString("R", CultureInfo.InvariantCulture))) + "]");
        return "{\"features\":[" + string.Join(",", rows) + "]}";
    }

    private static string CustomerWith(Random random, string value)
    {
        var field = Keys[random.Next(3)];
        var others = Keys.Take(3).Where(key => key != field).Select(key => $"\"{key}\":{random.Next(1, 100)}");
        return "{\"customers\":[{" + string.Join(",", others.Append($"\"{field}\":{value}")) + "}]}";
    }

    private static string RandomNumberText(Random random) => random.Next(14) switch
    {
        0 => "1e308",
        1 => "1e400",
        2 => "-1e400",
        3 => "123456789012345678901234567890",
        4 => "\"NaN\"",
        5 => "NaN",
        6 => "Infinity",
        7 => "-0",
        8 => "0.0000000000000000000000001",
        9 => "-5",
        10 => "1.7976931348623157e308",
        11 => "\"34\"",
        12 => "4.9e-324",
        _ => (random.NextDouble() * 1e12 - 5e11).ToString("R", CultureInfo.InvariantCulture),
    };

    private static string RandomValue(Random random, int depth) => random.Next(depth > 4 ? 5 : 8) switch
    {
        0 => "null",
        1 => random.Next(2) == 0 ? "true" : "false",
        2 => RandomNumberText(random),
        3 => JsonSerializer.Serialize(RandomText(random)),
        4 => random.Next(-1000, 1000).ToString(CultureInfo.InvariantCulture),
        5 or 6 => RandomObject(random, depth + 1),
        _ => "[" + string.Join(",", Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomValue(random, depth + 1))) + "]",
    };

    private static string RandomObject(Random random, int depth) =>
        "{" + string.Join(",", Enumerable.Range(0, random.Next(0, 5)).Select(_ =>
            JsonSerializer.Serialize(random.Next(5) == 0 ? RandomText(random) : Keys[random.Next(Keys.Length)]) + ":" + RandomValue(random, depth + 1))) + "}";

    private static string RandomText(Random random) =>
        new([.. Enumerable.Range(0, random.Next(0, 12)).Select(_ => (char)random.Next(1, 0x2FFF))]);

    private static string Truncate(Random random, string json) => json[..random.Next(0, json.Length)];

    private static string Mutate(Random random, string json)
    {
        var chars = json.ToCharArray();
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            chars[random.Next(chars.Length)] = MutationAlphabet[random.Next(MutationAlphabet.Length)];
        }

        return new string(chars);
    }

    private static string DeepNesting(Random random)
    {
        var depth = random.Next(10, 200);
        var open = random.Next(2) == 0 ? "[" : "{\"customers\":";
        var close = open == "[" ? "]" : "}";
        return string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, random.Next(2) == 0 ? depth : depth / 2));
    }

    private static string Oversized(Random random) => random.Next(2) == 0
        ? "{\"customers\":[" + string.Join(",", Enumerable.Repeat("""{"age":1,"income":2,"purchases":3}""", random.Next(51, 200))) + "]}"
        : "{\"customers\":[{\"age\":1}]," + new string(' ', 17 * 1024) + "}";

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 64)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string Show(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        return text.Length > 200 ? text[..200] + "..." : text;
    }
}
