using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using CustomerSegmentation.LocalAws.Tests.Support;

namespace CustomerSegmentation.LocalAws.Tests;

/// <summary>
/// What the end-to-end tests serve, built once: a real s3rver with bucket <see cref="Bucket"/>, two models the real
/// scripts/sagemaker/train.py trained on seeded sample customers (Debian's /usr/bin/python3, scikit-learn 1.2.1), the
/// serving code as the CDK asset packs it (scripts/sagemaker as sourcedir.tar.gz), a model.tar.gz that carries its own
/// code/, one that cannot load, and code whose model_fn never returns. <see cref="ExpectedAnswerA"/> is what
/// inference.py itself answers, computed in-process by Python: the oracle the served answers must equal byte for byte.
/// A missing node, s3rver or Python fails every test that uses this, saying what to install.
/// </summary>
public sealed class ServedModelsFixture : IAsyncLifetime
{
    public const string Bucket = "models";
    public const string Python = "/usr/bin/python3";
    public const string Request = """{"instances": [[-1.2, 0.3, 0.5], [0.1, 1.5, -0.7], [1.1, -0.9, 0.2], [0.0, 0.0, 0.0]]}""";

    private const string Oracle = """
        import sys
        sys.path.insert(0, sys.argv[1])
        import inference
        model = inference.model_fn(sys.argv[2])
        sys.stdout.write(inference.output_fn(inference.predict_fn(inference.input_fn(sys.argv[3], "application/json"), model), "application/json"))
        """;

    private const string NeverReadyCode = """
        import time


        def model_fn(model_dir):
            time.sleep(3600)
        """;

    private readonly string _work = Directory.CreateTempSubdirectory("served-models-").FullName;
    private Process? _s3rver;

    public Uri S3Endpoint { get; private set; } = null!;

    public const string ModelA = $"s3://{Bucket}/a/model.tar.gz";

    public const string ModelB = $"s3://{Bucket}/b/model.tar.gz";

    /// <summary>Model A with the serving code inside, under code/ (no SAGEMAKER_SUBMIT_DIRECTORY needed).</summary>
    public const string ModelAWithCode = $"s3://{Bucket}/a-with-code/model.tar.gz";

    /// <summary>A model.tar.gz without model.joblib: inference.py's model_fn raises.</summary>
    public const string BrokenModel = $"s3://{Bucket}/broken/model.tar.gz";

    public const string Code = $"s3://{Bucket}/code/sourcedir.tar.gz";

    /// <summary>Code whose model_fn sleeps for an hour: /ping never answers 200.</summary>
    public const string NeverReadyCodeUri = $"s3://{Bucket}/never-ready/sourcedir.tar.gz";

    public string ExpectedAnswerA { get; private set; } = "";

    public string ExpectedAnswerB { get; private set; } = "";

    /// <summary>The environment a registered package's container has: the inference module and the code tar.gz.</summary>
    public static IReadOnlyDictionary<string, string> Serving(string? code = null) => new Dictionary<string, string>
    {
        ["SAGEMAKER_PROGRAM"] = "inference.py",
        ["SAGEMAKER_SUBMIT_DIRECTORY"] = code ?? Code,
        ["SAGEMAKER_REGION"] = "us-east-1",
    };

    public async Task InitializeAsync()
    {
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is missing: run scripts/setup.sh (it installs python3-sklearn), the Python the model server runs with.");
        }

        await StartS3rverAsync();
        using var s3 = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
        {
            ServiceURL = S3Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
        var code = Path.Combine(TestPaths.RepositoryRoot, "scripts", "sagemaker");
        var modelA = await TrainAsync("a", clusters: 3, seed: 7);
        var modelB = await TrainAsync("b", clusters: 4, seed: 11);
        ExpectedAnswerA = await RunPythonAsync("-c", Oracle, code, modelA, Request);
        ExpectedAnswerB = await RunPythonAsync("-c", Oracle, code, modelB, Request);
        var withCode = Directory.CreateDirectory(Path.Combine(_work, "a-with-code")).FullName;
        CopyDirectory(modelA, withCode);
        CopyDirectory(code, Path.Combine(withCode, "code"));
        var broken = Directory.CreateDirectory(Path.Combine(_work, "broken")).FullName;
        await File.WriteAllTextAsync(Path.Combine(broken, "README.txt"), "no model.joblib here");
        var neverReady = Directory.CreateDirectory(Path.Combine(_work, "never-ready")).FullName;
        await File.WriteAllTextAsync(Path.Combine(neverReady, "inference.py"), NeverReadyCode);

        await UploadTarGzAsync(s3, modelA, ModelA);
        await UploadTarGzAsync(s3, modelB, ModelB);
        await UploadTarGzAsync(s3, withCode, ModelAWithCode);
        await UploadTarGzAsync(s3, broken, BrokenModel);
        await UploadTarGzAsync(s3, code, Code);
        await UploadTarGzAsync(s3, neverReady, NeverReadyCodeUri);
    }

    public Task DisposeAsync()
    {
        if (_s3rver is { HasExited: false })
        {
            _s3rver.Kill(entireProcessTree: true);
            _s3rver.WaitForExit();
        }

        _s3rver?.Dispose();
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    private static async Task<string> RunPythonAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.Combine(TestPaths.RepositoryRoot, "scripts"),
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0
            ? await stdout
            : throw new InvalidOperationException($"python3 {string.Join(' ', arguments)} failed (exit {process.ExitCode}):\n{await stdout}{await stderr}");
    }

    private async Task<string> TrainAsync(string name, int clusters, int seed)
    {
        var train = Directory.CreateDirectory(Path.Combine(_work, $"{name}-train")).FullName;
        var model = Directory.CreateDirectory(Path.Combine(_work, $"{name}-model")).FullName;
        static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
        await RunPythonAsync("-m", "sample_data.customers", "--rows", "400", "--seed", Text(seed), "--segments", Text(clusters), "--out", Path.Combine(train, "customers.csv"));
        await RunPythonAsync(Path.Combine(TestPaths.RepositoryRoot, "scripts", "sagemaker", "train.py"), "--n-clusters", Text(clusters), "--random-seed", "42",
            "--model-dir", model, "--train", train);
        return model;
    }

    private async Task StartS3rverAsync()
    {
        var entryPoint = Path.Combine(TestPaths.RepositoryRoot, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(entryPoint))
        {
            throw new FileNotFoundException($"{entryPoint} is missing: run `npm ci` at the repository root (scripts/setup.sh does).", entryPoint);
        }

        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { entryPoint, "-d", Directory.CreateDirectory(Path.Combine(_work, "s3")).FullName, "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "--silent", "--configure-bucket", Bucket })
        {
            start.ArgumentList.Add(argument);
        }

        _s3rver = Process.Start(start) ?? throw new InvalidOperationException("node did not start: install Node.js (scripts/setup.sh does).");
        S3Endpoint = new Uri($"http://127.0.0.1:{port}/");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException) when (attempt < 200 && !_s3rver.HasExited)
            {
                await Task.Delay(100);
            }
        }

    }

    private static async Task UploadTarGzAsync(AmazonS3Client s3, string directory, string uri)
    {
        using var archive = new MemoryStream();
        using (var gzip = new GZipStream(archive, CompressionLevel.Fastest, leaveOpen: true))
        {
            await TarFile.CreateFromDirectoryAsync(directory, gzip, includeBaseDirectory: false);
        }

        archive.Position = 0;
        var key = uri[$"s3://{Bucket}/".Length..];
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = archive, UseChunkEncoding = false });
    }

    /// <summary>The command lines of every process on this machine whose command line mentions <paramref name="text"/>.</summary>
    public static IReadOnlyList<string> ProcessesMentioning(string text)
    {
        var found = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                var commandLine = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(directory, "cmdline"))).Replace('\0', ' ');
                if (commandLine.Contains(text, StringComparison.Ordinal))
                {
                    found.Add($"{Path.GetFileName(directory)}: {commandLine}");
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return found;
    }
}

[CollectionDefinition(Name)]
public sealed class ServedModelsCollection : ICollectionFixture<ServedModelsFixture>
{
    public const string Name = "served models";
}
