using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws;
using CustomerSegmentation.LocalPipelineRunner.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Steps;
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

    /// <summary>
    /// Logical ids or PipelineNames of the pipelines to run, one after the other in this order, in one local environment
    /// (one S3, one DynamoDB, the same functions and endpoints), so each later execution and the served API see what the
    /// earlier ones wrote. Default: empty, the stack's only AWS::SageMaker::Pipeline.
    /// </summary>
    public IReadOnlyList<string> Pipelines { get; init; } = [];

    /// <summary>Shorthand for <see cref="Pipelines"/> with one pipeline (null: none named); reads null unless exactly one is named.</summary>
    public string? Pipeline
    {
        get => Pipelines.Count == 1 ? Pipelines[0] : null;
        init => Pipelines = value is null ? [] : [value];
    }

    /// <summary>
    /// Pipeline parameter values by name, as text; each goes to every pipeline that declares it, checked against the
    /// declared type, and one that no pipeline declares is an error. Default: none.
    /// </summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>An S3 endpoint to use. Default: null, which starts s3rver for the run and stops it afterwards.</summary>
    public Uri? S3Endpoint { get; init; }

    /// <summary>
    /// A DynamoDB endpoint (dynalite, say) to create the stack's tables in. Default: null, which starts dynalite for the
    /// run when the stack has a table, and stops it afterwards.
    /// </summary>
    public Uri? DynamoDbEndpoint { get; init; }

    /// <summary>Where to look for node_modules/s3rver and node_modules/dynalite (this directory and its parents). Default: the current directory.</summary>
    public string SearchRoot { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>The interpreter <c>python3</c> resolves to in steps. Default: $SEGMENTATION_PYTHON, else /usr/bin/python3.</summary>
    public string Python { get; init; } = Environment.GetEnvironmentVariable("SEGMENTATION_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    /// <summary>Execution id to use instead of a random one; only with a single pipeline. Default: null (random, like SageMaker).</summary>
    public string? ExecutionId { get; init; }

    /// <summary>
    /// Local files to put into S3 after the assets are published and before the execution starts (for example the
    /// CSV the DataFile parameter points to, when the runner starts its own s3rver). Default: none.
    /// </summary>
    public IReadOnlyList<FileUpload> Uploads { get; init; } = [];

    /// <summary>Executors for step types beyond the built-in ones and the Lambda step. Default: none.</summary>
    public IReadOnlyList<IStepExecutor> AdditionalExecutors { get; init; } = [];

    /// <summary>The model server the local SageMaker runs endpoints with. Default: scripts/local/model_server.py above <see cref="SearchRoot"/>.</summary>
    public string? ModelServerScript { get; init; }

    /// <summary>
    /// Serve the stack's REST API on this loopback port (0 picks a free one) for as long as the environment
    /// <see cref="PipelineRun.StartAsync"/> returns runs. Default: null, no API.
    /// </summary>
    public int? ApiPort { get; init; }

    /// <summary>Logical id of the REST API to serve. Default: the stack's only REST API.</summary>
    public string? RestApi { get; init; }

    /// <summary>How long to wait, after the execution, for deployments it started to finish. Default: 10 minutes.</summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromMinutes(10);

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
/// resolved for a local account, its assets are published to a local S3, the stack's Lambda functions, EventBridge rules
/// and SageMaker run as local services, and the pipeline definition is executed against them.
/// </summary>
public static class PipelineRun
{
    /// <summary>
    /// Runs the pipelines, waits for the deployments they started to finish, then stops every local service. Returns the
    /// last execution (the only one unless <see cref="PipelineRunOptions.Pipelines"/> names several; <see cref="StartAsync"/>
    /// gives each).
    /// </summary>
    public static async Task<ExecutionRecord> RunAsync(PipelineRunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var environment = await StartAsync(options with { ApiPort = null }, cancellationToken).ConfigureAwait(false);
        return environment.Execution;
    }

    /// <summary>
    /// Runs the pipelines one after the other and waits for the deployments they started to finish
    /// (<see cref="PipelineRunOptions.SettleTimeout"/>), then returns the stack still running locally (with its REST API
    /// when <see cref="PipelineRunOptions.ApiPort"/> is set). A failed execution does not stop the next pipeline: they are
    /// independent, and each record says how it ended. Dispose the environment to stop every local service.
    /// </summary>
    public static async Task<LocalEnvironment> StartAsync(PipelineRunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(options.Python))
        {
            throw new PipelineRunnerException($"Python interpreter '{options.Python}' does not exist; set SEGMENTATION_PYTHON (see scripts/env.sh).");
        }

        var assembly = CloudAssembly.Load(options.CloudAssemblyDirectory, options.StackName);
        var pipelineIds = SelectPipelines(assembly, options);
        var environment = await LocalEnvironment.StartAsync(options, assembly, cancellationToken).ConfigureAwait(false);
        try
        {
            var store = environment.Store;
            await new AssetPublisher(store, options.Log).PublishAsync(assembly, cancellationToken).ConfigureAwait(false);
            foreach (var upload in options.Uploads)
            {
                await upload.PutAsync(store, cancellationToken).ConfigureAwait(false);
                await options.Log.WriteLineAsync($"uploaded {upload.LocalPath} -> {upload.Target}").ConfigureAwait(false);
            }

            var definitions = new List<(string Name, PipelineDefinition Definition)>();
            foreach (var pipelineId in pipelineIds)
            {
                var body = await assembly.PipelineDefinitionAsync(
                    pipelineId, (bucket, key) => store.ReadTextAsync(new S3Location(bucket, key), cancellationToken)).ConfigureAwait(false);
                var definition = PipelineDefinition.Parse(body);
                EnsureLambdaStepsCanRun(definition, environment);
                definitions.Add((assembly.PipelineName(pipelineId), definition));
            }

            EnsureEveryParameterIsDeclared(options.Parameters, definitions);
            if (options.ApiPort is { } port)
            {
                environment.ServeApi(port, options.RestApi);
            }

            foreach (var (name, definition) in definitions)
            {
                var execution = new PipelineExecution(
                    definition,
                    name,
                    store,
                    new RunnerEnvironment(Path.GetFullPath(options.WorkDirectory), options.Python) { DynamoDbEndpoint = environment.DynamoDbEndpoint },
                    options.Log);
                execution.Executors
                    .Register(new LambdaStepExecutor(environment.Lambda))
                    .Register(new RegisterModelStepExecutor(environment.EventPublisher));
                foreach (var executor in options.AdditionalExecutors)
                {
                    execution.Executors.Register(executor);
                }

                // With one pipeline every override goes to it, so ParameterValues reports an undeclared one in its own words.
                var declared = definition.Parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                var parameters = definitions.Count == 1
                    ? options.Parameters
                    : options.Parameters.Where(p => declared.Contains(p.Key)).ToDictionary(StringComparer.Ordinal);
                environment.Completed(await execution.RunAsync(parameters, options.ExecutionId, cancellationToken).ConfigureAwait(false));
                await environment.SettleAsync(options.SettleTimeout, cancellationToken).ConfigureAwait(false);
            }

            return environment;
        }
        catch
        {
            await environment.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The logical ids of <see cref="PipelineRunOptions.Pipelines"/> in order, each once.</summary>
    private static List<string> SelectPipelines(CloudAssembly assembly, PipelineRunOptions options)
    {
        if (options.Pipelines.Count == 0)
        {
            return [assembly.SelectPipeline(null)];
        }

        var ids = options.Pipelines.Select(assembly.SelectPipeline).ToList();
        if (ids.GroupBy(id => id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
        {
            throw new PipelineRunnerException($"--pipeline names {repeated.Key} ({assembly.PipelineName(repeated.Key)}) more than once; each pipeline runs once per run.");
        }

        if (ids.Count > 1 && options.ExecutionId is not null)
        {
            throw new PipelineRunnerException(
                $"--execution-id {options.ExecutionId} names one execution, but {ids.Count} pipelines run; leave it out, each execution gets its own id.");
        }

        return ids;
    }

    /// <summary>With several pipelines, a parameter none of them declares is refused before anything runs (one pipeline's <see cref="ParameterValues"/> says so itself).</summary>
    private static void EnsureEveryParameterIsDeclared(IReadOnlyDictionary<string, string> parameters, List<(string Name, PipelineDefinition Definition)> definitions)
    {
        if (definitions.Count < 2)
        {
            return;
        }

        var unknown = parameters.Keys
            .Where(name => !definitions.Any(d => d.Definition.Parameters.Any(p => p.Name == name)))
            .Order(StringComparer.Ordinal)
            .Select(name => $"Unknown parameter {name}; " + string.Join("; ", definitions.Select(d =>
                $"pipeline {d.Name} declares: {string.Join(", ", d.Definition.Parameters.Select(p => p.Name))}")) + ".")
            .ToList();
        if (unknown.Count > 0)
        {
            throw new PipelineRunnerException(string.Join(Environment.NewLine, unknown));
        }
    }

    /// <summary>A Lambda step whose function cannot run here (not in the stack, not bundled, another CPU) is refused before anything runs.</summary>
    private static void EnsureLambdaStepsCanRun(PipelineDefinition definition, LocalEnvironment environment)
    {
        foreach (var step in definition.Steps.Where(s => s.Type == "Lambda"))
        {
            if (LambdaStepExecutor.FunctionArnOf(step) is JsonValue value && value.TryGetValue<string>(out var functionArn))
            {
                try
                {
                    _ = environment.Lambda.Function(functionArn);
                }
                catch (LocalAwsException exception)
                {
                    throw new PipelineRunnerException($"Step {step.Name} cannot run locally: {exception.Message}", exception);
                }
            }
        }
    }
}
