using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CustomerSegmentation.LocalAws;

/// <summary>JSON as people read it in messages and logs: compact, with &lt;, &gt;, &amp; and quotes left as they are.</summary>
internal static class JsonText
{
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Show(JsonNode? node) => node?.ToJsonString(Readable) ?? "null";
}
