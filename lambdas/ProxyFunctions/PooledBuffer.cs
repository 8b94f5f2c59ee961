using System.Buffers;

namespace CustomerSegmentation.ProxyFunctions;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/>, which answers are written into: a large answer (a
/// POST /segment batch) is larger than the large-object threshold, and a fresh array per request would be collected only
/// with the oldest generation.
/// <see cref="Dispose"/> returns the array, unless <see cref="DetachAsStream"/> handed it over.
/// </summary>
public sealed class PooledBuffer(int initialCapacity) : IBufferWriter<byte>, IDisposable
{
    private byte[] _array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _array.AsSpan(0, Length);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _array.Length - Length);
        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var room = Reserve(sizeHint);
        return _array.AsMemory(Length, room);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        var room = Reserve(sizeHint);
        return _array.AsSpan(Length, room);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Length += bytes.Length;
    }

    /// <summary>Forgets everything written after the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
    }

    /// <summary>What was written, as a read-only stream that owns the array from now on and returns it when disposed.</summary>
    public Stream DetachAsStream()
    {
        var stream = new ReturningStream(_array, Length);
        _array = [];
        Length = 0;
        return stream;
    }

    public void Dispose()
    {
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = [];
        Length = 0;
    }

    /// <summary>Makes room for at least <paramref name="sizeHint"/> more bytes (one when zero); returns the room there is.</summary>
    private int Reserve(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_array.Length - Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, Length + needed));
            Written.CopyTo(larger);
            if (_array.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_array);
            }

            _array = larger;
        }

        return _array.Length - Length;
    }

    /// <summary>A memory stream over a rented array that goes back to the pool with the stream.</summary>
    private sealed class ReturningStream(byte[] array, int length) : MemoryStream(array, 0, length, writable: false, publiclyVisible: true)
    {
        private byte[]? _array = array;

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (Interlocked.Exchange(ref _array, null) is { } rented)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
