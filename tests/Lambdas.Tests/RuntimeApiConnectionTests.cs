using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;

namespace CustomerSegmentation.Lambdas.Tests;

/// <summary>
/// The Runtime API's HTTP/1.1 client against a scripted loopback server that answers each request with exactly the bytes
/// a test gives it (in pieces, with or without closing), so every framing the client must read is exercised byte for byte.
/// </summary>
public sealed class RuntimeApiConnectionTests : IDisposable
{
    private readonly ScriptedServer _server = new();

    public void Dispose() => _server.Dispose();

    private RuntimeApiConnection Connect() => new($"127.0.0.1:{_server.Port}");

    private static string Text(RuntimeApiResponse response)
    {
        var text = Encoding.UTF8.GetString(response.Body, 0, response.BodyLength);
        ArrayPool<byte>.Shared.Return(response.Body);
        return text;
    }

    [Fact]
    public void Send_GetAnsweredWithContentLength_ReturnsStatusHeadersAndBodyAndSendsAMinimalRequest()
    {
        _server.Answer("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8476a536\r\ncontent-length: 5\r\n\r\nhello");
        using var connection = Connect();

        var response = connection.Send("GET", "/2018-06-01/runtime/invocation/next", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("8476a536", response.Header("lambda-runtime-aws-request-id"));
        Assert.Null(response.Header("Lambda-Runtime-Trace-Id"));
        Assert.Equal("hello", Text(response));
        Assert.Equal([$"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:{_server.Port}\r\n\r\n"], _server.Requests);
    }

    [Fact]
    public void Send_TwoPostsWithBodies_GoOverOneConnectionWithTheirLengthsAndHeaders()
    {
        _server.Answer("HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n");
        _server.Answer("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
        using var connection = Connect();

        var first = connection.Send("POST", "/a/response", [], "{\"x\":1}"u8.ToArray(), CancellationToken.None);
        var second = connection.Send("POST", "/b/error", [("Content-Type", "application/json"), ("Lambda-Runtime-Function-Error-Type", "Boom")], "{}"u8.ToArray(),
            CancellationToken.None);

        Assert.Equal((202, "{\"status\":\"OK\"}\n"), (first.StatusCode, Text(first)));
        Assert.Equal((202, ""), (second.StatusCode, Text(second)));
        Assert.Equal(1, _server.Connections);
        Assert.Equal(
        [
            $"POST /a/response HTTP/1.1\r\nHost: 127.0.0.1:{_server.Port}\r\nContent-Length: 7\r\n\r\n{{\"x\":1}}",
            $"POST /b/error HTTP/1.1\r\nHost: 127.0.0.1:{_server.Port}\r\nContent-Type: application/json\r\nLambda-Runtime-Function-Error-Type: Boom\r\nContent-Length: 2\r\n\r\n{{}}",
        ], _server.Requests);
    }

    [Fact]
    public void Send_ChunkedBodyArrivingByteByByte_IsReassembledWithExtensionsAndTrailers()
    {
        _server.Answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n5;name=value\r\nhello\r\n1\r\n \r\n0A\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n", pieceSize: 1);
        _server.Answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        using var connection = Connect();

        var chunked = connection.Send("GET", "/next", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        var after = connection.Send("GET", "/next", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        Assert.Equal("hello 0123456789", Text(chunked));
        Assert.Equal("ok", Text(after));
        Assert.Equal(1, _server.Connections);
    }

    [Fact]
    public void Send_BodyLargerThanTheReadBuffer_IsReadWhole()
    {
        var payload = new string('p', 1_500_000);
        _server.Answer($"HTTP/1.1 200 OK\r\nContent-Length: {payload.Length}\r\n\r\n{payload}", pieceSize: 70_000);
        using var connection = Connect();

        var response = connection.Send("GET", "/next", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        Assert.Equal(payload, Text(response));
    }

    [Fact]
    public void Send_InformationalResponseFirst_IsSkipped()
    {
        _server.Answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok");
        using var connection = Connect();

        var response = connection.Send("POST", "/r", [], "x"u8.ToArray(), CancellationToken.None);

        Assert.Equal((202, "ok"), (response.StatusCode, Text(response)));
    }

    [Fact]
    public void Send_BodyEndingWithTheConnection_IsReadToTheEndAndTheNextRequestConnectsAgain()
    {
        _server.Answer("HTTP/1.0 200 OK\r\n\r\nuntil the end", close: true);
        _server.Answer("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 4\r\n\r\nnext", close: true);
        _server.Answer("HTTP/1.1 204 No Content\r\n\r\n");
        using var connection = Connect();

        var untilClose = connection.Send("GET", "/a", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        var announcedClose = connection.Send("GET", "/b", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        var noContent = connection.Send("GET", "/c", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        Assert.Equal(("until the end", "next", (204, "")), (Text(untilClose), Text(announcedClose), (noContent.StatusCode, Text(noContent))));
        Assert.Equal(3, _server.Connections);
    }

    [Fact]
    public void Send_KeptAliveConnectionClosedByTheServerWhileIdle_IsReplacedAndTheRequestSentOnceMore()
    {
        _server.Answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", closeAfterwards: true);
        _server.Answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb");
        using var connection = Connect();

        var first = connection.Send("GET", "/first", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        _server.WaitForClosedConnections(1);
        var second = connection.Send("POST", "/second", [], "body"u8.ToArray(), CancellationToken.None);

        Assert.Equal(("a", "b"), (Text(first), Text(second)));
        Assert.Equal(2, _server.Connections);
        Assert.EndsWith("\r\n\r\nbody", _server.Requests[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Send_NewConnectionClosedWithoutAnswer_FailsRatherThanTryingAgain()
    {
        _server.Answer("", close: true);
        _server.Answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        using var connection = Connect();

        var exception = Assert.Throws<HttpRequestException>(() => connection.Send("GET", "/next", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None));

        Assert.Equal("GET /next to the Runtime API failed: The Runtime API closed the connection before answering.", exception.Message);
        Assert.Equal(1, _server.Connections);
    }

    [Fact]
    public void Send_ConnectionClosedInsideTheBody_Fails()
    {
        _server.Answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", close: true);
        using var connection = Connect();

        var exception = Assert.Throws<HttpRequestException>(() => connection.Send("GET", "/next", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None));

        Assert.Equal("GET /next to the Runtime API failed: The Runtime API closed the connection inside a response body.", exception.Message);
    }

    [Theory]
    [InlineData("SMTP 220 ready\r\n\r\n", "The Runtime API answered 'SMTP 220 ready', not an HTTP/1.x status line.")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "The Runtime API sent the header line 'no colon here'.")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n", "The Runtime API sent Content-Length 'lots'.")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "The Runtime API sent the chunk size line 'zz'.")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", "The Runtime API sent a chunk longer than its size line said.")]
    public void Send_MalformedResponse_FailsNamingWhatIsWrong(string response, string error)
    {
        _server.Answer(response);
        using var connection = Connect();

        var exception = Assert.Throws<HttpRequestException>(() => connection.Send("GET", "/next", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None));

        Assert.Equal(error, exception.Message);
    }

    [Fact]
    public async Task Send_StopWhileWaitingForAnAnswer_ThrowsOperationCanceled()
    {
        using var connection = Connect();
        using var stop = new CancellationTokenSource();

        var waiting = Task.Run(() => connection.Send("GET", "/next", [], ReadOnlyMemory<byte>.Empty, stop.Token));
        _server.WaitForRequests(1);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("X-Injected", "a\r\nHost: evil")]
    [InlineData("X-Injected\n", "a")]
    public void Send_HeaderWithALineBreak_IsRefusedBeforeAnythingIsSent(string name, string value)
    {
        using var connection = Connect();

        Assert.Throws<ArgumentException>(() => connection.Send("POST", "/r", [(name, value)], ReadOnlyMemory<byte>.Empty, CancellationToken.None));
        Assert.Equal(0, _server.Connections);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData(":9001")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("127.0.0.1:port")]
    public void Constructor_NotHostAndPort_IsRefused(string runtimeApi)
    {
        var exception = Assert.Throws<ArgumentException>(() => new RuntimeApiConnection(runtimeApi));

        Assert.StartsWith($"'{runtimeApi}' is not host:port.", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Send_HostByNameAndBracketedIpv6_Connect()
    {
        _server.Answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nn");
        using var byName = new RuntimeApiConnection($"localhost:{_server.Port}");
        using var ipv6 = new RuntimeApiConnection($"[::1]:{_server.Port}");

        var response = byName.Send("GET", "/next", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        Assert.Equal("n", Text(response));
        Assert.Equal($"GET /next HTTP/1.1\r\nHost: localhost:{_server.Port}\r\n\r\n", Assert.Single(_server.Requests));
        // Nothing listens on IPv6 here: the bracketed form must still parse and then fail to connect, not fail to parse.
        Assert.Throws<HttpRequestException>(() => ipv6.Send("GET", "/next", [], ReadOnlyMemory<byte>.Empty, CancellationToken.None));
    }

    /// <summary>
    /// A loopback server that answers each request, in arrival order across connections, with the next scripted bytes:
    /// in pieces of <c>pieceSize</c> bytes, then closing the connection at once (<c>close</c>) or after a moment
    /// (<c>closeAfterwards</c>, so the client sees a kept-alive connection that the server dropped while idle).
    /// </summary>
    private sealed class ScriptedServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly ConcurrentQueue<(byte[] Bytes, int PieceSize, bool Close, bool CloseAfterwards)> _answers = new();
        private readonly ConcurrentQueue<string> _requests = new();
        private readonly CancellationTokenSource _stopping = new();
        private int _connections;
        private int _closed;

        public ScriptedServer()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => _connections;

        public IReadOnlyList<string> Requests => [.. _requests];

        public void Answer(string response, int pieceSize = int.MaxValue, bool close = false, bool closeAfterwards = false) =>
            _answers.Enqueue((Encoding.UTF8.GetBytes(response), pieceSize, close, closeAfterwards));

        public void WaitForRequests(int count) => Assert.True(SpinWait.SpinUntil(() => _requests.Count >= count, TimeSpan.FromSeconds(10)));

        public void WaitForClosedConnections(int count) => Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref _closed) >= count, TimeSpan.FromSeconds(10)));

        public void Dispose()
        {
            _stopping.Cancel();
            _listener.Stop();
            _stopping.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stopping.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stopping.Token);
                }
                catch (Exception) when (_stopping.IsCancellationRequested)
                {
                    return;
                }

                Interlocked.Increment(ref _connections);
                _ = ServeAsync(client);
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                var stream = client.GetStream();
                var received = new List<byte>();
                var buffer = new byte[64 * 1024];
                try
                {
                    while (true)
                    {
                        var request = TakeRequest(received);
                        while (request is null)
                        {
                            var read = await stream.ReadAsync(buffer, _stopping.Token);
                            if (read == 0)
                            {
                                return;
                            }

                            received.AddRange(buffer.AsSpan(0, read));
                            request = TakeRequest(received);
                        }

                        _requests.Enqueue(request);
                        if (!_answers.TryDequeue(out var answer))
                        {
                            await Task.Delay(Timeout.Infinite, _stopping.Token);
                        }

                        for (var offset = 0; offset < answer.Bytes.Length; offset += answer.PieceSize)
                        {
                            await stream.WriteAsync(answer.Bytes.AsMemory(offset, Math.Min(answer.PieceSize, answer.Bytes.Length - offset)), _stopping.Token);
                            await stream.FlushAsync(_stopping.Token);
                        }

                        if (answer.Close || answer.CloseAfterwards)
                        {
                            await Task.Delay(answer.CloseAfterwards ? 50 : 0, _stopping.Token);
                            return;
                        }
                    }
                }
                catch (Exception) when (_stopping.IsCancellationRequested)
                {
                }
                finally
                {
                    Interlocked.Increment(ref _closed);
                }
            }
        }

        /// <summary>One whole request (head and Content-Length body) off the front of <paramref name="received"/>, or null.</summary>
        private static string? TakeRequest(List<byte> received)
        {
            var text = Encoding.UTF8.GetString([.. received]);
            var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headEnd < 0)
            {
                return null;
            }

            var lengthLine = text[..headEnd].Split("\r\n").FirstOrDefault(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            var length = lengthLine is null ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            var total = Encoding.UTF8.GetByteCount(text[..(headEnd + 4)]) + length;
            if (received.Count < total)
            {
                return null;
            }

            var request = Encoding.UTF8.GetString([.. received.Take(total)]);
            received.RemoveRange(0, total);
            return request;
        }
    }
}
