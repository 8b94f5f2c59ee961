using System.Net;
using CustomerSegmentation.AwsPackageReplacements.ApplicationAutoScaling;
using CustomerSegmentation.AwsPackageReplacements.Core;
using CustomerSegmentation.LocalAws.SageMaker;
using static CustomerSegmentation.LocalAws.Tests.LocalSageMakerHarness;

namespace CustomerSegmentation.LocalAws.Tests;

/// <summary>The control plane's rules and errors, through the platform's own SageMakerClient over the loopback server.</summary>
public sealed class SageMakerControlPlaneTests
{
    private const string ModelData = "s3://models/run-1/model.tar.gz";

    [Fact]
    public async Task DescribeModelPackage_RegisteredByTheRunner_AnswersWithGroupVersionApprovalAndContainer()
    {
        await using var harness = Controlled();
        var arn = harness.AddPackage(3, ModelData, approval: "PendingManualApproval");

        var package = await harness.SageMaker.DescribeModelPackageAsync(new() { ModelPackageName = arn });

        Assert.Equal((Group, Group, 3, arn, "PendingManualApproval", "Completed"),
            (package.ModelPackageName, package.ModelPackageGroupName, package.ModelPackageVersion, package.ModelPackageArn, package.ModelApprovalStatus, package.ModelPackageStatus));
        Assert.Equal(ModelData, Assert.Single(package.InferenceSpecification!.Containers!).ModelDataUrl);
        Assert.NotNull(package.CreationTime);
        harness.AssertNoServerFaults();
    }

    [Fact]
    public async Task DescribeModelPackage_Unknown_ValidationException()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.DescribeModelPackageAsync(new() { ModelPackageName = $"{Group}/9" }));

        AssertError(error, "ValidationException", $"Model Package {Group}/9 does not exist.");
    }

    [Fact]
    public async Task CreateModel_FromModelPackage_ServesThePackagesImageDataAndEnvironment()
    {
        await using var harness = Controlled();
        var arn = harness.AddPackage(1, ModelData, new Dictionary<string, string> { ["SAGEMAKER_PROGRAM"] = "inference.py", ["SAGEMAKER_SUBMIT_DIRECTORY"] = "s3://code/sourcedir.tar.gz" });

        var config = await harness.ModelAndConfigAsync("m1", arn);
        await harness.ServeAsync("segments", config);

        var model = await harness.SageMaker.DescribeModelAsync(new() { ModelName = "m1-model" });
        Assert.Equal(arn, model.PrimaryContainer!.ModelPackageName);
        Assert.Equal(ModelArn("m1-model"), model.ModelArn);
        var container = Assert.Single(harness.Host.Variants).Deployment.Container;
        Assert.Equal("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3", container.Image);
        Assert.Equal(ModelData, container.ModelDataUrl);
        Assert.Equal("s3://code/sourcedir.tar.gz", container.Environment["SAGEMAKER_SUBMIT_DIRECTORY"]);
        harness.AssertNoServerFaults();
    }

    [Fact]
    public async Task CreateModel_ExistingName_ValidationExceptionNamingTheArn()
    {
        await using var harness = Controlled();
        var arn = harness.AddPackage(1, ModelData);
        await harness.ModelAndConfigAsync("m1", arn);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateModelAsync(new()
        {
            ModelName = "M1-model",
            PrimaryContainer = new() { ModelPackageName = arn },
            ExecutionRoleArn = Role,
        }));

        AssertError(error, "ValidationException", $"Cannot create already existing model \"{ModelArn("m1-model")}\".");
    }

    [Fact]
    public async Task CreateModel_UnknownPackage_ValidationException()
    {
        await using var harness = Controlled();
        var arn = $"arn:aws:sagemaker:{Region}:{Account}:model-package/{Group}/4";

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateModelAsync(new()
        {
            ModelName = "m1",
            PrimaryContainer = new() { ModelPackageName = arn },
            ExecutionRoleArn = Role,
        }));

        AssertError(error, "ValidationException", $"Model Package {arn} does not exist.");
    }

    [Fact]
    public async Task CreateModel_BadNameAndRole_EveryViolationInAwsWords()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateModelAsync(new()
        {
            ModelName = "bad_name",
            PrimaryContainer = new() { Image = "image" },
            ExecutionRoleArn = "role",
        }));

        AssertError(error, "ValidationException",
            "2 validation errors detected: Value 'bad_name' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*; "
            + "Value 'role' at 'executionRoleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$");
    }

    [Fact]
    public async Task CreateModel_PackageAndImageTogether_ValidationException()
    {
        await using var harness = Controlled();
        var arn = harness.AddPackage(1, ModelData);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateModelAsync(new()
        {
            ModelName = "m1",
            PrimaryContainer = new() { ModelPackageName = arn, Image = "other-image" },
            ExecutionRoleArn = Role,
        }));

        AssertError(error, "ValidationException", "A container with a ModelPackageName takes its Image and ModelDataUrl from the package: do not give them too.");
    }

    [Fact]
    public async Task CreateModel_InferencePipeline_RefusedAsLocalLimit()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateModelAsync(new()
        {
            ModelName = "m1",
            Containers = [new() { Image = "a" }, new() { Image = "b" }],
            ExecutionRoleArn = Role,
        }));

        AssertError(error, "ValidationException", "The local SageMaker serves single-container models: give PrimaryContainer or one entry in Containers, not an inference pipeline.");
    }

    [Fact]
    public async Task DeleteModel_Unknown_ValidationExceptionNamingTheArn()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.DeleteModelAsync(new() { ModelName = "nothing" }));

        AssertError(error, "ValidationException", $"Could not find model \"{ModelArn("nothing")}\".");
    }

    [Fact]
    public async Task ListModels_ThreePagesOfTwo_NewestFirstFilteredByName()
    {
        await using var harness = Controlled();
        foreach (var name in new[] { "seg-m-1", "other-1", "seg-m-2", "seg-m-3", "seg-m-4", "seg-m-5" })
        {
            await harness.SageMaker.CreateModelAsync(new() { ModelName = name, PrimaryContainer = new() { Image = "image" }, ExecutionRoleArn = Role });
        }

        var names = new List<string>();
        string? next = null;
        var pages = 0;
        do
        {
            var page = await harness.SageMaker.ListModelsAsync(new() { NameContains = "seg-m-", MaxResults = 2, NextToken = next });
            names.AddRange(page.Models!.Select(model => model.ModelName!));
            next = page.NextToken;
            pages++;
        }
        while (next is not null);

        Assert.Equal(["seg-m-5", "seg-m-4", "seg-m-3", "seg-m-2", "seg-m-1"], names);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task ListEndpointConfigs_ByNameAscending_SortedByName()
    {
        await using var harness = Controlled();
        var arn = harness.AddPackage(1, ModelData);
        foreach (var name in new[] { "c", "a", "b" })
        {
            await harness.ModelAndConfigAsync(name, arn);
        }

        var page = await harness.SageMaker.ListEndpointConfigsAsync(new() { SortBy = "Name", SortOrder = "Ascending" });

        Assert.Equal(["a-config", "b-config", "c-config"], page.EndpointConfigs!.Select(config => config.EndpointConfigName));
        Assert.Null(page.NextToken);
    }

    [Fact]
    public async Task ListModels_BadArguments_EveryViolationInAwsWords()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.ListModelsAsync(new() { SortBy = "Size", MaxResults = 101 }));

        AssertError(error, "ValidationException",
            "2 validation errors detected: Value 'Size' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [Name, CreationTime]; "
            + "Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100");
    }

    [Fact]
    public async Task ListModels_ForeignNextToken_ValidationException()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.ListModelsAsync(new() { NextToken = "not-a-token" }));

        AssertError(error, "ValidationException", "Invalid pagination token 'not-a-token'.");
    }

    [Fact]
    public async Task CreateEndpointConfig_UnknownModel_ValidationExceptionNamingTheArn()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateEndpointConfigAsync(new()
        {
            EndpointConfigName = "c1",
            ProductionVariants = [new() { VariantName = "AllTraffic", ModelName = "missing", InstanceType = "ml.m5.large", InitialInstanceCount = 1 }],
        }));

        AssertError(error, "ValidationException", $"Could not find model \"{ModelArn("missing")}\".");
    }

    [Fact]
    public async Task CreateEndpointConfig_ExistingName_ValidationExceptionNamingTheArn()
    {
        await using var harness = Controlled();
        await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateEndpointConfigAsync(new()
        {
            EndpointConfigName = "m1-config",
            ProductionVariants = [new() { VariantName = "AllTraffic", ModelName = "m1-model" }],
        }));

        AssertError(error, "ValidationException", $"Cannot create already existing endpoint configuration \"{ConfigArn("m1-config")}\".");
    }

    [Fact]
    public async Task CreateEndpointConfig_ZeroInstancesAndBadVariantName_EveryViolationInAwsWords()
    {
        await using var harness = Controlled();
        await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateEndpointConfigAsync(new()
        {
            EndpointConfigName = "c2",
            ProductionVariants = [new() { VariantName = "All Traffic", ModelName = "m1-model", InitialInstanceCount = 0 }],
        }));

        AssertError(error, "ValidationException",
            "2 validation errors detected: Value 'All Traffic' at 'productionVariants.1.member.variantName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}; "
            + "Value '0' at 'productionVariants.1.member.initialInstanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1");
    }

    [Fact]
    public async Task DescribeEndpointConfig_Known_AnswersItsVariants()
    {
        await using var harness = Controlled();
        await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData), "ml.c5.large");

        var config = await harness.SageMaker.DescribeEndpointConfigAsync(new() { EndpointConfigName = "m1-config" });

        Assert.Equal(ConfigArn("m1-config"), config.EndpointConfigArn);
        var variant = Assert.Single(config.ProductionVariants!);
        Assert.Equal(("AllTraffic", "m1-model", "ml.c5.large", 1), (variant.VariantName, variant.ModelName, variant.InstanceType, variant.InitialInstanceCount));
    }

    [Fact]
    public async Task DeleteEndpointConfig_Unknown_ValidationExceptionNamingTheArn()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.DeleteEndpointConfigAsync(new() { EndpointConfigName = "gone" }));

        AssertError(error, "ValidationException", $"Could not find endpoint configuration \"{ConfigArn("gone")}\".");
    }

    [Fact]
    public async Task CreateEndpoint_HealthyVariant_CreatingUntilItStartsThenInService()
    {
        var host = new ControlledEndpointHost { StartsOnItsOwn = false };
        await using var harness = Controlled(host);
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));

        var created = await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config, Tags = [new() { Key = "team", Value = "ml" }] });
        var creating = await harness.SageMaker.DescribeEndpointAsync(new() { EndpointName = "segments" });
        await host.CompleteNextAsync();
        var inService = await harness.WaitForStatusAsync("segments", "InService");

        Assert.Equal(EndpointArn("segments"), created.EndpointArn);
        Assert.Equal(("Creating", config), (creating.EndpointStatus, creating.EndpointConfigName));
        Assert.Equal((config, null), (inService!.EndpointConfigName, inService.FailureReason));
        var variant = Assert.Single(inService.ProductionVariants!);
        Assert.Equal(("AllTraffic", 1, 1), (variant.VariantName, variant.CurrentInstanceCount, variant.DesiredInstanceCount));
        Assert.Equal("ml", (await harness.SageMaker.ListTagsAsync(new() { ResourceArn = EndpointArn("segments") })).Tags!.Single(tag => tag.Key == "team").Value);
        harness.AssertNoServerFaults();
    }

    [Fact]
    public async Task CreateEndpoint_VariantFailsToStart_FailedWithTheReason()
    {
        var host = new ControlledEndpointHost { StartsOnItsOwn = false };
        await using var harness = Controlled(host);
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config });

        await host.FailNextAsync("The primary container for production variant AllTraffic did not pass the ping health check.");
        var failed = await harness.WaitForStatusAsync("segments", "Failed");

        Assert.Equal("The primary container for production variant AllTraffic did not pass the ping health check.", failed!.FailureReason);
        Assert.Equal(["CREATING", "FAILED"], await harness.Events.WaitForStatusesAsync("segments", 2));
    }

    [Fact]
    public async Task CreateEndpoint_ExistingName_ValidationExceptionNamingTheArn()
    {
        await using var harness = Controlled();
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        await harness.ServeAsync("segments", config);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config }));

        AssertError(error, "ValidationException", $"Cannot create already existing endpoint \"{EndpointArn("segments")}\".");
    }

    [Fact]
    public async Task CreateEndpoint_UnknownConfig_ValidationExceptionNamingTheArn()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = "nope" }));

        AssertError(error, "ValidationException", $"Could not find endpoint configuration \"{ConfigArn("nope")}\".");
        Assert.Empty(harness.Events.Events);
    }

    [Fact]
    public async Task CreateEndpoint_ConfigWithTwoVariants_RefusedAsLocalLimit()
    {
        await using var harness = Controlled();
        await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        await harness.SageMaker.CreateEndpointConfigAsync(new()
        {
            EndpointConfigName = "two",
            ProductionVariants = [new() { VariantName = "A", ModelName = "m1-model" }, new() { VariantName = "B", ModelName = "m1-model" }],
        });

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = "two" }));

        AssertError(error, "ValidationException", "The local SageMaker serves one production variant per endpoint; endpoint config two has 2.");
    }

    [Fact]
    public async Task CreateEndpoint_ModelDeletedAfterConfig_ValidationExceptionNamingTheModel()
    {
        await using var harness = Controlled();
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        await harness.SageMaker.DeleteModelAsync(new() { ModelName = "m1-model" });

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config }));

        AssertError(error, "ValidationException", $"Could not find model \"{ModelArn("m1-model")}\".");
    }

    [Fact]
    public async Task DescribeEndpoint_Unknown_ValidationExceptionNamingTheArn()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.DescribeEndpointAsync(new() { EndpointName = "Segments" }));

        AssertError(error, "ValidationException", $"Could not find endpoint \"{EndpointArn("segments")}\".");
    }

    [Fact]
    public async Task UpdateEndpoint_HealthyNewConfig_UpdatingThenServesItAndStopsTheOldVariant()
    {
        var host = new ControlledEndpointHost { StartsOnItsOwn = false };
        await using var harness = Controlled(host);
        var first = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        var second = await harness.ModelAndConfigAsync("m2", harness.AddPackage(2, "s3://models/run-2/model.tar.gz"));
        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = first });
        await host.CompleteNextAsync();
        await harness.WaitForStatusAsync("segments", "InService");

        await harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = second });
        var updating = await harness.SageMaker.DescribeEndpointAsync(new() { EndpointName = "segments" });
        var servedWhileUpdating = await InvokeAsync(harness);
        await host.CompleteNextAsync();
        var updated = await harness.WaitForStatusAsync("segments", "InService");
        var servedAfter = await InvokeAsync(harness);

        Assert.Equal(("Updating", first, second), (updating.EndpointStatus, updating.EndpointConfigName, updating.PendingDeploymentSummary!.EndpointConfigName));
        Assert.Equal(first, servedWhileUpdating);
        Assert.Equal((second, null), (updated!.EndpointConfigName, updated.PendingDeploymentSummary));
        Assert.Equal(second, servedAfter);
        await WaitUntilAsync(() => host.Variants[0].Stopped);
        Assert.False(host.Variants[1].Stopped);
        harness.AssertNoServerFaults();
    }

    [Fact]
    public async Task UpdateEndpoint_RequestInFlightDuringTheSwitch_OldVariantStopsOnlyAfterItAnswered()
    {
        var host = new ControlledEndpointHost();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = Controlled(host);
        var first = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        var second = await harness.ModelAndConfigAsync("m2", harness.AddPackage(2, ModelData));
        await harness.ServeAsync("segments", first);
        host.Answer = async (deployment, _) =>
        {
            if (deployment.EndpointConfigName == first)
            {
                entered.TrySetResult();
                await release.Task;
            }

            return new VariantAnswer(200, System.Text.Encoding.UTF8.GetBytes($$"""{"config":"{{deployment.EndpointConfigName}}"}"""), "application/json");
        };
        var slow = InvokeAsync(harness);
        await entered.Task;

        await harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = second });
        await harness.WaitForStatusAsync("segments", "InService");
        var stoppedWhileAnswering = host.Variants[0].Stopped;
        release.SetResult();

        Assert.Equal(first, await slow);
        Assert.False(stoppedWhileAnswering);
        await WaitUntilAsync(() => host.Variants[0].Stopped);
        Assert.Equal(second, await InvokeAsync(harness));
        harness.AssertNoServerFaults();
    }

    [Fact]
    public async Task UpdateEndpoint_NewVariantFails_RollsBackToTheOldConfigWithTheReason()
    {
        var host = new ControlledEndpointHost { StartsOnItsOwn = false };
        await using var harness = Controlled(host);
        var first = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        var second = await harness.ModelAndConfigAsync("m2", harness.AddPackage(2, ModelData));
        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = first });
        await host.CompleteNextAsync();
        await harness.WaitForStatusAsync("segments", "InService");
        await harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = second });

        await host.FailNextAsync("model_fn raised FileNotFoundError");
        var statuses = await harness.Events.WaitForStatusesAsync("segments", 5);
        var endpoint = await harness.SageMaker.DescribeEndpointAsync(new() { EndpointName = "segments" });

        Assert.Equal(["CREATING", "IN_SERVICE", "UPDATING", "ROLLING_BACK", "IN_SERVICE"], statuses);
        Assert.Equal(("InService", first, "model_fn raised FileNotFoundError", null),
            (endpoint.EndpointStatus, endpoint.EndpointConfigName, endpoint.FailureReason, endpoint.PendingDeploymentSummary));
        Assert.Equal(first, await InvokeAsync(harness));
        Assert.False(host.Variants[0].Stopped);
    }

    [Fact]
    public async Task UpdateEndpoint_WhileCreating_ValidationExceptionInProgress()
    {
        var host = new ControlledEndpointHost { StartsOnItsOwn = false };
        await using var harness = Controlled(host);
        var first = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = first });

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = first }));

        AssertError(error, "ValidationException", $"Cannot update in-progress endpoint \"{EndpointArn("segments")}\".");
    }

    [Fact]
    public async Task UpdateEndpoint_FailedEndpoint_ValidationExceptionDeleteOnly()
    {
        var host = new ControlledEndpointHost { StartsOnItsOwn = false };
        await using var harness = Controlled(host);
        var first = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = first });
        await host.FailNextAsync("broken");
        await harness.WaitForStatusAsync("segments", "Failed");

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = first }));

        AssertError(error, "ValidationException",
            $"Cannot update failed endpoint \"{EndpointArn("segments")}\": DeleteEndpoint is the only operation that can be performed on a failed endpoint.");
    }

    [Fact]
    public async Task UpdateEndpoint_InstanceTypeChangeWhileAScalableTarget_RefusedUntilDeregistered()
    {
        await using var harness = Controlled();
        var first = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData), "ml.m5.large");
        var bigger = await harness.ModelAndConfigAsync("m2", harness.AddPackage(2, ModelData), "ml.m5.xlarge");
        await harness.ServeAsync("segments", first);
        await harness.Scaling.RegisterScalableTargetAsync(Target("segments", 1, 4));

        var refused = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = bigger }));
        await harness.Scaling.DeregisterScalableTargetAsync(new()
        {
            ServiceNamespace = "sagemaker",
            ResourceId = VariantResource("segments"),
            ScalableDimension = "sagemaker:variant:DesiredInstanceCount",
        });
        await harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = bigger });

        AssertError(refused, "ValidationException",
            "The variant(s) \"[AllTraffic]\" must be deregistered as scalable targets with AWS Application Auto Scaling before they can be updated.");
        Assert.Equal(bigger, (await harness.WaitForStatusAsync("segments", "InService"))!.EndpointConfigName);
    }

    [Fact]
    public async Task UpdateEndpoint_SameInstanceTypeWhileAScalableTarget_Allowed()
    {
        await using var harness = Controlled();
        var first = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        var second = await harness.ModelAndConfigAsync("m2", harness.AddPackage(2, ModelData));
        await harness.ServeAsync("segments", first);
        await harness.Scaling.RegisterScalableTargetAsync(Target("segments", 1, 4));

        await harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = second, RetainAllVariantProperties = true });

        Assert.Equal(second, (await harness.WaitForStatusAsync("segments", "InService"))!.EndpointConfigName);
    }

    [Fact]
    public async Task DeleteEndpoint_InService_DeletingThenGoneAndItsVariantStopped()
    {
        await using var harness = Controlled();
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        await harness.ServeAsync("segments", config);

        await harness.SageMaker.DeleteEndpointAsync(new() { EndpointName = "segments" });
        var gone = await harness.WaitForStatusAsync("segments", null);

        Assert.Null(gone);
        Assert.True(harness.Host.Variants[0].Stopped);
        Assert.Equal(["segments"], harness.Host.Released);
        Assert.Equal(["CREATING", "IN_SERVICE", "DELETING"], await harness.Events.WaitForStatusesAsync("segments", 3));
        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.ListTagsAsync(new() { ResourceArn = EndpointArn("segments") }));
        AssertError(error, "ValidationException", $"Resource {EndpointArn("segments")} does not exist.");
    }

    [Fact]
    public async Task DeleteEndpoint_WhileCreating_StopsTheStartAndCanBeCreatedAgain()
    {
        var host = new ControlledEndpointHost { StartsOnItsOwn = false };
        await using var harness = Controlled(host);
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        await harness.SageMaker.CreateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = config });

        await harness.SageMaker.DeleteEndpointAsync(new() { EndpointName = "segments" });
        await harness.WaitForStatusAsync("segments", null);
        host.StartsOnItsOwn = true;
        await harness.ServeAsync("segments", config);

        Assert.Equal(config, await InvokeAsync(harness));
    }

    [Fact]
    public async Task Tags_AddListDelete_RoundTripOnAConfig()
    {
        await using var harness = Controlled();
        await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        var arn = ConfigArn("m1-config");

        await harness.SageMaker.AddTagsAsync(new() { ResourceArn = arn, Tags = [new() { Key = "a", Value = "1" }, new() { Key = "b", Value = "2" }] });
        await harness.SageMaker.AddTagsAsync(new() { ResourceArn = arn, Tags = [new() { Key = "a", Value = "3" }] });
        await harness.SageMaker.DeleteTagsAsync(new() { ResourceArn = arn, TagKeys = ["b"] });
        var tags = await harness.SageMaker.ListTagsAsync(new() { ResourceArn = arn });

        Assert.Equal(("a", "3"), (Assert.Single(tags.Tags!).Key, tags.Tags![0].Value));
    }

    [Fact]
    public async Task AddTags_BadKeyOnUnknownResource_ValidationOfTheKeyFirst()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.AddTagsAsync(new()
        {
            ResourceArn = ModelArn("none"),
            Tags = [new() { Key = "bad#key", Value = "v" }],
        }));

        AssertError(error, "ValidationException",
            "1 validation error detected: Value 'bad#key' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$");
    }

    [Fact]
    public async Task ListTags_MaxResultsBelowFifty_ValidationException()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.ListTagsAsync(new() { ResourceArn = ModelArn("x"), MaxResults = 10 }));

        AssertError(error, "ValidationException",
            "1 validation error detected: Value '10' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 50");
    }

    [Fact]
    public async Task DeleteTags_UnknownResource_ValidationException()
    {
        await using var harness = Controlled();

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => harness.SageMaker.DeleteTagsAsync(new() { ResourceArn = ModelArn("x"), TagKeys = ["a"] }));

        AssertError(error, "ValidationException", $"Resource {ModelArn("x")} does not exist.");
    }

    [Fact]
    public async Task EndpointEvents_CreateUpdateDelete_PublishedInOrderAsEventBridgeHasThem()
    {
        await using var harness = Controlled();
        var first = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));
        var second = await harness.ModelAndConfigAsync("m2", harness.AddPackage(2, ModelData));
        await harness.ServeAsync("segments", first);
        await harness.SageMaker.UpdateEndpointAsync(new() { EndpointName = "segments", EndpointConfigName = second });
        await harness.WaitForStatusAsync("segments", "InService");

        await harness.SageMaker.DeleteEndpointAsync(new() { EndpointName = "segments" });

        Assert.Equal(["CREATING", "IN_SERVICE", "UPDATING", "IN_SERVICE", "DELETING"], await harness.Events.WaitForStatusesAsync("segments", 5));
        var updated = harness.Events.Events[3];
        Assert.Equal(("aws.sagemaker", "SageMaker Endpoint State Change", EndpointArn("segments")),
            (updated.Source, updated.DetailType, Assert.Single(updated.Resources)));
        Assert.Equal(("segments", EndpointArn("segments"), second),
            ((string?)updated.Detail["EndpointName"], (string?)updated.Detail["EndpointArn"], (string?)updated.Detail["EndpointConfigName"]));
    }

    [Fact]
    public async Task EndpointEvents_PublisherThrows_LoggedAndTheServiceGoesOn()
    {
        var events = new RecordingEventPublisher { Before = (e, _) => (string?)e.Detail["EndpointStatus"] == "CREATING" ? throw new InvalidOperationException("bus down") : Task.CompletedTask };
        await using var harness = Controlled(events: events);
        var config = await harness.ModelAndConfigAsync("m1", harness.AddPackage(1, ModelData));

        await harness.ServeAsync("segments", config);

        Assert.Equal(["IN_SERVICE"], await harness.Events.WaitForStatusesAsync("segments", 1));
        Assert.Contains("delivering SageMaker Endpoint State Change", harness.Log.ToString(), StringComparison.Ordinal);
        Assert.Contains("bus down", harness.Log.ToString(), StringComparison.Ordinal);
        harness.AssertNoServerFaults();
    }

    internal static void AssertError(AwsServiceException error, string code, string message)
    {
        Assert.Equal((code, message), (error.ErrorCode, error.ErrorMessage));
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
    }

    internal static RegisterScalableTargetRequest Target(string endpoint, int? min, int? max) => new()
    {
        ServiceNamespace = "sagemaker",
        ResourceId = VariantResource(endpoint),
        ScalableDimension = "sagemaker:variant:DesiredInstanceCount",
        MinCapacity = min,
        MaxCapacity = max,
    };

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition(), "the condition did not become true within 5 s");
    }

    /// <summary>Invokes "segments" and returns which endpoint config answered (the controlled variants say).</summary>
    private static async Task<string> InvokeAsync(LocalSageMakerHarness harness)
    {
        var response = await harness.Runtime.InvokeEndpointAsync(new() { EndpointName = "segments", Body = "{}"u8.ToArray() });
        using var document = System.Text.Json.JsonDocument.Parse(response.Body);
        return document.RootElement.GetProperty("config").GetString()!;
    }
}
