using System.Net;
using System.Net.Sockets;

namespace CustomerSegmentation.LocalAws.Http;

/// <summary>
/// An HTTP server on 127.0.0.1 and a free (or a given) port, answering each request on its own task. Subclasses are the
/// stand-ins; an exception thrown while handling is recorded as a server fault so a test cannot pass over it.
/// </summary>
public abstract class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<string> _faults = [];

    protected LoopbackHttpServer()
        : this(0)
    {
    }

    /// <param name="port">The port to listen on; 0 picks a free one.</param>
    /// <exception cref="LocalAwsException">The port is taken or out of range.</exception>
    protected LoopbackHttpServer(int port)
    {
        (_listener, Port) = port == 0 ? StartOnFreePort() : StartOnPort(port);
        _ = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    /// <summary>Fires when the server is disposed, so long-polling handlers can give up.</summary>
    protected CancellationToken Stopping => _stopping.Token;

    /// <summary>Exceptions the stand-in itself threw while answering (a bug in the test infrastructure or its handlers).</summary>
    public IReadOnlyList<string> ServerFaults
    {
        get
        {
            lock (_faults)
            {
                return [.. _faults];
            }
        }
    }

    protected abstract Task HandleAsync(HttpListenerContext context);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stopping.Cancel();
            _listener.Close();
            _stopping.Dispose();
        }
    }

    protected static async Task<byte[]> ReadBodyAsync(HttpListenerRequest request)
    {
        using var buffer = new MemoryStream();
        await request.InputStream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    protected static async Task RespondAsync(HttpListenerResponse response, int statusCode, byte[] body,
        string contentType = "application/json", IReadOnlyDictionary<string, string>? headers = null)
    {
        response.StatusCode = statusCode;
        response.ContentType = contentType;
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            response.AddHeader(name, value);
        }

        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
        response.Close();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await HandleAsync(context);
                }
                catch (Exception exception) when (!_stopping.IsCancellationRequested)
                {
                    lock (_faults)
                    {
                        _faults.Add($"{context.Request.HttpMethod} {context.Request.RawUrl}: {exception}");
                    }

                    try
                    {
                        context.Response.StatusCode = 500;
                        context.Response.Close();
                    }
                    catch (InvalidOperationException)
                    {
                        // The response had already been sent.
                    }
                }
                catch (Exception) when (_stopping.IsCancellationRequested)
                {
                    // Shutting down: the client sees its connection close.
                }
            });
        }
    }

    private static (HttpListener, int) StartOnPort(int port)
    {
        if (port is < 1 or > 65535)
        {
            throw new LocalAwsException($"Port {port} is not a TCP port (1-65535, or 0 for a free one).");
        }

        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        try
        {
            listener.Start();
            return (listener, port);
        }
        catch (HttpListenerException exception)
        {
            listener.Close();
            throw new LocalAwsException($"Port {port} on 127.0.0.1 cannot be used ({exception.Message}); choose another port or 0 for a free one.", exception);
        }
    }

    private static (HttpListener, int) StartOnFreePort()
    {
        for (var attempt = 1; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return (listener, port);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // Another process took the port between the probe and the bind: try another one.
                listener.Close();
            }
        }
    }
}
