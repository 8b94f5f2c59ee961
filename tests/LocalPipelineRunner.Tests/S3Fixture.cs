using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner.Tests;

/// <summary>One real s3rver for every test that needs S3; each test works in its own buckets and directories.</summary>
public sealed class S3Fixture : IAsyncLifetime
{
    private S3rverServer? _server;

    public ObjectStore Store { get; private set; } = null!;

    public Uri Endpoint => _server!.Endpoint;

    /// <summary>Debian's Python, the interpreter the pipeline scripts need; a missing one fails the tests that use it.</summary>
    public static string Python => Environment.GetEnvironmentVariable("SEGMENTATION_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    public async Task InitializeAsync()
    {
        _server = await S3rverServer.StartAsync(S3rverServer.FindEntryPoint(AppContext.BaseDirectory), CancellationToken.None);
        Store = new ObjectStore(_server.Endpoint);
    }

    public Task DisposeAsync()
    {
        Store.Dispose();
        _server?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A bucket no other test uses.</summary>
    public async Task<string> NewBucketAsync(string purpose)
    {
        var bucket = $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(purpose.Length + 33, 63)];
        await Store.EnsureBucketAsync(bucket, CancellationToken.None);
        return bucket;
    }

    /// <summary>Executes a hand-written definition in a fresh work directory.</summary>
    public async Task<(ExecutionRecord Record, string Log)> RunAsync(
        string definitionJson, IReadOnlyDictionary<string, string>? parameters = null, string? workDirectory = null)
    {
        var log = new StringWriter();
        var definition = PipelineDefinition.Parse((JsonObject)JsonNode.Parse(definitionJson)!);
        var work = workDirectory ?? Directory.CreateTempSubdirectory("runner-test-").FullName;
        var execution = new PipelineExecution(definition, "Test-Pipeline", Store, new RunnerEnvironment(work, Python), log);
        var record = await execution.RunAsync(parameters ?? new Dictionary<string, string>());
        return (record, log.ToString());
    }

    /// <summary>Packs files (name, content) into a tar.gz at the tar root, as the CDK app packs the sourcedir.</summary>
    public static byte[] TarGz(params (string Name, string Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
        {
            foreach (var (name, content) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
                };
                tar.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    public async Task PutAsync(string bucket, string key, byte[] content)
    {
        var path = Path.GetTempFileName();
        await File.WriteAllBytesAsync(path, content);
        await Store.UploadFileAsync(new S3Location(bucket, key), path, CancellationToken.None);
        File.Delete(path);
    }

    public Task PutTextAsync(string bucket, string key, string content) => PutAsync(bucket, key, System.Text.Encoding.UTF8.GetBytes(content));

    public async Task<string> GetTextAsync(string uri) =>
        await Store.ReadTextAsync(S3Location.Parse(uri), CancellationToken.None) ?? throw new InvalidOperationException($"{uri} does not exist.");

    /// <summary>The entries (name, content) of a tar.gz object.</summary>
    public async Task<Dictionary<string, string>> ReadTarGzAsync(string uri)
    {
        var path = Path.GetTempFileName();
        await Store.DownloadFileAsync(S3Location.Parse(uri), path, CancellationToken.None);
        var entries = new Dictionary<string, string>();
        using (var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is not null)
                {
                    using var reader = new StreamReader(entry.DataStream);
                    entries[entry.Name] = await reader.ReadToEndAsync();
                }
            }
        }

        File.Delete(path);
        return entries;
    }
}

[CollectionDefinition(Name)]
public sealed class S3Collection : ICollectionFixture<S3Fixture>
{
    public const string Name = "s3rver";
}
