using System.Net;
using System.Text.Json;
using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.SegmentProxy;

/// <summary>One scored row: the stable segment id and the Euclidean distance to its centroid in the KMeans space.</summary>
public readonly record struct Prediction(int ClosestCluster, double DistanceToCluster);

/// <summary>Where predictions come from (env <c>SERVING_MODE</c>).</summary>
public enum ServingMode
{
    /// <summary>Every request goes to the SageMaker endpoint (the default).</summary>
    Endpoint,

    /// <summary>Scored in the Lambda from the exported centroids: no endpoint needed.</summary>
    Centroids,

    /// <summary>The endpoint, and the centroids when it is unavailable (marked in the answer).</summary>
    EndpointWithFallback,
}

/// <summary>
/// Nearest-centroid scoring inside the Lambda, with the numbers inference.py produces: scaled vectors are projected with
/// the spec's PCA (when the model has one), and distances use scikit-learn's <c>euclidean_distances</c> formula,
/// <c>sqrt(max(-2 x.c + |x|^2 + |c|^2, 0))</c> summed in that order, which KMeans.transform calls; the first of equal
/// distances wins, as numpy's argmin.
/// </summary>
public static class CentroidScorer
{
    public static Prediction[] Score(FeatureMatrix scaled, SegmentModel model)
    {
        ArgumentNullException.ThrowIfNull(scaled);
        ArgumentNullException.ThrowIfNull(model);
        var segments = model.Segments.Count;
        var width = model.ModelSpaceWidth;
        var centroids = model.Centroids;
        var centroidNorms = model.CentroidSquaredNorms;
        var predictions = new Prediction[scaled.Length];
        // At most four features (the recipe knows four), so at most four PCA components.
        Span<double> projected = stackalloc double[width];
        for (var row = 0; row < scaled.Length; row++)
        {
            scoped ReadOnlySpan<double> x = scaled[row];
            if (model.Pca is not null)
            {
                model.ToModelSpace(x, projected);
                x = projected;
            }

            var xx = SegmentModel.SquaredNorm(x);
            var best = -1;
            var bestDistance = double.PositiveInfinity;
            var bestSquared = double.PositiveInfinity;
            for (var c = 0; c < segments; c++)
            {
                var centroid = centroids.Slice(c * width, width);
                var dot = 0.0;
                for (var i = 0; i < x.Length; i++)
                {
                    dot += x[i] * centroid[i];
                }

                var squared = Math.Max(-2 * dot + xx + centroidNorms[c], 0);
                // Square roots keep order, so a centroid not nearer before one cannot be nearer after it: no root needed.
                if (best >= 0 && !(squared < bestSquared))
                {
                    continue;
                }

                var distance = Math.Sqrt(squared);
                if (best < 0 || distance < bestDistance)
                {
                    best = c;
                    bestDistance = distance;
                    bestSquared = squared;
                }
            }

            predictions[row] = new Prediction(model.SegmentId(best), bestDistance);
        }

        return predictions;
    }
}

/// <summary>Calls the SageMaker endpoint (the SageMaker runtime client's InvokeEndpoint).</summary>
public interface ISegmentEndpoint
{
    Task<ReadOnlyMemory<byte>> InvokeAsync(string endpointName, byte[] body, CancellationToken cancellationToken);
}

/// <summary>The endpoint answered something that is not inference.py's format: answered 502.</summary>
public sealed class BadEndpointAnswerException(string message) : Exception(message);

/// <summary>
/// Scores through the endpoint: sends <c>{"instances": [[scaled...], ...]}</c> as <c>application/json</c> (what
/// inference.py's input_fn reads) and reads <c>{"predictions":[{"closest_cluster","distance_to_cluster"}]}</c>. An
/// endpoint that is missing, not in service, throttled or overloaded is a <see cref="ServiceUnavailableException"/>;
/// any other failure or an answer of the wrong shape is a <see cref="BadEndpointAnswerException"/>.
/// </summary>
public static class EndpointScorer
{
    public static async Task<Prediction[]> ScoreAsync(ISegmentEndpoint endpoint, string endpointName, FeatureMatrix scaled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(scaled);
        ReadOnlyMemory<byte> answer;
        try
        {
            answer = await endpoint.InvokeAsync(endpointName, Payload(scaled), cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException exception) when (IsUnavailable(exception))
        {
            throw new ServiceUnavailableException($"the endpoint {endpointName} is unavailable ({exception.ErrorCode}: {exception.ErrorMessage})", exception);
        }
        catch (AwsServiceException exception)
        {
            throw new BadEndpointAnswerException($"the endpoint {endpointName} failed ({exception.ErrorCode}: {exception.ErrorMessage})");
        }
        catch (HttpRequestException exception)
        {
            throw new ServiceUnavailableException($"the endpoint {endpointName} could not be reached ({exception.Message})", exception);
        }

        return Read(answer, scaled.Length, endpointName);
    }

    /// <summary>The request body: scaled rows under <c>instances</c>, numbers in shortest round-trip form.</summary>
    public static byte[] Payload(FeatureMatrix scaled)
    {
        ArgumentNullException.ThrowIfNull(scaled);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("instances");
            for (var row = 0; row < scaled.Length; row++)
            {
                writer.WriteStartArray();
                foreach (var value in scaled[row])
                {
                    writer.WriteNumberValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Missing (ValidationError "Could not find endpoint" / "not found"), not in service (creating, updating, failed),
    /// throttled after the client's retries, model not ready, or a 5xx: all pass with time.
    /// </summary>
    public static bool IsUnavailable(AwsServiceException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.StatusCode == HttpStatusCode.TooManyRequests || (int)exception.StatusCode >= 500
            || exception.ErrorCode is "ThrottlingException" or "ModelNotReadyException" or "ServiceUnavailable" or "InternalDependencyException")
        {
            return true;
        }

        var message = exception.ErrorMessage;
        return exception.ErrorCode is "ValidationException" or "ValidationError"
            && (message.Contains("Could not find endpoint", StringComparison.OrdinalIgnoreCase)
                || (message.Contains("Endpoint", StringComparison.OrdinalIgnoreCase) && message.Contains("not found", StringComparison.OrdinalIgnoreCase))
                || message.Contains("not in service", StringComparison.OrdinalIgnoreCase)
                || message.Contains("InService", StringComparison.Ordinal));
    }

    private static Prediction[] Read(ReadOnlyMemory<byte> answer, int expected, string endpointName)
    {
        try
        {
            using var document = JsonDocument.Parse(answer);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("predictions", out var predictions) || predictions.ValueKind != JsonValueKind.Array)
            {
                throw new BadEndpointAnswerException($"the endpoint {endpointName} answered without a predictions list");
            }

            if (predictions.GetArrayLength() != expected)
            {
                throw new BadEndpointAnswerException($"the endpoint {endpointName} answered {predictions.GetArrayLength()} predictions for {expected} rows");
            }

            return [.. predictions.EnumerateArray().Select((item, index) => ReadPrediction(item, index, endpointName))];
        }
        catch (JsonException exception)
        {
            throw new BadEndpointAnswerException($"the endpoint {endpointName} answered invalid JSON ({exception.Message})");
        }
    }

    private static Prediction ReadPrediction(JsonElement item, int index, string endpointName)
    {
        // The built-in k-means answers ids as floats (4.0); inference.py as integers. Both name a whole number.
        if (item.ValueKind == JsonValueKind.Object
            && item.TryGetProperty("closest_cluster", out var cluster) && cluster.ValueKind == JsonValueKind.Number
            && cluster.TryGetDouble(out var id) && id == Math.Floor(id) && id is >= 0 and <= int.MaxValue
            && item.TryGetProperty("distance_to_cluster", out var distance) && distance.ValueKind == JsonValueKind.Number
            && distance.TryGetDouble(out var value) && double.IsFinite(value) && value >= 0)
        {
            return new Prediction((int)id, value);
        }

        throw new BadEndpointAnswerException($"the endpoint {endpointName} answered prediction {index} without a whole closest_cluster and a finite distance_to_cluster");
    }
}
