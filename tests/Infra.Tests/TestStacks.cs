using Amazon.CDK;
using Amazon.CDK.Assertions;
using CustomerSegmentation.Infra.Configuration;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>
/// Synthesizes the platform stack the way Program.cs does, with extra context for the case under test. Lambda bundling
/// (a native-AOT publish per function) is off unless the context turns it on: the asset hashes, computed from the
/// sources, are the same either way.
/// </summary>
internal static class TestStacks
{
    /// <summary>CDK's built-in switch: bundle assets only in the stacks whose paths match these patterns.</summary>
    public const string BundlingStacks = "aws:cdk:bundling-stacks";

    public static SegmentationStack Create(IDictionary<string, object>? context = null)
    {
        var merged = new Dictionary<string, object>(PlatformFeatureFlags.Values) { [BundlingStacks] = Array.Empty<string>() };
        foreach (var (key, value) in context ?? new Dictionary<string, object>())
        {
            merged[key] = value;
        }

        var app = new App(new AppProps { Context = merged });
        var settings = PlatformSettings.FromContext(app.Node);
        return new SegmentationStack(app, settings.StackName, new SegmentationStackProps { Settings = settings });
    }

    public static Template Template(IDictionary<string, object>? context = null) =>
        Amazon.CDK.Assertions.Template.FromStack(Create(context));
}
