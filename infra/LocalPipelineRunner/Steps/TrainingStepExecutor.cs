using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;
using static CustomerSegmentation.LocalPipelineRunner.Steps.ArgumentReader;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>
/// A Training step in script mode, emulating the sagemaker-training toolkit of the framework containers: the
/// submit directory unpacked to /opt/ml/code, channels downloaded, SM_* environment, <c>python3 &lt;program&gt;
/// --name value ...</c>, then /opt/ml/model packed into model.tar.gz and metrics scraped from the log.
/// </summary>
public sealed class TrainingStepExecutor : IStepExecutor
{
    private const string FrameworkPrefix = "sagemaker_";
    private const string CurrentHost = "algo-1";

    public string StepType => "Training";

    public async Task<StepResult> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = (JsonObject)context.Expressions.Evaluate(context.Step.Arguments)!;
        var container = new ContainerProcess(context);
        var hyperparameters = StringMap(arguments["HyperParameters"], "HyperParameters");
        var program = hyperparameters.GetValueOrDefault("sagemaker_program") is { } p ? Decode(p) : throw new StepFailedException(
            "ClientError: the local runner runs script-mode training only, and hyperparameter sagemaker_program is missing.");
        var submitDirectory = hyperparameters.GetValueOrDefault("sagemaker_submit_directory") is { } s ? Decode(s) : throw new StepFailedException(
            "ClientError: hyperparameter sagemaker_submit_directory (the S3 URI of the code tar.gz) is missing.");

        var codeDirectory = container.LocalPath("/opt/ml/code");
        await UnpackSubmitDirectoryAsync(context, submitDirectory, codeDirectory, cancellationToken).ConfigureAwait(false);

        var channels = new List<string>();
        foreach (var channel in Array(arguments["InputDataConfig"], "InputDataConfig"))
        {
            var name = RequiredString(channel?["ChannelName"], "InputDataConfig[].ChannelName");
            var source = channel?["DataSource"]?["S3DataSource"] ?? throw new StepFailedException(
                $"ClientError: channel {name} has no DataSource.S3DataSource; the local runner supports S3 channels only.");
            await DataSources.DownloadAsync(
                context,
                RequiredString(source["S3Uri"], $"{name}.S3Uri"),
                RequiredString(source["S3DataType"], $"{name}.S3DataType"),
                container.LocalPath($"/opt/ml/input/data/{name}"),
                cancellationToken).ConfigureAwait(false);
            channels.Add(name);
        }

        var userHyperparameters = hyperparameters
            .Where(h => !h.Key.StartsWith(FrameworkPrefix, StringComparison.Ordinal))
            .OrderBy(h => h.Key, StringComparer.Ordinal)
            .ToDictionary(h => h.Key, h => Decode(h.Value), StringComparer.Ordinal);
        WriteConfiguration(container, hyperparameters, channels);
        var environment = new Dictionary<string, string>(StringMap(arguments["Environment"], "Environment"), StringComparer.Ordinal);
        foreach (var (name, value) in ToolkitEnvironment(userHyperparameters, channels))
        {
            environment[name] = value;
        }

        var command = new List<string> { "python3", program };
        foreach (var (name, value) in userHyperparameters)
        {
            command.Add("--" + name);
            command.Add(value);
        }

        await container.RunAsync(command, environment, codeDirectory, cancellationToken).ConfigureAwait(false);

        var outputPath = RequiredString(arguments["OutputDataConfig"]?["S3OutputPath"], "OutputDataConfig.S3OutputPath");
        var jobPrefix = S3Location.Parse(outputPath).Append($"{context.JobName}/output");
        var modelArtifacts = jobPrefix.Append("model.tar.gz");
        await UploadTarGzAsync(context, container.LocalPath("/opt/ml/model"), modelArtifacts, cancellationToken).ConfigureAwait(false);
        var outputData = container.LocalPath("/opt/ml/output/data");
        if (Directory.Exists(outputData) && Directory.EnumerateFileSystemEntries(outputData).Any())
        {
            await UploadTarGzAsync(context, outputData, jobPrefix.Append("output.tar.gz"), cancellationToken).ConfigureAwait(false);
        }

        arguments["TrainingJobName"] = context.JobName;
        arguments["TrainingJobArn"] = $"arn:aws:sagemaker:{LocalAccount.Region}:{LocalAccount.AccountId}:training-job/{context.JobName.ToLowerInvariant()}";
        arguments["TrainingJobStatus"] = "Completed";
        arguments["ModelArtifacts"] = new JsonObject { ["S3ModelArtifacts"] = modelArtifacts.ToString() };
        arguments["FinalMetricDataList"] = FinalMetrics(arguments["AlgorithmSpecification"]?["MetricDefinitions"], container.LogLines);
        return new StepResult(arguments);
    }

    /// <summary>
    /// The toolkit JSON-decodes hyperparameter values; the one case that changes the text is a JSON string literal
    /// (the SageMaker Python SDK quotes string hyperparameters), which loses its quotes.
    /// </summary>
    public static string Decode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            try
            {
                return JsonSerializer.Deserialize<string>(value) ?? value;
            }
            catch (JsonException)
            {
                return value;
            }
        }

        return value;
    }

    /// <summary>The SM_* variables of the sagemaker-training toolkit for a single-host CPU job.</summary>
    public static IReadOnlyDictionary<string, string> ToolkitEnvironment(IReadOnlyDictionary<string, string> hyperparameters, IReadOnlyList<string> channels)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        ArgumentNullException.ThrowIfNull(channels);
        var hps = new JsonObject();
        foreach (var (name, value) in hyperparameters)
        {
            hps[name] = JsonLiteral(value);
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SM_MODEL_DIR"] = "/opt/ml/model",
            ["SM_INPUT_DIR"] = "/opt/ml/input",
            ["SM_INPUT_CONFIG_DIR"] = "/opt/ml/input/config",
            ["SM_OUTPUT_DIR"] = "/opt/ml/output",
            ["SM_OUTPUT_DATA_DIR"] = "/opt/ml/output/data",
            ["SM_MODULE_DIR"] = "/opt/ml/code",
            ["SM_CHANNELS"] = new JsonArray(channels.Order(StringComparer.Ordinal).Select(c => (JsonNode)c).ToArray()).ToJsonString(),
            ["SM_HPS"] = hps.ToJsonString(),
            ["SM_CURRENT_HOST"] = CurrentHost,
            ["SM_HOSTS"] = new JsonArray(CurrentHost).ToJsonString(),
            ["SM_NUM_CPUS"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["SM_NUM_GPUS"] = "0",
        };
        foreach (var channel in channels)
        {
            environment[$"SM_CHANNEL_{channel.ToUpperInvariant()}"] = $"/opt/ml/input/data/{channel}";
        }

        foreach (var (name, value) in hyperparameters)
        {
            environment[$"SM_HP_{name.ToUpperInvariant()}"] = value;
        }

        return environment;
    }

    /// <summary>The last value each metric definition's regex captured (first group) anywhere in the job log.</summary>
    public static JsonArray FinalMetrics(JsonNode? definitions, IReadOnlyList<string> logLines)
    {
        ArgumentNullException.ThrowIfNull(logLines);
        var metrics = new JsonArray();
        foreach (var definition in Array(definitions, "AlgorithmSpecification.MetricDefinitions"))
        {
            var name = RequiredString(definition?["Name"], "MetricDefinitions[].Name");
            var regex = new Regex(RequiredString(definition?["Regex"], $"MetricDefinitions[{name}].Regex"), RegexOptions.None, TimeSpan.FromSeconds(1));
            double? last = null;
            foreach (var match in logLines.Select(l => regex.Match(l)).Where(m => m.Success))
            {
                var text = match.Groups.Count > 1 ? match.Groups[1].Value : match.Value;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    last = value;
                }
            }

            if (last is not null)
            {
                metrics.Add(new JsonObject { ["MetricName"] = name, ["Value"] = last.Value });
            }
        }

        return metrics;
    }

    private static JsonNode? JsonLiteral(string value)
    {
        try
        {
            return JsonNode.Parse(value) is JsonValue parsed ? parsed : value;
        }
        catch (JsonException)
        {
            return value;
        }
    }

    private static async Task UnpackSubmitDirectoryAsync(StepContext context, string uri, string codeDirectory, CancellationToken cancellationToken)
    {
        var archive = Path.Combine(context.StepDirectory, "sourcedir.tar.gz");
        var location = S3Location.Parse(uri);
        if (!await context.Store.ExistsAsync(location, cancellationToken).ConfigureAwait(false))
        {
            throw new StepFailedException($"ClientError: sagemaker_submit_directory {uri} does not exist.");
        }

        await context.Store.DownloadFileAsync(location, archive, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(codeDirectory);
        var file = File.OpenRead(archive);
        await using (file.ConfigureAwait(false))
        {
            var gzip = new GZipStream(file, CompressionMode.Decompress);
            await using (gzip.ConfigureAwait(false))
            {
                await TarFile.ExtractToDirectoryAsync(gzip, codeDirectory, overwriteFiles: true, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The files SageMaker writes to /opt/ml/input/config before the container starts.</summary>
    private static void WriteConfiguration(ContainerProcess container, IReadOnlyDictionary<string, string> hyperparameters, IReadOnlyList<string> channels)
    {
        var configDirectory = container.LocalPath("/opt/ml/input/config");
        Directory.CreateDirectory(configDirectory);
        var hps = new JsonObject();
        foreach (var (name, value) in hyperparameters)
        {
            hps[name] = value;
        }

        File.WriteAllText(Path.Combine(configDirectory, "hyperparameters.json"), hps.ToJsonString());
        var inputs = new JsonObject();
        foreach (var channel in channels)
        {
            inputs[channel] = new JsonObject { ["TrainingInputMode"] = "File", ["S3DistributionType"] = "FullyReplicated" };
        }

        File.WriteAllText(Path.Combine(configDirectory, "inputdataconfig.json"), inputs.ToJsonString());
        var resources = new JsonObject { ["current_host"] = CurrentHost, ["hosts"] = new JsonArray(CurrentHost), ["network_interface_name"] = "eth0" };
        File.WriteAllText(Path.Combine(configDirectory, "resourceconfig.json"), resources.ToJsonString());
        Directory.CreateDirectory(container.LocalPath("/opt/ml/model"));
        Directory.CreateDirectory(container.LocalPath("/opt/ml/output/data"));
    }

    private static async Task UploadTarGzAsync(StepContext context, string directory, S3Location target, CancellationToken cancellationToken)
    {
        var archive = Path.Combine(context.StepDirectory, Path.GetFileName(target.Key));
        var file = File.Create(archive);
        await using (file.ConfigureAwait(false))
        {
            var gzip = new GZipStream(file, CompressionLevel.Optimal);
            await using (gzip.ConfigureAwait(false))
            {
                await TarFile.CreateFromDirectoryAsync(directory, gzip, includeBaseDirectory: false, cancellationToken).ConfigureAwait(false);
            }
        }

        await context.Store.UploadFileAsync(target, archive, cancellationToken).ConfigureAwait(false);
        await context.Log.WriteLineAsync($"    [{context.Step.Name}] {directory} -> {target}").ConfigureAwait(false);
    }
}
