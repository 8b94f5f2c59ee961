using CustomerSegmentation.AwsPackageReplacements.SageMaker;

namespace CustomerSegmentation.LocalAws.SageMaker;

/// <summary>Where the control plane finds model packages (the model registry).</summary>
public interface IModelPackageSource
{
    /// <summary>The versioned package named by its ARN or by <c>group/version</c>, or null when there is none.</summary>
    DescribeModelPackageResponse? Find(string modelPackageName);
}
