namespace CustomerSegmentation.LocalAws;

/// <summary>
/// A local service cannot do what the template asks (an intrinsic it cannot resolve, a Lambda asset that was not
/// bundled, a bootstrap for another CPU, a rule or API feature it does not emulate): its message names the offending
/// value and what would work instead.
/// </summary>
public sealed class LocalAwsException : Exception
{
    public LocalAwsException(string message)
        : base(message)
    {
    }

    public LocalAwsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LocalAwsException()
    {
    }
}
