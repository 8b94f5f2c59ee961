using System.Globalization;
using System.Text;

namespace CustomerSegmentation.Infra.Notebook;

/// <summary>The configuration a lifecycle script receives, as shell variable assignments at its top.</summary>
public sealed record NotebookScriptSettings
{
    /// <summary>Name of the training-data bucket (exported as <c>DATA_BUCKET</c>).</summary>
    public required string DataBucket { get; init; }

    /// <summary>Name of the model-artifact bucket (exported as <c>MODEL_BUCKET</c>).</summary>
    public required string ModelBucket { get; init; }

    /// <summary>The platform's name prefix (exported as <c>PROJECT_NAME</c>).</summary>
    public required string ProjectName { get; init; }

    /// <summary>The AWS region (exported as <c>AWS_REGION</c> and <c>AWS_DEFAULT_REGION</c>).</summary>
    public required string Region { get; init; }

    /// <summary>The notebook instance's own name, which the idle stop needs.</summary>
    public required string NotebookInstanceName { get; init; }

    /// <summary>The repository to clone; null means no clone and no git wiring.</summary>
    public string? GitRepositoryUrl { get; init; }

    /// <summary>The branch to clone and pull. Default: <c>main</c>.</summary>
    public string GitBranch { get; init; } = "main";

    /// <summary>Name or ARN of the Secrets Manager secret holding <c>{"username","token"}</c>.</summary>
    public required string GitSecretId { get; init; }

    /// <summary>The commit author name.</summary>
    public required string GitUserName { get; init; }

    /// <summary>The commit author e-mail.</summary>
    public required string GitUserEmail { get; init; }

    /// <summary>Idle minutes before the instance stops itself; 0 = never. Default: 0.</summary>
    public int IdleStopMinutes { get; init; }
}

/// <summary>
/// Turns the scripts in <c>scripts/notebook/</c> into the self-contained scripts a lifecycle configuration holds:
/// the settings it uses as shell-quoted assignments at the top (values are never templated into the script body), then the
/// helper programs as quoted here-documents, the shared <c>lib.sh</c> and the script itself. Comment lines are left
/// out because SageMaker limits each script to 16384 base64 characters; the files in the repository keep them.
/// </summary>
public static class NotebookLifecycleScripts
{
    /// <summary>The largest base64 content SageMaker accepts for one lifecycle script.</summary>
    public const int MaxContentLength = 16384;

    private const int TokenAllowance = 1024;
    private const string LibraryFile = "lib.sh";
    private const string LibraryInclude = "source \"$(dirname \"${BASH_SOURCE[0]}\")/lib.sh\"";

    /// <summary>Helper programs the lifecycle installs: shell function that prints it, and its file.</summary>
    private static readonly (string Function, string File)[] Helpers =
    [
        ("helper_git_credential", "git-credential.sh"),
        ("helper_idle_stop", "idle-stop.sh"),
    ];

    /// <summary>Renders <paramref name="scriptFile"/> (e.g. <c>on-start.sh</c>) with <paramref name="settings"/>.</summary>
    /// <param name="scriptsDirectory">The folder holding the notebook scripts, usually <see cref="LocateScriptsDirectory"/>.</param>
    /// <param name="scriptFile">The lifecycle script's file name.</param>
    /// <param name="settings">The configuration; may contain CDK tokens, which resolve inside the quotes.</param>
    public static string Render(string scriptsDirectory, string scriptFile, NotebookScriptSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var library = StripComments(File.ReadAllText(Path.Combine(scriptsDirectory, LibraryFile)));
        var body = StripComments(File.ReadAllText(Path.Combine(scriptsDirectory, scriptFile)))
            .Replace(LibraryInclude + "\n", string.Empty, StringComparison.Ordinal);

        var script = new StringBuilder();
        script.Append("#!/bin/bash\n")
            .Append(CultureInfo.InvariantCulture, $"# {scriptFile} rendered at synth from scripts/notebook/ (comments stripped; read them there).\n");
        var code = library + body;
        foreach (var (name, value) in Configuration(settings).Where(setting => code.Contains(setting.Name, StringComparison.Ordinal)))
        {
            script.Append(name).Append('=').Append(ShellQuote(value)).Append('\n');
        }

        foreach (var (function, file) in Helpers.Where(h => library.Contains(h.Function, StringComparison.Ordinal)
            || body.Contains(h.Function, StringComparison.Ordinal)))
        {
            var helper = File.ReadAllText(Path.Combine(scriptsDirectory, file));
            script.Append(CultureInfo.InvariantCulture, $"{function}() {{\ncat <<'NOTEBOOK_HELPER_END'\n")
                .Append(helper.EndsWith('\n') ? helper : helper + "\n")
                .Append("NOTEBOOK_HELPER_END\n}\n");
        }

        var rendered = script.Append(library).Append(body).ToString();
        // CDK tokens are shorter than the values they stand for (bucket names, ARNs): keep room for them.
        var contentLength = (Encoding.UTF8.GetByteCount(rendered) + 2) / 3 * 4;
        if (contentLength > MaxContentLength - TokenAllowance)
        {
            throw new InvalidOperationException(
                $"{scriptFile} renders to {contentLength} base64 characters; SageMaker accepts {MaxContentLength} per lifecycle script and {TokenAllowance} are kept for values resolved at deployment. Shorten the script.");
        }

        return rendered;
    }

    /// <summary>
    /// The <c>scripts/notebook</c> folder of the repository, found by walking up from the working directory and then
    /// from the application's folder, so both <c>cdk synth</c> at the root and test runs under <c>bin/</c> find it.
    /// </summary>
    public static string LocateScriptsDirectory()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "scripts", "notebook");
                if (File.Exists(Path.Combine(candidate, LibraryFile)))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException(
            $"scripts/notebook/{LibraryFile} was not found above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}; run the CDK app from the repository.");
    }

    /// <summary>Wraps <paramref name="value"/> in single quotes so the shell takes it literally, whatever it holds.</summary>
    public static string ShellQuote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "'" + value.Replace("'", "'\"'\"'", StringComparison.Ordinal) + "'";
    }

    /// <summary>Every setting as the shell variable the scripts read; a script gets only those it uses.</summary>
    private static (string Name, string Value)[] Configuration(NotebookScriptSettings settings) =>
    [
        ("DATA_BUCKET", settings.DataBucket),
        ("MODEL_BUCKET", settings.ModelBucket),
        ("PROJECT_NAME", settings.ProjectName),
        ("AWS_REGION", settings.Region),
        ("NOTEBOOK_INSTANCE_NAME", settings.NotebookInstanceName),
        ("GIT_REPOSITORY_URL", settings.GitRepositoryUrl ?? string.Empty),
        ("GIT_BRANCH", settings.GitBranch),
        ("GIT_SECRET_ID", settings.GitSecretId),
        ("GIT_USER_NAME", settings.GitUserName),
        ("GIT_USER_EMAIL", settings.GitUserEmail),
        ("IDLE_STOP_MINUTES", settings.IdleStopMinutes.ToString(CultureInfo.InvariantCulture)),
    ];

    private static string StripComments(string text)
    {
        var kept = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n')
            .Where(line => line.Length > 0 && !line.TrimStart().StartsWith('#'));
        return string.Join('\n', kept) + "\n";
    }
}
