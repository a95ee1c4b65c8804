using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// Splits the byte stream into newline-terminated JSON messages. QEMU ends each with "\r\n"; the
/// '\r' is JSON whitespace, so only '\n' matters. Not thread-safe: one reader at a time.
/// </summary>
internal sealed class QmpLineReader(PipeReader reader, int maxMessageBytes)
{
    // How far the unconsumed buffer has already been searched for '\n', so a large message arriving
    // in many small reads is scanned once, not once per read.
    private long _scanned;

    /// <summary>The next message, or null at a clean end of stream.</summary>
    /// <exception cref="QmpProtocolException">Oversize line, malformed JSON, or a truncated last line.</exception>
    public async ValueTask<JsonDocument?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            SequencePosition? newline = buffer.Slice(_scanned).PositionOf((byte)'\n');

            if (newline is { } end)
            {
                ReadOnlySequence<byte> line = buffer.Slice(0, end);
                _scanned = 0;
                try
                {
                    JsonDocument? message = Parse(line);
                    if (message is not null)
                    {
                        return message;
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.GetPosition(1, end));
                }
                continue; // a blank line: skip it
            }

            if (buffer.Length > maxMessageBytes)
            {
                throw Oversize(buffer.Length);
            }
            if (result.IsCompleted)
            {
                return IsBlank(buffer)
                    ? null
                    : throw new QmpProtocolException($"Stream ended inside a message ({buffer.Length} bytes)");
            }
            _scanned = buffer.Length;
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private JsonDocument? Parse(ReadOnlySequence<byte> line)
    {
        if (line.Length > maxMessageBytes)
        {
            throw Oversize(line.Length);
        }
        if (IsBlank(line))
        {
            return null;
        }
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new QmpProtocolException($"Malformed JSON from QMP peer: {ex.Message}", ex);
        }
    }

    private QmpProtocolException Oversize(long length) =>
        new($"QMP message exceeds {maxMessageBytes} bytes (at least {length} received)");

    private static bool IsBlank(ReadOnlySequence<byte> bytes)
    {
        foreach (ReadOnlyMemory<byte> segment in bytes)
        {
            foreach (byte b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    return false;
                }
            }
        }
        return true;
    }
}
