using System.Globalization;
using System.Text.Json;
using CustomerSegmentation.ProxyFunctions;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>
/// Writes the POST /segment answer, the one large answer, without a general-purpose JSON writer: the names are fixed,
/// labels are encoded once per model (<see cref="SegmentModel.LabelJson"/>), and numbers are formatted exactly as
/// <see cref="Utf8JsonWriter"/> formats them. The answer is written plain (an API Gateway response's body), or already
/// escaped as the content of a JSON string: the Lambda response document then carries it without a second pass over it.
/// </summary>
internal static class SegmentAnswer
{
    private static readonly JsonText Start = JsonText.Raw("""{"predictions":["""u8);
    private static readonly JsonText ClosestCluster = JsonText.Raw("""{"closest_cluster":"""u8);
    private static readonly JsonText DistanceToCluster = JsonText.Raw(""","distance_to_cluster":"""u8);
    private static readonly JsonText SegmentLabel = JsonText.Raw(""","segment_label":"""u8);
    private static readonly JsonText Endpoint = JsonText.Raw("""],"endpoint":"""u8);
    private static readonly JsonText ModelVersion = JsonText.Raw(""","model_version":"""u8);
    private static readonly JsonText FeaturesProcessed = JsonText.Raw(""","features_processed":"""u8);
    private static readonly JsonText ScoredBy = JsonText.Raw(""","scored_by":"""u8);
    private static readonly JsonText FallbackReason = JsonText.Raw(""","fallback":true,"fallback_reason":"""u8);
    private static readonly JsonText ByCentroids = JsonText.OfString("centroids");
    private static readonly JsonText ByEndpoint = JsonText.OfString("endpoint");

    // The longest int and shortest round-trip double texts are 11 and 24 characters.
    private const int NumbersRoom = 11 + 24;

    /// <summary>
    /// <c>{"predictions":[{"closest_cluster","distance_to_cluster","segment_label"}...],"endpoint","model_version",
    /// "features_processed","scored_by"[,"fallback":true,"fallback_reason"]}</c>.
    /// </summary>
    public static void Write(PooledBuffer output, ReadOnlySpan<Prediction> predictions, SegmentModel model, string? endpoint, string scoredBy,
        string? fallbackReason, bool embedded)
    {
        output.Write(Start.For(embedded));
        var closestCluster = ClosestCluster.For(embedded);
        var distanceToCluster = DistanceToCluster.For(embedded);
        var segmentLabel = SegmentLabel.For(embedded);
        var fixedRoom = 2 + closestCluster.Length + distanceToCluster.Length + segmentLabel.Length + NumbersRoom;
        for (var index = 0; index < predictions.Length; index++)
        {
            var prediction = predictions[index];
            if (!double.IsFinite(prediction.DistanceToCluster))
            {
                throw new InvalidOperationException($"Prediction {index} has the distance {prediction.DistanceToCluster}, which JSON cannot carry.");
            }

            var label = model.LabelJson(prediction.ClosestCluster).For(embedded);
            var span = output.GetSpan(fixedRoom + label.Length);
            var length = 0;
            if (index > 0)
            {
                span[length++] = (byte)',';
            }

            length += Copy(closestCluster, span[length..]);
            prediction.ClosestCluster.TryFormat(span[length..], out var written, default, CultureInfo.InvariantCulture);
            length += written;
            length += Copy(distanceToCluster, span[length..]);
            prediction.DistanceToCluster.TryFormat(span[length..], out written, default, CultureInfo.InvariantCulture);
            length += written;
            length += Copy(segmentLabel, span[length..]);
            length += Copy(label, span[length..]);
            span[length++] = (byte)'}';
            output.Advance(length);
        }

        output.Write(Endpoint.For(embedded));
        output.Write(JsonText.OfString(endpoint).For(embedded));
        output.Write(ModelVersion.For(embedded));
        output.Write(model.ModelVersionJson.For(embedded));
        output.Write(FeaturesProcessed.For(embedded));
        predictions.Length.TryFormat(output.GetSpan(NumbersRoom), out var count, default, CultureInfo.InvariantCulture);
        output.Advance(count);
        output.Write(ScoredBy.For(embedded));
        output.Write((scoredBy switch
        {
            "centroids" => ByCentroids,
            "endpoint" => ByEndpoint,
            _ => JsonText.OfString(scoredBy),
        }).For(embedded));
        if (fallbackReason is not null)
        {
            output.Write(FallbackReason.For(embedded));
            output.Write(JsonText.OfString(fallbackReason).For(embedded));
        }

        output.Write("}"u8);
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        text.CopyTo(destination);
        return text.Length;
    }
}
