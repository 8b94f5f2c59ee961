using System.Globalization;
using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalPipelineRunner.Expressions;

/// <summary>
/// A path into JSON as SageMaker writes them: dotted names with <c>[0]</c> list indexes and <c>['name']</c> lookups
/// (<c>ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri</c>, <c>metrics.silhouette</c>, <c>a.b[1].c</c>).
/// </summary>
public static class PropertyPath
{
    /// <summary>
    /// The node at <paramref name="path"/>. A name lookup on a list selects the element whose *Name member (OutputName,
    /// ChannelName, MetricName) equals it, as SageMaker's step properties do. Null when any part is missing.
    /// </summary>
    public static JsonNode? Select(JsonNode? root, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var current = root;
        foreach (var segment in Parse(path))
        {
            current = (current, segment) switch
            {
                (JsonArray array, int index) => index < array.Count ? array[index] : null,
                (JsonObject obj, string name) => obj[name],
                (JsonArray array, string name) => array.FirstOrDefault(e => e is JsonObject element && element.Any(
                    m => m.Key.EndsWith("Name", StringComparison.Ordinal) && (m.Value as JsonValue)?.TryGetValue<string>(out var v) == true && v == name)),
                _ => null,
            };
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    /// <summary>The segments of a path: strings for names, ints for list indexes.</summary>
    public static IReadOnlyList<object> Parse(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var segments = new List<object>();
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                i++;
                continue;
            }

            if (path[i] == '[')
            {
                var close = path.IndexOf(']', i);
                if (close < 0)
                {
                    throw new PipelineRunnerException($"Path '{path}' has an unclosed '['.");
                }

                var inner = path[(i + 1)..close].Trim();
                if (inner.Length >= 2 && (inner[0] is '\'' or '"') && inner[^1] == inner[0])
                {
                    segments.Add(inner[1..^1]);
                }
                else if (int.TryParse(inner, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    segments.Add(index);
                }
                else
                {
                    throw new PipelineRunnerException($"Path '{path}': '[{inner}]' is neither a list index nor a quoted name.");
                }

                i = close + 1;
                continue;
            }

            var end = path.IndexOfAny(['.', '['], i);
            end = end < 0 ? path.Length : end;
            segments.Add(path[i..end]);
            i = end;
        }

        if (segments.Count == 0)
        {
            throw new PipelineRunnerException("A property path is empty.");
        }

        return segments;
    }
}
