using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.AwsPackageReplacements.Lambda.APIGatewayEvents;
using Xunit.Abstractions;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>
/// Seeded random and malformed POST /feedback requests (<see cref="FeedbackBodies"/>) against the real handler: never a 5xx,
/// every 4xx is <c>{"error","field"}</c> with both non-empty, a refused request stores nothing, a stored one is stored once
/// (sent again it is a 200 replay and the table does not grow), and afterwards the table holds exactly the 201 answers.
/// </summary>
public sealed class FeedbackFuzzTests(ITestOutputHelper output)
{
    private const int MaxBodyBytes = 16 * 1024;

    [Theory]
    [InlineData(20261125, 10_000)]
    [InlineData(7, 2_000)]
    public async Task PostFeedback_RandomAndMalformedBodiesInProcess_NoServerErrorsEveryRefusalNamesAFieldStoredOnce(int seed, int bodies)
    {
        using var api = new InProcessApi(maxBodyBytes: MaxBodyBytes).Publish(TwoRuns.A).Publish(TwoRuns.B);

        var run = await FeedbackFuzz.RunAsync(new FeedbackBodies(seed, MaxBodyBytes), bodies, api.InvokeAsync, () => Task.FromResult<IReadOnlyList<Dictionary<string, AttributeValue>>>([.. api.Feedback]));

        output.WriteLine(run.Summary);
        run.AssertHeld(bodies);
        api.Tables.AssertNoViolations();
    }
}

/// <summary>The fuzz loop and its checks, the same in process and through the bootstrap.</summary>
internal static class FeedbackFuzz
{
    public sealed record Outcome(Dictionary<int, int> Statuses, Dictionary<string, int> Fields, List<string> Failures, int Stored, int Replays, int TableItems)
    {
        public string Summary => $"statuses {string.Join(", ", Statuses.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key}: {pair.Value}"))}; "
            + $"refused fields {string.Join(", ", Fields.OrderByDescending(pair => pair.Value).Take(12).Select(pair => $"{pair.Key}: {pair.Value}"))}; "
            + $"{Stored} stored, {Replays} requests sent again, {TableItems} items in the table";

        public void AssertHeld(int bodies)
        {
            Assert.True(Failures.Count == 0, $"{Failures.Count} bad answers, first ones:\n" + string.Join("\n", Failures.Take(15)));
            Assert.Equal(bodies, Statuses.Values.Sum() - Replays);
            Assert.True(Fields.Count >= 10, "the refusals name too few different fields: " + Summary);
            // The generator must reach both sides: enough stored feedback and enough refusals of each kind.
            Assert.True(Stored > bodies / 10, Summary);
            Assert.True(Statuses.GetValueOrDefault(400) > bodies / 3, Summary);
            Assert.True(Statuses.GetValueOrDefault(413) > 0 && Statuses.GetValueOrDefault(415) > 0 && Statuses.GetValueOrDefault(409) > 0, Summary);
            Assert.Equal(Stored, TableItems);
        }
    }

    /// <summary>
    /// Sends <paramref name="count"/> generated requests (and a retry of every stored one, and of some refused ones) through
    /// <paramref name="invoke"/>, checking each answer and the table around it.
    /// </summary>
    public static async Task<Outcome> RunAsync(FeedbackBodies bodies, int count, Func<APIGatewayProxyRequest, Task<APIGatewayProxyResponse>> invoke,
        Func<Task<IReadOnlyList<Dictionary<string, AttributeValue>>>> scan)
    {
        var statuses = new Dictionary<int, int>();
        var fields = new Dictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        var replays = 0;
        for (var index = 0; index < count; index++)
        {
            var request = bodies.Next();
            if (index % 25 == 24 && stored.Keys.Where(key => !key.StartsWith("sha256:", StringComparison.Ordinal)).ToList() is { Count: > 0 } headerKeys)
            {
                request = bodies.WithStoredKey(request, headerKeys);
            }

            var response = await invoke(request);
            Count(statuses, response.StatusCode);
            var problem = Check(response);
            if (problem is null && response.StatusCode >= 400)
            {
                var field = JsonDocument.Parse(response.Body!).RootElement.GetProperty("field").GetString()!;
                fields[field] = fields.GetValueOrDefault(field) + 1;
            }

            string? key = null;
            if (problem is null && response.StatusCode is 200 or 201)
            {
                var json = JsonDocument.Parse(response.Body!).RootElement;
                key = json.GetProperty("idempotency_key").GetString()!;
                var feedback = json.GetProperty("feedback").GetRawText();
                problem = response.StatusCode == 201
                    ? stored.TryAdd(key, feedback) ? null : $"201 for key {key}, which was stored before"
                    : stored.TryGetValue(key, out var before) && before == feedback ? null : $"200 for key {key}, which was not stored with this feedback";
            }

            if (problem is null && (key is not null || index % 10 == 0))
            {
                // Sent again: a stored one is a replay, a refused one is refused the same way.
                var again = await invoke(request);
                Count(statuses, again.StatusCode);
                replays++;
                var expected = response.StatusCode == 201 ? response.Body!.Replace("\"stored\":true", "\"stored\":false", StringComparison.Ordinal) : response.Body;
                var expectedStatus = response.StatusCode == 201 ? 200 : response.StatusCode;
                if (again.StatusCode != expectedStatus || again.Body != expected)
                {
                    problem = $"sent again: {again.StatusCode} {again.Body}";
                }
            }

            if (problem is not null)
            {
                failures.Add($"#{index} {problem}: {response.StatusCode} {Cut(response.Body)} for {Describe(request)}");
            }
        }

        var items = await scan();
        foreach (var item in items)
        {
            var itemKey = item["idempotency_key"].S;
            if (!stored.TryGetValue(itemKey, out var feedback))
            {
                failures.Add($"the table holds {itemKey}, which no 201 answered");
                continue;
            }

            var answered = JsonDocument.Parse(feedback).RootElement;
            foreach (var field in new[] { "customer_id", "product_id", "rating", "reason_code", "sentiment", "feedback_date" })
            {
                var value = answered.GetProperty(field);
                var storedValue = item.TryGetValue(field, out var attribute) ? attribute.S : null;
                if ((value.ValueKind == JsonValueKind.Null ? null : value.GetString()) != storedValue)
                {
                    failures.Add($"item {itemKey} has {field} {storedValue}, the answer said {value.GetRawText()}");
                }
            }
        }

        return new Outcome(statuses, fields, failures, stored.Count, replays, items.Count);
    }

    private static string? Check(APIGatewayProxyResponse response)
    {
        if (response.StatusCode >= 500)
        {
            return "a 5xx for a caller's request";
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

        if (response.StatusCode >= 400)
        {
            if (!json.TryGetProperty("field", out var field) || field.ValueKind != JsonValueKind.String || field.GetString()!.Length == 0)
            {
                return "a 4xx without a field";
            }

            if (!json.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.String || error.GetString()!.Length == 0)
            {
                return "a 4xx without an error";
            }

            if (json.EnumerateObject().Count() != 2 || error.GetString()!.Contains("   at ", StringComparison.Ordinal))
            {
                return "a 4xx with more than the error and the field";
            }
        }
        else if (response.StatusCode is not (200 or 201))
        {
            return $"status {response.StatusCode}";
        }

        return null;
    }

    private static void Count(Dictionary<int, int> statuses, int status) => statuses[status] = statuses.GetValueOrDefault(status) + 1;

    private static string Describe(APIGatewayProxyRequest request) =>
        $"body {Cut(request.Body)} (base64 {request.IsBase64Encoded}) headers {string.Join("; ", (request.Headers ?? new Dictionary<string, string>()).Select(h => $"{h.Key}={Cut(h.Value)}"))}";

    private static string Cut(string? text) => text is null ? "null" : text.Length > 300 ? JsonSerializer.Serialize(text[..300]) + "..." : JsonSerializer.Serialize(text);
}
