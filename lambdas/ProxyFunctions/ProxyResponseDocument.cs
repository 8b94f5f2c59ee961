using System.Globalization;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// The Lambda response document of a proxy integration, <c>{"body":...,"statusCode":...,"headers":{...},
/// "isBase64Encoded":false}</c>, written into one pooled buffer, body first: a handler may write a large answer straight into
/// <see cref="Body"/>, already escaped as the content of a JSON string, before its status and headers are known.
/// </summary>
public sealed class ProxyResponseDocument : IDisposable
{
    private readonly PooledBuffer _document;
    private readonly int _bodyStart;

    /// <param name="capacity">The bytes to rent up front: room for the largest answer expected saves copying as it grows.</param>
    public ProxyResponseDocument(int capacity)
    {
        _document = new PooledBuffer(capacity);
        _document.Write("""{"body":"""u8);
        _bodyStart = _document.Length;
    }

    /// <summary>
    /// Where a body goes that is written in place: a JSON string (quotes included) whose content is the answer, escaped
    /// (<see cref="JsonText.Embed"/>); its reply is <see cref="ProxyReply.JsonWrittenToDocument"/>.
    /// </summary>
    public PooledBuffer Body => _document;

    /// <summary>
    /// The whole document as a stream that owns the buffer from now on. A <paramref name="reply"/> with a plain body
    /// replaces whatever was written to <see cref="Body"/>.
    /// </summary>
    public Stream Complete(ProxyReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.Body is { } plain)
        {
            _document.Truncate(_bodyStart);
            _document.Write("\""u8);
            JsonText.Embed(plain.Span, _document);
            _document.Write("\""u8);
        }

        _document.Write(""","statusCode":"""u8);
        reply.StatusCode.TryFormat(_document.GetSpan(11), out var written, default, CultureInfo.InvariantCulture);
        _document.Advance(written);
        _document.Write(""","headers":{"""u8);
        var first = true;
        foreach (var (name, value) in reply.Headers)
        {
            _document.Write(first ? ""u8 : ","u8);
            JsonText.WriteString(name, _document);
            _document.Write(":"u8);
            JsonText.WriteString(value, _document);
            first = false;
        }

        _document.Write("""},"isBase64Encoded":false}"""u8);
        return _document.DetachAsStream();
    }

    /// <summary>The document of a reply with a plain body.</summary>
    public static Stream Of(ProxyReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.Body is null)
        {
            throw new ArgumentException("The reply's body is in another document.", nameof(reply));
        }

        using var document = new ProxyResponseDocument(Math.Max(256, 2 * (reply.Body?.Length ?? 0)));
        return document.Complete(reply);
    }

    public void Dispose() => _document.Dispose();
}
