namespace LocalMigrate.Interop.Qmp;

/// <summary>
/// A call was pending when the connection ended, or was made after it ended. The inner exception
/// is the reason (see <see cref="QmpClient.Disconnected"/>); null after a local dispose.
/// </summary>
public sealed class QmpDisconnectedException(string message, Exception? innerException = null)
    : Exception(message, innerException);
