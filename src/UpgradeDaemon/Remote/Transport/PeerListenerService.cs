using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>
/// Hosts the TLS and plaintext peer listeners the <c>remote</c> configuration asks for (neither by default) and hands
/// every admitted stream to the <see cref="IPeerConnectionHandler"/>. A listener that cannot start (port taken,
/// certificates unreadable) stops the daemon's start with a message naming the file or address.
/// </summary>
internal sealed class PeerListenerService(DaemonOptions options, IPeerConnectionHandler handler, ILogger<PeerListener> logger,
    TimeProvider time) : IHostedService, IAsyncDisposable
{
    private readonly List<PeerListener> _listeners = [];

    /// <summary>The running listeners (their bound endpoints tell tests which port 0 became).</summary>
    public IReadOnlyList<PeerListener> Listeners => _listeners;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var mode in new[] { PeerTransportMode.Tls, PeerTransportMode.Tcp })
        {
            if (PeerListenerSettings.FromRemoteOptions(options.Remote, mode) is { } settings)
                _listeners.Add(PeerListener.Start(settings, handler.HandleAsync, logger, time));
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        foreach (var listener in _listeners)
            await listener.DisposeAsync().ConfigureAwait(false);
        _listeners.Clear();
    }
}
