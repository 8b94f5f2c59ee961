using System.Text.Json.Nodes;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using CustomerSegmentation.LocalAws.CloudFormation;

namespace CustomerSegmentation.LocalAws.DynamoDb;

/// <summary>
/// The <c>AWS::DynamoDB::Table</c> resources of a stack, created in a local DynamoDB (dynalite) the way CloudFormation
/// creates them: same physical names as the rest of the local stack resolves (<see cref="IntrinsicResolver.PhysicalName"/>),
/// same key schema and attribute definitions. Time to live is not applied: dynalite does not expire items.
/// </summary>
public static class LocalTables
{
    public const string TableType = "AWS::DynamoDB::Table";

    /// <summary>The logical ids of the stack's tables, in template order.</summary>
    public static IReadOnlyList<string> LogicalIds(StackTemplate stack)
    {
        ArgumentNullException.ThrowIfNull(stack);
        return stack.Resolver.LogicalIdsOfType(TableType).ToList();
    }

    /// <summary>A client for the local DynamoDB at <paramref name="endpoint"/> (dynalite accepts any credentials).</summary>
    public static AmazonDynamoDBClient Client(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return new AmazonDynamoDBClient(
            new BasicAWSCredentials("local", "local"),
            new AmazonDynamoDBConfig { ServiceURL = endpoint.ToString(), AuthenticationRegion = LocalAccount.Region });
    }

    /// <summary>Creates every table of <paramref name="stack"/> and returns their names, in template order.</summary>
    /// <param name="stack">The stack whose tables are created.</param>
    /// <param name="endpoint">The local DynamoDB.</param>
    /// <param name="existing">
    /// Whether a table of the same name may exist already (a DynamoDB that outlives one run) and is kept as it is;
    /// otherwise that is an error, as for CloudFormation.
    /// </param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <exception cref="LocalAwsException">A table uses something the local table cannot have (a secondary index, an unknown billing mode).</exception>
    public static async Task<IReadOnlyList<string>> CreateAsync(StackTemplate stack, Uri endpoint, bool existing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stack);
        using var client = Client(endpoint);
        var names = new List<string>();
        foreach (var logicalId in LogicalIds(stack))
        {
            var request = CreateTableRequest(stack, logicalId);
            try
            {
                await client.CreateTableAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceInUseException) when (existing)
            {
                // The table is there from an earlier run against the same DynamoDB: keep it and its items.
            }

            names.Add(request.TableName);
        }

        return names;
    }

    /// <summary>The CreateTable request CloudFormation would make for the table <paramref name="logicalId"/>.</summary>
    public static CreateTableRequest CreateTableRequest(StackTemplate stack, string logicalId)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var properties = stack.Resolver.Resolve(stack.Resolver.Properties(logicalId)) as JsonObject ?? [];
        foreach (var unsupported in new[] { "GlobalSecondaryIndexes", "LocalSecondaryIndexes" })
        {
            if (properties.ContainsKey(unsupported))
            {
                throw new LocalAwsException($"Table {logicalId} has {unsupported}, which the local tables do not create.");
            }
        }

        var request = new CreateTableRequest
        {
            TableName = stack.Resolver.PhysicalName(logicalId),
            KeySchema = Array(properties, "KeySchema", logicalId)
                .Select(k => new KeySchemaElement(Text(k, "AttributeName", logicalId), Text(k, "KeyType", logicalId)))
                .ToList(),
            AttributeDefinitions = Array(properties, "AttributeDefinitions", logicalId)
                .Select(a => new AttributeDefinition(Text(a, "AttributeName", logicalId), Text(a, "AttributeType", logicalId)))
                .ToList(),
        };
        switch ((string?)properties["BillingMode"] ?? "PROVISIONED")
        {
            case "PAY_PER_REQUEST":
                request.BillingMode = BillingMode.PAY_PER_REQUEST;
                break;
            case "PROVISIONED":
                var throughput = properties["ProvisionedThroughput"]
                    ?? throw new LocalAwsException($"Table {logicalId} is PROVISIONED without ProvisionedThroughput.");
                request.ProvisionedThroughput = new ProvisionedThroughput(
                    throughput["ReadCapacityUnits"]!.GetValue<long>(), throughput["WriteCapacityUnits"]!.GetValue<long>());
                break;
            case var mode:
                throw new LocalAwsException($"Table {logicalId} has BillingMode '{mode}'; expected PAY_PER_REQUEST or PROVISIONED.");
        }

        return request;
    }

    private static IEnumerable<JsonNode> Array(JsonObject properties, string name, string logicalId) =>
        (properties[name] as JsonArray ?? throw new LocalAwsException($"Table {logicalId} has no {name} list.")).OfType<JsonNode>();

    private static string Text(JsonNode node, string member, string logicalId) =>
        (string?)node[member] ?? throw new LocalAwsException($"Table {logicalId}: an entry has no {member} ({node.ToJsonString()}).");
}
