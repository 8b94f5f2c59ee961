using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using CustomerSegmentation.LocalPipelineRunner.Storage;
using static CustomerSegmentation.LocalPipelineRunner.Steps.ArgumentReader;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>
/// A Processing step (CreateProcessingJob arguments): inputs downloaded, the container entrypoint run as a local
/// process, outputs uploaded at the end of the job, property files read back from S3.
/// </summary>
public sealed class ProcessingStepExecutor : IStepExecutor
{
    public string StepType => "Processing";

    public async Task<StepResult> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = (JsonObject)context.Expressions.Evaluate(context.Step.Arguments)!;
        var container = new ContainerProcess(context);

        foreach (var input in Array(arguments["ProcessingInputs"], "ProcessingInputs"))
        {
            var name = RequiredString(input?["InputName"], "ProcessingInputs[].InputName");
            var s3 = input?["S3Input"] ?? throw new StepFailedException(
                $"ClientError: input {name} has no S3Input; the local runner supports S3 inputs only.");
            var mode = OptionalString(s3["S3InputMode"], $"{name}.S3InputMode") ?? "File";
            var compression = OptionalString(s3["S3CompressionType"], $"{name}.S3CompressionType") ?? "None";
            if (mode != "File" || compression != "None")
            {
                throw new StepFailedException($"ClientError: input {name}: S3InputMode {mode} / S3CompressionType {compression} is not supported locally (File / None).");
            }

            await DataSources.DownloadAsync(
                context,
                RequiredString(s3["S3Uri"], $"{name}.S3Uri"),
                OptionalString(s3["S3DataType"], $"{name}.S3DataType") ?? "S3Prefix",
                container.LocalPath(ProcessingPath(RequiredString(s3["LocalPath"], $"{name}.LocalPath"))),
                cancellationToken).ConfigureAwait(false);
        }

        var outputs = Array(arguments["ProcessingOutputConfig"]?["Outputs"], "ProcessingOutputConfig.Outputs")
            .Select(o => (
                Name: RequiredString(o?["OutputName"], "Outputs[].OutputName"),
                Uri: RequiredString(o?["S3Output"]?["S3Uri"], "Outputs[].S3Output.S3Uri"),
                LocalPath: container.LocalPath(ProcessingPath(RequiredString(o?["S3Output"]?["LocalPath"], "Outputs[].S3Output.LocalPath")))))
            .ToList();
        foreach (var output in outputs)
        {
            Directory.CreateDirectory(output.LocalPath);
        }

        var app = arguments["AppSpecification"];
        var entrypoint = Array(app?["ContainerEntrypoint"], "AppSpecification.ContainerEntrypoint")
            .Select(e => RequiredString(e, "AppSpecification.ContainerEntrypoint[]")).ToList();
        if (entrypoint.Count == 0)
        {
            throw new StepFailedException(
                $"ClientError: step {context.Step.Name} has no AppSpecification.ContainerEntrypoint; the local runner cannot run the image's own entrypoint.");
        }

        var command = entrypoint.Concat(Array(app?["ContainerArguments"], "AppSpecification.ContainerArguments")
            .Select(a => RequiredString(a, "AppSpecification.ContainerArguments[]"))).ToList();
        await container.RunAsync(command, StringMap(arguments["Environment"], "Environment"), context.StepDirectory, cancellationToken)
            .ConfigureAwait(false);

        foreach (var output in outputs)
        {
            var count = await context.Store.UploadDirectoryAsync(output.LocalPath, S3Location.Parse(output.Uri), cancellationToken).ConfigureAwait(false);
            await context.Log.WriteLineAsync($"    [{context.Step.Name}] output {output.Name}: {count} file(s) -> {output.Uri}").ConfigureAwait(false);
        }

        foreach (var file in context.Step.PropertyFiles)
        {
            var output = outputs.FirstOrDefault(o => o.Name == file.OutputName);
            if (output.Name is null)
            {
                throw new StepFailedException($"ClientError: property file {file.Name} names output {file.OutputName}, which the step does not have.");
            }

            var location = S3Location.Parse(output.Uri).Append(file.FilePath);
            var text = await context.Store.ReadTextAsync(location, cancellationToken).ConfigureAwait(false)
                ?? throw new StepFailedException($"ClientError: property file {file.Name}: {location} was not produced by the job.");
            try
            {
                context.State.SetPropertyFile(context.Step.Name, file.Name, JsonNode.Parse(text));
            }
            catch (JsonException e)
            {
                throw new StepFailedException($"ClientError: property file {file.Name} ({location}) is not valid JSON: {e.Message}", e);
            }
        }

        arguments["ProcessingJobName"] = context.JobName;
        arguments["ProcessingJobArn"] = $"arn:aws:sagemaker:{LocalAccount.Region}:{LocalAccount.AccountId}:processing-job/{context.JobName.ToLowerInvariant()}";
        arguments["ProcessingJobStatus"] = "Completed";
        arguments["ExitMessage"] = string.Empty;
        return new StepResult(arguments);
    }

    /// <summary>SageMaker only accepts processing paths under /opt/ml/processing; locally that also keeps steps inside the work directory.</summary>
    private static string ProcessingPath(string path) =>
        path.StartsWith("/opt/ml/processing/", StringComparison.Ordinal) && !path.Contains("..", StringComparison.Ordinal)
            ? path
            : throw new StepFailedException($"ValidationException: LocalPath '{path}' must be a path under /opt/ml/processing/.");
}
