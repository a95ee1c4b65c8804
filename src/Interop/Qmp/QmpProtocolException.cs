namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// The peer broke the protocol: bad greeting, malformed JSON, an oversize line, a failed or
/// timed-out negotiation. Once connected, the client closes the connection when this happens.
/// </summary>
public sealed class QmpProtocolException(string message, Exception? innerException = null)
    : Exception(message, innerException);
