using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using CustomerSegmentation.Lambdas.Tests.Loopback;

namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// scripts/local/model_server.py serving the real scripts/sagemaker/inference.py for a model directory, as the sklearn
/// container serves an endpoint: started on a free loopback port, ready once <c>/ping</c> answers 200.
/// <see cref="Forward"/> is what the SageMaker runtime does with a validated InvokeEndpoint call.
/// </summary>
internal sealed class ModelServerProcess : IDisposable
{
    private const string ListeningPrefix = "LISTENING ";
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(60) };

    private ModelServerProcess(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
        _process.ErrorDataReceived += (_, line) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(line.Data);
            }
        };
        _process.BeginErrorReadLine();
    }

    public Uri BaseUri { get; }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static async Task<ModelServerProcess> StartAsync(string modelDirectory)
    {
        var process = Process.Start(DebianPython.StartInfo(Path.Combine(Repository.Root, "scripts", "local", "model_server.py"),
            "--model-dir", modelDirectory, "--code-dir", Path.Combine(Repository.Root, "scripts", "sagemaker"),
            "--program", "inference.py", "--host", "127.0.0.1", "--port", "0"))!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith(ListeningPrefix + "http://127.0.0.1:", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"model_server.py printed '{line}' instead of its LISTENING line:\n{await process.StandardError.ReadToEndAsync()}");
        }

        var server = new ModelServerProcess(process, new Uri(line[ListeningPrefix.Length..].Trim() + "/"));
        await server.WaitUntilPingedAsync(timeout.Token);
        return server;
    }

    /// <summary>
    /// The runtime's part of InvokeEndpoint: the body, Content-Type and Accept to the container's <c>/invocations</c>; a
    /// 200 comes back as it is, anything else as the runtime's ModelError (424) quoting the container's status and body.
    /// </summary>
    public StandInResponse Forward(RecordedAwsRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(BaseUri, "invocations")) { Content = new ByteArrayContent(request.Body) };
        if (request.Headers.TryGetValue("Content-Type", out var contentType))
        {
            message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (request.Headers.TryGetValue("Accept", out var accept))
        {
            message.Headers.Accept.ParseAdd(accept);
        }

        using var response = _client.Send(message);
        using var reader = new StreamReader(response.Content.ReadAsStream());
        var body = reader.ReadToEnd();
        var status = (int)response.StatusCode;
        return status == 200
            ? new StandInResponse { Body = Encoding.UTF8.GetBytes(body), ContentType = response.Content.Headers.ContentType?.ToString() }
            : StandInResponse.Error(424, "ModelError",
                $"Received {(status < 500 ? "client" : "server")} error ({status}) from primary with message \"{body}\".");
    }

    public void Dispose()
    {
        _client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private async Task WaitUntilPingedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"model_server.py exited with {_process.ExitCode} before /ping answered 200:\n{Stderr}");
            }

            using var response = await _client.GetAsync(new Uri(BaseUri, "ping"), cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
