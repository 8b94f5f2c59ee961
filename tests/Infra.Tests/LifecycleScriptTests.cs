using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using CustomerSegmentation.Infra.Notebook;
using CustomerSegmentation.Infra.Pipelines;
using CustomerSegmentation.Infra.Tests.Sandbox;

namespace CustomerSegmentation.Infra.Tests;

/// <summary>
/// The notebook lifecycle scripts, checked by shellcheck and executed for real in a <see cref="NotebookSandbox"/>:
/// a local bare repository as the git remote and strict stand-ins for the AWS CLI and pip.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LifecycleScriptTests : IDisposable
{
    private readonly NotebookSandbox sandbox = new();

    public void Dispose() => sandbox.Dispose();

    public static TheoryData<string> ScriptFiles() => new(ScriptFileNames());

    [Fact]
    public void ScriptFiles_Folder_HoldsTheLifecycleScriptsAndHelpers()
    {
        var files = ScriptFileNames();

        Assert.Equal(["git-credential.sh", "idle-stop.sh", "lib.sh", "on-create.sh", "on-start.sh"], files);
    }

    [Theory]
    [MemberData(nameof(ScriptFiles))]
    public void Shellcheck_ScriptFile_ReportsNothing(string file)
    {
        var result = Shellcheck(["-x", Path.Combine("scripts", "notebook", file)], input: null);

        Assert.True(result.ExitCode == 0, $"shellcheck found problems in {file}:\n{result.All}");
    }

    [Theory]
    [InlineData("on-create.sh")]
    [InlineData("on-start.sh")]
    public void Shellcheck_RenderedScript_ReportsNothing(string file)
    {
        var rendered = NotebookLifecycleScripts.Render(NotebookSandbox.ScriptsDirectory, file, NotebookSandbox.Settings(idleStopMinutes: 30));

        var result = Shellcheck(["--shell=bash", "-"], rendered);

        Assert.True(result.ExitCode == 0, $"shellcheck found problems in the rendered {file}:\n{result.All}");
    }

    [Fact]
    public void OnCreate_FirstStart_ClonesBranchIntoSageMakerFolder()
    {
        sandbox.SecretExists();

        var result = sandbox.RunLifecycle("on-create.sh", NotebookSandbox.Settings());

        Assert.Equal(0, result.ExitCode);
        Assert.True(File.Exists(Path.Combine(sandbox.CloneDir, "notebooks", "CustomerSegmentation.ipynb")), result.All);
        Assert.Equal("main", sandbox.GitAsUser(sandbox.CloneDir, "rev-parse", "--abbrev-ref", "HEAD").Output.Trim());
        Assert.Equal(NotebookSandbox.RepositoryUrl, sandbox.GitAsUser(sandbox.CloneDir, "config", "remote.origin.url").Output.Trim());
        Assert.Equal([NotebookSandbox.SecretRequest], sandbox.AwsCallLines());
    }

    [Fact]
    public void OnStart_AfterOnCreate_ConfiguresAuthorAndHostScopedCredentialHelper()
    {
        sandbox.SecretExists();
        RunFirstStart();

        var name = sandbox.GitAsUser(sandbox.CloneDir, "config", "user.name").Output.Trim();
        var email = sandbox.GitAsUser(sandbox.CloneDir, "config", "user.email").Output.Trim();
        var helper = sandbox.GitAsUser(sandbox.Home, "config", "--global", "--get-all", "credential.https://github.com.helper").Output.Trim();
        var unscoped = sandbox.GitAsUser(sandbox.Home, "config", "--global", "--get-all", "credential.helper");

        Assert.Equal("Sandbox Scientist", name);
        Assert.Equal("scientist@example.com", email);
        Assert.Equal($"{sandbox.BinDir}/notebook-git-credential {NotebookSandbox.SecretId} {NotebookSandbox.Region}", helper);
        Assert.Equal(1, unscoped.ExitCode);
    }

    [Fact]
    public void OnStart_Restart_PullsCommitPushedMeanwhile()
    {
        sandbox.SecretExists();
        RunFirstStart();
        sandbox.PushToRemote("CHANGELOG.md", "second commit\n", "Add changelog");

        var restart = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings());

        Assert.Equal(0, restart.ExitCode);
        Assert.Contains("pulling main into", restart.Output, StringComparison.Ordinal);
        Assert.Equal("second commit\n", File.ReadAllText(Path.Combine(sandbox.CloneDir, "CHANGELOG.md")));
    }

    [Fact]
    public void OnStart_Restart_RunsEveryStepAgainWithoutDuplicatingConfiguration()
    {
        sandbox.SecretExists();
        RunFirstStart();

        var restart = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings());

        Assert.DoesNotContain("ERROR", restart.All, StringComparison.Ordinal);
        var jupyterConfig = File.ReadAllText(Path.Combine(sandbox.Home, ".jupyter", "jupyter_server_config.py"));
        Assert.Single(jupyterConfig.Split("# BEGIN notebook-platform"), part => part.Contains("# END", StringComparison.Ordinal));
        var helpers = sandbox.GitAsUser(sandbox.Home, "config", "--global", "--get-all", "credential.https://github.com.helper").Output;
        Assert.Single(helpers.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Push_FromClone_ReachesRemote()
    {
        sandbox.SecretExists();
        RunFirstStart();
        File.WriteAllText(Path.Combine(sandbox.CloneDir, "notebooks", "Exploration.ipynb"), "{}\n");
        Assert.Equal(0, sandbox.GitAsUser(sandbox.CloneDir, "add", ".").ExitCode);
        Assert.Equal(0, sandbox.GitAsUser(sandbox.CloneDir, "commit", "-m", "Explore segments").ExitCode);

        var push = sandbox.GitAsUser(sandbox.CloneDir, "push", "origin", "main");

        Assert.True(push.ExitCode == 0, push.All);
        Assert.Equal("Explore segments", sandbox.RemoteHeadSubject());
    }

    [Fact]
    public void CredentialHelper_GetRequest_PrintsUsernameAndTokenFromSecretsManager()
    {
        sandbox.SecretExists();
        RunFirstStart();
        var helper = Path.Combine(sandbox.BinDir, "notebook-git-credential");

        var result = ProcessRunner.Run(helper, [NotebookSandbox.SecretId, NotebookSandbox.Region, "get"], sandbox.Environment,
            input: "protocol=https\nhost=github.com\n\n");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"username={NotebookSandbox.GitUser}\npassword={NotebookSandbox.Token}\n", result.Output);
        Assert.Equal(NotebookSandbox.SecretRequest, sandbox.AwsCallLines()[^1]);
    }

    [Fact]
    public void CredentialHelper_GitAsksForRepositoryHost_AnswersThroughConfiguredHelper()
    {
        sandbox.SecretExists();
        RunFirstStart();

        var fill = ProcessRunner.Run("git", ["credential", "fill"], sandbox.Environment, sandbox.CloneDir,
            input: "protocol=https\nhost=github.com\npath=acme/customer-segmentation.git\n\n");

        Assert.Equal(0, fill.ExitCode);
        Assert.Contains($"username={NotebookSandbox.GitUser}\n", fill.Output, StringComparison.Ordinal);
        Assert.Contains($"password={NotebookSandbox.Token}\n", fill.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void CredentialHelper_OtherHost_IsNotAsked()
    {
        sandbox.SecretExists();
        RunFirstStart();
        var callsBefore = sandbox.AwsCallLines().Length;

        var fill = ProcessRunner.Run("git", ["credential", "fill"], sandbox.Environment, sandbox.CloneDir,
            input: "protocol=https\nhost=gitlab.example.com\n\n");

        Assert.NotEqual(0, fill.ExitCode);
        Assert.DoesNotContain(NotebookSandbox.Token, fill.All, StringComparison.Ordinal);
        Assert.Equal(callsBefore, sandbox.AwsCallLines().Length);
    }

    [Theory]
    [InlineData("store")]
    [InlineData("erase")]
    public void CredentialHelper_StoreOrErase_KeepsNothingAndCallsNothing(string action)
    {
        sandbox.SecretExists();
        RunFirstStart();
        var callsBefore = sandbox.AwsCallLines().Length;
        var helper = Path.Combine(sandbox.BinDir, "notebook-git-credential");

        var result = ProcessRunner.Run(helper, [NotebookSandbox.SecretId, NotebookSandbox.Region, action], sandbox.Environment,
            input: $"protocol=https\nhost=github.com\nusername={NotebookSandbox.GitUser}\npassword={NotebookSandbox.Token}\n\n");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Output);
        Assert.Equal(callsBefore, sandbox.AwsCallLines().Length);
        AssertTokenNowhereUnder(sandbox.Home);
    }

    [Fact]
    public void Token_AfterStartsPullsAndCredentialRequests_NeverWrittenUnderHomeNorLogged()
    {
        sandbox.SecretExists();
        var logs = RunFirstStart();
        logs += sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings()).All;
        _ = ProcessRunner.Run("git", ["credential", "fill"], sandbox.Environment, sandbox.CloneDir, input: "protocol=https\nhost=github.com\n\n");

        Assert.DoesNotContain(NotebookSandbox.Token, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(NotebookSandbox.Token, File.ReadAllText(Path.Combine(sandbox.CloneDir, ".git", "config")), StringComparison.Ordinal);
        AssertTokenNowhereUnder(sandbox.Home);
        AssertTokenNowhereUnder(sandbox.StateDir);
    }

    [Fact]
    public void Environment_LoginShell_SeesBucketsProjectAndRegion()
    {
        sandbox.SecretExists();
        RunFirstStart();
        // Stands in for /etc/profile, which sources /etc/profile.d/*.sh in every login shell.
        File.WriteAllText(Path.Combine(sandbox.Home, ".bash_profile"),
            $"for f in {NotebookLifecycleScripts.ShellQuote(sandbox.ProfileDir)}/*.sh; do . \"$f\"; done\n");

        var result = ProcessRunner.Run("/bin/bash", ["-lc", "echo \"$DATA_BUCKET $MODEL_BUCKET $PROJECT_NAME $AWS_REGION $AWS_DEFAULT_REGION\""],
            sandbox.Environment);

        Assert.Equal("sandbox-data-bucket sandbox-model-bucket sandbox-project eu-west-1 eu-west-1\n", result.Output);
    }

    [Fact]
    public void Environment_JupyterServerConfig_SetsKernelEnvironmentAndOpensNotebooksFolder()
    {
        sandbox.SecretExists();
        RunFirstStart();
        var config = Path.Combine(sandbox.Home, ".jupyter", "jupyter_server_config.py");
        const string loader = """
            import os, sys
            class Section: pass
            class Config:
                def __getattr__(self, name):
                    section = Section()
                    setattr(self, name, section)
                    return section
            c = Config()
            exec(open(sys.argv[1]).read(), {"c": c})
            print(os.environ["DATA_BUCKET"], os.environ["MODEL_BUCKET"], os.environ["PROJECT_NAME"], os.environ["AWS_REGION"])
            print(c.FileContentsManager.preferred_dir)
            """;

        var result = ProcessRunner.Run("/usr/bin/python3", ["-c", loader, config], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" });

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal("sandbox-data-bucket sandbox-model-bucket sandbox-project eu-west-1\ncustomer-segmentation/notebooks\n", result.Output);
    }

    [Fact]
    public void Environment_RepositoryWithoutNotebooksFolder_LeavesJupyterStartFolderAlone()
    {
        sandbox.SecretExists();
        var config = Path.Combine(sandbox.Home, ".jupyter", "jupyter_server_config.py");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        File.WriteAllText(config, "c.ServerApp.port = 8443\n");
        sandbox.RedirectRemote(Path.Combine(sandbox.Root, "missing.git"));

        var result = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings());

        var text = File.ReadAllText(config);
        Assert.StartsWith("c.ServerApp.port = 8443\n# BEGIN notebook-platform\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("preferred_dir", text, StringComparison.Ordinal);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public void Requirements_InRepository_InstalledInBackgroundWithPip()
    {
        sandbox.SecretExists();

        RunFirstStart();

        var expected = $"install --quiet -r {sandbox.CloneDir}/requirements.txt";
        Assert.True(WaitFor(() => File.Exists(sandbox.PipCalls) && File.ReadAllText(sandbox.PipCalls).Contains(expected, StringComparison.Ordinal)),
            $"pip was not called with '{expected}'.");
        Assert.Equal([expected], File.ReadAllLines(sandbox.PipCalls));
    }

    [Fact]
    public void NoRepository_OnStart_WritesEnvironmentWithoutGitOrAwsCalls()
    {
        var settings = NotebookSandbox.Settings() with { GitRepositoryUrl = null };

        var result = sandbox.RunLifecycle("on-start.sh", settings);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("ERROR", result.All, StringComparison.Ordinal);
        Assert.Contains("git:repositoryUrl is not set: no repository wiring", result.Output, StringComparison.Ordinal);
        Assert.Empty(sandbox.AwsCallLines());
        Assert.Empty(Directory.GetFileSystemEntries(sandbox.SageMakerDir));
        Assert.False(File.Exists(Path.Combine(sandbox.BinDir, "notebook-git-credential")));
        Assert.Contains("export DATA_BUCKET=sandbox-data-bucket\n", File.ReadAllText(Path.Combine(sandbox.ProfileDir, "notebook-platform.sh")), StringComparison.Ordinal);
    }

    [Fact]
    public void MissingSecret_OnStart_LogsResourceNotFoundAndStillExitsZero()
    {
        sandbox.SecretMissing();

        var result = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings());

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"ERROR: cannot read git secret {NotebookSandbox.SecretId}: ", result.Output, StringComparison.Ordinal);
        Assert.Contains("ResourceNotFoundException", result.Output, StringComparison.Ordinal);
        Assert.Contains("ERROR: step check_git_secret failed (status 1); continuing so the notebook still starts", result.Output, StringComparison.Ordinal);
        Assert.Contains("step write_environment: done", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("UNEXPECTED", string.Join('\n', sandbox.AwsCallLines()), StringComparison.Ordinal);
    }

    [Fact]
    public void PlaceholderSecret_OnStart_LogsThatTheSecretMustBeFilledIn()
    {
        sandbox.ExpectAws(NotebookSandbox.SecretRequest,
            """{"Name":"sandbox-git-secret","SecretString":"{\"username\":\"REPLACE_ME\",\"token\":\"generated0123\"}"}""");

        var result = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings());

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"ERROR: git secret {NotebookSandbox.SecretId} still holds the generated placeholder", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("generated0123", result.All, StringComparison.Ordinal);
    }

    [Fact]
    public void UnreachableRemote_OnStart_LogsCloneFailureAndStillExitsZero()
    {
        sandbox.SecretExists();
        sandbox.RedirectRemote(Path.Combine(sandbox.Root, "missing.git"));

        var result = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings());

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"cloning {NotebookSandbox.RepositoryUrl} (main) into {sandbox.CloneDir}", result.Output, StringComparison.Ordinal);
        Assert.Contains("ERROR: step sync_repository failed (status 128); continuing so the notebook still starts", result.Output, StringComparison.Ordinal);
        Assert.Contains("step schedule_idle_stop: done", result.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(sandbox.CloneDir));
    }

    [Fact]
    public void UnreachableRemote_OnRestart_LogsPullFailureAndKeepsLocalWork()
    {
        sandbox.SecretExists();
        RunFirstStart();
        File.WriteAllText(Path.Combine(sandbox.CloneDir, "draft.txt"), "unsaved work\n");
        sandbox.RedirectRemote(Path.Combine(sandbox.Root, "missing.git"));

        var result = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings());

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("ERROR: step sync_repository failed", result.Output, StringComparison.Ordinal);
        Assert.Equal("unsaved work\n", File.ReadAllText(Path.Combine(sandbox.CloneDir, "draft.txt")));
    }

    [Fact]
    public void ShellQuoting_UserNameWithShellSyntax_IsStoredLiterally()
    {
        sandbox.SecretExists();
        const string hostile = "O'Brien $(touch pwned) `id` \"quoted\" ; exit 3";

        var result = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings(userName: hostile));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(hostile, sandbox.GitAsUser(sandbox.Home, "config", "--global", "user.name").Output.TrimEnd('\n'));
        Assert.False(File.Exists(Path.Combine(sandbox.Root, "pwned")));
    }

    [Fact]
    public void IdleStop_Configured_InstallsCronEntryAndStartTime()
    {
        sandbox.SecretExists();

        var result = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings(idleStopMinutes: 45));

        Assert.Equal(0, result.ExitCode);
        var cron = File.ReadAllText(Path.Combine(sandbox.CronDir, "notebook-idle-stop"));
        Assert.Equal(
            $"PATH={sandbox.Environment["PATH"]}\nAWS_DEFAULT_REGION={NotebookSandbox.Region}\n*/5 * * * * root {sandbox.BinDir}/notebook-idle-stop 45 {NotebookSandbox.InstanceName} "
            + $"{sandbox.StateDir}/started-at >>{sandbox.StateDir}/idle-stop.log 2>&1\n",
            cron);
        Assert.True(File.Exists(Path.Combine(sandbox.BinDir, "notebook-idle-stop")));
        var started = long.Parse(File.ReadAllText(Path.Combine(sandbox.StateDir, "started-at")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - started, 0, 120);
    }

    [Fact]
    public void IdleStop_Zero_WritesNoCronEntryAndRemovesAnEarlierOne()
    {
        sandbox.SecretExists();
        Assert.Equal(0, sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings(idleStopMinutes: 45)).ExitCode);

        var result = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings(idleStopMinutes: 0));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("idle stop is off", result.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(sandbox.CronDir));
    }

    [Fact]
    public void IdleStopScript_KernelsIdleLongerThanLimit_StopsThisInstance()
    {
        var stop = $"sagemaker stop-notebook-instance --notebook-instance-name {NotebookSandbox.InstanceName}";
        sandbox.ExpectAws(stop, "");

        var result = RunIdleStop(Sessions("idle", activityMinutesAgo: 90), startedMinutesAgo: 120);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"stopping {NotebookSandbox.InstanceName}", result.Output, StringComparison.Ordinal);
        Assert.Equal([stop], sandbox.AwsCallLines());
    }

    [Theory]
    [InlineData("idle", 5, 120)]
    [InlineData("busy", 600, 900)]
    [InlineData(null, 0, 10)]
    public void IdleStopScript_RecentActivityBusyKernelOrRecentStart_KeepsRunning(string? state, int activityMinutesAgo, int startedMinutesAgo)
    {
        var sessions = state is null ? "[]" : Sessions(state, activityMinutesAgo);

        var result = RunIdleStop(sessions, startedMinutesAgo);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("keeping", result.Output, StringComparison.Ordinal);
        Assert.Empty(sandbox.AwsCallLines());
    }

    [Fact]
    public void IdleStopScript_JupyterUnreachable_DoesNotStop()
    {
        var state = Path.Combine(sandbox.Root, "started-at");
        File.WriteAllText(state, "0\n");
        var environment = sandbox.Environment;
        environment["JUPYTER_API_URL"] = $"http://127.0.0.1:{FreePort()}";

        var result = ProcessRunner.Run("/bin/bash", [Path.Combine(NotebookSandbox.ScriptsDirectory, "idle-stop.sh"), "60", NotebookSandbox.InstanceName, state],
            environment);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("cannot read Jupyter sessions", result.Output, StringComparison.Ordinal);
        Assert.Empty(sandbox.AwsCallLines());
    }

    private static string[] ScriptFileNames() =>
        [.. Directory.GetFiles(NotebookSandbox.ScriptsDirectory, "*.sh").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    private static ProcessResult Shellcheck(string[] arguments, string? input)
    {
        try
        {
            return ProcessRunner.Run("shellcheck", arguments, workingDirectory: RepositoryLayout.Root().FullName, input: input);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("shellcheck is not installed: run scripts/setup.sh (Debian package shellcheck).", e);
        }
    }

    /// <summary>Jupyter's /api/sessions answer with one kernel.</summary>
    private static string Sessions(string executionState, int activityMinutesAgo)
    {
        var lastActivity = DateTime.UtcNow.AddMinutes(-activityMinutesAgo)
            .ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture);
        return "[{\"id\":\"s1\",\"path\":\"notebooks/CustomerSegmentation.ipynb\",\"kernel\":{\"id\":\"k1\",\"name\":\"python3\","
            + $"\"execution_state\":\"{executionState}\",\"last_activity\":\"{lastActivity}\"}}}}]";
    }

    private static bool WaitFor(Func<bool> condition)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; Thread.Sleep(100))
        {
            if (condition())
            {
                return true;
            }
        }

        return condition();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void AssertTokenNowhereUnder(string directory)
    {
        var token = Encoding.UTF8.GetBytes(NotebookSandbox.Token);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            Assert.False(File.ReadAllBytes(file).AsSpan().IndexOf(token) >= 0, $"the token was written to {file}");
        }
    }

    /// <summary>First start as SageMaker runs it: on-create once, then on-start.</summary>
    private string RunFirstStart()
    {
        var create = sandbox.RunLifecycle("on-create.sh", NotebookSandbox.Settings());
        var start = sandbox.RunLifecycle("on-start.sh", NotebookSandbox.Settings());
        Assert.True(create.ExitCode == 0 && start.ExitCode == 0, create.All + start.All);
        Assert.DoesNotContain("ERROR", create.All + start.All, StringComparison.Ordinal);
        return create.All + start.All;
    }

    /// <summary>Runs idle-stop.sh against a loopback Jupyter that answers /api/sessions with <paramref name="sessions"/>.</summary>
    private ProcessResult RunIdleStop(string sessions, int startedMinutesAgo)
    {
        var state = Path.Combine(sandbox.Root, "started-at");
        File.WriteAllText(state, DateTimeOffset.UtcNow.AddMinutes(-startedMinutesAgo).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
        var port = FreePort();
        using var jupyter = new HttpListener();
        jupyter.Prefixes.Add($"http://127.0.0.1:{port}/");
        jupyter.Start();
        var serve = Task.Run(async () =>
        {
            var context = await jupyter.GetContextAsync();
            var body = Encoding.UTF8.GetBytes(context.Request.Url!.AbsolutePath == "/api/sessions" ? sessions : "{}");
            context.Response.StatusCode = context.Request.Url.AbsolutePath == "/api/sessions" ? 200 : 404;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        });
        var environment = sandbox.Environment;
        environment["JUPYTER_API_URL"] = $"http://127.0.0.1:{port}";
        environment["AWS_DEFAULT_REGION"] = NotebookSandbox.Region;

        var result = ProcessRunner.Run("/bin/bash", [Path.Combine(NotebookSandbox.ScriptsDirectory, "idle-stop.sh"), "60", NotebookSandbox.InstanceName, state],
            environment);

        Assert.True(serve.Wait(TimeSpan.FromSeconds(10)), "idle-stop.sh never asked Jupyter for its sessions");
        return result;
    }
}
