using System.Collections.Frozen;
using System.Text.Json;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>One segment of the deployed model, from <c>segment_profiles.json</c>.</summary>
public sealed record SegmentProfile(int Id, string Label, IReadOnlyDictionary<string, double> Centroid, int Size, double Share);

/// <summary>The PCA the model was fitted after scaling (scikit-learn <c>PCA.mean_</c> and <c>components_</c>, no whitening).</summary>
public sealed record PcaProjection(double[] Mean, double[][] Components);

/// <summary>What the caller's raw attributes must satisfy (the spec's <c>input_rules</c> plus the proxy's upper bounds).</summary>
public sealed record InputRules(double AgeMin, double AgeMax, double IncomeMin, double PurchasesMin, bool PurchasesMustBePositive)
{
    /// <summary>No real customer earns more; bounding it keeps every scaled value and distance finite.</summary>
    public const double IncomeMax = 1e9;

    /// <summary>No real customer buys more often; bounding it keeps every scaled value and distance finite.</summary>
    public const double PurchasesMax = 1e6;

    /// <summary>A pre-scaled (legacy) value further from the mean than this many standard deviations is a mistake.</summary>
    public const double ScaledMagnitudeMax = 1e6;
}

/// <summary>
/// The model version the endpoint serves, as the proxy needs it: the feature recipe and fitted StandardScaler of its
/// <c>preprocessing_spec.json</c>, the segments of its <c>segment_profiles.json</c>, its metrics when published, and
/// the centroids in the space KMeans was fitted in (for in-Lambda scoring).
/// </summary>
public sealed class SegmentModel
{
    /// <summary>The engineered and raw features the proxy knows how to compute, with the raw inputs each needs.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Recipe = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["Age"] = ["Age"],
        ["Income"] = ["Income"],
        ["Purchases"] = ["Purchases"],
        ["SpendingPower"] = ["Income", "Purchases"],
    };

    private static readonly string[] RawInputs = ["Age", "Income", "Purchases"];

    // Where each feature comes from: an index into the raw inputs, or this for Income / Purchases.
    private const int SpendingPowerSource = 3;

    private readonly double[] _mean;
    private readonly double[] _scale;
    private readonly int[] _featureSources;
    private readonly bool[] _needsInput;
    private readonly double[]? _pcaComponents;
    private readonly double[] _centroids;
    private readonly double[] _centroidSquaredNorms;
    private readonly int[] _segmentIds;
    private readonly FrozenDictionary<int, (string Label, JsonText Json)> _labels;

    private SegmentModel(DeployedMarker marker, string[] features, double[] mean, double[] scale, PcaProjection? pca, InputRules rules,
        SegmentProfile[] segments, JsonElement? metrics)
    {
        Marker = marker;
        Features = features;
        _mean = mean;
        _scale = scale;
        Pca = pca;
        Rules = rules;
        Segments = segments;
        Metrics = metrics;
        InputColumns = [.. RawInputs.Where(column => features.Any(feature => Recipe[feature].Contains(column)))];
        _needsInput = [.. RawInputs.Select(InputColumns.Contains)];
        _featureSources = [.. features.Select(feature => feature == "SpendingPower" ? SpendingPowerSource : Array.IndexOf(RawInputs, feature))];
        UsesSpendingPower = _featureSources.Contains(SpendingPowerSource);
        _pcaComponents = pca is null ? null : [.. pca.Components.SelectMany(component => component)];
        ModelSpaceWidth = pca?.Components.Length ?? features.Length;
        _centroids = new double[segments.Length * ModelSpaceWidth];
        _centroidSquaredNorms = new double[segments.Length];
        var scaled = new double[features.Length];
        for (var index = 0; index < segments.Length; index++)
        {
            for (var column = 0; column < features.Length; column++)
            {
                scaled[column] = segments[index].Centroid[features[column]];
            }

            ScaleInPlace(scaled);
            var centroid = _centroids.AsSpan(index * ModelSpaceWidth, ModelSpaceWidth);
            ToModelSpace(scaled, centroid);
            _centroidSquaredNorms[index] = SquaredNorm(centroid);
        }

        _segmentIds = [.. segments.Select(segment => segment.Id)];
        _labels = segments.ToFrozenDictionary(segment => segment.Id, segment => (segment.Label, JsonText.OfString(segment.Label)));
        ModelVersionJson = JsonText.OfString(marker.ModelVersion);
    }

    public DeployedMarker Marker { get; }

    /// <summary>The spec's <c>column_order</c>: the order of every vector the endpoint gets.</summary>
    public IReadOnlyList<string> Features { get; }

    /// <summary>The raw attributes the features need, in Age, Income, Purchases order.</summary>
    public IReadOnlyList<string> InputColumns { get; }

    /// <summary>StandardScaler <c>mean_</c>.</summary>
    public IReadOnlyList<double> Mean => _mean;

    /// <summary>StandardScaler <c>scale_</c>, zero (or below 10 machine epsilons) replaced by 1.0 as scikit-learn does.</summary>
    public IReadOnlyList<double> Scale => _scale;

    public PcaProjection? Pca { get; }

    public InputRules Rules { get; }

    public IReadOnlyList<SegmentProfile> Segments { get; }

    /// <summary>The published metrics document, when the marker names one that exists.</summary>
    public JsonElement? Metrics { get; }

    /// <summary>The dimension of the space KMeans was fitted in: the PCA's components, or the features.</summary>
    public int ModelSpaceWidth { get; }

    public string? LabelOf(int segmentId) => _labels.TryGetValue(segmentId, out var label) ? label.Label : null;

    /// <summary>The label of <paramref name="segmentId"/> as a JSON value (null for an id the profiles do not have).</summary>
    internal JsonText LabelJson(int segmentId) => _labels.TryGetValue(segmentId, out var label) ? label.Json : JsonText.Null;

    /// <summary>Whether a feature is income / purchases, which the input rules must keep finite.</summary>
    internal bool UsesSpendingPower { get; }

    /// <summary>Whether the features need raw input <paramref name="field"/> (0 age, 1 income, 2 purchases).</summary>
    internal bool NeedsInput(int field) => _needsInput[field];

    /// <summary>The spec's features, in column order, from age, income and purchases (the recipe of segments.compute_features).</summary>
    internal void ComputeFeatures(ReadOnlySpan<double> raw, Span<double> features)
    {
        for (var column = 0; column < _featureSources.Length; column++)
        {
            var source = _featureSources[column];
            features[column] = source == SpendingPowerSource ? raw[1] / raw[2] : raw[source];
        }
    }

    /// <summary>(x - mean) / scale per column in float64, exactly StandardScaler.transform.</summary>
    internal void ScaleInPlace(Span<double> features)
    {
        for (var column = 0; column < features.Length; column++)
        {
            features[column] = (features[column] - _mean[column]) / _scale[column];
        }
    }

    /// <summary>Scaled (pre-PCA) vector to the KMeans space: PCA scores <c>(x - pca.mean_) @ components_.T</c>, or itself.</summary>
    internal void ToModelSpace(ReadOnlySpan<double> scaled, Span<double> destination)
    {
        if (_pcaComponents is null)
        {
            scaled.CopyTo(destination);
            return;
        }

        var mean = Pca!.Mean;
        for (var component = 0; component < ModelSpaceWidth; component++)
        {
            var weights = _pcaComponents.AsSpan(component * scaled.Length, scaled.Length);
            var sum = 0.0;
            for (var i = 0; i < scaled.Length; i++)
            {
                sum += (scaled[i] - mean[i]) * weights[i];
            }

            destination[component] = sum;
        }
    }

    /// <summary>The segment centroids (in <see cref="Segments"/> order) in the space KMeans was fitted in, one after the other.</summary>
    internal ReadOnlySpan<double> Centroids => _centroids;

    /// <summary>|c|^2 of each of <see cref="Centroids"/>, summed in column order.</summary>
    internal ReadOnlySpan<double> CentroidSquaredNorms => _centroidSquaredNorms;

    /// <summary><see cref="DeployedMarker.ModelVersion"/> as a JSON string.</summary>
    internal JsonText ModelVersionJson { get; }

    /// <summary>The id of segment <paramref name="index"/> (in <see cref="Segments"/> order).</summary>
    internal int SegmentId(int index) => _segmentIds[index];

    internal static double SquaredNorm(ReadOnlySpan<double> vector)
    {
        var sum = 0.0;
        foreach (var value in vector)
        {
            sum += value * value;
        }

        return sum;
    }

    /// <summary>Builds the model from the three documents; a document that does not fit throws <see cref="ModelDocumentException"/>.</summary>
    public static SegmentModel Load(DeployedMarker marker, ReadOnlyMemory<byte> spec, ReadOnlyMemory<byte> profiles, ReadOnlyMemory<byte>? metrics)
    {
        ArgumentNullException.ThrowIfNull(marker);
        using var specDocument = Parse(spec, marker.PreprocessingSpecUri);
        using var profilesDocument = Parse(profiles, marker.SegmentProfilesUri);
        var root = specDocument.RootElement;
        var where = marker.PreprocessingSpecUri;
        var features = StringArray(root, "column_order", where);
        if (features.Length == 0 || features.Distinct(StringComparer.Ordinal).Count() != features.Length)
        {
            throw new ModelDocumentException($"{where}: column_order must list distinct features.");
        }

        var unknown = features.Where(feature => !Recipe.ContainsKey(feature)).ToList();
        if (unknown.Count > 0)
        {
            throw new ModelDocumentException($"{where}: feature(s) {string.Join(", ", unknown)} have no recipe here; known: {string.Join(", ", Recipe.Keys)}.");
        }

        var scaler = Member(root, "scaler", JsonValueKind.Object, where);
        var mean = NumberArray(scaler, "mean", where, features.Length);
        var scale = NumberArray(scaler, "scale", where, features.Length).Select(HandleZeroScale).ToArray();
        var pca = ReadPca(root, where, features.Length);
        var rules = ReadRules(root, where, features);
        var segments = ReadSegments(profilesDocument.RootElement, marker.SegmentProfilesUri, features);
        JsonElement? metricsElement = null;
        if (metrics is { } metricsBytes)
        {
            using var metricsDocument = Parse(metricsBytes, marker.MetricsUri ?? "metrics");
            metricsElement = metricsDocument.RootElement.Clone();
        }

        return new SegmentModel(marker, features, mean, scale, pca, rules, segments, metricsElement);
    }

    // numpy's finfo(float64).eps; double.Epsilon is the smallest subnormal, a different number.
    private const double MachineEpsilon = 2.220446049250313e-16;

    // scikit-learn's _handle_zeros_in_scale: a scale below 10 machine epsilons means a constant feature, left unscaled.
    private static double HandleZeroScale(double scale) => scale < 10 * MachineEpsilon ? 1.0 : scale;

    private static PcaProjection? ReadPca(JsonElement root, string where, int featureCount)
    {
        if (!root.TryGetProperty("pca", out var pca) || pca.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (pca.ValueKind != JsonValueKind.Object)
        {
            throw new ModelDocumentException($"{where}: pca must be null or an object.");
        }

        var components = Member(pca, "components", JsonValueKind.Array, where);
        var rows = components.EnumerateArray().Select((row, index) => row.ValueKind == JsonValueKind.Array
            ? Numbers(row, $"pca.components[{index}]", where, featureCount)
            : throw new ModelDocumentException($"{where}: pca.components[{index}] must be a list of numbers.")).ToArray();
        if (rows.Length == 0 || rows.Length >= featureCount + 1)
        {
            throw new ModelDocumentException($"{where}: pca.components must have between 1 and {featureCount} rows.");
        }

        return new PcaProjection(NumberArray(pca, "mean", where, featureCount), rows);
    }

    private static InputRules ReadRules(JsonElement root, string where, string[] features)
    {
        var usesSpendingPower = features.Contains("SpendingPower");
        if (!root.TryGetProperty("input_rules", out var rules) || rules.ValueKind != JsonValueKind.Object)
        {
            return new InputRules(0, 120, 0, 0, usesSpendingPower);
        }

        var age = rules.TryGetProperty("age_range", out _) ? NumberArray(rules, "age_range", where, 2) : [0, 120];
        var incomeMin = rules.TryGetProperty("income_min", out var income) && income.ValueKind == JsonValueKind.Number ? income.GetDouble() : 0;
        var purchasesMin = rules.TryGetProperty("purchases_min", out var purchases) && purchases.ValueKind == JsonValueKind.Number ? purchases.GetDouble() : 0;
        var positive = usesSpendingPower || (rules.TryGetProperty("purchases_must_be_positive", out var flag) && flag.ValueKind == JsonValueKind.True);
        return new InputRules(age[0], age[1], incomeMin, purchasesMin, positive);
    }

    private static SegmentProfile[] ReadSegments(JsonElement root, string where, string[] features)
    {
        var segments = Member(root, "segments", JsonValueKind.Array, where);
        var result = new List<SegmentProfile>();
        foreach (var (segment, index) in segments.EnumerateArray().Select((segment, index) => (segment, index)))
        {
            var at = $"{where}: segments[{index}]";
            if (segment.ValueKind != JsonValueKind.Object)
            {
                throw new ModelDocumentException($"{at} must be an object.");
            }

            var centroid = Member(segment, "centroid", JsonValueKind.Object, at);
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var feature in features)
            {
                values[feature] = Member(centroid, feature, JsonValueKind.Number, at + ".centroid").GetDouble();
            }

            if (!Member(segment, "id", JsonValueKind.Number, at).TryGetInt32(out var id) || id < 0)
            {
                throw new ModelDocumentException($"{at}: 'id' must be a whole number >= 0.");
            }

            result.Add(new SegmentProfile(
                id,
                Member(segment, "label", JsonValueKind.String, at).GetString()!,
                values,
                segment.TryGetProperty("size", out var size) && size.TryGetInt32(out var rows) ? rows : 0,
                segment.TryGetProperty("share", out var share) && share.ValueKind == JsonValueKind.Number ? share.GetDouble() : 0));
        }

        if (result.Count == 0 || result.Select(segment => segment.Id).Distinct().Count() != result.Count)
        {
            throw new ModelDocumentException($"{where}: segments must be a non-empty list with distinct ids.");
        }

        return [.. result];
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> content, string where)
    {
        try
        {
            var document = JsonDocument.Parse(content);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new ModelDocumentException($"{where} is not a JSON object.");
            }

            return document;
        }
        catch (JsonException exception)
        {
            throw new ModelDocumentException($"{where} is not valid JSON: {exception.Message}", exception);
        }
    }

    private static JsonElement Member(JsonElement parent, string name, JsonValueKind kind, string where) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == kind
            ? value
            : throw new ModelDocumentException($"{where}: '{name}' is missing or not a JSON {kind.ToString().ToLowerInvariant()}.");

    private static string[] StringArray(JsonElement parent, string name, string where) =>
        [.. Member(parent, name, JsonValueKind.Array, where).EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String
            ? item.GetString()!
            : throw new ModelDocumentException($"{where}: '{name}' must list strings."))];

    private static double[] NumberArray(JsonElement parent, string name, string where, int length) =>
        Numbers(Member(parent, name, JsonValueKind.Array, where), name, where, length);

    private static double[] Numbers(JsonElement array, string name, string where, int length)
    {
        var values = array.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.Number && double.IsFinite(item.GetDouble())
            ? item.GetDouble()
            : throw new ModelDocumentException($"{where}: '{name}' must list finite numbers.")).ToArray();
        return values.Length == length ? values : throw new ModelDocumentException($"{where}: '{name}' has {values.Length} values, expected {length}.");
    }
}

/// <summary>A model document (marker, spec, profiles, metrics) cannot be used; the message names the document and the problem.</summary>
public sealed class ModelDocumentException(string message, Exception? innerException = null) : Exception(message, innerException);
