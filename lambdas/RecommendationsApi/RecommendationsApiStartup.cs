using Amazon.DynamoDBv2;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

namespace CustomerSegmentation.RecommendationsApi;

/// <summary>Builds the handler once per execution environment from the process environment.</summary>
public static class RecommendationsApiStartup
{
    public static Task<LambdaHandler> InitializeAsync(LambdaLogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var settings = RecommendationsApiSettings.FromEnvironment(Environment.GetEnvironmentVariable);
        // The SDK's own region, credentials and endpoint resolution (AWS_REGION, the Lambda role's variables,
        // AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL).
        var table = new MeasuredTableClient(new DynamoDbTableClient(new AmazonDynamoDBClient()), TimeProvider.System);
        var function = Create(settings, table, TimeProvider.System);
        logger.Information("RecommendationsApi initialized.", ("recommendationsTable", settings.RecommendationsTable), ("feedbackTable", settings.FeedbackTable),
            ("pointerCacheSeconds", (int)settings.PointerCacheDuration.TotalSeconds), ("maxBodyBytes", settings.MaxBodyBytes),
            ("corsAllowedOrigins", string.Join(",", settings.CorsAllowedOrigins)));
        return Task.FromResult<LambdaHandler>(function.HandleAsync);
    }

    /// <summary>The handler and its services over <paramref name="table"/>.</summary>
    public static RecommendationsApiFunction Create(RecommendationsApiSettings settings, ITableClient table, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var runs = new PublishedRuns(table, settings.RecommendationsTable, settings.PointerCacheDuration, time);
        var reader = new RecommendationReader(table, settings.RecommendationsTable, runs);
        var recorder = new FeedbackRecorder(table, settings.FeedbackTable, reader, time);
        return new RecommendationsApiFunction(settings, reader, recorder, time);
    }
}
