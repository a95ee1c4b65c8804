using System.Text.Json;
using Serilog;

namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// Sends each message from QEMU where it belongs: events to listeners, replies to the call with the
/// same id. Throws <see cref="QmpProtocolException"/> for a message that makes the stream unusable;
/// the reader loop then closes the connection.
/// </summary>
internal sealed class QmpMessageRouter(QmpPendingCalls pending, QmpEventHub events, ILogger log)
{
    public void Route(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw new QmpProtocolException($"QMP message is not a JSON object: {QmpJson.Excerpt(message)}");
        }
        if (message.TryGetProperty("event", out _))
        {
            events.Publish(QmpEvent.Parse(message));
            return;
        }
        if (!message.TryGetProperty("id", out JsonElement id))
        {
            // Every request we send has an id, so a reply without one means QEMU could not parse a
            // request, and which one is unknowable. Like qemu.qmp, stop rather than leave it hanging.
            throw new QmpProtocolException($"QMP peer sent a reply without an id: {QmpJson.Excerpt(message)}");
        }
        if (!QmpJson.TryGetInt64(id, out long value) || !pending.TryComplete(value, message))
        {
            // The QMP spec says to drop these; the usual source is a call whose caller cancelled.
            log.Debug("Dropping QMP reply with unknown id {Id}", id.GetRawText());
        }
    }
}
