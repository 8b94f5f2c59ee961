using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using CustomerSegmentation.Infra.Notebook;
using CustomerSegmentation.Infra.Pipelines;

namespace CustomerSegmentation.Infra.Tests.Sandbox;

/// <summary>
/// A throw-away stand-in for a notebook instance: a temporary home with a SageMaker folder, every SageMaker path of
/// the lifecycle scripts redirected into it, a local bare git repository as the remote (reached through
/// <c>url.insteadOf</c>, since the platform only accepts https URLs), and strict stand-ins for <c>aws</c> and <c>pip</c>
/// first on PATH. The <c>aws</c> stand-in answers only the calls a test declares and fails (exit 2, recorded) on any other.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class NotebookSandbox : IDisposable
{
    public const string RepositoryUrl = "https://github.com/acme/customer-segmentation.git";
    public const string SecretId = "sandbox-git-secret";
    public const string Region = "eu-west-1";
    public const string InstanceName = "sandbox-project-notebook";
    public const string GitUser = "sandbox-user";
    public const string Token = "ghp_SandboxToken0123456789abcdef";
    public const string SecretRequest = $"secretsmanager get-secret-value --secret-id {SecretId} --region {Region} --output json";

    private readonly List<(string Arguments, string Output, string Error, int ExitCode)> awsAnswers = [];

    public NotebookSandbox()
    {
        Root = Directory.CreateTempSubdirectory("notebook-sandbox-").FullName;
        foreach (var dir in new[] { Home, SageMakerDir, StandInBin, BinDir, ProfileDir, CronDir, StateDir, AuthorHome })
        {
            Directory.CreateDirectory(dir);
        }

        WriteExecutable(Path.Combine(StandInBin, "pip"), $"#!/bin/bash\nprintf '%s\\n' \"$*\" >>{Q(PipCalls)}\n");
        SeedRemote();
        RedirectRemote(RemoteDir);
    }

    /// <summary>The repository's notebook scripts, the ones CDK embeds.</summary>
    public static string ScriptsDirectory => System.IO.Path.Combine(RepositoryLayout.Root().FullName, "scripts", "notebook");

    public string Root { get; }

    public string Home => Path.Combine(Root, "home");

    public string SageMakerDir => Path.Combine(Home, "SageMaker");

    public string CloneDir => Path.Combine(SageMakerDir, "customer-segmentation");

    public string RemoteDir => Path.Combine(Root, "remote.git");

    public string StandInBin => Path.Combine(Root, "stand-ins");

    public string BinDir => Path.Combine(Root, "usr-local-bin");

    public string ProfileDir => Path.Combine(Root, "profile.d");

    public string CronDir => Path.Combine(Root, "cron.d");

    public string StateDir => Path.Combine(Root, "state");

    public string AwsCalls => Path.Combine(Root, "aws-calls.log");

    public string PipCalls => Path.Combine(Root, "pip-calls.log");

    private string AuthorHome => Path.Combine(Root, "author");

    private string SeedDir => Path.Combine(Root, "seed");

    /// <summary>The environment of a lifecycle run: nothing inherited, SageMaker paths redirected.</summary>
    public Dictionary<string, string> Environment => new()
    {
        ["PATH"] = $"{StandInBin}:/usr/local/bin:/usr/bin:/bin",
        ["HOME"] = Home,
        ["LANG"] = "C.UTF-8",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["NOTEBOOK_USER"] = System.Environment.UserName,
        ["NOTEBOOK_HOME"] = Home,
        ["NOTEBOOK_PROFILE_DIR"] = ProfileDir,
        ["NOTEBOOK_BIN_DIR"] = BinDir,
        ["NOTEBOOK_CRON_DIR"] = CronDir,
        ["NOTEBOOK_STATE_DIR"] = StateDir,
        ["NOTEBOOK_PIP"] = Path.Combine(StandInBin, "pip"),
        ["NOTEBOOK_JUPYTER_SERVICE"] = string.Empty,
    };

    /// <summary>Settings as the CDK app would render them, with this sandbox's names.</summary>
    public static NotebookScriptSettings Settings(int idleStopMinutes = 0, string userName = "Sandbox Scientist") => new()
    {
        DataBucket = "sandbox-data-bucket",
        ModelBucket = "sandbox-model-bucket",
        ProjectName = "sandbox-project",
        Region = Region,
        NotebookInstanceName = InstanceName,
        GitRepositoryUrl = RepositoryUrl,
        GitBranch = "main",
        GitSecretId = SecretId,
        GitUserName = userName,
        GitUserEmail = "scientist@example.com",
        IdleStopMinutes = idleStopMinutes,
    };

    /// <summary>The secret answers with the sandbox user and token.</summary>
    public void SecretExists() => ExpectAws(SecretRequest,
        $$"""{"ARN":"arn:aws:secretsmanager:{{Region}}:123456789012:secret:{{SecretId}}-AbC123","Name":"{{SecretId}}","SecretString":"{\"username\":\"{{GitUser}}\",\"token\":\"{{Token}}\"}"}""");

    /// <summary>The secret is missing, answered exactly as the AWS CLI does.</summary>
    public void SecretMissing() => ExpectAws(SecretRequest, string.Empty,
        "\nAn error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.\n",
        254);

    /// <summary>Declares one call the <c>aws</c> stand-in answers; every undeclared call fails.</summary>
    public void ExpectAws(string arguments, string output, string error = "", int exitCode = 0)
    {
        awsAnswers.Add((arguments, output, error, exitCode));
        var script = new StringBuilder("#!/bin/bash\n")
            .Append(CultureInfo.InvariantCulture, $"printf '%s\\n' \"$*\" >>{Q(AwsCalls)}\n")
            .Append("case \"$*\" in\n");
        foreach (var (args, stdout, stderr, code) in awsAnswers)
        {
            script.Append(CultureInfo.InvariantCulture,
                $"  {Q(args)}) printf '%s' {Q(stdout)}; printf '%s' {Q(stderr)} >&2; exit {code} ;;\n");
        }

        script.Append(CultureInfo.InvariantCulture,
            $"  *) printf 'UNEXPECTED %s\\n' \"$*\" >>{Q(AwsCalls)}; echo \"aws stand-in: unexpected call: $*\" >&2; exit 2 ;;\nesac\n");
        WriteExecutable(Path.Combine(StandInBin, "aws"), script.ToString());
    }

    /// <summary>Every call the <c>aws</c> stand-in received, one per line (unexpected ones also as "UNEXPECTED ...").</summary>
    public string[] AwsCallLines() => File.Exists(AwsCalls) ? File.ReadAllLines(AwsCalls) : [];

    /// <summary>Points the repository URL at <paramref name="path"/>, as a git insteadOf rule in the sandbox home.</summary>
    public void RedirectRemote(string path) =>
        File.WriteAllText(Path.Combine(Home, ".gitconfig"), $"[url \"file://{path}\"]\n\tinsteadOf = {RepositoryUrl}\n");

    /// <summary>Renders <paramref name="scriptFile"/> with the CDK renderer and runs it like SageMaker does.</summary>
    public ProcessResult RunLifecycle(string scriptFile, NotebookScriptSettings settings)
    {
        var script = Path.Combine(Root, scriptFile);
        File.WriteAllText(script, NotebookLifecycleScripts.Render(ScriptsDirectory, scriptFile, settings));
        return ProcessRunner.Run("/bin/bash", [script], Environment, workingDirectory: Root);
    }

    /// <summary>Runs git as the notebook user would, inside the sandbox home.</summary>
    public ProcessResult GitAsUser(string workingDirectory, params string[] arguments) =>
        ProcessRunner.Run("git", arguments, Environment, workingDirectory);

    /// <summary>Adds a commit with <paramref name="file"/> to the remote's main branch, as another author.</summary>
    public void PushToRemote(string file, string content, string message)
    {
        File.WriteAllText(Path.Combine(SeedDir, file), content);
        Author("add", file);
        Author("commit", "-m", message);
        Author("push", "origin", "main");
    }

    /// <summary>The subject of the newest commit on the remote's main branch.</summary>
    public string RemoteHeadSubject() => Author("--git-dir", RemoteDir, "log", "-1", "--format=%s", "main").Output.Trim();

    public void Dispose()
    {
        // The background pip stand-in of on-start may still be writing its log while the folder is removed: retry.
        for (var attempt = 1; Directory.Exists(Root); attempt++)
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException) when (attempt < 20)
            {
                Thread.Sleep(100);
            }
        }
    }

    private static string Q(string value) => NotebookLifecycleScripts.ShellQuote(value);

    private static void WriteExecutable(string path, string content)
    {
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private void SeedRemote()
    {
        Author("init", "--quiet", "--bare", "--initial-branch=main", RemoteDir);
        Author("init", "--quiet", "--initial-branch=main", SeedDir);
        Directory.CreateDirectory(Path.Combine(SeedDir, "notebooks"));
        File.WriteAllText(Path.Combine(SeedDir, "notebooks", "CustomerSegmentation.ipynb"), "{}\n");
        File.WriteAllText(Path.Combine(SeedDir, "requirements.txt"), "scikit-learn==1.2.1\n");
        Author("add", ".");
        Author("commit", "-m", "Initial notebook");
        Author("remote", "add", "origin", RemoteDir);
        Author("push", "--quiet", "origin", "main");
    }

    private ProcessResult Author(params string[] arguments)
    {
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["HOME"] = AuthorHome,
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_AUTHOR_NAME"] = "Remote Author",
            ["GIT_AUTHOR_EMAIL"] = "author@example.com",
            ["GIT_COMMITTER_NAME"] = "Remote Author",
            ["GIT_COMMITTER_EMAIL"] = "author@example.com",
        };
        var result = ProcessRunner.Run("git", arguments, environment, Directory.Exists(SeedDir) ? SeedDir : Root);
        return result.ExitCode == 0
            ? result
            : throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed: {result.All}");
    }
}
