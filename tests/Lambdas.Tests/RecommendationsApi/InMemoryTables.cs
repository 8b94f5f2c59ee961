using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Amazon.DynamoDBv2.Model;
using CustomerSegmentation.RecommendationsApi;

namespace CustomerSegmentation.Lambdas.Tests.RecommendationsApi;

/// <summary>
/// A strict in-memory stand-in for the function's <see cref="ITableClient"/> port, with DynamoDB's rules for what the
/// function sends: the table must exist and the key name be its partition key; a key is a non-empty string of at most
/// 2048 UTF-8 bytes; a BatchGetItem has 1 to 100 distinct keys; an item has its key, only S and N attributes (each with
/// exactly one of them, N a number) and at most 400 KB. Breaking a rule is a test failure: the call throws
/// <see cref="InvalidOperationException"/> (so the handler fails loudly) and the violation is kept for
/// <see cref="AssertNoViolations"/>. Items go in and out as copies, as over the wire.
/// </summary>
internal sealed class InMemoryTables : ITableClient
{
    private const int MaxKeyBytes = 2048;
    private const int MaxItemBytes = 400 * 1024;

    private readonly Dictionary<string, (string KeyName, ConcurrentDictionary<string, Dictionary<string, AttributeValue>> Items)> _tables;
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentQueue<(string Operation, string Table, IReadOnlyList<string> Keys)> _requests = new();

    public InMemoryTables(params (string Table, string KeyName)[] tables)
    {
        _tables = tables.ToDictionary(table => table.Table, table => (table.KeyName, new ConcurrentDictionary<string, Dictionary<string, AttributeValue>>(StringComparer.Ordinal)),
            StringComparer.Ordinal);
    }

    /// <summary>Every call made: the operation, the table and the keys asked for (or written).</summary>
    public IReadOnlyList<(string Operation, string Table, IReadOnlyList<string> Keys)> Requests => [.. _requests];

    /// <summary>Set to make calls fail: given the operation and table, the exception to throw (null: answer normally).</summary>
    public Func<string, string, Exception?> FailWith { get; set; } = (_, _) => null;

    /// <summary>Runs before a PutIfAbsent is applied, to let a test slip a concurrent write in.</summary>
    public Action<string, IReadOnlyDictionary<string, AttributeValue>>? BeforePut { get; set; }

    public void AssertNoViolations() => Assert.True(_violations.IsEmpty, "table protocol violations:\n" + string.Join("\n", _violations));

    /// <summary>Writes an item directly (seeding), with the same rules.</summary>
    public void Put(string table, IReadOnlyDictionary<string, AttributeValue> item)
    {
        var (keyName, items) = Table(table);
        CheckItem(table, keyName, item);
        items[item[keyName].S] = Copy(item);
    }

    /// <summary>Removes an item directly.</summary>
    public void Delete(string table, string key) => Table(table).Items.TryRemove(key, out _);

    /// <summary>Every item of <paramref name="table"/>, copied.</summary>
    public IReadOnlyList<Dictionary<string, AttributeValue>> Scan(string table) => [.. Table(table).Items.Values.Select(Copy)];

    public Task<IReadOnlyDictionary<string, AttributeValue>?> GetItemAsync(string table, string keyName, string key, CancellationToken cancellationToken)
    {
        var items = Begin("GetItem", table, keyName, [key]);
        return Task.FromResult<IReadOnlyDictionary<string, AttributeValue>?>(items.TryGetValue(key, out var item) ? Copy(item) : null);
    }

    public Task<IReadOnlyList<IReadOnlyDictionary<string, AttributeValue>>> GetItemsAsync(string table, string keyName, IReadOnlyList<string> keys,
        CancellationToken cancellationToken)
    {
        if (keys.Count is 0 or > 100)
        {
            Violation($"BatchGetItem on {table} with {keys.Count} keys; DynamoDB takes 1 to 100");
        }

        if (keys.Distinct(StringComparer.Ordinal).Count() != keys.Count)
        {
            Violation($"BatchGetItem on {table} with repeated keys ({string.Join(", ", keys)}); DynamoDB refuses them");
        }

        var items = Begin("BatchGetItem", table, keyName, keys);
        IReadOnlyList<IReadOnlyDictionary<string, AttributeValue>> found =
            [.. keys.Select(key => items.TryGetValue(key, out var item) ? Copy(item) : null).OfType<Dictionary<string, AttributeValue>>()];
        return Task.FromResult(found);
    }

    public Task<bool> PutIfAbsentAsync(string table, string keyName, IReadOnlyDictionary<string, AttributeValue> item, CancellationToken cancellationToken)
    {
        var key = item.TryGetValue(keyName, out var value) && value.S is { } text ? text : "";
        var items = Begin("PutItem", table, keyName, [key]);
        CheckItem(table, keyName, item);
        BeforePut?.Invoke(table, item);
        return Task.FromResult(items.TryAdd(key, Copy(item)));
    }

    private ConcurrentDictionary<string, Dictionary<string, AttributeValue>> Begin(string operation, string table, string keyName, IReadOnlyList<string> keys)
    {
        _requests.Enqueue((operation, table, keys));
        var (tableKey, items) = Table(table);
        if (keyName != tableKey)
        {
            Violation($"{operation} on {table} by key {keyName}; its partition key is {tableKey}");
        }

        foreach (var key in keys)
        {
            CheckKey(operation, table, key);
        }

        if (FailWith(operation, table) is { } failure)
        {
            throw failure;
        }

        return items;
    }

    private (string KeyName, ConcurrentDictionary<string, Dictionary<string, AttributeValue>> Items) Table(string table)
    {
        if (!_tables.TryGetValue(table, out var found))
        {
            Violation($"table {table} does not exist (tables: {string.Join(", ", _tables.Keys)})");
        }

        return found;
    }

    private void CheckKey(string operation, string table, string key)
    {
        if (key.Length == 0)
        {
            Violation($"{operation} on {table} with an empty key");
        }

        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
        {
            Violation($"{operation} on {table} with a key of {Encoding.UTF8.GetByteCount(key)} bytes; DynamoDB takes at most {MaxKeyBytes}");
        }
    }

    private void CheckItem(string table, string keyName, IReadOnlyDictionary<string, AttributeValue> item)
    {
        if (!item.TryGetValue(keyName, out var key) || key.S is null)
        {
            Violation($"an item for {table} without the string key {keyName}");
        }

        var size = 0;
        foreach (var (name, value) in item)
        {
            var isString = value.S is not null;
            var isNumber = value.N is not null;
            if (isString == isNumber || value.B is not null || value.M is not null || value.L is not null || value.SS is not null || value.NS is not null
                || value.BS is not null || value.BOOL is not null || value.NULL is not null)
            {
                Violation($"attribute {name} of an item for {table} is not exactly one string or one number");
            }

            if (isNumber && !double.TryParse(value.N, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                Violation($"attribute {name} of an item for {table} is the number '{value.N}', which DynamoDB does not parse");
            }

            size += Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value.S ?? value.N ?? "");
        }

        if (size > MaxItemBytes)
        {
            Violation($"an item for {table} of {size} bytes; DynamoDB takes at most {MaxItemBytes}");
        }
    }

    private void Violation(string problem)
    {
        _violations.Enqueue(problem);
        throw new InvalidOperationException("strict table stand-in: " + problem);
    }

    private static Dictionary<string, AttributeValue> Copy(IReadOnlyDictionary<string, AttributeValue> item) =>
        item.ToDictionary(pair => pair.Key, pair => new AttributeValue { S = pair.Value.S, N = pair.Value.N }, StringComparer.Ordinal);
}
