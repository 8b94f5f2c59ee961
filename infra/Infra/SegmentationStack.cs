using Amazon.CDK;
using Constructs;
using CustomerSegmentation.Infra.Configuration;
using CustomerSegmentation.Infra.Storage;

namespace CustomerSegmentation.Infra;

/// <summary>Properties of <see cref="SegmentationStack"/>.</summary>
public sealed class SegmentationStackProps : StackProps
{
    /// <summary>The validated platform settings.</summary>
    public required PlatformSettings Settings { get; init; }
}

/// <summary>
/// The whole platform in one stack: storage, the notebook environment, the training pipeline, the endpoint
/// deployment and the API. Construct IDs below are a public contract: renaming one replaces the resource.
/// </summary>
public sealed class SegmentationStack : Stack
{
    public SegmentationStack(Construct scope, string id, SegmentationStackProps props)
        : base(scope, id, props)
    {
        ArgumentNullException.ThrowIfNull(props);
        var settings = props.Settings;

        Storage = new SegmentationStorage(this, "Storage", new SegmentationStorageProps
        {
            Retention = settings.Storage.Retention,
            NoncurrentVersionExpiration = Duration.Days(settings.Storage.NoncurrentVersionExpirationDays),
            EncryptionKey = settings.Storage.KmsKeyArn is { } keyArn
                ? Amazon.CDK.AWS.KMS.Key.FromKeyArn(this, "BucketKey", keyArn)
                : null,
        });

        _ = new CfnOutput(this, "DataBucketName", new CfnOutputProps
        {
            Value = Storage.DataBucket.BucketName,
            Description = "Bucket for training data (customers CSV under data/).",
        });
        _ = new CfnOutput(this, "ModelBucketName", new CfnOutputProps
        {
            Value = Storage.ModelBucket.BucketName,
            Description = "Bucket for model artifacts, one versioned prefix per pipeline run.",
        });
    }

    /// <summary>The data, model and access-log buckets.</summary>
    public SegmentationStorage Storage { get; }
}
