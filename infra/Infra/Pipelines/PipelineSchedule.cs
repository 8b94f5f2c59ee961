using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.IAM;
using Constructs;

namespace CustomerSegmentation.Infra.Pipelines;

/// <summary>Properties of <see cref="PipelineSchedule"/>.</summary>
public sealed class PipelineScheduleProps
{
    /// <summary>ARN of the SageMaker pipeline to start.</summary>
    public required string PipelineArn { get; init; }

    /// <summary>EventBridge schedule expression, e.g. <c>cron(0 3 ? * MON *)</c>.</summary>
    public required string ScheduleExpression { get; init; }

    /// <summary>The rule's target id, naming the pipeline it starts, e.g. <c>TrainingPipeline</c>.</summary>
    public required string TargetId { get; init; }

    /// <summary>The rule's description: what it starts and why, as the console shows it.</summary>
    public required string Description { get; init; }

    /// <summary>The description of the role EventBridge assumes to start the pipeline.</summary>
    public required string RoleDescription { get; init; }

    /// <summary>
    /// Whether the rule fires. Default: true. A disabled schedule keeps its rule, in state DISABLED, so the cron stays
    /// visible in the console and turning it back on is a state change rather than a new resource.
    /// </summary>
    public bool Enabled { get; init; } = true;
}

/// <summary>Starts a SageMaker pipeline on a schedule, with the pipeline's parameter defaults.</summary>
public sealed class PipelineSchedule : Construct
{
    public PipelineSchedule(Construct scope, string id, PipelineScheduleProps props)
        : base(scope, id)
    {
        ArgumentNullException.ThrowIfNull(props);

        var role = new Role(this, "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("events.amazonaws.com"),
            Description = props.RoleDescription,
        });
        role.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["sagemaker:StartPipelineExecution"],
            Resources = [props.PipelineArn],
        }));

        // aws-events-targets' SageMakerPipeline target arrived after Amazon.CDK.Lib 2.160 (the newest usable here), so
        // the rule is declared at the CloudFormation level with the same target shape that class renders.
        Rule = new CfnRule(this, "Rule", new CfnRuleProps
        {
            Description = props.Description,
            ScheduleExpression = props.ScheduleExpression,
            State = props.Enabled ? "ENABLED" : "DISABLED",
            Targets = new[]
            {
                new CfnRule.TargetProperty
                {
                    Id = props.TargetId,
                    Arn = props.PipelineArn,
                    RoleArn = role.RoleArn,
                },
            },
        });
        Rule.Node.AddDependency(role);
        Role = role;
    }

    /// <summary>The EventBridge rule.</summary>
    public CfnRule Rule { get; }

    /// <summary>The role EventBridge assumes to start the pipeline.</summary>
    public IRole Role { get; }
}
