using System.Globalization;
using System.Text;
using System.Text.Json;
using CustomerSegmentation.ProxyFunctions;
using static CustomerSegmentation.ProxyFunctions.RequestBody;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>One customer's raw attributes as sent; <see cref="Path"/> prefixes its field names in errors.</summary>
public sealed record CustomerInput(string Path, double? Age, double? Income, double? Purchases)
{
    public string FieldPath(string name) => Path.Length == 0 ? name : $"{Path}.{name}";
}

/// <summary>
/// A structurally valid POST /segment body: raw customers, or pre-scaled (legacy) feature rows. Kept flat, as the parser
/// reads it: a customer is three numbers in <see cref="CustomerFields"/> order, <see cref="double.NaN"/> where not sent
/// (a sent number is always finite); feature rows follow each other. Field paths for errors are built only when needed.
/// </summary>
public sealed class SegmentRequest
{
    /// <summary>The attribute names a customer object may have (contract 6), lower case as sent.</summary>
    public static readonly IReadOnlyList<string> CustomerFields = ["age", "income", "purchases"];

    internal const int CustomerWidth = 3;
    private const int MaxDepth = 16;

    private readonly double[] _values;
    private readonly int[]? _rowEnds;

    /// <summary>
    /// A request built in code. Customers must carry the paths a parsed body gives them: <c>customers[i]</c>, or <c>""</c>
    /// for a lone customer object; a value of <see cref="double.NaN"/> counts as not sent.
    /// </summary>
    public SegmentRequest(IReadOnlyList<CustomerInput>? customers, IReadOnlyList<double[]>? features)
    {
        if ((customers is null) == (features is null))
        {
            throw new ArgumentException("A request has either customers or feature rows.", nameof(customers));
        }

        if (customers is not null)
        {
            Count = customers.Count;
            IsSingleCustomer = Count == 1 && customers[0].Path.Length == 0;
            _values = new double[Count * CustomerWidth];
            for (var index = 0; index < Count; index++)
            {
                var customer = customers[index];
                if (customer.Path != CustomerPath(index))
                {
                    throw new ArgumentException($"Customer {index} has the path '{customer.Path}'; in a request it is '{CustomerPath(index)}'.", nameof(customers));
                }

                _values[index * CustomerWidth] = customer.Age ?? double.NaN;
                _values[(index * CustomerWidth) + 1] = customer.Income ?? double.NaN;
                _values[(index * CustomerWidth) + 2] = customer.Purchases ?? double.NaN;
            }

            return;
        }

        Count = features!.Count;
        _values = [.. features.SelectMany(row => row)];
        _rowEnds = new int[Count];
        for (int index = 0, end = 0; index < Count; index++)
        {
            end += features[index].Length;
            _rowEnds[index] = end;
        }
    }

    private SegmentRequest(double[] values, int count, int[]? rowEnds, bool isSingleCustomer)
    {
        _values = values;
        Count = count;
        _rowEnds = rowEnds;
        IsSingleCustomer = isSingleCustomer;
    }

    /// <summary>How many customers or feature rows.</summary>
    public int Count { get; }

    /// <summary>True for pre-scaled (legacy) feature rows, false for raw customers.</summary>
    public bool HasFeatureRows => _rowEnds is not null;

    /// <summary>The body was one customer object: its fields are named without a <c>customers[i]</c> prefix.</summary>
    public bool IsSingleCustomer { get; }

    /// <summary>Where customer <paramref name="index"/> is in the body: <c>customers[index]</c>, or <c>""</c> for a lone customer.</summary>
    public string CustomerPath(int index) => IsSingleCustomer ? "" : ListItemPath("customers", index);

    /// <summary>Customer <paramref name="index"/> as sent.</summary>
    public CustomerInput Customer(int index)
    {
        var raw = RawCustomer(index);
        return new CustomerInput(CustomerPath(index), Sent(raw[0]), Sent(raw[1]), Sent(raw[2]));
    }

    /// <summary>Feature row <paramref name="index"/> as sent.</summary>
    public ReadOnlySpan<double> FeatureRow(int index)
    {
        var start = index == 0 ? 0 : _rowEnds![index - 1];
        return _values.AsSpan(start, _rowEnds![index] - start);
    }

    /// <summary>Customer <paramref name="index"/>'s age, income and purchases, NaN where not sent.</summary>
    internal ReadOnlySpan<double> RawCustomer(int index) => _values.AsSpan(index * CustomerWidth, CustomerWidth);

    private static double? Sent(double value) => double.IsNaN(value) ? null : value;

    private static string ListItemPath(string list, int index) => string.Create(CultureInfo.InvariantCulture, $"{list}[{index}]");

    /// <summary>
    /// Parses a body: <c>{"customers":[{...}, ...]}</c>, one customer object, or <c>{"features":[[...], ...]}</c>. Checks
    /// JSON syntax (with position), shapes, types, finiteness, unknown and repeated fields, and the batch and body limits;
    /// value ranges depend on the model and are checked by <see cref="FeatureScaler"/>.
    /// </summary>
    /// <remarks>
    /// One pass of <see cref="Utf8JsonReader"/> straight into the flat values. Mistakes are reported in a fixed order: JSON
    /// syntax anywhere in the body first, then the body's own fields (repeated, unreadable or unknown names), then the list
    /// (its type, emptiness, size), then the first customer or row with a mistake, and inside a customer its names before
    /// its values (age, income, purchases). Since the reader meets them in document order, a mistake is held back until
    /// everything that outranks it has been read.
    /// </remarks>
    public static SegmentRequest Parse(ReadOnlySpan<byte> body, int maxBatchSize, int maxBodyBytes)
    {
        if (body.Length > maxBodyBytes)
        {
            throw new RequestException("body", $"the body has {body.Length} bytes; at most {maxBodyBytes} are accepted: send fewer customers per request");
        }

        if (body.IsEmpty)
        {
            throw new RequestException("body", """the body is empty: send {"customers":[{"age":34,"income":72000,"purchases":12}]}""");
        }

        var parser = new BodyParser(maxBatchSize, body.Length);
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth });
        try
        {
            parser.ReadBody(ref reader);
        }
        catch (JsonException exception)
        {
            throw NotValidJson(exception);
        }

        return parser.Result();
    }

    private static readonly string[] KnownNames = ["age", "income", "purchases", "customers", "features"];

    /// <summary>The names the parser tells apart (in <see cref="KnownNames"/> order); any other name is <see cref="Name.Other"/>.</summary>
    private enum Name
    {
        Age,
        Income,
        Purchases,
        Customers,
        Features,
        Other,
    }

    /// <summary>One parse: the values read so far and the first mistake of each rank, reported by <see cref="Result"/>.</summary>
    private sealed class BodyParser(int maxBatchSize, int bodyLength)
    {
        private double[] _values = new double[Math.Clamp((bodyLength / 32) + 1, 1, maxBatchSize) * CustomerWidth];
        private int _length;
        private int[]? _rowEnds;

        // The body's own fields, in the order they are read; age, income and purchases make it a lone customer.
        private RequestException? _bodyMistake;
        private int _bodyNamesSeen;
        private HashSet<string>? _otherBodyNames;
        private string? _firstNotCustomers;
        private string? _firstNotFeatures;
        private string? _firstUnknownBodyName;
        private string?[]? _bodyValueMistakes;
        private readonly double[] _bodyCustomer = [double.NaN, double.NaN, double.NaN];

        // The list: the first of customers or features (a body with both is a mistake, whatever they hold).
        private Name _list = Name.Other;
        private RequestException? _listMistake;
        private int _count;
        private RequestException? _itemMistake;

        public void ReadBody(ref Utf8JsonReader reader)
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                _bodyMistake = new RequestException("body", $"the body must be a JSON object, not {Describe(reader.TokenType)}");
                reader.Skip();
            }
            else
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    ReadBodyField(ref reader);
                }
            }

            // Anything after the body's value is a syntax mistake, which the reader throws.
            while (reader.Read())
            {
            }
        }

        /// <summary>The parsed request, or the first mistake in the order <see cref="Parse"/> documents.</summary>
        public SegmentRequest Result()
        {
            if (_bodyMistake is not null)
            {
                throw _bodyMistake;
            }

            if (_list == Name.Other)
            {
                return CustomerMistake("", _firstUnknownBodyName, _bodyValueMistakes) is { } mistake
                    ? throw mistake
                    : new SegmentRequest(_bodyCustomer, 1, null, isSingleCustomer: true);
            }

            // With both lists in the body, customers is the list and features the mistake.
            var hasCustomers = (_bodyNamesSeen & (1 << (int)Name.Customers)) != 0;
            var list = hasCustomers ? "customers" : "features";
            if ((hasCustomers ? _firstNotCustomers : _firstNotFeatures) is { } other)
            {
                throw new RequestException(FieldPath("", other), other is "customers" or "features"
                    ? "send either customers or features, not both"
                    : $"unknown field '{other}' next to {list}");
            }

            if (_listMistake is not null)
            {
                throw _listMistake;
            }

            if (_count == 0)
            {
                throw new RequestException(list, $"{list} is empty: send at least one");
            }

            if (_count > maxBatchSize)
            {
                throw new RequestException(list, $"{list} has {_count} entries; at most {maxBatchSize} are accepted per request");
            }

            return _itemMistake is not null ? throw _itemMistake : new SegmentRequest(_values, _count, _rowEnds, isSingleCustomer: false);
        }

        private void ReadBodyField(ref Utf8JsonReader reader)
        {
            var name = _bodyMistake is null ? ReadName(ref reader, -1, ref _bodyNamesSeen, ref _otherBodyNames, out _bodyMistake) : default;
            if (_bodyMistake is not null)
            {
                reader.Skip();
                return;
            }

            _firstNotCustomers ??= name.Kind == Name.Customers ? null : name.Text;
            _firstNotFeatures ??= name.Kind == Name.Features ? null : name.Text;
            reader.Read();
            switch (name.Kind)
            {
                case Name.Customers or Name.Features when _list == Name.Other:
                    _list = name.Kind;
                    ReadList(ref reader, name.Text);
                    break;
                case Name.Age or Name.Income or Name.Purchases:
                    ReadValue(ref reader, name.Kind, _bodyCustomer, ref _bodyValueMistakes);
                    break;
                default:
                    _firstUnknownBodyName ??= name.Kind == Name.Other ? name.Text : null;
                    reader.Skip();
                    break;
            }
        }

        private void ReadList(ref Utf8JsonReader reader, string list)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                _listMistake = new RequestException(list, $"{list} must be a list, not {Describe(reader.TokenType)}");
                reader.Skip();
                return;
            }

            var index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                // Past the limit or the first mistake, items only count (and must be valid JSON).
                if (index >= maxBatchSize || _itemMistake is not null)
                {
                    reader.Skip();
                }
                else if (_list == Name.Customers)
                {
                    ReadCustomer(ref reader, index);
                }
                else
                {
                    ReadFeatureRow(ref reader, index);
                }

                index++;
            }

            _count = index;
        }

        private void ReadCustomer(ref Utf8JsonReader reader, int index)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                _itemMistake = new RequestException(ListItemPath("customers", index),
                    $"a customer must be an object like {{\"age\":34,\"income\":72000,\"purchases\":12}}, not {Describe(reader.TokenType)}");
                reader.Skip();
                return;
            }

            var customer = Append(CustomerWidth);
            customer.Fill(double.NaN);
            var seen = 0;
            HashSet<string>? otherNames = null;
            RequestException? nameMistake = null;
            string? firstUnknown = null;
            string?[]? valueMistakes = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = nameMistake is null ? ReadName(ref reader, index, ref seen, ref otherNames, out nameMistake) : default;
                if (nameMistake is not null)
                {
                    reader.Skip();
                    continue;
                }

                reader.Read();
                if (name.Kind is Name.Age or Name.Income or Name.Purchases)
                {
                    ReadValue(ref reader, name.Kind, customer, ref valueMistakes);
                    continue;
                }

                firstUnknown ??= name.Text;
                reader.Skip();
            }

            _itemMistake = nameMistake ?? (firstUnknown is null && valueMistakes is null
                ? null
                : CustomerMistake(ListItemPath("customers", index), firstUnknown, valueMistakes));
        }

        private void ReadFeatureRow(ref Utf8JsonReader reader, int index)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                _itemMistake = new RequestException(ListItemPath("features", index), $"a feature row must be a list of scaled numbers, not {Describe(reader.TokenType)}");
                reader.Skip();
                return;
            }

            var column = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (_itemMistake is not null)
                {
                    reader.Skip();
                }
                else if (ReadNumber(ref reader, out var value) is { } mistake)
                {
                    _itemMistake = new RequestException(ListItemPath(ListItemPath("features", index), column), mistake);
                }
                else
                {
                    Append(1)[0] = value;
                }

                column++;
            }

            _rowEnds ??= new int[Math.Min(maxBatchSize, 16)];
            if (index == _rowEnds.Length)
            {
                Array.Resize(ref _rowEnds, Math.Min(maxBatchSize, index * 2));
            }

            _rowEnds[index] = _length;
        }

        private Span<double> Append(int count)
        {
            if (_length + count > _values.Length)
            {
                Array.Resize(ref _values, Math.Max(_values.Length * 2, _length + count));
            }

            _length += count;
            return _values.AsSpan(_length - count, count);
        }

        /// <summary>Age, income or purchases into its slot of <paramref name="customer"/>; a mistake is kept as its message.</summary>
        private static void ReadValue(ref Utf8JsonReader reader, Name field, Span<double> customer, ref string?[]? mistakes)
        {
            if (ReadNumber(ref reader, out customer[(int)field]) is { } mistake)
            {
                (mistakes ??= new string?[CustomerWidth])[(int)field] = mistake;
            }
        }

        /// <summary>
        /// Reads a property name: one the parser knows, or any other (decoded: its error message needs it). A repeated or
        /// undecodable name is a mistake, named after customer <paramref name="customer"/> (-1: the body itself).
        /// </summary>
        private static (Name Kind, string Text) ReadName(ref Utf8JsonReader reader, int customer, ref int seen, ref HashSet<string>? others,
            out RequestException? mistake)
        {
            mistake = null;
            (Name Kind, string Text) name;
            try
            {
                // A known name is matched on its bytes; any other (or escaped) name is decoded, which also checks its UTF-8,
                // and an escaped one may turn out to be a known name.
                var kind = reader.ValueIsEscaped ? Name.Other : Known(reader.ValueSpan);
                var text = kind == Name.Other ? reader.GetString()! : KnownNames[(int)kind];
                name = (reader.ValueIsEscaped ? Known(Encoding.UTF8.GetBytes(text)) : kind, text);
            }
            catch (InvalidOperationException exception)
            {
                // The reader checks UTF-8 (and escaped UTF-16) only when a name is decoded.
                mistake = new RequestException("body", $"the body is not valid UTF-8 JSON text: {JsonErrorReason(exception.Message)}");
                return default;
            }

            var repeated = name.Kind == Name.Other ? !(others ??= new HashSet<string>(StringComparer.Ordinal)).Add(name.Text) : (seen & (1 << (int)name.Kind)) != 0;
            seen |= 1 << (int)name.Kind;
            if (repeated)
            {
                mistake = new RequestException(FieldPath(customer < 0 ? "" : ListItemPath("customers", customer), name.Text), $"'{name.Text}' appears more than once");
            }

            return name;
        }

        private static Name Known(ReadOnlySpan<byte> name) => name.Length switch
        {
            3 when name.SequenceEqual("age"u8) => Name.Age,
            6 when name.SequenceEqual("income"u8) => Name.Income,
            8 when name.SequenceEqual("features"u8) => Name.Features,
            9 when name.SequenceEqual("purchases"u8) => Name.Purchases,
            9 when name.SequenceEqual("customers"u8) => Name.Customers,
            _ => Name.Other,
        };

        /// <summary>A number, or why the value is not one (the field path is added by the caller).</summary>
        private static string? ReadNumber(ref Utf8JsonReader reader, out double value)
        {
            value = double.NaN;
            if (reader.TokenType != JsonTokenType.Number)
            {
                var kind = Describe(reader.TokenType);
                reader.Skip();
                return $"must be a number, not {kind}";
            }

            return reader.TryGetDouble(out value) && double.IsFinite(value)
                ? null
                : $"{Encoding.UTF8.GetString(reader.ValueSpan)} is not a finite number in double range";
        }

        /// <summary>A customer's first mistake after its names: an unknown field, else age, income, purchases in that order.</summary>
        private static RequestException? CustomerMistake(string path, string? firstUnknown, string?[]? valueMistakes)
        {
            if (firstUnknown is not null)
            {
                return new RequestException(FieldPath(path, firstUnknown), $"unknown field '{firstUnknown}': a customer has {string.Join(", ", CustomerFields)}"
                    + (path.Length == 0 ? " (or send customers or features)" : ""));
            }

            for (var field = 0; field < CustomerWidth; field++)
            {
                if (valueMistakes?[field] is { } mistake)
                {
                    return new RequestException(FieldPath(path, CustomerFields[field]), mistake);
                }
            }

            return null;
        }

        private static string Describe(JsonTokenType token) => token switch
        {
            JsonTokenType.String => "a string",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            JsonTokenType.StartArray => "a list",
            JsonTokenType.StartObject => "an object",
            _ => token.ToString(),
        };
    }
}
