namespace CustomerSegmentation.Infra.Pipelines;

/// <summary>
/// Finds files of the repository from wherever the app runs: <c>cdk synth</c> starts it from the repository root,
/// tests from their bin folder, so neither the current directory nor the assembly folder alone is reliable.
/// </summary>
public static class RepositoryLayout
{
    private const string Marker = "Infra.sln";

    /// <summary>The folder holding <c>Infra.sln</c>, searched upwards from the app's base directory, then the current directory.</summary>
    /// <exception cref="DirectoryNotFoundException">Neither start folder is inside the repository.</exception>
    public static DirectoryInfo Root()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, Marker)))
                {
                    return folder;
                }
            }
        }

        throw new DirectoryNotFoundException(
            $"Cannot find the repository root: no folder above '{AppContext.BaseDirectory}' or '{Directory.GetCurrentDirectory()}' contains {Marker}.");
    }

    /// <summary><c>scripts/sagemaker</c>: the Python code that runs inside the SageMaker containers.</summary>
    public static DirectoryInfo SageMakerScripts() => new(Path.Combine(Root().FullName, "scripts", "sagemaker"));

    /// <summary><c>scripts/recommendations</c>: the steps of the recommendations pipeline.</summary>
    public static DirectoryInfo RecommendationsScripts() => new(Path.Combine(Root().FullName, "scripts", "recommendations"));
}
