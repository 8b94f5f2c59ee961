using Amazon.CDK;
using CustomerSegmentation.Infra;
using CustomerSegmentation.Infra.Configuration;

var app = new App(new AppProps { Context = PlatformFeatureFlags.Values });
var settings = PlatformSettings.FromContext(app.Node);
_ = new SegmentationStack(app, settings.StackName, new SegmentationStackProps
{
    Settings = settings,
    Description = "Customer segmentation ML platform: data, notebook, training pipeline, endpoint and API.",
});
app.Synth();
