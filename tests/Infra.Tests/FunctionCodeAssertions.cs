using System.Text.Json.Nodes;
using Amazon.CDK;
using CustomerSegmentation.Infra.Pipelines;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>What every native function's code must be: its own project folder under lambdas/, zipped as one file asset.</summary>
internal static class FunctionCodeAssertions
{
    /// <summary>Synthesizes the default stack and checks that the function's S3 key names a zip asset of lambdas/<paramref name="project"/>.</summary>
    public static void AssertCodeIsTheProjectZipped(string functionLogicalId, string project)
    {
        var stack = TestStacks.Create();
        var assembly = ((Stage)stack.Node.Root).Synth();
        try
        {
            var template = JsonNode.Parse(File.ReadAllText(Path.Combine(assembly.Directory, stack.TemplateFile)))!;
            var key = template["Resources"]![functionLogicalId]!["Properties"]!["Code"]!["S3Key"]!.GetValue<string>();
            var assets = JsonNode.Parse(File.ReadAllText(Path.Combine(assembly.Directory, "CustomerSegmentation.assets.json")))!["files"]!;

            var source = assets[key[..^".zip".Length]]!["source"]!;

            Assert.Matches("^[0-9a-f]{64}\\.zip$", key);
            Assert.Equal(Path.Combine(RepositoryLayout.Root().FullName, "lambdas", project), source["path"]!.GetValue<string>());
            Assert.Equal("zip", source["packaging"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(assembly.Directory, recursive: true);
        }
    }
}
