using System.Globalization;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalAws.Events;
using CustomerSegmentation.LocalPipelineRunner.Execution;
using static CustomerSegmentation.LocalPipelineRunner.Steps.ArgumentReader;

namespace CustomerSegmentation.LocalPipelineRunner.Steps;

/// <summary>
/// A RegisterModel step (CreateModelPackage arguments): a new version of the model package group is written to
/// <c>&lt;registry&gt;/&lt;group&gt;/&lt;version&gt;.json</c>; versions count up from 1 per group like SageMaker's. Like
/// SageMaker, the new version is announced on the event bus as "SageMaker Model Package State Change".
/// </summary>
/// <param name="events">The bus the state change goes to. Default: none, for executions without local AWS services.</param>
public sealed class RegisterModelStepExecutor(IEventPublisher? events = null) : IStepExecutor
{
    public const string StateChangeDetailType = "SageMaker Model Package State Change";

    private static readonly string[] ApprovalStatuses = ["Approved", "PendingManualApproval", "Rejected"];

    public string StepType => "RegisterModel";

    public async Task<StepResult> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = (JsonObject)context.Expressions.Evaluate(context.Step.Arguments)!;
        var group = RequiredString(arguments["ModelPackageGroupName"], "ModelPackageGroupName");
        var status = OptionalString(arguments["ModelApprovalStatus"], "ModelApprovalStatus") ?? "PendingManualApproval";
        if (!ApprovalStatuses.Contains(status))
        {
            throw new StepFailedException(
                $"ValidationException: ModelApprovalStatus '{status}' is not one of {string.Join(", ", ApprovalStatuses)}.");
        }

        var containers = Array(arguments["InferenceSpecification"]?["Containers"], "InferenceSpecification.Containers");
        if (containers.Count == 0)
        {
            throw new StepFailedException("ValidationException: InferenceSpecification.Containers needs at least one container.");
        }

        await ModelData.EnsureExistsAsync(context, containers, cancellationToken).ConfigureAwait(false);
        StringMap(arguments["CustomerMetadataProperties"], "CustomerMetadataProperties");

        var groupDirectory = Path.Combine(context.Environment.RegistryDirectory, group);
        var version = NextVersion(groupDirectory);
        var arn = $"arn:aws:sagemaker:{LocalAccount.Region}:{LocalAccount.AccountId}:model-package/{group}/{version}";
        arguments["ModelApprovalStatus"] = status;
        arguments["ModelPackageVersion"] = version;
        arguments["ModelPackageArn"] = arn;
        arguments["ModelPackageStatus"] = "Completed";
        arguments["CreationTime"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        arguments["PipelineExecutionArn"] = context.State.ExecutionArn;
        await ModelData.WriteJsonAsync(Path.Combine(groupDirectory, $"{version}.json"), arguments, cancellationToken).ConfigureAwait(false);
        await context.Log.WriteLineAsync($"    [{context.Step.Name}] registered {arn} ({status})").ConfigureAwait(false);
        if (events is not null)
        {
            await events.PublishAsync("aws.sagemaker", StateChangeDetailType, StateChangeDetail(arguments), [arn], cancellationToken).ConfigureAwait(false);
        }

        return new StepResult(arguments);
    }

    /// <summary>The event's detail: the package as DescribeModelPackage shows it, CreationTime in epoch milliseconds as EventBridge carries it.</summary>
    public static JsonObject StateChangeDetail(JsonObject package)
    {
        ArgumentNullException.ThrowIfNull(package);
        var detail = new JsonObject();
        foreach (var member in new[]
        {
            "ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn", "ModelPackageDescription", "InferenceSpecification",
            "ModelPackageStatus", "ModelApprovalStatus", "ModelMetrics", "CustomerMetadataProperties",
        })
        {
            if (package[member] is { } value)
            {
                detail[member] = value.DeepClone();
            }
        }

        detail["CreationTime"] = DateTimeOffset.Parse((string)package["CreationTime"]!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
        detail["CertifyForMarketplace"] = false;
        return detail;
    }

    public static int NextVersion(string groupDirectory)
    {
        if (!Directory.Exists(groupDirectory))
        {
            return 1;
        }

        return Directory.EnumerateFiles(groupDirectory, "*.json")
            .Select(f => int.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0)
            .DefaultIfEmpty(0)
            .Max() + 1;
    }
}
