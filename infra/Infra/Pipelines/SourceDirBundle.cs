using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace CustomerSegmentation.Infra.Pipelines;

/// <summary>
/// Packs the SageMaker scripts into <c>sourcedir.tar.gz</c> (files at the archive root), the format the scikit-learn
/// container's script mode downloads. The bytes depend only on the file names and contents: entries sorted by name,
/// mtime 0, uid/gid 0, mode 0644, no user or group names, and a gzip header without a timestamp. Identical bytes give
/// an identical CDK asset hash, so synthesis stays deterministic and unchanged scripts are never re-uploaded.
/// </summary>
public static class SourceDirBundle
{
    /// <summary>The archive's file name; CDK keeps its last extension in the asset key (<c>.gz</c>).</summary>
    public const string FileName = "sourcedir.tar.gz";

    private const UnixFileMode FileMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>The <c>*.py</c> files directly in <paramref name="scripts"/>, ordinal by name; tests and caches excluded.</summary>
    public static IReadOnlyList<FileInfo> Sources(DirectoryInfo scripts)
    {
        ArgumentNullException.ThrowIfNull(scripts);
        if (!scripts.Exists)
        {
            throw new DirectoryNotFoundException($"The SageMaker scripts folder '{scripts.FullName}' does not exist.");
        }

        return scripts.GetFiles("*.py", SearchOption.TopDirectoryOnly)
            .Where(f => !f.Name.StartsWith("test_", StringComparison.Ordinal) && !f.Name.EndsWith("_test.py", StringComparison.Ordinal))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The archive of <paramref name="scripts"/> as bytes.</summary>
    /// <exception cref="InvalidOperationException">The folder holds no script to pack.</exception>
    public static byte[] Create(DirectoryInfo scripts)
    {
        var sources = Sources(scripts);
        if (sources.Count == 0)
        {
            throw new InvalidOperationException($"No *.py scripts in '{scripts.FullName}': the pipeline has nothing to run.");
        }

        using var output = new MemoryStream();
        // GZipStream writes MTIME 0 and no file name: the header carries nothing that varies between runs.
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var source in sources)
            {
                var entry = new UstarTarEntry(TarEntryType.RegularFile, source.Name)
                {
                    ModificationTime = DateTimeOffset.UnixEpoch,
                    Mode = FileMode,
                    Uid = 0,
                    Gid = 0,
                    UserName = string.Empty,
                    GroupName = string.Empty,
                    DataStream = new MemoryStream(File.ReadAllBytes(source.FullName)),
                };
                tar.WriteEntry(entry);
            }
        }

        return output.ToArray();
    }

    /// <summary>
    /// Writes the archive of <paramref name="scripts"/> to a folder named by its content hash under
    /// <paramref name="workRoot"/> and returns the file; concurrent synths of the same scripts share it safely.
    /// </summary>
    public static FileInfo Write(DirectoryInfo scripts, DirectoryInfo workRoot)
    {
        ArgumentNullException.ThrowIfNull(workRoot);
        var bytes = Create(scripts);
        var folder = Directory.CreateDirectory(Path.Combine(workRoot.FullName, Convert.ToHexStringLower(SHA256.HashData(bytes))));
        var target = new FileInfo(Path.Combine(folder.FullName, FileName));
        if (!target.Exists)
        {
            var temporary = Path.Combine(folder.FullName, $"{FileName}.{Guid.NewGuid():N}.tmp");
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, target.FullName, overwrite: true);
        }

        return target;
    }
}
