namespace CustomerSegmentation.LocalAws.AutoScaling;

/// <summary>
/// A service whose resources can be scalable targets (one service namespace). Application Auto Scaling asks it before
/// registering a target, as the real service checks the resource with its owner.
/// </summary>
public interface IScalableResources
{
    /// <summary>The service namespace, e.g. <c>sagemaker</c>.</summary>
    string ServiceNamespace { get; }

    /// <summary>The service-linked role a target gets when RegisterScalableTarget names none.</summary>
    string ServiceLinkedRoleArn { get; }

    /// <summary>Null when the resource can be a scalable target of the dimension now; else why not (a ValidationException message).</summary>
    string? RegistrationProblem(string resourceId, string scalableDimension);
}
