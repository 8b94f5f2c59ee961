using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>Fetches S3 data sources into a step's directory the way SageMaker's File input mode does.</summary>
internal static class DataSources
{
    /// <summary>Downloads an S3Prefix source; a prefix with no objects fails the step with SageMaker's ClientError.</summary>
    public static async Task DownloadAsync(StepContext context, string uri, string dataType, string localDirectory, CancellationToken cancellationToken)
    {
        if (dataType != "S3Prefix")
        {
            throw new StepFailedException(
                $"ClientError: S3DataType {dataType} of {uri} is not supported by the local runner (S3Prefix only).");
        }

        var location = S3Location.Parse(uri);
        Directory.CreateDirectory(localDirectory);
        var count = await context.Store.DownloadPrefixAsync(location, localDirectory, cancellationToken).ConfigureAwait(false);
        if (count == 0)
        {
            throw new StepFailedException(
                $"ClientError: No S3 objects found under S3 URL \"{uri}\" given in input data source. Please ensure that the bucket " +
                $"exists in the selected region ({LocalAccount.Region}), that objects exist under that S3 prefix, and that " +
                $"the role has \"s3:ListBucket\" permissions on bucket \"{location.Bucket}\".");
        }

        await context.Log.WriteLineAsync($"    [{context.Step.Name}] {uri} -> {localDirectory} ({count} file(s))").ConfigureAwait(false);
    }
}
