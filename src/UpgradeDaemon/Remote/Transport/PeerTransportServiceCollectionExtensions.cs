using LocalMigrate.UpgradeDaemon.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>Registers the peer listeners; the caller registers the <see cref="IPeerConnectionHandler"/> they feed.</summary>
internal static class PeerTransportServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="PeerListenerService"/> as a hosted service when <c>remote.tlsPort</c> or <c>remote.tcpPort</c> is
    /// set; otherwise nothing, so a daemon without peers needs no handler and opens no port.
    /// </summary>
    public static IServiceCollection AddPeerListeners(this IServiceCollection services, DaemonOptions options)
    {
        if (options.Remote.TlsPort is null && options.Remote.TcpPort is null)
            return services;
        services.AddSingleton<PeerListenerService>();
        services.AddHostedService(sp => sp.GetRequiredService<PeerListenerService>());
        return services;
    }
}
