using System.Globalization;
using System.Text;
using CustomerSegmentation.ProxyFunctions;
using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

public sealed class SegmentRequestTests
{
    private static SegmentRequest Parse(string body, int maxBatch = 1000, int maxBytes = 256 * 1024) =>
        SegmentRequest.Parse(Encoding.UTF8.GetBytes(body), maxBatch, maxBytes);

    private static RequestException Rejected(string body, int maxBatch = 1000, int maxBytes = 256 * 1024) =>
        Assert.Throws<RequestException>(() => Parse(body, maxBatch, maxBytes));

    private static CustomerInput[] Customers(SegmentRequest request) => [.. Enumerable.Range(0, request.Count).Select(request.Customer)];

    private static double[][] Rows(SegmentRequest request) => [.. Enumerable.Range(0, request.Count).Select(index => request.FeatureRow(index).ToArray())];

    [Fact]
    public void Parse_CustomersBatch_ReadsEveryCustomerWithItsPath()
    {
        var request = Parse("""{"customers":[{"age":34,"income":72000,"purchases":12},{"purchases":3.5,"age":20.25,"income":0}]}""");

        Assert.False(request.HasFeatureRows);
        Assert.False(request.IsSingleCustomer);
        Assert.Equal([new CustomerInput("customers[0]", 34, 72000, 12), new CustomerInput("customers[1]", 20.25, 0, 3.5)], Customers(request));
    }

    [Fact]
    public void Parse_SingleCustomerObject_IsABatchOfOneWithBareFieldNames()
    {
        var request = Parse("""{"age":34,"income":72000,"purchases":12}""");

        var customer = Assert.Single(Customers(request));
        Assert.True(request.IsSingleCustomer);
        Assert.Equal(new CustomerInput("", 34, 72000, 12), customer);
        Assert.Equal("income", customer.FieldPath("income"));
    }

    [Fact]
    public void Parse_LegacyFeatures_ReadsTheRows()
    {
        var request = Parse("""{"features":[[-1.14,-1.13,0.68],[1.10,0.45,-0.29]]}""");

        Assert.True(request.HasFeatureRows);
        Assert.Equal([[-1.14, -1.13, 0.68], [1.10, 0.45, -0.29]], Rows(request));
    }

    [Fact]
    public void Parse_LegacyRowsOfDifferentWidths_KeepEachRowAsSent()
    {
        var request = Parse("""{"features":[[1],[2,3,4,5],[],[6,7]]}""");

        Assert.Equal([[1.0], [2.0, 3, 4, 5], [], [6.0, 7]], Rows(request));
    }

    [Fact]
    public void Parse_MissingFieldIsNotAParseError_TheModelDecidesWhatIsNeeded()
    {
        var request = Parse("""{"customers":[{"age":34}]}""");

        Assert.Equal(new CustomerInput("customers[0]", 34, null, null), Assert.Single(Customers(request)));
    }

    [Fact]
    public void Parse_EscapedAndSpacedNames_AreTheNamesTheyDecodeTo()
    {
        var request = Parse("{ \"customers\" : [ { \"\\u0061ge\" : 34 , \"inc\\u006Fme\" : 72000 , \"purchases\" : 1.2e1 } ] }");

        Assert.Equal(new CustomerInput("customers[0]", 34, 72000, 12), Assert.Single(Customers(request)));
    }

    [Fact]
    public void Parse_ABatchAtTheLimit_ReadsEveryNumberExactly()
    {
        var random = new Random(7);
        var customers = Enumerable.Range(0, 1000).Select(index => new CustomerInput($"customers[{index}]",
            random.NextDouble() * 120, random.NextDouble() * 1e9, index % 7 == 0 ? null : random.NextDouble() * 1e6)).ToArray();
        var body = "{\"customers\":[" + string.Join(",", customers.Select(customer => string.Create(CultureInfo.InvariantCulture,
            $"{{\"age\":{customer.Age:R},\"income\":{customer.Income:R}{(customer.Purchases is { } purchases ? $",\"purchases\":{purchases:R}" : "")}}}"))) + "]}";

        var request = Parse(body, maxBatch: 1000, maxBytes: body.Length);

        Assert.Equal(customers, Customers(request));
    }

    [Theory]
    [InlineData("""{"customers":[{"age":34,"income":"72000","purchases":12}]}""", "customers[0].income", "must be a number, not a string")]
    [InlineData("""{"customers":[{"age":34,"income":72000,"purchases":12},{"age":true}]}""", "customers[1].age", "must be a number, not a boolean")]
    [InlineData("""{"customers":[{"age":null}]}""", "customers[0].age", "must be a number, not null")]
    [InlineData("""{"customers":[{"age":[1]}]}""", "customers[0].age", "must be a number, not a list")]
    [InlineData("""{"customers":[{"age":1e400}]}""", "customers[0].age", "1e400 is not a finite number in double range")]
    [InlineData("""{"customers":[{"age":34,"gender":"F"}]}""", "customers[0].gender", "unknown field 'gender': a customer has age, income, purchases")]
    [InlineData("""{"customers":[{"Age":34}]}""", "customers[0].Age", "unknown field 'Age': a customer has age, income, purchases")]
    [InlineData("""{"customers":[{"age":34,"age":35}]}""", "customers[0].age", "'age' appears more than once")]
    [InlineData("""{"customers":[34]}""", "customers[0]", "a customer must be an object like {\"age\":34,\"income\":72000,\"purchases\":12}, not a number")]
    [InlineData("""{"customers":{"age":34}}""", "customers", "customers must be a list, not an object")]
    [InlineData("""{"customers":[]}""", "customers", "customers is empty: send at least one")]
    [InlineData("""{"customers":[{"age":1}],"features":[[1,2,3]]}""", "features", "send either customers or features, not both")]
    [InlineData("""{"customers":[{"age":1}],"model":"x"}""", "model", "unknown field 'model' next to customers")]
    [InlineData("""{"features":[[1,"2",3]]}""", "features[0][1]", "must be a number, not a string")]
    [InlineData("""{"features":[1,2,3]}""", "features[0]", "a feature row must be a list of scaled numbers, not a number")]
    [InlineData("""{"features":[]}""", "features", "features is empty: send at least one")]
    [InlineData("""{"income":1,"salary":2}""", "salary", "unknown field 'salary': a customer has age, income, purchases (or send customers or features)")]
    [InlineData("""{"":1}""", "[\"\"]", "unknown field '': a customer has age, income, purchases (or send customers or features)")]
    [InlineData("""{"customers":[{"a ge":1}]}""", "customers[0][\"a ge\"]", "unknown field 'a ge': a customer has age, income, purchases")]
    [InlineData("""{"customers":[{"\"":1}]}""", "customers[0][\"\\u0022\"]", "unknown field '\"': a customer has age, income, purchases")]
    [InlineData("""[{"age":34}]""", "body", "the body must be a JSON object, not a list")]
    [InlineData("\"hello\"", "body", "the body must be a JSON object, not a string")]
    [InlineData("", "body", """the body is empty: send {"customers":[{"age":34,"income":72000,"purchases":12}]}""")]
    public void Parse_CallerMistake_NamesTheFieldAndTheRule(string body, string field, string error)
    {
        var exception = Rejected(body);

        Assert.Equal(field, exception.Field);
        Assert.Equal(error, exception.Message);
    }

    [Theory]
    [InlineData("""{"customers":[{"age":34,}]}""", "the body is not valid JSON at line 1, byte 25: ")]
    [InlineData("{\n  \"customers\": [\n    {\"age\": 34\n", "the body is not valid JSON at line 4, byte 1: ")]
    [InlineData("""{"age":NaN}""", "the body is not valid JSON at line 1, byte 8: ")]
    public void Parse_MalformedJson_ReportsTheBodyAndThePosition(string body, string prefix)
    {
        var exception = Rejected(body);

        Assert.Equal("body", exception.Field);
        Assert.StartsWith(prefix, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestingDeeperThanSixteen_IsRejectedAsBody()
    {
        var exception = Rejected(new string('[', 17) + new string(']', 17));

        Assert.Equal("body", exception.Field);
        Assert.StartsWith("the body is not valid JSON at line 1, byte 17: ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MoreCustomersThanTheBatchLimit_IsRejected()
    {
        var exception = Rejected("""{"customers":[{"age":1},{"age":2},{"age":3}]}""", maxBatch: 2);

        Assert.Equal("customers", exception.Field);
        Assert.Equal("customers has 3 entries; at most 2 are accepted per request", exception.Message);
    }

    [Fact]
    public void Parse_BodyAboveTheByteLimit_IsRejectedBeforeParsing()
    {
        var exception = Rejected("{\"customers\":[" + new string(' ', 100) + "]}", maxBytes: 64);

        Assert.Equal("body", exception.Field);
        Assert.Equal("the body has 116 bytes; at most 64 are accepted: send fewer customers per request", exception.Message);
    }

    [Fact]
    public void Parse_InvalidUtf8InAName_IsRejectedAsBody()
    {
        byte[] body = [.. "{\""u8, 0xC3, 0x28, .. "\":1}"u8];

        var exception = Assert.Throws<RequestException>(() => SegmentRequest.Parse(body, 10, 1000));

        Assert.Equal("body", exception.Field);
    }

    [Fact]
    public void BodyBytes_Base64Flagged_IsDecoded()
    {
        var bytes = RequestBody.Bytes(Encoding.UTF8.GetBytes(Convert.ToBase64String("""{"age":1}"""u8.ToArray())), isBase64Encoded: true);

        Assert.Equal("""{"age":1}""", Encoding.UTF8.GetString(bytes.Span));
    }

    [Fact]
    public void BodyBytes_NotFlagged_IsTheTextItself()
    {
        var text = new ReadOnlyMemory<byte>("""{"age":1}"""u8.ToArray());

        var bytes = RequestBody.Bytes(text, isBase64Encoded: false);

        Assert.True(bytes.Equals(text));
    }

    [Fact]
    public void BodyBytes_Base64FlaggedButInvalid_IsRejectedAsBody()
    {
        var exception = Assert.Throws<RequestException>(() => RequestBody.Bytes("not base64!"u8.ToArray(), isBase64Encoded: true));

        Assert.Equal("body", exception.Field);
        Assert.Equal("the body is marked base64-encoded but is not valid base64", exception.Message);
    }

    /// <summary>
    /// The parser reads in one pass but reports mistakes in a fixed order, whatever order it meets them in: syntax anywhere,
    /// then the body's own names, then the list, then the first customer or row with a mistake, and inside a customer its
    /// names before its values.
    /// </summary>
    [Theory]
    [InlineData("""{"customers":[{"age":"x"}]} {""", "body", "the body is not valid JSON at line 1, byte 29: ")]
    [InlineData("""{"customers":[{"age":"x"}],"customers":[]}""", "customers", "'customers' appears more than once")]
    [InlineData("""{"customers":[{"age":"x"}],"model":1}""", "model", "unknown field 'model' next to customers")]
    [InlineData("""{"model":1,"customers":[{"age":"x"}],"age":2,"age":3}""", "age", "'age' appears more than once")]
    [InlineData("""{"features":[["x"]],"customers":[{"age":"x"}]}""", "features", "send either customers or features, not both")]
    [InlineData("""{"age":"x","features":[[1,2,3]]}""", "age", "unknown field 'age' next to features")]
    [InlineData("""{"customers":[{"age":"x"},{},{}]}""", "customers", "customers has 3 entries; at most 2 are accepted per request")]
    [InlineData("""{"customers":[{"age":"x","zzz":1}]}""", "customers[0].zzz", "unknown field 'zzz': a customer has age, income, purchases")]
    [InlineData("""{"customers":[{"zzz":1,"age":1,"age":2}]}""", "customers[0].age", "'age' appears more than once")]
    [InlineData("""{"customers":[{"zzz":1,"y":2,"zzz":3}]}""", "customers[0].zzz", "'zzz' appears more than once")]
    [InlineData("""{"customers":[{"purchases":"x","income":[],"age":{}}]}""", "customers[0].age", "must be a number, not an object")]
    [InlineData("""{"customers":[{"income":"x"},{"age":"y"}]}""", "customers[0].income", "must be a number, not a string")]
    [InlineData("""{"customers":[{},{"customers":1}]}""", "customers[1].customers", "unknown field 'customers': a customer has age, income, purchases")]
    [InlineData("""{"purchases":null,"zzz":1,"age":"x"}""", "zzz", "unknown field 'zzz': a customer has age, income, purchases (or send customers or features)")]
    [InlineData("""{"purchases":null,"age":true}""", "age", "must be a number, not a boolean")]
    [InlineData("""{"features":[[1,2],[3,"x",[]]]}""", "features[1][1]", "must be a number, not a string")]
    [InlineData("""{"features":[[1e999]]}""", "features[0][0]", "1e999 is not a finite number in double range")]
    public void Parse_SeveralMistakes_ReportsTheOneThatRanksFirst(string body, string field, string error)
    {
        var exception = Rejected(body, maxBatch: 2);

        Assert.Equal(field, exception.Field);
        Assert.StartsWith(error, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidUtf8InALaterCustomer_IsNotReportedWhenAnEarlierCustomerIsWrong()
    {
        byte[] body = [.. "{\"customers\":[{\"age\":\"x\"},{\""u8, 0xC3, 0x28, .. "\":1}]}"u8];

        var exception = Assert.Throws<RequestException>(() => SegmentRequest.Parse(body, 10, 1000));

        Assert.Equal(("customers[0].age", "must be a number, not a string"), (exception.Field, exception.Message));
    }

    [Fact]
    public void Parse_InvalidUtf8InACustomer_IsReportedAfterTheBodysOwnMistakes()
    {
        byte[] invalidFirst = [.. "{\"customers\":[{\""u8, 0xC3, 0x28, .. "\":1}]}"u8];
        byte[] unknownAfter = [.. "{\"customers\":[{\""u8, 0xC3, 0x28, .. "\":1}],\"zzz\":2}"u8];

        var invalid = Assert.Throws<RequestException>(() => SegmentRequest.Parse(invalidFirst, 10, 1000));
        var unknown = Assert.Throws<RequestException>(() => SegmentRequest.Parse(unknownAfter, 10, 1000));

        Assert.Equal("body", invalid.Field);
        Assert.StartsWith("the body is not valid UTF-8 JSON text: ", invalid.Message, StringComparison.Ordinal);
        Assert.Equal(("zzz", "unknown field 'zzz' next to customers"), (unknown.Field, unknown.Message));
    }

    [Fact]
    public void Constructor_CustomerWithAPathItsPlaceDoesNotGive_IsRefused()
    {
        var exception = Assert.Throws<ArgumentException>(() => new SegmentRequest([new CustomerInput("customers[3]", 1, 2, 3)], null));

        Assert.StartsWith("Customer 0 has the path 'customers[3]'; in a request it is 'customers[0]'.", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NeitherOrBothKinds_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new SegmentRequest(null, null));
        Assert.Throws<ArgumentException>(() => new SegmentRequest([], []));
    }
}
