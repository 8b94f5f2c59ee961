using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Constructs;
using CustomerSegmentation.Infra.Pipelines;

namespace CustomerSegmentation.Infra.Deployment;

/// <summary>Properties of <see cref="NativeFunction.Create"/>.</summary>
public sealed class NativeFunctionProps
{
    /// <summary>The function's project under <c>lambdas/</c>, e.g. <c>EndpointDeployer</c> for <c>lambdas/EndpointDeployer/EndpointDeployer.csproj</c>.</summary>
    public required string Project { get; init; }

    /// <summary>The architecture the bootstrap is compiled for and runs on.</summary>
    public required LambdaArchitecture Architecture { get; init; }

    /// <summary>How long the function's log group keeps its logs, in days: one of <see cref="DeploymentSettings.LogRetentionPeriods"/>.</summary>
    public required int LogRetentionDays { get; init; }

    /// <summary>The description of the function's role: what the function does with its permissions.</summary>
    public required string RoleDescription { get; init; }

    /// <summary>The function's code. Default: <see cref="Project"/> published native AOT by <see cref="NativeLambdaCode"/>.</summary>
    public Code? Code { get; init; }

    /// <summary>
    /// What differs from one function to the next (name, description, memory, timeout, environment, concurrency, ...).
    /// <see cref="NativeFunction.Create"/> sets <c>Runtime</c>, <c>Handler</c>, <c>Code</c>, <c>Architecture</c>,
    /// <c>Tracing</c>, <c>LogGroup</c> and <c>Role</c>; leave those unset.
    /// </summary>
    public required FunctionProps Function { get; init; }
}

/// <summary>
/// A native-AOT <c>bootstrap</c> function on <c>provided.al2023</c> the way every platform function runs: active X-Ray
/// tracing, its own log group with a retention, and its own role that starts with nothing but writing to that log
/// group (no managed policy); the caller grants the rest.
/// </summary>
/// <remarks>
/// Not a construct of its own: the log group, role and function are created directly in the caller's scope as
/// <c>&lt;id&gt;LogGroup</c>, <c>&lt;id&gt;Role</c> and <c>&lt;id&gt;</c>, the IDs the endpoint deployer's resources had
/// before this was shared, so no deployed function is replaced.
/// </remarks>
public sealed class NativeFunction
{
    private NativeFunction(Function function, Role role, LogGroup logGroup)
    {
        Function = function;
        Role = role;
        LogGroup = logGroup;
    }

    /// <summary>The function.</summary>
    public Function Function { get; }

    /// <summary>The function's role.</summary>
    public Role Role { get; }

    /// <summary>The function's log group.</summary>
    public LogGroup LogGroup { get; }

    /// <summary>Creates the log group, role and function in <paramref name="scope"/>.</summary>
    public static NativeFunction Create(Construct scope, string id, NativeFunctionProps props)
    {
        ArgumentNullException.ThrowIfNull(props);
        var logGroup = new LogGroup(scope, id + "LogGroup", new LogGroupProps
        {
            Retention = DeploymentSettings.LogRetentionPeriods[props.LogRetentionDays],
        });
        var role = new Role(scope, id + "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = props.RoleDescription,
        });
        logGroup.GrantWrite(role);

        var function = props.Function;
        function.Runtime = Runtime.PROVIDED_AL2023;
        function.Handler = "bootstrap";
        function.Code = props.Code ?? NativeLambdaCode.FromProject(
            new FileInfo(Path.Combine(RepositoryLayout.Root().FullName, "lambdas", props.Project, props.Project + ".csproj")),
            props.Architecture);
        function.Architecture = NativeLambdaCode.LambdaArchitectureOf(props.Architecture);
        function.Tracing = Tracing.ACTIVE;
        function.LogGroup = logGroup;
        function.Role = role;
        return new NativeFunction(new Function(scope, id, function), role, logGroup);
    }
}
