namespace CustomerSegmentation.Infra.Tests;

/// <summary>The checkout's root folder (the one holding Infra.sln), found from the test binaries' location.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Infra.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Infra.sln above {AppContext.BaseDirectory}: tests must run from a checkout.");
    }
}
