using System.Text;
using CustomerSegmentation.Lambdas.Tests.SegmentProxy;
using CustomerSegmentation.ProxyFunctions;
using CustomerSegmentation.RecommendationsApi;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

public sealed class FeedbackRequestTests
{
    private static readonly DateOnly Today = new(2026, 11, 25);

    private static FeedbackSubmission Parse(string body, string? contentType = "application/json", string? idempotencyKey = null, int maxBodyBytes = 16384) =>
        FeedbackRequest.Parse(Encoding.UTF8.GetBytes(body), contentType, idempotencyKey, maxBodyBytes, Today);

    private static RequestException Refused(string body, string? contentType = "application/json", string? idempotencyKey = null, int maxBodyBytes = 16384) =>
        Assert.Throws<RequestException>(() => Parse(body, contentType, idempotencyKey, maxBodyBytes));

    [Fact]
    public void Parse_AllFields_AreNormalised()
    {
        var submission = Parse("""
            {"customer_id":"  C00052 ","product_id":"P00136","rating":"mEdIuM","reason_code":"  Price_Too_High ","sentiment":" Negative","feedback_date":"2026-11-24"}
            """);

        Assert.Equal(new Feedback("C00052", "P00136", "Medium", "price_too_high", "negative", new DateOnly(2026, 11, 24)), submission.Feedback);
        Assert.Equal("sha256:" + submission.RequestSha256, submission.IdempotencyKey);
    }

    [Fact]
    public void Parse_OnlyRequiredFieldsForHigh_DefaultsTheDateToTodayAndTheRestToNull()
    {
        var submission = Parse("""{"customer_id":"C1","product_id":"P1","rating":"HIGH"}""");

        Assert.Equal(new Feedback("C1", "P1", "High", null, null, Today), submission.Feedback);
    }

    [Theory]
    [InlineData("""{"customer_id":"C1","product_id":"P1","rating":"High","reason_code":null,"sentiment":null,"feedback_date":null}""")]
    [InlineData("""{"customer_id":"C1","product_id":"P1","rating":"High","reason_code":"  ","sentiment":""}""")]
    public void Parse_NullOrBlankOptionalFields_AreAbsent(string body)
    {
        Assert.Equal(new Feedback("C1", "P1", "High", null, null, Today), Parse(body).Feedback);
    }

    [Fact]
    public void CanonicalJson_IsCompactInSchemaOrderWithNullsAndOnlyQuotesAndBackslashesEscaped()
    {
        var feedback = new Feedback("C\"1\\ \u00e9\u2028\ud83d\ude00<>&'", "P1", "Low", "not_relevant", null, new DateOnly(2026, 1, 2));

        Assert.Equal("{\"customer_id\":\"C\\\"1\\\\ \u00e9\u2028\ud83d\ude00<>&'\",\"product_id\":\"P1\",\"rating\":\"Low\",\"reason_code\":\"not_relevant\","
            + "\"sentiment\":null,\"feedback_date\":\"2026-01-02\"}", Encoding.UTF8.GetString(feedback.CanonicalJson()));
    }

    [Fact]
    public async Task Sha256_IsWhatPythonComputesForTheSameFeedback()
    {
        Feedback[] samples =
        [
            new("C00052", "P00136", "Medium", "price_too_high", "negative", new DateOnly(2026, 11, 24)),
            new("C\"1\\ \u00e9\u2028\ud83d\ude00<>&'", "P/1 \u4e2d", "High", null, null, new DateOnly(2000, 1, 1)),
        ];
        const string Script = """
            import hashlib, json, sys
            for line in sys.argv[1:]:
                fields = json.loads(line)
                canonical = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
                print(hashlib.sha256(canonical).hexdigest())
            """;

        var python = await DebianPython.RunAsync(["-c", Script, .. samples.Select(sample => Encoding.UTF8.GetString(sample.CanonicalJson()))]);

        Assert.Equal(samples.Select(sample => sample.Sha256()), python.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Parse_SameContentDifferentlyWritten_HasTheSameKey()
    {
        var first = Parse("""{"customer_id":"C1","product_id":"P1","rating":"low","reason_code":"NOT_RELEVANT","feedback_date":"2026-11-25"}""");
        var second = Parse("""{ "feedback_date" : "2026-11-25", "reason_code" : " not_relevant", "rating" : "Low", "product_id" : "P1", "customer_id" : " C1" }""");
        var other = Parse("""{"customer_id":"C1","product_id":"P1","rating":"Low","reason_code":"not_relevant","feedback_date":"2026-11-24"}""");

        Assert.Equal(first.IdempotencyKey, second.IdempotencyKey);
        Assert.NotEqual(first.IdempotencyKey, other.IdempotencyKey);
        Assert.Matches("^sha256:[0-9a-f]{64}$", first.IdempotencyKey);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("crm-visit-8812-P00136")]
    [InlineData("A.b_c:d-9")]
    public void Parse_IdempotencyKeyHeader_IsTheKey(string key)
    {
        Assert.Equal(key, Parse("""{"customer_id":"C1","product_id":"P1","rating":"High"}""", idempotencyKey: key).IdempotencyKey);
    }

    [Fact]
    public void Parse_IdempotencyKeyOf128Characters_IsAccepted()
    {
        var key = new string('k', 128);

        Assert.Equal(key, Parse("""{"customer_id":"C1","product_id":"P1","rating":"High"}""", idempotencyKey: key).IdempotencyKey);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("has space", "has space")]
    [InlineData("key\n", "key\n")]
    [InlineData("k\u00e9y", "k\u00e9y")]
    [InlineData("a/b", "a/b")]
    [InlineData("129 k", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...")]
    public void Parse_BadIdempotencyKey_Is400NamingTheHeader(string key, string shown)
    {
        var error = Refused("""{"customer_id":"C1","product_id":"P1","rating":"High"}""", idempotencyKey: key == "129 k" ? new string('k', 129) : key);

        Assert.Equal((400, "Idempotency-Key"), (error.StatusCode, error.Field));
        Assert.Equal($"Idempotency-Key must be 1 to 128 of A-Z, a-z, 0-9, '.', '_', ':' and '-', not '{shown}'", error.Message);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    [InlineData("application/merge-patch+json")]
    [InlineData(null)]
    public void Parse_JsonContentTypeOrNone_IsAccepted(string? contentType)
    {
        Assert.Equal("C1", Parse("""{"customer_id":"C1","product_id":"P1","rating":"High"}""", contentType).Feedback.CustomerId);
    }

    [Theory]
    [InlineData("text/plain", "send the body as application/json, not text/plain")]
    [InlineData("application/x-www-form-urlencoded", "send the body as application/json, not application/x-www-form-urlencoded")]
    [InlineData("", "send the body as application/json, not ")]
    [InlineData("json", "send the body as application/json, not json")]
    public void Parse_OtherContentType_Is415(string contentType, string message)
    {
        var error = Refused("""{"customer_id":"C1","product_id":"P1","rating":"High"}""", contentType);

        Assert.Equal((415, "Content-Type", message), (error.StatusCode, error.Field, error.Message));
    }

    [Fact]
    public void Parse_BodyAboveTheLimit_Is413AndAtTheLimitIsRead()
    {
        const string Body = """{"customer_id":"C1","product_id":"P1","rating":"High"}""";

        var error = Refused(Body, maxBodyBytes: Body.Length - 1);

        Assert.Equal((413, "body", $"the body has {Body.Length} bytes; at most {Body.Length - 1} are accepted"), (error.StatusCode, error.Field, error.Message));
        Assert.Equal("C1", Parse(Body, maxBodyBytes: Body.Length).Feedback.CustomerId);
    }

    [Fact]
    public void Parse_MistakesInSeveralPlaces_ReportsContentTypeThenSizeThenKeyThenBody()
    {
        Assert.Equal("Content-Type", Refused("{", "text/plain", "bad key", maxBodyBytes: 0).Field);
        Assert.Equal("body", Refused("{", "application/json", "bad key", maxBodyBytes: 0).Field);
        Assert.Equal("Idempotency-Key", Refused("{", "application/json", "bad key").Field);
        Assert.Equal("body", Refused("{").Field);
    }

    [Theory]
    [InlineData("", "the body is empty: send a JSON object such as {\"customer_id\":\"C00052\",\"product_id\":\"P00136\",\"rating\":\"Medium\",\"reason_code\":\"price_too_high\"}")]
    [InlineData("[]", "the body must be a JSON object such as {\"customer_id\":\"C00052\",\"product_id\":\"P00136\",\"rating\":\"Medium\",\"reason_code\":\"price_too_high\"}, not a list")]
    [InlineData("\"C1\"", "the body must be a JSON object such as {\"customer_id\":\"C00052\",\"product_id\":\"P00136\",\"rating\":\"Medium\",\"reason_code\":\"price_too_high\"}, not a string")]
    [InlineData("null", "the body must be a JSON object such as {\"customer_id\":\"C00052\",\"product_id\":\"P00136\",\"rating\":\"Medium\",\"reason_code\":\"price_too_high\"}, not null")]
    [InlineData("{\"customer_id\":\"C1\",}", "the body is not valid JSON at line 1, byte 21: The JSON object contains a trailing comma at the end which is not supported in this mode. Change the reader options.")]
    [InlineData("{\"customer_id\":\"C1\"", "the body is not valid JSON at line 1, byte 20: Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed.")]
    [InlineData("{\"customer_id\":\"C1\"} {}", "the body is not valid JSON at line 1, byte 22: '{' is invalid after a single JSON value. Expected end of data.")]
    [InlineData("{'customer_id':'C1'}", "the body is not valid JSON at line 1, byte 2: ''' is an invalid start of a property name. Expected a '\"'.")]
    [InlineData("{\"a\":1 /* c */}", "the body is not valid JSON at line 1, byte 8: '/' is invalid after a value. Expected either ',', '}', or ']'.")]
    public void Parse_BodyNotAJsonObject_Is400ForTheBody(string body, string message)
    {
        var error = Refused(body);

        Assert.Equal((400, "body", message), (error.StatusCode, error.Field, error.Message));
    }

    [Fact]
    public void Parse_NestingDeeperThanTheReaderAllows_Is400ForTheBody()
    {
        var error = Refused(string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100));

        Assert.Equal("body", error.Field);
        Assert.StartsWith("the body is not valid JSON at line 1, byte 321: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"customer_id":"C1","product_id":"P1","rating":"High","comment":"nice"}""", "comment", "unknown field 'comment': feedback has customer_id, product_id, rating, reason_code, sentiment, feedback_date")]
    [InlineData("""{"Customer_ID":"C1"}""", "Customer_ID", "unknown field 'Customer_ID': feedback has customer_id, product_id, rating, reason_code, sentiment, feedback_date")]
    [InlineData("""{"":1}""", "[\"\"]", "unknown field '': feedback has customer_id, product_id, rating, reason_code, sentiment, feedback_date")]
    [InlineData("""{"na me":{"deep":[1,2]}}""", "[\"na me\"]", "unknown field 'na me': feedback has customer_id, product_id, rating, reason_code, sentiment, feedback_date")]
    [InlineData("""{"customer_id":"C1","customer_id":"C2","product_id":"P1","rating":"High"}""", "customer_id", "'customer_id' appears more than once")]
    [InlineData("""{"rating":"High","rating":"High"}""", "rating", "'rating' appears more than once")]
    public void Parse_UnknownOrRepeatedField_Is400NamingIt(string body, string field, string message)
    {
        var error = Refused(body);

        Assert.Equal((400, field, message), (error.StatusCode, error.Field, error.Message));
    }

    [Fact]
    public void Parse_MemberNameWithALoneSurrogate_Is400ForTheBody()
    {
        var error = Refused("""{"\ud800":"x"}""");

        Assert.Equal(("body", "the body has a member name that is not valid Unicode text (a lone surrogate escape)"), (error.Field, error.Message));
    }

    [Theory]
    [InlineData("""{"product_id":"P1","rating":"High"}""", "customer_id", "customer_id is required: the id of the customer the recommendation was made to")]
    [InlineData("""{"customer_id":"C1","rating":"High"}""", "product_id", "product_id is required: the recommended product being rated")]
    [InlineData("""{"customer_id":"C1","product_id":"P1"}""", "rating", "rating is required: High, Medium or Low")]
    [InlineData("""{}""", "customer_id", "customer_id is required: the id of the customer the recommendation was made to")]
    public void Parse_RequiredFieldMissing_Is400NamingIt(string body, string field, string message)
    {
        var error = Refused(body);

        Assert.Equal((400, field, message), (error.StatusCode, error.Field, error.Message));
    }

    [Theory]
    [InlineData("customer_id", "42", "a number")]
    [InlineData("customer_id", "null", "null")]
    [InlineData("product_id", "[\"P1\"]", "a list")]
    [InlineData("product_id", "{\"id\":\"P1\"}", "an object")]
    [InlineData("rating", "true", "true")]
    [InlineData("rating", "3", "a number")]
    [InlineData("reason_code", "false", "false")]
    [InlineData("sentiment", "1", "a number")]
    [InlineData("feedback_date", "20261124", "a number")]
    public void Parse_FieldOfTheWrongType_Is400NamingIt(string field, string value, string described)
    {
        var fields = new Dictionary<string, string> { ["customer_id"] = "\"C1\"", ["product_id"] = "\"P1\"", ["rating"] = "\"Low\"", ["reason_code"] = "\"x\"" };
        fields[field] = value;

        var error = Refused("{" + string.Join(",", fields.Select(pair => $"\"{pair.Key}\":{pair.Value}")) + "}");

        Assert.Equal((400, field, $"{field} must be a string, not {described}"), (error.StatusCode, error.Field, error.Message));
    }

    [Theory]
    [InlineData("customer_id", "", 0)]
    [InlineData("customer_id", "   ", 0)]
    [InlineData("product_id", "", 0)]
    [InlineData("product_id", "129", 129)]
    public void Parse_IdOutsideTheLength_Is400(string field, string value, int length)
    {
        var id = value == "129" ? new string('p', 129) : value;
        var body = field == "customer_id" ? $$"""{"customer_id":"{{id}}","product_id":"P1","rating":"High"}""" : $$"""{"customer_id":"C1","product_id":"{{id}}","rating":"High"}""";

        var error = Refused(body);

        Assert.Equal((field, $"{field} must have 1 to 128 characters (not counting surrounding spaces), not {length}"), (error.Field, error.Message));
    }

    [Fact]
    public void Parse_IdsOf128CharactersAfterTrimming_AreAccepted()
    {
        var id = new string('c', 128);

        var feedback = Parse($$"""{"customer_id":"  {{id}}  ","product_id":"{{id}}","rating":"High"}""").Feedback;

        Assert.Equal((id, id), (feedback.CustomerId, feedback.ProductId));
    }

    [Theory]
    [InlineData("C\\u00001", "U+0000 at character 2")]
    [InlineData("C\\t1", "U+0009 at character 2")]
    [InlineData("C1\\u007f", "U+007F at character 3")]
    [InlineData("C\\u00851", "U+0085 at character 2")]
    public void Parse_IdWithAControlCharacter_Is400(string escaped, string where)
    {
        var error = Refused($$"""{"customer_id":"{{escaped}}","product_id":"P1","rating":"High"}""");

        Assert.Equal(("customer_id", $"customer_id must not contain control characters ({where})"), (error.Field, error.Message));
    }

    [Fact]
    public void Parse_IdWithALoneSurrogateEscape_Is400()
    {
        var error = Refused("""{"customer_id":"C1","product_id":"P\udc00","rating":"High"}""");

        Assert.Equal(("product_id", "product_id must be valid Unicode text (it has a lone surrogate escape)"), (error.Field, error.Message));
    }

    [Fact]
    public void Parse_IdsInOtherScripts_AreKeptAsSent()
    {
        var feedback = Parse("""{"customer_id":"\u9867\u5ba2-7","product_id":"\ud83d\udd27 wrench","rating":"High"}""").Feedback;

        Assert.Equal(("\u9867\u5ba2-7", "\ud83d\udd27 wrench"), (feedback.CustomerId, feedback.ProductId));
    }

    [Theory]
    [InlineData("Excellent", "rating must be High, Medium or Low, not 'Excellent'")]
    [InlineData("", "rating must be High, Medium or Low, not ''")]
    [InlineData(" High", "rating must be High, Medium or Low, not ' High'")]
    [InlineData("H\u0130GH", "rating must be High, Medium or Low, not 'H\u0130GH'")]
    public void Parse_UnknownRating_Is400(string rating, string message)
    {
        var error = Refused($$"""{"customer_id":"C1","product_id":"P1","rating":"{{rating}}"}""");

        Assert.Equal(("rating", message), (error.Field, error.Message));
    }

    [Theory]
    [InlineData("Medium")]
    [InlineData("low")]
    public void Parse_MediumOrLowWithoutReasonCode_Is400(string rating)
    {
        var error = Refused($$"""{"customer_id":"C1","product_id":"P1","rating":"{{rating}}","sentiment":"negative"}""");

        Assert.Equal(("reason_code", "reason_code is required when rating is Medium or Low: say why, e.g. price_too_high or not_relevant"), (error.Field, error.Message));
    }

    [Theory]
    [InlineData("price too high", "price too high")]
    [InlineData("price-too-high", "price-too-high")]
    [InlineData("caf\u00e9", "caf\u00e9")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...")]
    public void Parse_BadReasonCode_Is400(string code, string shown)
    {
        var error = Refused($$"""{"customer_id":"C1","product_id":"P1","rating":"High","reason_code":"{{code}}"}""");

        Assert.Equal(("reason_code", $"reason_code must be 1 to 64 of a-z, 0-9 and _ after lower-casing and trimming, not '{shown}'"), (error.Field, error.Message));
    }

    [Fact]
    public void Parse_ReasonCodeOf64Characters_IsAccepted()
    {
        var code = new string('r', 64);

        Assert.Equal(code, Parse($$"""{"customer_id":"C1","product_id":"P1","rating":"Low","reason_code":"{{code.ToUpperInvariant()}}"}""").Feedback.ReasonCode);
    }

    [Theory]
    [InlineData("neutral")]
    [InlineData("pos")]
    public void Parse_UnknownSentiment_Is400(string sentiment)
    {
        var error = Refused($$"""{"customer_id":"C1","product_id":"P1","rating":"High","sentiment":"{{sentiment}}"}""");

        Assert.Equal(("sentiment", $"sentiment must be positive or negative, not '{sentiment}'"), (error.Field, error.Message));
    }

    [Theory]
    [InlineData("2026-11-26")]
    [InlineData("2026-11-25")]
    [InlineData("2000-01-01")]
    [InlineData("2024-02-29")]
    public void Parse_DateFromTheFirstAcceptedToTodayInUtcPlus14_IsKept(string date)
    {
        Assert.Equal(date, Parse($$"""{"customer_id":"C1","product_id":"P1","rating":"High","feedback_date":"{{date}}"}""").Feedback.FeedbackDateText);
    }

    [Theory]
    [InlineData("2026-11-27", "feedback_date 2026-11-27 is in the future: the latest date accepted is 2026-11-26 (today in UTC+14)")]
    [InlineData("9999-12-31", "feedback_date 9999-12-31 is in the future: the latest date accepted is 2026-11-26 (today in UTC+14)")]
    [InlineData("1999-12-31", "feedback_date 1999-12-31 is before 2000-01-01")]
    [InlineData("0001-01-01", "feedback_date 0001-01-01 is before 2000-01-01")]
    [InlineData("2025-02-29", "feedback_date must be a date as YYYY-MM-DD, not '2025-02-29'")]
    [InlineData("2026-13-01", "feedback_date must be a date as YYYY-MM-DD, not '2026-13-01'")]
    [InlineData("2026-1-5", "feedback_date must be a date as YYYY-MM-DD, not '2026-1-5'")]
    [InlineData("25/11/2026", "feedback_date must be a date as YYYY-MM-DD, not '25/11/2026'")]
    [InlineData("2026-11-24T10:00:00Z", "feedback_date must be a date as YYYY-MM-DD, not '2026-11-24T10:00:00Z'")]
    [InlineData("2026-11-24\\n", "feedback_date must be a date as YYYY-MM-DD, not '2026-11-24\n'")]
    [InlineData("\u0662\u0660\u0662\u0666-11-24", "feedback_date must be a date as YYYY-MM-DD, not '\u0662\u0660\u0662\u0666-11-24'")]
    [InlineData("", "feedback_date must be a date as YYYY-MM-DD, not ''")]
    public void Parse_BadDate_Is400(string date, string message)
    {
        var error = Refused($$"""{"customer_id":"C1","product_id":"P1","rating":"High","feedback_date":"{{date}}"}""");

        Assert.Equal(("feedback_date", message), (error.Field, error.Message));
    }

    [Fact]
    public void Parse_SeveralFieldMistakes_ReportsNamesFirstThenFieldsInSchemaOrder()
    {
        Assert.Equal("extra", Refused("""{"rating":"x","extra":1}""").Field);
        Assert.Equal("customer_id", Refused("""{"rating":"x","product_id":5}""").Field);
        Assert.Equal("product_id", Refused("""{"rating":"x","product_id":5,"customer_id":"C1"}""").Field);
        Assert.Equal("rating", Refused("""{"feedback_date":"x","rating":"x","product_id":"P","customer_id":"C1"}""").Field);
        Assert.Equal("reason_code", Refused("""{"feedback_date":"x","sentiment":"x","rating":"low","product_id":"P","customer_id":"C1"}""").Field);
        Assert.Equal("sentiment", Refused("""{"feedback_date":"x","sentiment":"x","rating":"high","product_id":"P","customer_id":"C1"}""").Field);
    }

    [Fact]
    public void Parse_LongValuesInErrors_AreCutWithoutSplittingACharacter()
    {
        var rating = new string('x', 39) + "\ud83d\ude00" + "tail";

        var error = Refused($$"""{"customer_id":"C1","product_id":"P1","rating":"{{rating}}"}""");

        Assert.Equal($"rating must be High, Medium or Low, not '{new string('x', 39)}...'", error.Message);
    }
}
