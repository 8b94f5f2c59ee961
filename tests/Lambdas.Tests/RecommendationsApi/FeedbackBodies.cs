using System.Globalization;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>
/// Seeded random POST /feedback requests, valid and malformed: feedback on products the runs recommended (with every
/// spelling the rules allow), on products they did not, and bodies broken every way a caller can break one (wrong types,
/// missing, unknown and repeated fields, huge strings, other scripts, lone surrogate and control-character escapes, wrong
/// dates, nested garbage, invalid JSON, other roots, bad base64 and non-UTF-8 bytes, bad headers).
/// </summary>
internal sealed class FeedbackBodies(int seed, int maxBodyBytes)
{
    private static readonly string[] Fields = ["customer_id", "product_id", "rating", "reason_code", "sentiment", "feedback_date"];
    private static readonly string[] Ratings = ["High", "high", "HIGH", "Medium", "medium", "mEdIuM", "Low", "low", "LOW"];
    private static readonly string[] ReasonCodes = ["good_fit", "customer_interested", "not_relevant", "wrong_category", "price_too_high", " Price_Too_High ", "x1"];
    private static readonly string[] Sentiments = ["positive", "negative", "Positive", " NEGATIVE "];
    private static readonly string[] Strange =
    [
        "", " ", "\u00e9t\u00e9", "\u9867\u5ba2", "\ud83d\ude00\ud83d\udd27", "\u05e9\u05dc\u05d5\u05dd", "e\u0301", "\u200b", "\ufeff", "\u2028", "null", "true", "0",
        "<script>", "'; DROP TABLE feedback; --", "run#x#customer#C001", "..", "%00", "C001\\", "\"",
    ];

    private static readonly string[] Garbage = ["{", "}", "[", "]", ":", ",", "\"", "\\", "1e999", "-0", "tru", "nul", "\u00ff", "/*", "\t", "\n", "{}", "[]"];
    private static readonly string[] UnknownNames = ["comment", "Customer_ID", "rating ", "", "__proto__", "constructor", "a\u0000b", "\ud83d\ude00", "feedback"];

    private readonly Random _random = new(seed);
    private readonly (string Customer, string Product)[] _recommended = Recommended();
    private readonly string[] _customers = [.. TwoRuns.A.Customers.Concat(TwoRuns.B.Customers).Select(c => c.CustomerId).Distinct(), "C999", "C005 ", "c001"];
    private readonly string[] _products = [.. TwoRuns.ProductsOf(TwoRuns.A).Concat(TwoRuns.ProductsOf(TwoRuns.B)), "P0", "pa100"];

    /// <summary>The next request.</summary>
    public APIGatewayProxyRequest Next()
    {
        var (body, base64) = _random.Next(100) switch
        {
            < 35 => (Serialize(ValidFeedback()), false),
            < 45 => (Serialize(NotRecommended()), false),
            < 75 => (Serialize(Mutated(ValidFeedback())), false),
            < 85 => (Broken(Serialize(ValidFeedback())), false),
            < 90 => (Nested(), false),
            < 93 => (Root(), false),
            < 96 => Base64(),
            _ => (Huge(), false),
        };
        var request = ApiEvents.Feedback(body, IdempotencyKey(), ContentType());
        return base64 ? request with { IsBase64Encoded = true } : request;
    }

    /// <summary>The same request under one of <paramref name="storedKeys"/>: a 409 unless it is the content stored under it.</summary>
    public APIGatewayProxyRequest WithStoredKey(APIGatewayProxyRequest request, IReadOnlyList<string> storedKeys)
    {
        var headers = new Dictionary<string, string>(request.Headers ?? new Dictionary<string, string>())
        {
            ["Idempotency-Key"] = storedKeys[_random.Next(storedKeys.Count)],
        };
        return request with { Headers = headers };
    }

    private static (string Customer, string Product)[] Recommended() =>
        [.. new[] { TwoRuns.A, TwoRuns.B }.SelectMany(run => run.Customers.SelectMany(c => c.Recommendations.Select(r => (c.CustomerId, r.Product)))).Distinct()];

    private List<(string Name, string Json)> ValidFeedback()
    {
        var (customer, product) = _recommended[_random.Next(_recommended.Length)];
        var rating = Pick(Ratings);
        var fields = new List<(string, string)> { ("customer_id", Quote(Pad(customer))), ("product_id", Quote(Pad(product))), ("rating", Quote(rating)) };
        if (!rating.Equals("high", StringComparison.OrdinalIgnoreCase) || _random.Next(3) == 0)
        {
            fields.Add(("reason_code", Quote(Pick(ReasonCodes))));
        }

        if (_random.Next(2) == 0)
        {
            fields.Add(("sentiment", Quote(Pick(Sentiments))));
        }

        if (_random.Next(3) > 0)
        {
            var date = new DateOnly(2000, 1, 1).AddDays(_random.Next(9825)); // 2000-01-01 .. 2026-11-24
            fields.Add(("feedback_date", Quote(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))));
        }

        Shuffle(fields);
        return fields;
    }

    private List<(string Name, string Json)> NotRecommended()
    {
        var fields = ValidFeedback();
        var name = _random.Next(2) == 0 ? "customer_id" : "product_id";
        var index = fields.FindIndex(field => field.Name == name);
        fields[index] = (fields[index].Name, Quote(fields[index].Name == "customer_id" ? Pick(_customers) : Pick(_products)));
        return fields;
    }

    private List<(string Name, string Json)> Mutated(List<(string Name, string Json)> fields)
    {
        for (var mutations = 1 + _random.Next(3); mutations > 0; mutations--)
        {
            var index = _random.Next(fields.Count);
            switch (_random.Next(9))
            {
                case 0:
                    fields.RemoveAt(index);
                    break;
                case 1:
                    fields[index] = (fields[index].Name, WrongType());
                    break;
                case 2:
                    fields.Add((Pick(UnknownNames), WrongType()));
                    break;
                case 3:
                    fields.Add((fields[index].Name, fields[index].Json));
                    break;
                case 4:
                    fields[index] = (fields[index].Name, Quote(Pick(Strange)));
                    break;
                case 5:
                    fields[index] = (fields[index].Name, Quote(new string((char)('a' + _random.Next(26)), _random.Next(60, 300))));
                    break;
                case 6:
                    fields[index] = (fields[index].Name, "\"" + Pick(["\\ud800", "\\udfff", "\\u0000", "\\u001f", "\\u007f", "\\n", "\\t", "\\\"", "\\\\"]) + Pick(Strange) + "\"");
                    break;
                case 7:
                    fields.Add(("feedback_date", Quote(Pick(["2026-11-26", "2999-01-01", "1999-12-31", "2025-02-29", "2026-00-10", "26-11-2026", "2026/11/24", "today", "2026-11-24T00:00:00Z", "\u0662\u0660\u0662\u0666-01-01"]))));
                    break;
                default:
                    fields.Add(("rating", Quote(Pick(["Excellent", "", "H", "high ", "Med", "1", "null"]))));
                    break;
            }

            if (fields.Count == 0)
            {
                break;
            }
        }

        return fields;
    }

    private string WrongType() => _random.Next(7) switch
    {
        0 => _random.Next(-5, 1000).ToString(CultureInfo.InvariantCulture),
        1 => "true",
        2 => "false",
        3 => "null",
        4 => "[\"C001\"]",
        5 => "{\"id\":\"C001\",\"nested\":{\"deeper\":[1,{}]}}",
        _ => "1.5e3",
    };

    /// <summary>Valid JSON cut short, or with characters replaced or inserted.</summary>
    private string Broken(string json)
    {
        if (json.Length == 0 || _random.Next(3) == 0)
        {
            return json[.._random.Next(json.Length + 1)];
        }

        var text = new StringBuilder(json);
        for (var edits = 1 + _random.Next(4); edits > 0; edits--)
        {
            var at = _random.Next(text.Length);
            if (_random.Next(2) == 0)
            {
                text[at] = Pick(Garbage)[0];
            }
            else
            {
                text.Insert(at, Pick(Garbage));
            }
        }

        return text.ToString();
    }

    private string Nested()
    {
        var depth = _random.Next(1, 200);
        var open = new StringBuilder();
        for (var level = 0; level < depth; level++)
        {
            open.Append(_random.Next(2) == 0 ? "[" : "{\"customer_id\":");
        }

        var body = open.ToString() + "\"C001\"";
        foreach (var ch in open.ToString().Reverse())
        {
            body += ch == '[' ? "]" : ch == '{' ? "}" : "";
        }

        return _random.Next(4) == 0 ? body[..(body.Length / 2)] : body;
    }

    private string Root() => Pick(["", " ", "null", "[]", "[{\"customer_id\":\"C001\"}]", "\"C001\"", "42", "true", "{}", "\ufeff{}", "{\"customer_id\":\"C001\"} x"]);

    private (string Body, bool Base64) Base64()
    {
        switch (_random.Next(3))
        {
            case 0:
                return (Convert.ToBase64String(Encoding.UTF8.GetBytes(Serialize(ValidFeedback()))), true);
            case 1:
                var bytes = new byte[_random.Next(1, 80)];
                _random.NextBytes(bytes);
                var json = Encoding.UTF8.GetBytes("{\"customer_id\":\"").Concat(bytes).Concat(Encoding.UTF8.GetBytes("\",\"product_id\":\"PA100\",\"rating\":\"High\"}"));
                return (Convert.ToBase64String([.. json]), true);
            default:
                return (Pick(["not base64!", "e30", "====", "{}"]), true);
        }
    }

    private string Huge()
    {
        var fields = ValidFeedback();
        var index = _random.Next(fields.Count);
        var size = _random.Next(2) == 0 ? maxBodyBytes + _random.Next(1, 20_000) : _random.Next(200, maxBodyBytes - 200);
        var filler = _random.Next(2) == 0 ? new string('x', size) : string.Concat(Enumerable.Repeat("\u00e9\ud83d\ude00", size / 6));
        fields[index] = (fields[index].Name, Quote(filler));
        return Serialize(fields);
    }

    private string? IdempotencyKey()
    {
        var choice = _random.Next(20);
        if (choice < 8)
        {
            return null;
        }

        if (choice < 17)
        {
            return $"crm-{_random.Next():x8}.{_random.Next(1000)}:{seed}";
        }

        return Pick(["", "has space", "k\u00e9y", new string('k', 129), "a/b", "key\n", "\u0000"]);
    }

    private string? ContentType() => _random.Next(40) switch
    {
        < 30 => "application/json",
        < 34 => null,
        34 => "application/json; charset=utf-8",
        35 => "APPLICATION/JSON",
        36 => "application/vnd.crm+json",
        37 => "text/plain",
        38 => "application/x-www-form-urlencoded",
        _ => Pick(["", "multipart/form-data; boundary=x"]),
    };

    private string Pad(string id) => _random.Next(5) == 0 ? "  " + id + " " : id;

    private string Pick(string[] values) => values[_random.Next(values.Length)];

    private void Shuffle<T>(List<T> values)
    {
        for (var index = values.Count - 1; index > 0; index--)
        {
            var other = _random.Next(index + 1);
            (values[index], values[other]) = (values[other], values[index]);
        }
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    private static string Serialize(List<(string Name, string Json)> fields) =>
        "{" + string.Join(",", fields.Select(field => Quote(field.Name) + ":" + field.Json)) + "}";
}
