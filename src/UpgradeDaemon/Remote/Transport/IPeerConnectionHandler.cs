namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>
/// Serves one accepted, authenticated peer stream (the D-Bus bridge of the peer protocol). Called on its own task per
/// connection; the stream is closed when the returned task ends; the token fires when the daemon stops.
/// </summary>
internal interface IPeerConnectionHandler
{
    Task HandleAsync(Stream stream, PeerIdentity peer, CancellationToken cancellationToken);
}
