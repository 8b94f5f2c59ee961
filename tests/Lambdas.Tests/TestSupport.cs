using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests;

internal static class TestSupport
{
    public const string Region = "us-east-1";

    /// <summary>Client options aimed at <paramref name="standIn"/>, with an empty environment and recorded (not slept) backoffs.</summary>
    public static AwsClientOptions OptionsFor(AwsServiceStandIn standIn, List<TimeSpan>? delays = null, int maxAttempts = 3) => new()
    {
        Region = Region,
        Credentials = AwsServiceStandIn.TestCredentials,
        ServiceUrl = standIn.BaseUri,
        EnvironmentVariables = _ => null,
        Retry = RecordingRetry(delays, maxAttempts),
    };

    public static RetryOptions RecordingRetry(List<TimeSpan>? delays, int maxAttempts = 3) => new()
    {
        MaxAttempts = maxAttempts,
        Delay = (delay, _) =>
        {
            lock (delays ?? [])
            {
                delays?.Add(delay);
            }

            return Task.CompletedTask;
        },
    };

    public static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.Where(variable => variable.Name == name).Select(variable => variable.Value).FirstOrDefault();

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
