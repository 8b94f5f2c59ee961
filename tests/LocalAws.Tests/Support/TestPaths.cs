namespace CustomerSegmentation.LocalAws.Tests.Support;

/// <summary>Where the checkout and this test project's files are, found from the test binaries' location.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>tests/LocalAws.Tests/bin: kept between runs, ignored by git.</summary>
    public static string ProjectBin { get; } = Path.Combine(RepositoryRoot, "tests", "LocalAws.Tests", "bin");

    /// <summary>The Python test function (a custom-runtime bootstrap), as copied next to the test binaries.</summary>
    public static string PythonFunction { get; } = Path.Combine(AppContext.BaseDirectory, "Functions", "python_function.py");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Infra.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Infra.sln above {AppContext.BaseDirectory}.");
    }
}
