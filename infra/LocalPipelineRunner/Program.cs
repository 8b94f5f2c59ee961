using CustomerSegmentation.LocalPipelineRunner;
using CustomerSegmentation.LocalPipelineRunner.Definition;
using CustomerSegmentation.LocalPipelineRunner.Execution;

const string Usage = """
    Runs synthesized SageMaker pipelines locally (steps as local processes, S3 and DynamoDB on loopback).

    Usage: LocalPipelineRunner --cdk-out <dir> [options]

      --cdk-out <dir>           cdk.out folder of a synthesized app (required)
      --stack <name>            stack name or artifact id (default: the only stack)
      --pipeline <id|name>      pipeline logical id or PipelineName (default: the only pipeline of the stack); repeat to
                                run several, one after the other in the given order, in one local environment
      --param <Name=Value>      pipeline parameter override, given to every pipeline that declares it; repeat for several
                                (checked against the declared types; one no pipeline declares is an error)
      --work-dir <dir>          step directories, execution records, local model registry (default: .work/pipeline)
      --s3-endpoint <url>       use this S3 endpoint (key S3RVER/S3RVER) instead of starting s3rver
      --upload <file>=<s3-uri>  put a local file into S3 before the run (e.g. the DataFile CSV); repeatable
      --execution-id <id>       execution id, with a single pipeline (default: 12 random characters)
      --serve                   after the runs, keep the stack running locally (endpoints, functions, rules, tables and
                                its REST API) until Ctrl+C, then exit with the executions' exit code
      --port <n>                with --serve: the loopback port of the REST API (default: 0, a free port)
      -h, --help                show this help

    Steps and model servers run $SEGMENTATION_PYTHON (default /usr/bin/python3) as python3. Lambda steps, EventBridge
    rules and the REST API run the stack's real function bootstraps: synthesize with bundling and
    -c deployment:lambdaArchitecture=<this machine's architecture>.
    Exit code: 0 when every execution Succeeded, 1 when one Failed, 2 for invalid input, 130 when cancelled (Ctrl+C).
    Each execution's record is <work-dir>/<execution id>/execution.json.
    """;

var values = new Dictionary<string, string>(StringComparer.Ordinal);
var parameters = new List<string>();
var uploads = new List<string>();
var pipelines = new List<string>();
var serve = false;
for (var i = 0; i < args.Length; i++)
{
    var name = args[i];
    if (name is "-h" or "--help")
    {
        Console.WriteLine(Usage);
        return 0;
    }

    if (name == "--serve")
    {
        serve = true;
        continue;
    }

    if (name is not ("--cdk-out" or "--stack" or "--pipeline" or "--param" or "--work-dir" or "--s3-endpoint" or "--execution-id" or "--upload" or "--port"))
    {
        await Console.Error.WriteLineAsync($"Unknown argument '{name}'.{Environment.NewLine}{Usage}");
        return 2;
    }

    if (i + 1 >= args.Length)
    {
        await Console.Error.WriteLineAsync($"{name} needs a value.");
        return 2;
    }

    var value = args[++i];
    if (name == "--param")
    {
        parameters.Add(value);
    }
    else if (name == "--upload")
    {
        uploads.Add(value);
    }
    else if (name == "--pipeline")
    {
        pipelines.Add(value);
    }
    else
    {
        values[name] = value;
    }
}

if (!values.TryGetValue("--cdk-out", out var cdkOut))
{
    await Console.Error.WriteLineAsync($"--cdk-out is required.{Environment.NewLine}{Usage}");
    return 2;
}

int? apiPort = null;
if (values.TryGetValue("--port", out var portText))
{
    if (!serve || !int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
    {
        await Console.Error.WriteLineAsync($"--port '{portText}': give a port from 0 to 65535, together with --serve.");
        return 2;
    }

    apiPort = port;
}

try
{
    var options = new PipelineRunOptions
    {
        CloudAssemblyDirectory = cdkOut,
        WorkDirectory = values.GetValueOrDefault("--work-dir", Path.Combine(".work", "pipeline")),
        StackName = values.GetValueOrDefault("--stack"),
        Pipelines = pipelines,
        Parameters = ParameterValues.ParseAssignments(parameters),
        S3Endpoint = values.TryGetValue("--s3-endpoint", out var endpoint) ? new Uri(endpoint) : null,
        ExecutionId = values.GetValueOrDefault("--execution-id"),
        Uploads = uploads.Select(FileUpload.Parse).ToList(),
        ApiPort = serve ? apiPort ?? 0 : null,
    };
    using var cancellation = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cancellation.Cancel();
    };
    if (!serve)
    {
        await using var finished = await PipelineRun.StartAsync(options, cancellation.Token);
        return ExitCode(finished.Executions);
    }

    await using var environment = await PipelineRun.StartAsync(options, cancellation.Token);
    Console.WriteLine($"Serving until Ctrl+C. S3: {environment.S3Endpoint}  SageMaker: {environment.SageMaker.Endpoint}");
    foreach (var (endpointName, status) in environment.EndpointStatuses)
    {
        Console.WriteLine($"Endpoint {endpointName}: {status} (POST {environment.SageMaker.Endpoint}endpoints/{endpointName}/invocations)");
    }

    if (environment.Api is { } api)
    {
        Console.WriteLine($"API: {api.StageUri}");
        foreach (var (keyName, key) in api.Api.ApiKeys)
        {
            Console.WriteLine($"API key {keyName}: {key} (send it as x-api-key)");
        }
    }

    try
    {
        await Task.Delay(Timeout.Infinite, cancellation.Token);
    }
    catch (OperationCanceledException)
    {
        Console.WriteLine("Stopping the local services.");
    }

    return ExitCode(environment.Executions);
}
catch (PipelineRunnerException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return 2;
}
catch (CustomerSegmentation.LocalAws.LocalAwsException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return 2;
}
catch (OperationCanceledException)
{
    await Console.Error.WriteLineAsync("cancelled");
    return 130;
}
catch (UriFormatException e)
{
    await Console.Error.WriteLineAsync($"error: --s3-endpoint: {e.Message}");
    return 2;
}

static int ExitCode(IReadOnlyList<ExecutionRecord> executions) =>
    executions.All(e => e.PipelineExecutionStatus == ExecutionRecord.Succeeded) ? 0 : 1;
