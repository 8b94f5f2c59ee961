using System.Reflection;
using System.Text;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// A page embedded in a function's assembly, composed with the <see cref="PageKit"/> once per process, when it is first
/// asked for: every request after that is answered with the same bytes.
/// </summary>
public sealed class ComposedPage
{
    private readonly Lazy<byte[]> _bytes;

    /// <summary>The page embedded in <paramref name="assembly"/> as the resource <paramref name="name"/>.</summary>
    public ComposedPage(Assembly assembly, string name)
        : this(name, () => Encoding.UTF8.GetString(ProxyReply.EmbeddedFile(assembly, name)))
    {
        ArgumentNullException.ThrowIfNull(assembly);
    }

    /// <summary>The page <paramref name="name"/> whose text <paramref name="source"/> reads.</summary>
    internal ComposedPage(string name, Func<string> source)
    {
        Name = name;
        _bytes = new(() => Encoding.UTF8.GetBytes(PageKit.Compose(name, source())), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The page's file name.</summary>
    public string Name { get; }

    /// <summary>The composed page in UTF-8, the same array on every call.</summary>
    /// <exception cref="InvalidOperationException">The page cannot be composed (see <see cref="PageKit.Compose"/>); on every call.</exception>
    public byte[] Bytes => _bytes.Value;
}
