namespace CustomerSegmentation.LocalPipelineRunner;

/// <summary>
/// A problem with the input (cdk.out, template, definition, parameters) that stops the runner before or outside any
/// step: its message names the offending value and what would be valid.
/// </summary>
public sealed class PipelineRunnerException : Exception
{
    public PipelineRunnerException(string message)
        : base(message)
    {
    }

    public PipelineRunnerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PipelineRunnerException()
    {
    }
}
