using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.AwsPackageReplacements.SageMaker;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>
/// The local pipeline runner's model registry: the RegisterModel step writes version N of group G to
/// <c>&lt;directory&gt;/G/N.json</c> (its CreateModelPackage arguments plus ModelPackageArn, ModelPackageVersion,
/// ModelApprovalStatus, ModelPackageStatus and CreationTime). Files are read on every call, so an approval written
/// after registration is seen at once.
/// </summary>
public sealed partial class ModelRegistryDirectory : IModelPackageSource
{
    private readonly string _directory;
    private readonly string _accountId;
    private readonly string _region;

    /// <param name="directory">The registry root (the runner's RunnerEnvironment.RegistryDirectory).</param>
    /// <param name="accountId">The account package ARNs must name.</param>
    /// <param name="region">The region package ARNs must name.</param>
    public ModelRegistryDirectory(string directory, string accountId, string region)
    {
        _directory = directory;
        _accountId = accountId;
        _region = region;
    }

    public DescribeModelPackageResponse? Find(string modelPackageName)
    {
        ArgumentNullException.ThrowIfNull(modelPackageName);
        var match = PackageArn().Match(modelPackageName);
        if (match.Success && (match.Groups["region"].Value != _region || match.Groups["account"].Value != _accountId))
        {
            return null;
        }

        match = match.Success ? match : VersionedName().Match(modelPackageName);
        if (!match.Success || !int.TryParse(match.Groups["version"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return null;
        }

        var group = match.Groups["group"].Value;
        var path = Path.Combine(_directory, group, $"{version.ToString(CultureInfo.InvariantCulture)}.json");
        if (!File.Exists(path))
        {
            return null;
        }

        DescribeModelPackageResponse package;
        try
        {
            package = JsonSerializer.Deserialize(File.ReadAllBytes(path), SageMakerJsonContext.Default.DescribeModelPackageResponse)
                ?? throw new JsonException("the file holds null");
        }
        catch (JsonException exception)
        {
            throw new AwsServiceException("SageMaker", "DescribeModelPackage", HttpStatusCode.InternalServerError, "InternalFailure",
                $"The local model registry file {path} is not a model package: {exception.Message}", null);
        }

        // A versioned package is named after its group, as SageMaker's DescribeModelPackage answers.
        return package with
        {
            ModelPackageName = package.ModelPackageName ?? group,
            ModelPackageGroupName = package.ModelPackageGroupName ?? group,
            ModelPackageVersion = package.ModelPackageVersion ?? version,
            ModelPackageArn = package.ModelPackageArn ?? $"arn:aws:sagemaker:{_region}:{_accountId}:model-package/{group.ToLowerInvariant()}/{version}",
        };
    }

    [GeneratedRegex(@"^arn:aws[a-z\-]*:sagemaker:(?<region>[a-z0-9\-]*):(?<account>[0-9]{12}):model-package/(?<group>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(?<version>[0-9]{1,5})$")]
    private static partial Regex PackageArn();

    [GeneratedRegex(@"^(?<group>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(?<version>[0-9]{1,5})$")]
    private static partial Regex VersionedName();
}
