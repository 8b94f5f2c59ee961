using Amazon.CDK;
using Constructs;

namespace CustomerSegmentation.Infra.Pipelines;

/// <summary>
/// The SageMaker scikit-learn 1.2-1 image (Python 3.9, scikit-learn 1.2.1: what Debian's python here runs). AWS
/// publishes it from a different account in each region, so the account is looked up in the template by
/// <c>AWS::Region</c> and the stack stays region-agnostic.
/// </summary>
public static class SklearnImage
{
    /// <summary>The ECR repository name.</summary>
    public const string Repository = "sagemaker-scikit-learn";

    /// <summary>The image tag.</summary>
    public const string Tag = "1.2-1-cpu-py3";

    private const string MappingId = "SklearnImageAccounts";
    private const string AccountKey = "account";

    /// <summary>
    /// Region to publishing account of the 1.2-1 image, copied from the SageMaker Python SDK's
    /// <c>src/sagemaker/image_uri_config/sklearn.json</c> ("training" and "inference" list the same accounts). The
    /// us-iso regions are left out: their partitions are not among the platform's target partitions.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Accounts { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["af-south-1"] = "510948584623",
        ["ap-east-1"] = "651117190479",
        ["ap-northeast-1"] = "354813040037",
        ["ap-northeast-2"] = "366743142698",
        ["ap-northeast-3"] = "867004704886",
        ["ap-south-1"] = "720646828776",
        ["ap-south-2"] = "628508329040",
        ["ap-southeast-1"] = "121021644041",
        ["ap-southeast-2"] = "783357654285",
        ["ap-southeast-3"] = "951798379941",
        ["ap-southeast-4"] = "106583098589",
        ["ca-central-1"] = "341280168497",
        ["cn-north-1"] = "450853457545",
        ["cn-northwest-1"] = "451049120500",
        ["eu-central-1"] = "492215442770",
        ["eu-central-2"] = "680994064768",
        ["eu-north-1"] = "662702820516",
        ["eu-south-1"] = "978288397137",
        ["eu-south-2"] = "104374241257",
        ["eu-west-1"] = "141502667606",
        ["eu-west-2"] = "764974769150",
        ["eu-west-3"] = "659782779980",
        ["me-central-1"] = "272398656194",
        ["me-south-1"] = "801668240914",
        ["sa-east-1"] = "737474898029",
        ["us-east-1"] = "683313688378",
        ["us-east-2"] = "257758044811",
        ["us-gov-east-1"] = "237065988967",
        ["us-gov-west-1"] = "414596584902",
        ["us-west-1"] = "746614075791",
        ["us-west-2"] = "246618743249",
    };

    /// <summary>The publishing account for the stack's region: <c>Fn::FindInMap</c> on a stack-wide mapping.</summary>
    public static string Account(Construct scope)
    {
        var stack = Stack.Of(scope);
        var mapping = stack.Node.TryFindChild(MappingId) as CfnMapping ?? new CfnMapping(stack, MappingId, new CfnMappingProps
        {
            Mapping = Accounts.ToDictionary(
                a => a.Key,
                a => (IDictionary<string, object>)new Dictionary<string, object> { [AccountKey] = a.Value }),
        });
        return mapping.FindInMap(Aws.REGION, AccountKey);
    }

    /// <summary><c>&lt;account&gt;.dkr.ecr.&lt;region&gt;.&lt;url suffix&gt;/sagemaker-scikit-learn:1.2-1-cpu-py3</c>.</summary>
    public static string Uri(Construct scope) => $"{Account(scope)}.dkr.ecr.{Aws.REGION}.{Aws.URL_SUFFIX}/{Repository}:{Tag}";

    /// <summary>The ARN of the image's ECR repository, for pull permissions.</summary>
    public static string RepositoryArn(Construct scope) =>
        $"arn:{Aws.PARTITION}:ecr:{Aws.REGION}:{Account(scope)}:repository/{Repository}";
}
