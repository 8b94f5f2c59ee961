using System.Globalization;
using System.Text.Json.Nodes;
using CustomerSegmentation.LocalAws.CloudFormation;
using CustomerSegmentation.LocalAws.Lambda;

namespace CustomerSegmentation.LocalAws.Events;

/// <summary>One target of a rule: the Lambda function it invokes and what it sends.</summary>
/// <param name="Id">The target's Id in the rule.</param>
/// <param name="FunctionArn">The function's ARN.</param>
/// <param name="Input">The target's constant <c>Input</c> (sent instead of the event); null when not set.</param>
/// <param name="InputPath">The target's <c>InputPath</c> (the part of the event sent); null when not set.</param>
public sealed record EventTarget(string Id, string FunctionArn, string? Input, string? InputPath);

/// <summary>An enabled rule of the template's default event bus, with the targets the local bus can deliver to.</summary>
public sealed record EventRule(string LogicalId, string Name, EventPattern Pattern, IReadOnlyList<EventTarget> Targets);

/// <summary>One event handed to one target: the rule, the target, and why it could not be handed over (null when it was).</summary>
public sealed record EventDelivery(string EventId, string DetailType, string RuleName, string TargetId, string? Failure);

/// <summary>
/// The default event bus of a local stack: the template's <c>AWS::Events::Rule</c> resources with an EventPattern
/// deliver every matching event to their Lambda targets as an asynchronous invocation with the EventBridge envelope
/// <c>{version, id, detail-type, source, account, time, region, resources, detail}</c>. Like EventBridge,
/// <see cref="PublishAsync"/> returns once the targets have accepted the event, not when they finish; a target that
/// cannot accept it is logged and listed in <see cref="Deliveries"/>, never thrown at the publisher.
/// </summary>
public sealed class LocalEventBus : IEventPublisher
{
    private const string RuleType = "AWS::Events::Rule";
    private readonly LocalLambdaService _lambda;
    private readonly TextWriter _log;
    private readonly List<EventDelivery> _deliveries = [];

    /// <param name="stack">The stack whose rules route events.</param>
    /// <param name="lambda">The functions the targets invoke.</param>
    /// <param name="log">Deliveries and the rules or targets the local bus leaves out.</param>
    /// <exception cref="LocalAwsException">A rule's pattern is invalid or a target uses InputTransformer.</exception>
    public LocalEventBus(StackTemplate stack, LocalLambdaService lambda, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(stack);
        _lambda = lambda;
        _log = TextWriter.Synchronized(log);
        Rules = ReadRules(stack, _log);
    }

    /// <summary>The rules events are matched against.</summary>
    public IReadOnlyList<EventRule> Rules { get; }

    /// <summary>Every hand-over to a target so far, oldest first.</summary>
    public IReadOnlyList<EventDelivery> Deliveries
    {
        get
        {
            lock (_deliveries)
            {
                return [.. _deliveries];
            }
        }
    }

    /// <summary>The envelope EventBridge wraps an AWS service's event in.</summary>
    public static JsonObject Envelope(string source, string detailType, JsonObject detail, IReadOnlyList<string> resources, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(detail);
        ArgumentNullException.ThrowIfNull(resources);
        return new JsonObject
        {
            ["version"] = "0",
            ["id"] = Guid.NewGuid().ToString(),
            ["detail-type"] = detailType,
            ["source"] = source,
            ["account"] = LocalAccount.AccountId,
            ["time"] = time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["region"] = LocalAccount.Region,
            ["resources"] = new JsonArray([.. resources.Select(r => (JsonNode)r)]),
            ["detail"] = detail.DeepClone(),
        };
    }

    public async Task PublishAsync(string source, string detailType, JsonObject detail, IReadOnlyList<string> resources, CancellationToken cancellationToken)
    {
        var envelope = Envelope(source, detailType, detail, resources, DateTimeOffset.UtcNow);
        var eventId = (string)envelope["id"]!;
        var matched = Rules.Where(rule => rule.Pattern.Matches(envelope)).ToList();
        await _log.WriteLineAsync(
            $"[events] {detailType} from {source} {JsonText.Show(detail)} -> {(matched.Count == 0 ? "no rule" : string.Join(", ", matched.Select(r => r.Name)))}")
            .ConfigureAwait(false);
        foreach (var rule in matched)
        {
            foreach (var target in rule.Targets)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string? failure = null;
                try
                {
                    _lambda.Function(target.FunctionArn).InvokeEvent(Payload(target, envelope), $"rule {rule.Name}");
                }
                catch (LocalAwsException exception)
                {
                    // EventBridge would have handed the event to Lambda, which would fail it into the target's DLQ.
                    failure = exception.Message;
                    await _log.WriteLineAsync($"[events] rule {rule.Name} target {target.Id}: not delivered: {failure}").ConfigureAwait(false);
                }

                lock (_deliveries)
                {
                    _deliveries.Add(new EventDelivery(eventId, detailType, rule.Name, target.Id, failure));
                }
            }
        }
    }

    private static string Payload(EventTarget target, JsonObject envelope)
    {
        if (target.Input is not null)
        {
            return target.Input;
        }

        JsonNode? selected = envelope;
        foreach (var member in (target.InputPath ?? "$").Split('.').Skip(1))
        {
            selected = selected?[member];
        }

        return selected?.ToJsonString() ?? "null";
    }

    private static List<EventRule> ReadRules(StackTemplate stack, TextWriter log)
    {
        var resolver = stack.Resolver;
        var rules = new List<EventRule>();
        foreach (var logicalId in resolver.LogicalIdsOfType(RuleType))
        {
            var properties = resolver.Properties(logicalId);
            var name = resolver.PhysicalName(logicalId);
            if (properties["EventPattern"] is not { } pattern)
            {
                log.WriteLine($"[events] rule {name} has no EventPattern (a schedule): the local bus does not run schedules.");
                continue;
            }

            if ((string?)resolver.Resolve(properties["State"]) is { } state && state != "ENABLED")
            {
                log.WriteLine($"[events] rule {name} is {state}: it delivers nothing.");
                continue;
            }

            if (resolver.Resolve(properties["EventBusName"]) is JsonValue bus && (string?)bus is { } busName && busName != "default")
            {
                log.WriteLine($"[events] rule {name} is on event bus {busName}; AWS services publish to the default bus only.");
                continue;
            }

            EventPattern parsed;
            try
            {
                parsed = EventPattern.Parse(resolver.Resolve(pattern));
            }
            catch (LocalAwsException exception)
            {
                throw new LocalAwsException($"Rule {name} ({logicalId}): {exception.Message}", exception);
            }

            var targets = new List<EventTarget>();
            // Only what the local bus uses is resolved: a target's dead-letter queue or role may name resources with no
            // local counterpart.
            foreach (var target in properties["Targets"] as JsonArray ?? [])
            {
                var id = (string?)resolver.Resolve(target?["Id"]) ?? "?";
                var arn = (string?)resolver.Resolve(target?["Arn"]) ?? string.Empty;
                if (target?["InputTransformer"] is not null)
                {
                    throw new LocalAwsException($"Rule {name} target {id}: InputTransformer is not evaluated locally; use Input, InputPath or the whole event.");
                }

                var inputPath = (string?)resolver.Resolve(target?["InputPath"]);
                if (inputPath is not null && !IsSimplePath(inputPath))
                {
                    throw new LocalAwsException($"Rule {name} target {id}: InputPath '{inputPath}' is not evaluated locally; only $ and $.member.member paths are.");
                }

                if (!arn.Contains(":lambda:", StringComparison.Ordinal))
                {
                    log.WriteLine($"[events] rule {name} target {id} ({arn}) is not a Lambda function: the local bus does not deliver to it.");
                    continue;
                }

                targets.Add(new EventTarget(id, arn, (string?)resolver.Resolve(target?["Input"]), inputPath));
            }

            rules.Add(new EventRule(logicalId, name, parsed, targets));
        }

        return rules;
    }

    private static bool IsSimplePath(string path) =>
        path == "$" || (path.StartsWith("$.", StringComparison.Ordinal) && path[2..].Split('.').All(m => m.Length > 0 && m.All(c => c != '[' && c != '*')));
}
