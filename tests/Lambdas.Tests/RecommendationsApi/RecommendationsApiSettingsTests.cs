using CustomerSegmentation.RecommendationsApi;
using static CustomerSegmentation.Lambdas.Tests.TestSupport;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

public sealed class RecommendationsApiSettingsTests
{
    private static readonly (string, string)[] Tables = [("RECOMMENDATIONS_TABLE_NAME", "serving"), ("FEEDBACK_TABLE_NAME", "feedback")];

    [Fact]
    public void FromEnvironment_OnlyRequiredVariables_UsesTheDocumentedDefaults()
    {
        var settings = RecommendationsApiSettings.FromEnvironment(Environment(Tables));

        Assert.Equal("serving", settings.RecommendationsTable);
        Assert.Equal("feedback", settings.FeedbackTable);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.PointerCacheDuration);
        Assert.Equal(16384, settings.MaxBodyBytes);
        Assert.Empty(settings.CorsAllowedOrigins);
        Assert.Equal(TimeSpan.FromSeconds(30), RecommendationsApiSettings.RetryAfter);
    }

    [Fact]
    public void FromEnvironment_EveryVariableSet_IsRead()
    {
        var settings = RecommendationsApiSettings.FromEnvironment(Environment(
            ("RECOMMENDATIONS_TABLE_NAME", " Segmentation-Serving.v2 "), ("FEEDBACK_TABLE_NAME", "Segmentation_Feedback"), ("POINTER_CACHE_SECONDS", "0"),
            ("MAX_BODY_BYTES", "1048576"), ("CORS_ALLOWED_ORIGINS", "https://crm.example.com, https://CRM.example.com,https://app.example.com:8443")));

        Assert.Equal("Segmentation-Serving.v2", settings.RecommendationsTable);
        Assert.Equal("Segmentation_Feedback", settings.FeedbackTable);
        Assert.Equal(TimeSpan.Zero, settings.PointerCacheDuration);
        Assert.Equal(1048576, settings.MaxBodyBytes);
        Assert.Equal(["https://crm.example.com", "https://app.example.com:8443"], settings.CorsAllowedOrigins);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("300", 300)]
    [InlineData(" 45 ", 45)]
    public void FromEnvironment_PointerCacheSecondsInRange_IsRead(string value, int seconds)
    {
        var settings = RecommendationsApiSettings.FromEnvironment(Environment([.. Tables, ("POINTER_CACHE_SECONDS", value)]));

        Assert.Equal(TimeSpan.FromSeconds(seconds), settings.PointerCacheDuration);
    }

    [Theory]
    [InlineData("2", 2)]
    [InlineData("1048576", 1048576)]
    public void FromEnvironment_MaxBodyBytesAtTheLimits_IsRead(string value, int bytes)
    {
        var settings = RecommendationsApiSettings.FromEnvironment(Environment([.. Tables, ("MAX_BODY_BYTES", value)]));

        Assert.Equal(bytes, settings.MaxBodyBytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void FromEnvironment_BlankOptionalVariables_MeanTheirDefaults(string blank)
    {
        var settings = RecommendationsApiSettings.FromEnvironment(Environment(
            [.. Tables, ("POINTER_CACHE_SECONDS", blank), ("MAX_BODY_BYTES", blank), ("CORS_ALLOWED_ORIGINS", blank)]));

        Assert.Equal((TimeSpan.FromSeconds(30), 16384, 0), (settings.PointerCacheDuration, settings.MaxBodyBytes, settings.CorsAllowedOrigins.Count));
    }

    [Fact]
    public void FromEnvironment_NothingSet_ReportsBothTables()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RecommendationsApiSettings.FromEnvironment(Environment()));

        Assert.Equal("RecommendationsApi configuration is invalid: "
            + "RECOMMENDATIONS_TABLE_NAME is not set: set it to the name of the serving table the Publish step writes; "
            + "FEEDBACK_TABLE_NAME is not set: set it to the name of the table feedback is stored in.", error.Message);
    }

    [Fact]
    public void FromEnvironment_EverythingWrong_ReportsEveryProblemAtOnce()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RecommendationsApiSettings.FromEnvironment(Environment(
            ("RECOMMENDATIONS_TABLE_NAME", "serving table"), ("FEEDBACK_TABLE_NAME", "fb"), ("POINTER_CACHE_SECONDS", "301"),
            ("MAX_BODY_BYTES", "1"), ("CORS_ALLOWED_ORIGINS", "http://crm.example.com"))));

        Assert.Equal("RecommendationsApi configuration is invalid: "
            + "RECOMMENDATIONS_TABLE_NAME is 'serving table'; valid: a DynamoDB table name, 3 to 255 letters, digits, '_', '-' or '.'; "
            + "FEEDBACK_TABLE_NAME is 'fb'; valid: a DynamoDB table name, 3 to 255 letters, digits, '_', '-' or '.'; "
            + "POINTER_CACHE_SECONDS is '301'; valid: a whole number from 0 to 300; "
            + "MAX_BODY_BYTES is '1'; valid: a whole number from 2 to 1048576; "
            + "CORS_ALLOWED_ORIGINS is 'http://crm.example.com'; valid: https origins separated by commas, each scheme, host and optional port without "
            + "path or wildcard, such as https://app.example.com ('http://crm.example.com' is not one).", error.Message);
    }

    [Theory]
    [InlineData("POINTER_CACHE_SECONDS", "-1", "a whole number from 0 to 300")]
    [InlineData("POINTER_CACHE_SECONDS", "30s", "a whole number from 0 to 300")]
    [InlineData("POINTER_CACHE_SECONDS", "1.5", "a whole number from 0 to 300")]
    [InlineData("POINTER_CACHE_SECONDS", "99999999999", "a whole number from 0 to 300")]
    [InlineData("MAX_BODY_BYTES", "1048577", "a whole number from 2 to 1048576")]
    [InlineData("MAX_BODY_BYTES", "16KB", "a whole number from 2 to 1048576")]
    [InlineData("MAX_BODY_BYTES", "+100", "a whole number from 2 to 1048576")]
    public void FromEnvironment_BadNumber_NamesTheVariableTheValueAndTheRange(string name, string value, string valid)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RecommendationsApiSettings.FromEnvironment(Environment([.. Tables, (name, value)])));

        Assert.Equal($"RecommendationsApi configuration is invalid: {name} is '{value}'; valid: {valid}.", error.Message);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("serving/table")]
    [InlineData("arn:aws:dynamodb:us-east-1:123456789012:table/serving")]
    [InlineData("tab\u00e9le")]
    public void FromEnvironment_BadTableName_IsRejected(string name)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RecommendationsApiSettings.FromEnvironment(Environment(
            ("RECOMMENDATIONS_TABLE_NAME", "serving"), ("FEEDBACK_TABLE_NAME", name))));

        Assert.Equal($"RecommendationsApi configuration is invalid: FEEDBACK_TABLE_NAME is '{name}'; valid: a DynamoDB table name, 3 to 255 letters, "
            + "digits, '_', '-' or '.'.", error.Message);
    }

    [Fact]
    public void FromEnvironment_TableNameOf256Characters_IsRejectedAnd255Accepted()
    {
        var accepted = RecommendationsApiSettings.FromEnvironment(Environment(("RECOMMENDATIONS_TABLE_NAME", new string('t', 255)), ("FEEDBACK_TABLE_NAME", "fbk")));
        var error = Assert.Throws<InvalidOperationException>(() => RecommendationsApiSettings.FromEnvironment(Environment(
            ("RECOMMENDATIONS_TABLE_NAME", new string('t', 256)), ("FEEDBACK_TABLE_NAME", "fbk"))));

        Assert.Equal(255, accepted.RecommendationsTable.Length);
        Assert.StartsWith("RecommendationsApi configuration is invalid: RECOMMENDATIONS_TABLE_NAME is 'tttt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_CorsOriginsOnlyCommas_IsRejected()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RecommendationsApiSettings.FromEnvironment(Environment([.. Tables, ("CORS_ALLOWED_ORIGINS", ",,")])));

        Assert.Equal("RecommendationsApi configuration is invalid: CORS_ALLOWED_ORIGINS is ',,'; valid: https origins separated by commas, each scheme, "
            + "host and optional port without path or wildcard, such as https://app.example.com.", error.Message);
    }
}
