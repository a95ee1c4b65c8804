namespace LocalMigrate.Interop.Tests.Qmp;

/// <summary>
/// A write-only stream that stores each write a few bytes at a time, yielding between chunks, the
/// way a socket may accept part of a large send. Unserialised concurrent writers interleave here.
/// </summary>
internal sealed class ChunkingStream : Stream
{
    private const int ChunkBytes = 7;
    private readonly MemoryStream _written = new();

    public byte[] Written
    {
        get { lock (_written) { return _written.ToArray(); } }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        for (int offset = 0; offset < buffer.Length; offset += ChunkBytes)
        {
            ReadOnlyMemory<byte> chunk = buffer.Slice(offset, Math.Min(ChunkBytes, buffer.Length - offset));
            lock (_written)
            {
                _written.Write(chunk.Span);
            }
            await Task.Yield();
        }
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
