using System.Globalization;
using CustomerSegmentation.Infra.Pipelines.Definition;

namespace CustomerSegmentation.Infra.Pipelines;

/// <summary>
/// How a processing job of the platform runs one of its Python scripts in the scikit-learn image: sourcedir.tar.gz
/// arrives as the <c>code</c> input, the entrypoint unpacks it and runs the script with the container arguments. The
/// scripts find their processing root from where they were unpacked, which is also how the local runner starts them.
/// </summary>
public static class ScriptProcessing
{
    /// <summary>Where the <c>code</c> input (sourcedir.tar.gz) lands.</summary>
    public const string CodeInputFolder = "/opt/ml/processing/input/code";

    /// <summary>Where the entrypoint unpacks the scripts.</summary>
    public const string CodeFolder = "/opt/ml/processing/code";

    /// <summary>The <c>code</c> input: sourcedir.tar.gz copied to <see cref="CodeInputFolder"/>.</summary>
    public static ProcessingInput CodeInput(PipelineValue sourceDirUri) => new("code", new S3Input(sourceDirUri, CodeInputFolder));

    /// <summary>
    /// The processing container's entrypoint: unpack sourcedir.tar.gz (it arrives under its asset key, hence the glob),
    /// then run the script with the container arguments (<c>"$@"</c>; the trailing word becomes <c>$0</c>).
    /// </summary>
    public static IReadOnlyList<PipelineValue> Entrypoint(string script) =>
    [
        "/bin/sh",
        "-c",
        string.Create(CultureInfo.InvariantCulture,
            $"mkdir -p {CodeFolder} && tar -xzf {CodeInputFolder}/*.gz -C {CodeFolder} && exec python3 {CodeFolder}/{script}.py \"$@\""),
        script,
    ];
}
