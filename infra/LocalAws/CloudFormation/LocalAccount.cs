namespace CustomerSegmentation.LocalAws.CloudFormation;

/// <summary>The fixed account and region a local run pretends to be in, so ARNs and asset bucket names are stable.</summary>
public static class LocalAccount
{
    public const string Region = "us-east-1";
    public const string AccountId = "000000000000";
    public const string Partition = "aws";
    public const string UrlSuffix = "amazonaws.com";
}
