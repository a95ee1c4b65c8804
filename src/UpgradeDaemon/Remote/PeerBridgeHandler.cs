using LocalMigrate.Contract.Client;
using LocalMigrate.Contract.Peer;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Remote.Transport;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Remote;

/// <summary>
/// What an admitted TLS or TCP peer gets: the same bridge ssh's <c>localmigrate peer-bridge</c> runs, to this daemon's
/// own bus, so the peer protocol is one whatever carried it. The bridge lets through only calls to this daemon.
/// </summary>
internal sealed partial class PeerBridgeHandler(DaemonArguments arguments, ILogger<PeerBridgeHandler> logger) : IPeerConnectionHandler
{
    public async Task HandleAsync(Stream stream, PeerIdentity peer, CancellationToken cancellationToken)
    {
        LogAdmitted(peer.ToString());
        try
        {
            await BusBridge.RunAsync(stream, BusAddresses.Resolve(arguments.Bus), why => LogRefused(peer.ToString(), why), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ArgumentException)
        {
            LogBusUnreachable(peer.ToString(), e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Peer {Peer} connected to the peer protocol")]
    private partial void LogAdmitted(string peer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer {Peer} disconnected by the bridge: {Reason}")]
    private partial void LogRefused(string peer, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Peer {Peer}: this daemon's bus cannot be reached: {Reason}")]
    private partial void LogBusUnreachable(string peer, string reason);
}
