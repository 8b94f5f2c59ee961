using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

/// <summary>An HTTP response of the Runtime API: status, headers, and the body in a pooled buffer the caller returns.</summary>
internal readonly record struct RuntimeApiResponse(int StatusCode, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, int BodyLength)
{
    /// <summary>The first header named <paramref name="name"/> (in any case), or null.</summary>
    public string? Header(string name)
    {
        foreach (var (key, value) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }
}

/// <summary>
/// HTTP/1.1 to the Lambda Runtime API over one kept-alive connection with blocking socket calls: the calling thread sleeps
/// in the kernel until the answer arrives and is woken by it directly, with no event loop or thread pool in between. One
/// request at a time. Requests carry a Content-Length (none for a body-less GET); responses may use Content-Length, the
/// chunked transfer coding, or end with the connection. When a kept-alive connection turns out to have been closed by the
/// server (nothing sent back, or the send failing), the request goes once more on a new connection.
/// </summary>
internal sealed class RuntimeApiConnection : IDisposable
{
    private const int MaxHeadBytes = 64 * 1024;
    private readonly EndPoint _endPoint;
    private readonly string _authority;
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;
    private Socket? _socket;

    /// <param name="runtimeApi"><c>host:port</c> as in <c>AWS_LAMBDA_RUNTIME_API</c> (an IPv6 host in brackets).</param>
    public RuntimeApiConnection(string runtimeApi)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runtimeApi);
        var colon = runtimeApi.LastIndexOf(':');
        var host = colon > 0 ? runtimeApi[..colon] : "";
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (host.Length == 0 || !int.TryParse(runtimeApi.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is 0 or > 65535)
        {
            throw new ArgumentException($"'{runtimeApi}' is not host:port.", nameof(runtimeApi));
        }

        _endPoint = IPAddress.TryParse(host, out var address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
        _authority = runtimeApi;
    }

    /// <summary>
    /// Sends one request and reads its whole response. Header values must not contain line breaks. Cancelling
    /// <paramref name="stop"/> aborts a call that is waiting, with an <see cref="OperationCanceledException"/>.
    /// </summary>
    public RuntimeApiResponse Send(string method, string path, ReadOnlySpan<(string Name, string Value)> headers, ReadOnlyMemory<byte> body, CancellationToken stop)
    {
        var head = Head(method, path, headers, body.Length);
        for (var attempt = 1; ; attempt++)
        {
            var reused = _socket is not null;
            var sent = false;
            try
            {
                var socket = _socket ??= Connect();
                using var abort = stop.Register(static state => ((Socket)state!).Dispose(), socket);
                SendAll(socket, head, body);
                sent = true;
                return Receive(socket);
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException or IOException)
            {
                Close();
                stop.ThrowIfCancellationRequested();
                var staleConnection = reused && attempt == 1 && (!sent || exception is NothingReceivedException);
                if (!staleConnection)
                {
                    throw new HttpRequestException($"{method} {path} to the Runtime API failed: {exception.Message}", exception);
                }
            }
            catch (HttpRequestException)
            {
                // After a response it could not read, the connection is in an unknown state.
                Close();
                throw;
            }
        }
    }

    public void Dispose() => Close();

    private Socket Connect()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Connect(_endPoint);
            _start = _end = 0;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Close()
    {
        _socket?.Dispose();
        _socket = null;
        _start = _end = 0;
    }

    private byte[] Head(string method, string path, ReadOnlySpan<(string Name, string Value)> headers, int contentLength)
    {
        var head = new StringBuilder(160).Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\nHost: ").Append(_authority).Append("\r\n");
        foreach (var (name, value) in headers)
        {
            if (name.AsSpan().IndexOfAny('\r', '\n') >= 0 || value.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                throw new ArgumentException($"The header {name} has a line break.", nameof(headers));
            }

            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        if (method != "GET" || contentLength > 0)
        {
            head.Append("Content-Length: ").Append(contentLength.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
    }

    /// <summary>Head and body in one system call when the kernel takes them whole, as it does for a blocking socket.</summary>
    private static void SendAll(Socket socket, byte[] head, ReadOnlyMemory<byte> body)
    {
        var bodySegment = MemoryMarshal.TryGetArray(body, out var array) ? array : new ArraySegment<byte>(body.ToArray());
        var sent = body.IsEmpty ? socket.Send(head) : socket.Send([new ArraySegment<byte>(head), bodySegment]);
        if (sent < head.Length)
        {
            SendRest(socket, head.AsSpan(sent));
            sent = head.Length;
        }

        SendRest(socket, bodySegment.AsSpan(sent - head.Length));
    }

    private static void SendRest(Socket socket, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[socket.Send(bytes)..];
        }
    }

    private RuntimeApiResponse Receive(Socket socket)
    {
        var (status, headers) = ReadHead(socket);
        while (status is >= 100 and < 200)
        {
            (status, headers) = ReadHead(socket);
        }

        var connectionEnds = HasToken(headers, "Connection", "close");
        var (body, length) = status is 204 or 304 ? (ArrayPool<byte>.Shared.Rent(1), 0)
            : HasToken(headers, "Transfer-Encoding", "chunked") ? ReadChunked(socket)
            : ContentLength(headers) is { } declared ? ReadExactly(socket, declared)
            : ReadToClose(socket, out connectionEnds);
        if (connectionEnds)
        {
            Close();
        }

        return new RuntimeApiResponse(status, headers, body, length);
    }

    /// <summary>The status line and the headers; afterwards the unread bytes start with the body.</summary>
    private (int Status, List<KeyValuePair<string, string>> Headers) ReadHead(Socket socket)
    {
        var firstRead = _start == _end;
        int end;
        while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (_end - _start >= MaxHeadBytes)
            {
                throw new HttpRequestException($"The Runtime API's response head exceeds {MaxHeadBytes} bytes.");
            }

            if (Fill(socket) == 0)
            {
                throw firstRead && _start == _end ? new NothingReceivedException() : new IOException("The Runtime API closed the connection inside a response head.");
            }
        }

        var lines = Encoding.ASCII.GetString(_buffer, _start, end).Split("\r\n");
        _start += end + 4;
        var statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/1.", StringComparison.Ordinal)
            || !int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new HttpRequestException($"The Runtime API answered '{lines[0]}', not an HTTP/1.x status line.");
        }

        var headers = new List<KeyValuePair<string, string>>(lines.Length - 1);
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new HttpRequestException($"The Runtime API sent the header line '{line}'.");
            }

            headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }

        return (status, headers);
    }

    private (byte[] Body, int Length) ReadExactly(Socket socket, long declared)
    {
        if (declared > Array.MaxLength)
        {
            throw new HttpRequestException($"The Runtime API announced a body of {declared} bytes.");
        }

        var length = (int)declared;
        var body = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var buffered = Math.Min(length, _end - _start);
            _buffer.AsSpan(_start, buffered).CopyTo(body);
            _start += buffered;
            for (var read = buffered; read < length;)
            {
                var received = socket.Receive(body, read, length - read, SocketFlags.None);
                read += received > 0 ? received : throw new IOException("The Runtime API closed the connection inside a response body.");
            }

            return (body, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(body);
            throw;
        }
    }

    private (byte[] Body, int Length) ReadChunked(Socket socket)
    {
        var body = ArrayPool<byte>.Shared.Rent(_buffer.Length);
        var length = 0;
        try
        {
            while (true)
            {
                var sizeLine = ReadLine(socket);
                var sizeEnd = sizeLine.IndexOf(';', StringComparison.Ordinal);
                if (!int.TryParse(sizeEnd < 0 ? sizeLine.Trim() : sizeLine[..sizeEnd].Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size)
                    || size < 0 || size > Array.MaxLength - length)
                {
                    throw new HttpRequestException($"The Runtime API sent the chunk size line '{sizeLine}'.");
                }

                if (size == 0)
                {
                    // Trailer fields, if any, end with an empty line.
                    while (ReadLine(socket).Length > 0)
                    {
                    }

                    return (body, length);
                }

                if (length + size > body.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Max(body.Length * 2, length + size));
                    body.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(body);
                    body = larger;
                }

                for (var copied = 0; copied < size;)
                {
                    if (_start == _end && Fill(socket) == 0)
                    {
                        throw new IOException("The Runtime API closed the connection inside a chunk.");
                    }

                    var take = Math.Min(size - copied, _end - _start);
                    _buffer.AsSpan(_start, take).CopyTo(body.AsSpan(length));
                    (_start, length, copied) = (_start + take, length + take, copied + take);
                }

                if (ReadLine(socket).Length != 0)
                {
                    throw new HttpRequestException("The Runtime API sent a chunk longer than its size line said.");
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(body);
            throw;
        }
    }

    private (byte[] Body, int Length) ReadToClose(Socket socket, out bool connectionEnds)
    {
        connectionEnds = true;
        while (Fill(socket) > 0)
        {
        }

        var length = _end - _start;
        var body = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        _buffer.AsSpan(_start, length).CopyTo(body);
        _start = _end;
        return (body, length);
    }

    private string ReadLine(Socket socket)
    {
        int end;
        while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
        {
            if (_end - _start >= MaxHeadBytes || Fill(socket) == 0)
            {
                throw new IOException("The Runtime API's chunked body ended before a line did.");
            }
        }

        var line = Encoding.ASCII.GetString(_buffer, _start, end);
        _start += end + 2;
        return line;
    }

    /// <summary>Receives more bytes after the unread ones (moving or growing the buffer first); 0 once the server closed.</summary>
    private int Fill(Socket socket)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            (_end, _start) = (_end - _start, 0);
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var received = socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        _end += received;
        return received;
    }

    private static long? ContentLength(List<KeyValuePair<string, string>> headers)
    {
        foreach (var (name, value) in headers)
        {
            if (string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                    ? length
                    : throw new HttpRequestException($"The Runtime API sent Content-Length '{value}'.");
            }
        }

        return null;
    }

    private static bool HasToken(List<KeyValuePair<string, string>> headers, string name, string token)
    {
        foreach (var (key, value) in headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase)
                && value.Split(',').Any(item => string.Equals(item.Trim(), token, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The server closed the connection without sending a byte of the response.</summary>
    private sealed class NothingReceivedException() : IOException("The Runtime API closed the connection before answering.");
}
