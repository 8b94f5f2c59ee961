using System.Collections.Concurrent;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.Lambda;

/// <summary>
/// The Lambda service of a local stack: every <c>AWS::Lambda::Function</c> of the template, found by name or ARN,
/// each started on its first invocation (a cold start) as a <see cref="LocalLambdaFunction"/>. Disposing it stops
/// every function's process.
/// </summary>
public sealed class LocalLambdaService : IAsyncDisposable
{
    private const string FunctionType = "AWS::Lambda::Function";
    private readonly StackTemplate _stack;
    private readonly TextWriter _log;
    private readonly Dictionary<string, string> _logicalIdsByName;
    private readonly ConcurrentDictionary<string, Lazy<LocalLambdaFunction>> _functions = new(StringComparer.Ordinal);
    private volatile bool _disposed;

    /// <param name="stack">The stack whose functions this service runs.</param>
    /// <param name="log">Where the functions' output goes.</param>
    public LocalLambdaService(StackTemplate stack, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(stack);
        _stack = stack;
        _log = TextWriter.Synchronized(log);
        _logicalIdsByName = stack.Resolver.LogicalIdsOfType(FunctionType)
            .ToDictionary(id => stack.Resolver.PhysicalName(id), id => id, StringComparer.Ordinal);
    }

    /// <summary>
    /// The loopback services the functions' AWS clients are pointed at. Set it before the first invocation: it is read
    /// when a function's execution environment starts. Default: none (no endpoint variables).
    /// </summary>
    public LocalServiceEndpoints Endpoints { get; set; } = new();

    /// <summary>The names of the template's functions.</summary>
    public IEnumerable<string> FunctionNames => _logicalIdsByName.Keys.Order(StringComparer.Ordinal);

    /// <summary>The functions started so far.</summary>
    public IEnumerable<LocalLambdaFunction> StartedFunctions =>
        _functions.Values.Where(f => f.IsValueCreated).Select(f => f.Value);

    /// <summary>
    /// The function named by <paramref name="nameOrArn"/> (a function name, or an ARN with no qualifier or
    /// <c>$LATEST</c>), checked to be runnable on its first use.
    /// </summary>
    /// <exception cref="LocalAwsException">The stack has no such function, or it cannot run locally.</exception>
    public LocalLambdaFunction Function(string nameOrArn)
    {
        ArgumentNullException.ThrowIfNull(nameOrArn);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var name = FunctionName(nameOrArn);
        if (!_logicalIdsByName.TryGetValue(name, out var logicalId))
        {
            throw new LocalAwsException(
                $"Function not found: {nameOrArn}. Stack {_stack.StackName} has {(_logicalIdsByName.Count == 0 ? "no functions" : "the functions " + string.Join(", ", FunctionNames))}.");
        }

        // Lazy so that concurrent first invocations start one function, and a function that cannot run fails every time.
        return _functions.GetOrAdd(name, _ => new Lazy<LocalLambdaFunction>(
            () => new LocalLambdaFunction(LambdaFunctionDefinition.FromTemplate(_stack, logicalId), () => Endpoints, _log))).Value;
    }

    /// <summary>Completes when no started function has an invocation queued or running.</summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        foreach (var function in StartedFunctions)
        {
            await function.WhenIdleAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        foreach (var function in StartedFunctions)
        {
            await function.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string FunctionName(string nameOrArn)
    {
        if (!nameOrArn.StartsWith("arn:", StringComparison.Ordinal))
        {
            return nameOrArn;
        }

        // arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
        var parts = nameOrArn.Split(':');
        if (parts.Length is < 7 or > 8 || parts[2] != "lambda" || parts[5] != "function")
        {
            throw new LocalAwsException($"'{nameOrArn}' is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>).");
        }

        if (parts[3] != LocalAccount.Region || parts[4] != LocalAccount.AccountId)
        {
            throw new LocalAwsException(
                $"Function {nameOrArn} is not in the local account and region ({LocalAccount.AccountId}, {LocalAccount.Region}).");
        }

        if (parts.Length == 8 && parts[7] != "$LATEST")
        {
            throw new LocalAwsException($"Function {nameOrArn}: versions and aliases do not exist locally; invoke $LATEST (no qualifier).");
        }

        return parts[6];
    }
}
