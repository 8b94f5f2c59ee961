using CustomerSegmentation.LocalPipelineRunner.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;

namespace CustomerSegmentation.LocalPipelineRunner;

/// <summary>What to run: a pipeline of a synthesized stack, with parameter overrides, against which S3.</summary>
public sealed record PipelineRunOptions
{
    /// <summary>The cdk.out folder (holds manifest.json, the stack template and its asset manifest).</summary>
    public required string CloudAssemblyDirectory { get; init; }

    /// <summary>Root of the step directories, the execution records and the local model registry.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>Stack name or artifact id. Default: the assembly's only stack.</summary>
    public string? StackName { get; init; }

    /// <summary>Logical id or PipelineName of the pipeline. Default: the stack's only AWS::SageMaker::Pipeline.</summary>
    public string? Pipeline { get; init; }

    /// <summary>Pipeline parameter values by name, as text; checked against the declared types. Default: none.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>An S3 endpoint to use. Default: null, which starts s3rver for the run and stops it afterwards.</summary>
    public Uri? S3Endpoint { get; init; }

    /// <summary>Where to look for node_modules/s3rver (this directory and its parents). Default: the current directory.</summary>
    public string SearchRoot { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>The interpreter <c>python3</c> resolves to in steps. Default: $SEGMENTATION_PYTHON, else /usr/bin/python3.</summary>
    public string Python { get; init; } = Environment.GetEnvironmentVariable("SEGMENTATION_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    /// <summary>Execution id to use instead of a random one. Default: null (random, like SageMaker).</summary>
    public string? ExecutionId { get; init; }

    /// <summary>
    /// Local files to put into S3 after the assets are published and before the execution starts (for example the
    /// CSV the DataFile parameter points to, when the runner starts its own s3rver). Default: none.
    /// </summary>
    public IReadOnlyList<FileUpload> Uploads { get; init; } = [];

    /// <summary>Executors for step types beyond the built-in ones (a Lambda executor, say). Default: none.</summary>
    public IReadOnlyList<IStepExecutor> AdditionalExecutors { get; init; } = [];

    /// <summary>Progress and summary output. Default: standard output.</summary>
    public TextWriter Log { get; init; } = Console.Out;
}

/// <summary>A local file to put at an S3 URI before the execution starts.</summary>
public sealed record FileUpload(string LocalPath, S3Location Target)
{
    /// <summary>Parses the command-line form <c>&lt;path&gt;=s3://bucket/key</c>.</summary>
    public static FileUpload Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var separator = text.IndexOf("=s3://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            throw new PipelineRunnerException($"--upload '{text}' is not <local file>=s3://<bucket>/<key>.");
        }

        return new FileUpload(text[..separator], S3Location.Parse(text[(separator + 1)..]));
    }

    public async Task PutAsync(ObjectStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!File.Exists(LocalPath))
        {
            throw new PipelineRunnerException($"--upload: '{LocalPath}' does not exist.");
        }

        if (Target.Key.Length == 0 || Target.Key.EndsWith('/'))
        {
            throw new PipelineRunnerException($"--upload: {Target} names no object key.");
        }

        await store.EnsureBucketAsync(Target.Bucket, cancellationToken).ConfigureAwait(false);
        await store.UploadFileAsync(Target, LocalPath, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// Runs a synthesized SageMaker pipeline locally: the same CloudFormation template `cdk deploy` would deploy is
/// resolved for a local account, its assets are published to a local S3, and the pipeline definition is executed.
/// </summary>
public static class PipelineRun
{
    public static async Task<ExecutionRecord> RunAsync(PipelineRunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(options.Python))
        {
            throw new PipelineRunnerException($"Python interpreter '{options.Python}' does not exist; set SEGMENTATION_PYTHON (see scripts/env.sh).");
        }

        var assembly = CloudAssembly.Load(options.CloudAssemblyDirectory, options.StackName);
        var pipelineId = assembly.SelectPipeline(options.Pipeline);
        var pipelineName = assembly.PipelineName(pipelineId);

        using var server = options.S3Endpoint is null
            ? await S3rverServer.StartAsync(S3rverServer.FindEntryPoint(options.SearchRoot), cancellationToken).ConfigureAwait(false)
            : null;
        var endpoint = options.S3Endpoint ?? server!.Endpoint;
        await options.Log.WriteLineAsync($"S3 endpoint {endpoint}{(server is null ? string.Empty : " (s3rver started for this run)")}").ConfigureAwait(false);
        using var store = new ObjectStore(endpoint);
        await new AssetPublisher(store, options.Log).PublishAsync(assembly, cancellationToken).ConfigureAwait(false);
        foreach (var upload in options.Uploads)
        {
            await upload.PutAsync(store, cancellationToken).ConfigureAwait(false);
            await options.Log.WriteLineAsync($"uploaded {upload.LocalPath} -> {upload.Target}").ConfigureAwait(false);
        }

        var body = await assembly.PipelineDefinitionAsync(
            pipelineId, (bucket, key) => store.ReadTextAsync(new S3Location(bucket, key), cancellationToken)).ConfigureAwait(false);
        var definition = PipelineDefinition.Parse(body);
        var execution = new PipelineExecution(
            definition, pipelineName, store, new RunnerEnvironment(Path.GetFullPath(options.WorkDirectory), options.Python), options.Log);
        foreach (var executor in options.AdditionalExecutors)
        {
            execution.Executors.Register(executor);
        }

        return await execution.RunAsync(options.Parameters, options.ExecutionId, cancellationToken).ConfigureAwait(false);
    }
}
