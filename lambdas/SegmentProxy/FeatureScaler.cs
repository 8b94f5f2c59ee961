namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// Raw customer attributes to the endpoint's input: checks each value against the model's input rules, computes the
/// spec's features in its column order (SpendingPower = Income / Purchases) and scales them with its StandardScaler, in
/// float64 exactly as scikit-learn does. Pre-scaled (legacy) rows are only checked.
/// </summary>
public static class FeatureScaler
{
    /// <summary>Scaled (pre-PCA) vectors, one per customer or row, in the spec's column order.</summary>
    public static double[][] Scale(SegmentRequest request, SegmentModel model)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(model);
        return request.Customers is { } customers
            ? [.. customers.Select(customer => model.ScaleVector(Features(customer, model)))]
            : [.. request.Features!.Select((row, index) => CheckScaledRow(row, $"features[{index}]", model))];
    }

    /// <summary>The unscaled feature vector of one customer (the recipe of segments.compute_features).</summary>
    public static double[] Features(CustomerInput customer, SegmentModel model)
    {
        ArgumentNullException.ThrowIfNull(customer);
        ArgumentNullException.ThrowIfNull(model);
        var rules = model.Rules;
        var age = Checked(customer, "age", customer.Age, model, value =>
            value < rules.AgeMin || value > rules.AgeMax ? $"must be within [{rules.AgeMin:R}, {rules.AgeMax:R}]" : null);
        var income = Checked(customer, "income", customer.Income, model, value =>
            value < rules.IncomeMin ? $"must be >= {rules.IncomeMin:R}"
            : value > InputRules.IncomeMax ? $"must be <= {InputRules.IncomeMax:R}" : null);
        var purchases = Checked(customer, "purchases", customer.Purchases, model, value =>
            value < rules.PurchasesMin ? $"must be >= {rules.PurchasesMin:R}"
            : rules.PurchasesMustBePositive && value == 0 ? "must be > 0: this model's SpendingPower feature is income / purchases"
            : value > InputRules.PurchasesMax ? $"must be <= {InputRules.PurchasesMax:R}" : null);
        return [.. model.Features.Select(feature => feature switch
        {
            "Age" => age,
            "Income" => income,
            "Purchases" => purchases,
            "SpendingPower" => income / purchases,
            _ => throw new InvalidOperationException($"No recipe for feature '{feature}'."),
        })];
    }

    private static double Checked(CustomerInput customer, string name, double? value, SegmentModel model, Func<double, string?> rule)
    {
        var field = customer.FieldPath(name);
        var needed = model.InputColumns.Contains(char.ToUpperInvariant(name[0]) + name[1..]);
        if (value is not { } number)
        {
            return needed
                ? throw new RequestException(field, $"is missing: this model needs {string.Join(", ", model.InputColumns.Select(column => column.ToLowerInvariant()))}")
                : double.NaN;
        }

        return rule(number) is { } problem ? throw new RequestException(field, $"{number:R} {problem}") : number;
    }

    private static double[] CheckScaledRow(double[] row, string path, SegmentModel model)
    {
        if (row.Length != model.Features.Count)
        {
            throw new RequestException(path, $"has {row.Length} values; this model takes {model.Features.Count} scaled features ({string.Join(", ", model.Features)})");
        }

        for (var i = 0; i < row.Length; i++)
        {
            if (Math.Abs(row[i]) > InputRules.ScaledMagnitudeMax)
            {
                throw new RequestException($"{path}[{i}]", $"{row[i]:R} is not a plausible scaled value (|value| <= {InputRules.ScaledMagnitudeMax:R})");
            }
        }

        return row;
    }
}
