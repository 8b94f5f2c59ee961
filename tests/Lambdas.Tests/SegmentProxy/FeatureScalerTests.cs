using CustomerSegmentation.ProxyFunctions;
using CustomerSegmentation.SegmentProxy;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

public sealed class FeatureScalerTests
{
    private static readonly SegmentModel Model = ProxyModels.Load();

    private static readonly SegmentModel SpendingPowerModel = ProxyModels.Load(
        ProxyModels.Spec(features: "\"Age\",\"SpendingPower\"", mean: "[40, 3000]", scale: "[10, 1000]",
            rules: """{"age_range":[0,120],"income_min":0,"purchases_min":0,"purchases_must_be_positive":true}"""),
        """{"segments":[{"id":0,"label":"A","centroid":{"Age":30,"SpendingPower":2000},"size":1,"share":1.0}]}""");

    private static SegmentRequest Customers(params CustomerInput[] customers) => new(customers, null);

    private static SegmentRequest Customer(double? age, double? income, double? purchases) => Customers(new CustomerInput("", age, income, purchases));

    private static double[] Single(FeatureMatrix scaled)
    {
        Assert.Equal(1, scaled.Length);
        return scaled[0].ToArray();
    }

    [Fact]
    public void Scale_RawCustomer_IsMeanCentredAndDividedByScaleInColumnOrder()
    {
        var scaled = FeatureScaler.Scale(Customers(new CustomerInput("customers[0]", 50, 30000, 25)), Model);

        Assert.Equal([1.0, -1.5, 1.0], Single(scaled));
    }

    [Fact]
    public void Scale_SpendingPower_IsIncomeDividedByPurchases()
    {
        var scaled = FeatureScaler.Scale(Customer(40, 50000, 10), SpendingPowerModel);

        Assert.Equal([0.0, 2.0], Single(scaled));
    }

    [Fact]
    public void Scale_AttributeTheModelDoesNotUse_MayBeMissing()
    {
        var model = ProxyModels.Load(ProxyModels.Spec(features: "\"Age\",\"Income\"", mean: "[40, 60000]", scale: "[10, 20000]"),
            """{"segments":[{"id":0,"label":"A","centroid":{"Age":30,"Income":50000},"size":1,"share":1.0}]}""");

        var scaled = FeatureScaler.Scale(Customers(new CustomerInput("customers[0]", 20, 80000, null)), model);

        Assert.Equal(["Age", "Income"], model.InputColumns);
        Assert.Equal([-2.0, 1.0], Single(scaled));
    }

    [Fact]
    public void Scale_ZeroScaleInTheSpec_LeavesTheColumnUnscaledAsScikitLearn()
    {
        var model = ProxyModels.Load(ProxyModels.Spec(scale: "[0, 20000, 1e-17]"));

        var scaled = FeatureScaler.Scale(Customer(43, 60000, 21), model);

        Assert.Equal([1.0, 1.0], model.Scale.Where((_, index) => index != 1));
        Assert.Equal([3.0, 0.0, 1.0], Single(scaled));
    }

    [Theory]
    [InlineData(-1, 1, 1, "age", "-1 must be within [0, 120]")]
    [InlineData(120.5, 1, 1, "age", "120.5 must be within [0, 120]")]
    [InlineData(30, -0.01, 1, "income", "-0.01 must be >= 0")]
    [InlineData(30, 1e9 + 1, 1, "income", "1000000001 must be <= 1000000000")]
    [InlineData(30, 1, -2, "purchases", "-2 must be >= 0")]
    [InlineData(30, 1, 1e6 + 0.5, "purchases", "1000000.5 must be <= 1000000")]
    public void Scale_ValueOutsideItsRange_NamesTheCustomersField(double age, double income, double purchases, string name, string error)
    {
        var valid = Enumerable.Range(0, 3).Select(index => new CustomerInput($"customers[{index}]", 30, 1, 1));
        var request = Customers([.. valid, new CustomerInput("customers[3]", age, income, purchases), new CustomerInput("customers[4]", -5, -5, -5)]);

        var exception = Assert.Throws<RequestException>(() => FeatureScaler.Scale(request, Model));

        Assert.Equal($"customers[3].{name}", exception.Field);
        Assert.Equal(error, exception.Message);
    }

    [Fact]
    public void Features_OneCustomerOutsideItsRange_NamesTheFieldUnderItsOwnPath()
    {
        var exception = Assert.Throws<RequestException>(() => FeatureScaler.Features(new CustomerInput("customers[41]", 30, -3, 1), Model));

        Assert.Equal(("customers[41].income", "-3 must be >= 0"), (exception.Field, exception.Message));
    }

    [Fact]
    public void Scale_SeveralValuesWrong_ReportsAgeThenIncomeThenPurchases()
    {
        var exception = Assert.Throws<RequestException>(() => FeatureScaler.Scale(Customer(30, -1, null), Model));

        Assert.Equal(("income", "-1 must be >= 0"), (exception.Field, exception.Message));
    }

    [Fact]
    public void Scale_ValueTheModelDoesNotUse_IsStillChecked()
    {
        var model = ProxyModels.Load(ProxyModels.Spec(features: "\"Age\",\"Income\"", mean: "[40, 60000]", scale: "[10, 20000]"),
            """{"segments":[{"id":0,"label":"A","centroid":{"Age":30,"Income":50000},"size":1,"share":1.0}]}""");

        var exception = Assert.Throws<RequestException>(() => FeatureScaler.Scale(Customer(30, 1, -2), model));

        Assert.Equal(("purchases", "-2 must be >= 0"), (exception.Field, exception.Message));
    }

    [Theory]
    [InlineData(4.9e-324)]
    [InlineData(1e-300)]
    public void Scale_PurchasesSoSmallSpendingPowerOverflows_IsRejectedNotScaledToInfinity(double purchases)
    {
        var exception = Assert.Throws<RequestException>(() => FeatureScaler.Scale(Customer(30, 1e9, purchases), SpendingPowerModel));

        Assert.Equal("purchases", exception.Field);
        Assert.Equal($"{purchases:R} is too small: this model's SpendingPower feature, income / purchases, must be a finite number", exception.Message);
    }

    [Fact]
    public void Scale_TinyPurchasesWithoutSpendingPower_IsScaled()
    {
        var scaled = FeatureScaler.Scale(Customer(30, 1e9, 4.9e-324), Model);

        Assert.Equal(-4.0, Single(scaled)[2]);
    }

    [Fact]
    public void Scale_ZeroPurchasesWithSpendingPower_IsRejected()
    {
        var exception = Assert.Throws<RequestException>(() => FeatureScaler.Scale(Customer(30, 100, 0), SpendingPowerModel));

        Assert.Equal("purchases", exception.Field);
        Assert.Equal("0 must be > 0: this model's SpendingPower feature is income / purchases", exception.Message);
    }

    [Fact]
    public void Scale_ZeroPurchasesWithoutSpendingPower_IsAccepted()
    {
        var scaled = FeatureScaler.Scale(Customer(30, 100, 0), Model);

        Assert.Equal(-4.0, Single(scaled)[2]);
    }

    [Fact]
    public void Scale_MissingNeededField_SaysWhatTheModelNeeds()
    {
        var exception = Assert.Throws<RequestException>(() => FeatureScaler.Scale(Customers(new CustomerInput("customers[0]", 30, null, 2)), Model));

        Assert.Equal("customers[0].income", exception.Field);
        Assert.Equal("is missing: this model needs age, income, purchases", exception.Message);
    }

    [Fact]
    public void Scale_LegacyRows_PassUnchanged()
    {
        var scaled = FeatureScaler.Scale(new SegmentRequest(null, [[-1.14, -1.13, 0.68]]), Model);

        Assert.Equal([-1.14, -1.13, 0.68], Single(scaled));
    }

    [Fact]
    public void Scale_LegacyRowOfTheWrongWidth_NamesTheRow()
    {
        var exception = Assert.Throws<RequestException>(() => FeatureScaler.Scale(new SegmentRequest(null, [[1, 2, 3], [1, 2]]), Model));

        Assert.Equal("features[1]", exception.Field);
        Assert.Equal("has 2 values; this model takes 3 scaled features (Age, Income, Purchases)", exception.Message);
    }

    [Fact]
    public void Scale_LegacyValueBeyondAMillionDeviations_NamesTheValue()
    {
        var exception = Assert.Throws<RequestException>(() => FeatureScaler.Scale(new SegmentRequest(null, [[1, -2e6, 3]]), Model));

        Assert.Equal("features[0][1]", exception.Field);
        Assert.Equal("-2000000 is not a plausible scaled value (|value| <= 1000000)", exception.Message);
    }

    [Fact]
    public void FeatureMatrix_FromRows_KeepsEveryRowInOrder()
    {
        FeatureMatrix matrix = new[] { new[] { 1.0, 2.0 }, [3.0, 4.0], [5.0, 6.0] };

        Assert.Equal((3, 2), (matrix.Length, matrix.Columns));
        Assert.Equal([3.0, 4.0], matrix[1].ToArray());
        Assert.Equal([5.0, 6.0], matrix[2].ToArray());
    }

    [Fact]
    public void FeatureMatrix_FromRowsOfDifferentWidths_IsRefused()
    {
        var exception = Assert.Throws<ArgumentException>(() => FeatureMatrix.FromRows([[1.0, 2.0], [3.0]]));

        Assert.StartsWith("Row 1 has 1 values; row 0 has 2.", exception.Message, StringComparison.Ordinal);
    }
}
