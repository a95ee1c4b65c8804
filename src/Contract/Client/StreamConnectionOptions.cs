using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>
/// A D-Bus connection over a stream someone else opened (ssh's pipes, a TLS stream). No file descriptors travel
/// across hosts; the user id sent in the EXTERNAL authentication is only a formality here, since the bridge at
/// the far end authenticates to its bus itself (and the ssh or TLS layer authenticated this side).
/// </summary>
internal sealed class StreamConnectionOptions(Stream stream) : DBusConnectionOptions("")
{
    protected override ValueTask<SetupResult> SetupAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new SetupResult
        {
            ConnectionStream = stream,
            SupportsFdPassing = false,
            TeardownToken = stream,
        });

    protected override void Teardown(object? token) => (token as Stream)?.Dispose();
}
