using System.Buffers;
using System.Text.Json;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// A piece of JSON text in UTF-8, twice: plain, and escaped as the content of a JSON string (for JSON that is itself the
/// string value of an enclosing document, as an API Gateway proxy response's body is in the Lambda response).
/// </summary>
public sealed class JsonText
{
    // What must be escaped inside a JSON string: the quote, the backslash and the control characters. (Declared before
    // Null, which needs it.)
    private static readonly SearchValues<byte> Escaped = SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(value => (byte)value), (byte)'"', (byte)'\\']);

    public static readonly JsonText Null = Raw("null"u8);

    private JsonText(byte[] plain)
    {
        Plain = plain;
        using var embedded = new PooledBuffer(plain.Length * 2);
        Embed(plain, embedded);
        Embedded = embedded.Written.ToArray();
    }

    public byte[] Plain { get; }

    public byte[] Embedded { get; }

    public ReadOnlySpan<byte> For(bool embedded) => embedded ? Embedded : Plain;

    /// <summary>JSON text as it is (fixed names and punctuation).</summary>
    public static JsonText Raw(ReadOnlySpan<byte> json) => new(json.ToArray());

    /// <summary>A JSON string, encoded as <see cref="Utf8JsonWriter"/> encodes it by default; null is JSON null.</summary>
    public static JsonText OfString(string? value)
    {
        if (value is null)
        {
            return Null;
        }

        using var plain = new PooledBuffer(value.Length + 2);
        WriteString(value, plain);
        return new JsonText(plain.Written.ToArray());
    }

    /// <summary>Writes <paramref name="value"/> as a JSON string, encoded as <see cref="Utf8JsonWriter"/> encodes it by default.</summary>
    public static void WriteString(string value, PooledBuffer output)
    {
        output.Write("\""u8);
        output.Write(JsonEncodedText.Encode(value).EncodedUtf8Bytes);
        output.Write("\""u8);
    }

    /// <summary>
    /// Writes UTF-8 <paramref name="text"/> escaped as the content of a JSON string: a quote or backslash gets a backslash,
    /// a control character becomes <c>\u00XX</c>, everything else stays as it is (valid UTF-8 is valid inside a string).
    /// </summary>
    public static void Embed(ReadOnlySpan<byte> text, PooledBuffer output)
    {
        while (true)
        {
            var next = text.IndexOfAny(Escaped);
            if (next < 0)
            {
                output.Write(text);
                return;
            }

            output.Write(text[..next]);
            var special = text[next];
            if (special is (byte)'"' or (byte)'\\')
            {
                output.Write([(byte)'\\', special]);
            }
            else
            {
                output.Write([(byte)'\\', (byte)'u', (byte)'0', (byte)'0', HexDigit(special >> 4), HexDigit(special & 0xF)]);
            }

            text = text[(next + 1)..];
        }
    }

    private static byte HexDigit(int value) => (byte)"0123456789abcdef"[value];
}
