using Amazon.CDK;
using Amazon.CDK.AWS.KMS;
using Amazon.CDK.AWS.S3;
using Constructs;
using CustomerSegmentation.Infra.Compliance;
using CustomerSegmentation.Infra.Configuration;

namespace CustomerSegmentation.Infra.Storage;

/// <summary>Properties of <see cref="SegmentationStorage"/>.</summary>
public sealed class SegmentationStorageProps
{
    /// <summary>What happens to the buckets and their objects on stack deletion. Default: <see cref="DataRetention.Retain"/>.</summary>
    public DataRetention Retention { get; init; } = DataRetention.Retain;

    /// <summary>How long a replaced or deleted object version is kept before it expires. Default: 90 days.</summary>
    public Duration? NoncurrentVersionExpiration { get; init; }

    /// <summary>
    /// Customer-managed key for the data and model buckets. Default: none, S3-managed encryption (SSE-S3).
    /// The access-log bucket always uses SSE-S3, because S3 server access log delivery cannot write to SSE-KMS buckets.
    /// </summary>
    public IKey? EncryptionKey { get; init; }
}

/// <summary>
/// The platform's buckets: training data, model artifacts, and the server access logs of both. Secure by default:
/// public access blocked, TLS enforced, encrypted, versioned, retained when the stack is deleted.
/// </summary>
public sealed class SegmentationStorage : Construct
{
    public SegmentationStorage(Construct scope, string id, SegmentationStorageProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);
        var destroy = props.Retention == DataRetention.Destroy;
        var removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
        if (destroy)
        {
            Annotations.Of(this).AddWarningV2("segmentation:storage-destroy",
                "storage:removalPolicy is 'destroy': cdk destroy will delete the data, model and access-log buckets and every object in them. Use only for throw-away development stacks.");
        }

        var expiration = props.NoncurrentVersionExpiration ?? Duration.Days(90);

        // S3 server access log delivery cannot write to an SSE-KMS bucket, so the log bucket always uses SSE-S3; a log
        // bucket logging to itself would loop, so it has no access log of its own.
        AccessLogBucket = CreateBucket("AccessLogBucket", key: null, logs: null, removalPolicy, destroy, expiration);
        DataBucket = CreateBucket("DataBucket", props.EncryptionKey, (AccessLogBucket, "data-bucket/"), removalPolicy, destroy, expiration);
        ModelBucket = CreateBucket("ModelBucket", props.EncryptionKey, (AccessLogBucket, "model-bucket/"), removalPolicy, destroy, expiration);
        if (destroy)
        {
            HardenAutoDeleteProvider(Stack.Of(this));
        }
    }

    /// <summary>Training data: the customers CSV and anything data scientists upload.</summary>
    public IBucket DataBucket { get; }

    /// <summary>Model artifacts: one never-overwritten prefix per pipeline run.</summary>
    public IBucket ModelBucket { get; }

    /// <summary>Receives the server access logs of the data and model buckets.</summary>
    public IBucket AccessLogBucket { get; }

    /// <summary>
    /// AutoDeleteObjects adds CDK's stack-wide object-deleting Lambda. CDK 2.160 picks its runtime from a region map
    /// of nodejs20.x/nodejs18.x, which Lambda stopped accepting for new functions on 2026-06-01, so a destroy stack
    /// could not be created: pin the current Node.js runtime instead. The map then has no user and is removed, so the
    /// template carries no dead mapping. CDK does not recreate it: a CDK-provided Lambda added to this stack later
    /// would reference the missing map, which cfn-lint reports (E1011) in the compliance tests; pin that one too.
    /// </summary>
    private static void HardenAutoDeleteProvider(Stack stack)
    {
        var provider = stack.Node.FindChild("Custom::S3AutoDeleteObjectsCustomResourceProvider");
        ((CfnResource)provider.Node.FindChild("Handler")).AddPropertyOverride("Runtime", "nodejs24.x");
        _ = stack.Node.TryRemoveChild("LatestNodeRuntimeMap");
        NagAcknowledgements.Add(provider.Node.FindChild("Role"), "AwsSolutions-IAM4",
            "CDK's auto-delete-objects provider role only writes its own CloudWatch logs through AWSLambdaBasicExecutionRole; its S3 rights come from each bucket's policy. Created only when storage:removalPolicy is destroy.",
            "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole");
    }

    /// <summary>One bucket with every secure default; the three buckets differ only in key and access-log target.</summary>
    private Bucket CreateBucket(string id, IKey? key, (IBucket Bucket, string Prefix)? logs, RemovalPolicy removalPolicy, bool destroy, Duration expiration) =>
        new(this, id, new BucketProps
        {
            BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
            EnforceSSL = true,
            Encryption = key is null ? BucketEncryption.S3_MANAGED : BucketEncryption.KMS,
            EncryptionKey = key,
            BucketKeyEnabled = key is not null,
            Versioned = true,
            ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
            ServerAccessLogsBucket = logs?.Bucket,
            ServerAccessLogsPrefix = logs?.Prefix,
            RemovalPolicy = removalPolicy,
            AutoDeleteObjects = destroy,
            LifecycleRules =
            [
                new LifecycleRule
                {
                    Id = "ExpireNoncurrentVersions",
                    NoncurrentVersionExpiration = expiration,
                    AbortIncompleteMultipartUploadAfter = Duration.Days(7),
                },
            ],
        });
}
