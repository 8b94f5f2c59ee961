using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// Raw customer attributes to the endpoint's input: checks each value against the model's input rules, computes the
/// spec's features in its column order (SpendingPower = Income / Purchases) and scales them with its StandardScaler, in
/// float64 exactly as scikit-learn does. Pre-scaled (legacy) rows are only checked.
/// </summary>
public static class FeatureScaler
{
    /// <summary>Scaled (pre-PCA) vectors, one row per customer or legacy row, in the spec's column order.</summary>
    public static FeatureMatrix Scale(SegmentRequest request, SegmentModel model)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(model);
        return request.HasFeatureRows ? CheckedRows(request, model) : ScaledCustomers(request, model);
    }

    /// <summary>The unscaled feature vector of one customer (the recipe of segments.compute_features).</summary>
    public static double[] Features(CustomerInput customer, SegmentModel model)
    {
        ArgumentNullException.ThrowIfNull(customer);
        ArgumentNullException.ThrowIfNull(model);
        ReadOnlySpan<double> raw = [customer.Age ?? double.NaN, customer.Income ?? double.NaN, customer.Purchases ?? double.NaN];
        if (FirstMistake(raw, model) is { } mistake)
        {
            throw Rejected(customer, mistake, model);
        }

        var features = new double[model.Features.Count];
        model.ComputeFeatures(raw, features);
        return features;
    }

    private static FeatureMatrix ScaledCustomers(SegmentRequest request, SegmentModel model)
    {
        var scaled = new FeatureMatrix(request.Count, model.Features.Count);
        for (var index = 0; index < request.Count; index++)
        {
            var raw = request.RawCustomer(index);
            if (FirstMistake(raw, model) is { } mistake)
            {
                throw Rejected(request.Customer(index), mistake, model);
            }

            var row = scaled[index];
            model.ComputeFeatures(raw, row);
            model.ScaleInPlace(row);
        }

        return scaled;
    }

    private static FeatureMatrix CheckedRows(SegmentRequest request, SegmentModel model)
    {
        var width = model.Features.Count;
        var rows = new FeatureMatrix(request.Count, width);
        for (var index = 0; index < request.Count; index++)
        {
            var row = request.FeatureRow(index);
            if (row.Length != width)
            {
                throw new RequestException($"features[{index}]", $"has {row.Length} values; this model takes {width} scaled features ({string.Join(", ", model.Features)})");
            }

            for (var i = 0; i < row.Length; i++)
            {
                if (Math.Abs(row[i]) > InputRules.ScaledMagnitudeMax)
                {
                    throw new RequestException($"features[{index}][{i}]", $"{row[i]:R} is not a plausible scaled value (|value| <= {InputRules.ScaledMagnitudeMax:R})");
                }
            }

            row.CopyTo(rows[index]);
        }

        return rows;
    }

    private enum Rule
    {
        Missing,
        AgeRange,
        BelowMinimum,
        AboveMaximum,
        Zero,

        /// <summary>Purchases so close to zero that income / purchases is not a finite number.</summary>
        Overflow,
    }

    /// <summary>
    /// The first of a customer's raw values (age, income, purchases; NaN = not sent) the model cannot take, in that order.
    /// A value the model does not use is still checked; only its absence is fine.
    /// </summary>
    private static (int Field, Rule Rule)? FirstMistake(ReadOnlySpan<double> raw, SegmentModel model)
    {
        var rules = model.Rules;
        for (var field = 0; field < SegmentRequest.CustomerWidth; field++)
        {
            var value = raw[field];
            Rule? broken = double.IsNaN(value) ? (model.NeedsInput(field) ? Rule.Missing : null) : field switch
            {
                0 => value < rules.AgeMin || value > rules.AgeMax ? Rule.AgeRange : null,
                1 => value < rules.IncomeMin ? Rule.BelowMinimum : value > InputRules.IncomeMax ? Rule.AboveMaximum : null,
                _ => value < rules.PurchasesMin ? Rule.BelowMinimum
                    : rules.PurchasesMustBePositive && value == 0 ? Rule.Zero
                    : value > InputRules.PurchasesMax ? Rule.AboveMaximum
                    : model.UsesSpendingPower && !double.IsFinite(raw[1] / value) ? Rule.Overflow : null,
            };
            if (broken is { } rule)
            {
                return (field, rule);
            }
        }

        return null;
    }

    private static RequestException Rejected(CustomerInput customer, (int Field, Rule Rule) mistake, SegmentModel model)
    {
        var rules = model.Rules;
        var value = mistake.Field switch
        {
            0 => customer.Age,
            1 => customer.Income,
            _ => customer.Purchases,
        } ?? double.NaN;
        var problem = (mistake.Field, mistake.Rule) switch
        {
            (_, Rule.Missing) => null,
            (0, _) => $"must be within [{rules.AgeMin:R}, {rules.AgeMax:R}]",
            (1, Rule.BelowMinimum) => $"must be >= {rules.IncomeMin:R}",
            (1, _) => $"must be <= {InputRules.IncomeMax:R}",
            (_, Rule.BelowMinimum) => $"must be >= {rules.PurchasesMin:R}",
            (_, Rule.Zero) => "must be > 0: this model's SpendingPower feature is income / purchases",
            (_, Rule.Overflow) => "is too small: this model's SpendingPower feature, income / purchases, must be a finite number",
            _ => $"must be <= {InputRules.PurchasesMax:R}",
        };
        return new RequestException(customer.FieldPath(SegmentRequest.CustomerFields[mistake.Field]), problem is null
            ? $"is missing: this model needs {string.Join(", ", model.InputColumns.Select(column => column.ToLowerInvariant()))}"
            : $"{value:R} {problem}");
    }
}

/// <summary>
/// Rows of equal width in one array, one after the other: the scaled vectors of a request, as the scorers and the endpoint
/// payload read them.
/// </summary>
public sealed class FeatureMatrix
{
    private readonly double[] _values;

    public FeatureMatrix(int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        Length = rows;
        Columns = columns;
        _values = new double[rows * columns];
    }

    /// <summary>The number of rows (as for a jagged array).</summary>
    public int Length { get; }

    public int Columns { get; }

    public Span<double> this[int row] => _values.AsSpan(row * Columns, Columns);

    /// <summary>A matrix of <paramref name="rows"/>, which must all have the same width.</summary>
    public static FeatureMatrix FromRows(double[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var columns = rows.Length == 0 ? 0 : rows[0].Length;
        var matrix = new FeatureMatrix(rows.Length, columns);
        for (var row = 0; row < rows.Length; row++)
        {
            if (rows[row].Length != columns)
            {
                throw new ArgumentException($"Row {row} has {rows[row].Length} values; row 0 has {columns}.", nameof(rows));
            }

            rows[row].CopyTo(matrix[row]);
        }

        return matrix;
    }

    public static implicit operator FeatureMatrix(double[][] rows) => FromRows(rows);
}
