using LocalMigrate.UpgradeDaemon.Api;
using Microsoft.Extensions.DependencyInjection;

namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>The services around the engine: the D-Bus API, then systemd readiness (registered last, so READY=1 follows the bus name).</summary>
internal static class DaemonServices
{
    public static void Add(IServiceCollection services, DaemonOptions options)
    {
        services.AddHostedService<ApiServer>();
        // After the API: a peer admitted by a listener is bridged to the bus name the API already owns.
        services.AddSingleton<Remote.Transport.IPeerConnectionHandler, Remote.PeerBridgeHandler>();
        Remote.Transport.PeerTransportServiceCollectionExtensions.AddPeerListeners(services, options);
        services.AddHostedService<SystemdNotifyService>();
    }
}
