using System.Buffers;
using System.Text.Json;

namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// Formats requests and writes each one whole under a single lock, so concurrent callers never
/// interleave bytes on the socket.
/// </summary>
internal sealed class QmpRequestWriter(Stream stream)
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };

    // Not disposed with the client: a caller still waiting on it would get ObjectDisposedException
    // instead of QmpDisconnectedException. It holds no unmanaged state while unused.
    private readonly SemaphoreSlim _lock = new(1, 1);

    /// <summary>
    /// <c>{"execute": command, "arguments": ..., "id": id}</c> plus '\n'. Unindented JSON escapes
    /// control characters inside strings, so the only newline is the terminator.
    /// </summary>
    public static byte[] Format(string command, object? arguments, long id)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("execute", command);
            if (arguments is not null)
            {
                writer.WritePropertyName("arguments");
                // The runtime type, so anonymous objects, records and JsonNode all serialise fully.
                JsonSerializer.Serialize(writer, arguments, arguments.GetType(), QmpJson.Options);
            }
            writer.WriteNumber("id", id);
            writer.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <param name="waitToken">Cancels only the wait for the lock. Once bytes start flowing a
    /// half-written request would corrupt the stream, so the write itself stops only when
    /// <paramref name="connectionToken"/> (the connection's lifetime) ends.</param>
    public async Task WriteAsync(byte[] request, CancellationToken waitToken, CancellationToken connectionToken)
    {
        await _lock.WaitAsync(waitToken).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(request, connectionToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }
}
