using System.Text.Json;

namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// Capabilities negotiation, before the reader loop starts: read the greeting, send
/// qmp_capabilities, read its reply. QEMU accepts no other command until it is done, so reading in line is enough.
/// </summary>
internal static class QmpNegotiator
{
    public static async Task<QmpGreeting> NegotiateAsync(
        QmpLineReader lines, QmpRequestWriter writer, long id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout > TimeSpan.Zero ? timeout : Timeout.InfiniteTimeSpan);
        CancellationToken token = deadline.Token;
        try
        {
            QmpGreeting greeting;
            using (JsonDocument message = await ReadGreetingAsync(lines, token).ConfigureAwait(false))
            {
                try
                {
                    greeting = QmpGreeting.Parse(message.RootElement);
                }
                catch (QmpProtocolException e)
                {
                    throw new QmpProtocolException($"{e.Message}; QEMU sent {QmpJson.Excerpt(message.RootElement)}", e);
                }
            }

            // Out-of-band execution is offered but not enabled: we never use exec-oob, and without it
            // QEMU answers strictly in order, which keeps its behaviour the simple, tested one.
            await writer.WriteAsync(QmpRequestWriter.Format("qmp_capabilities", null, id), token, token)
                .ConfigureAwait(false);
            using (JsonDocument reply = await ReadAsync(lines, "the qmp_capabilities reply", token).ConfigureAwait(false))
            {
                CheckReply(reply.RootElement, id);
            }
            return greeting;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new QmpProtocolException($"QMP negotiation did not finish within {timeout}");
        }
    }

    /// <summary>
    /// The greeting, after any events QEMU wrote first. QEMU sends events to a monitor whose client has not yet been
    /// greeted: a client that connects while QEMU starts (the connect poll is 2 ms) can read <c>RESUME</c> from the
    /// machine's start before the greeting (QEMU 7.2: 2 of 20 runs of the Interop tests, each starting ~10 QEMUs).
    /// Those events predate the client, so nothing waits for them.
    /// </summary>
    private static async Task<JsonDocument> ReadGreetingAsync(QmpLineReader lines, CancellationToken token)
    {
        while (true)
        {
            JsonDocument message = await ReadAsync(lines, "the greeting", token).ConfigureAwait(false);
            if (message.RootElement.ValueKind == JsonValueKind.Object
                && message.RootElement.TryGetProperty("event", out JsonElement name) && name.ValueKind == JsonValueKind.String
                && !message.RootElement.TryGetProperty("QMP", out _))
            {
                message.Dispose();
                continue;
            }
            return message;
        }
    }

    private static async Task<JsonDocument> ReadAsync(QmpLineReader lines, string what, CancellationToken token) =>
        await lines.ReadAsync(token).ConfigureAwait(false)
        ?? throw new QmpProtocolException($"QMP peer closed the connection before {what}");

    private static void CheckReply(JsonElement reply, long id)
    {
        if (reply.ValueKind != JsonValueKind.Object
            || !reply.TryGetProperty("id", out JsonElement replyId)
            || !QmpJson.TryGetInt64(replyId, out long value) || value != id)
        {
            throw new QmpProtocolException($"Unexpected message during QMP negotiation: {QmpJson.Excerpt(reply)}");
        }
        if (reply.TryGetProperty("error", out JsonElement error))
        {
            throw new QmpProtocolException("QMP peer refused qmp_capabilities",
                QmpExecuteException.FromError("qmp_capabilities", error));
        }
        if (!reply.TryGetProperty("return", out _))
        {
            throw new QmpProtocolException($"qmp_capabilities reply lacks 'return': {QmpJson.Excerpt(reply)}");
        }
    }
}
