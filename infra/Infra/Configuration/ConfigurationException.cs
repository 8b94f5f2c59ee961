namespace CustomerSegmentation.Infra.Configuration;

/// <summary>Thrown at synthesis when the CDK context holds values the platform cannot deploy.</summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(IReadOnlyList<string> problems)
        : base("Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
    {
        Problems = problems;
    }

    public ConfigurationException()
        : this(Array.Empty<string>())
    {
    }

    public ConfigurationException(string message)
        : base(message)
    {
        Problems = [message];
    }

    public ConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Each problem, one sentence naming the context key, its value and what is valid.</summary>
    public IReadOnlyList<string> Problems { get; } = [];
}
