using System.Net;
using LocalMigrate.UpgradeDaemon.Hosting;
using LocalMigrate.UpgradeDaemon.Remote.Transport;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote.Transport;

/// <summary>The hosted service as the daemon runs it: listeners from the <c>remote</c> configuration, streams to the handler.</summary>
public sealed class PeerListenerServiceTests(ITestOutputHelper output, TestPki pki) : IClassFixture<TestPki>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly TestPki _pki = pki;

    [Fact]
    public async Task StartAsync_TlsAndTcpPortsConfigured_BothListenAndHandTheirStreamsToTheHandler()
    {
        var handler = new GreetingHandler();
        var options = new DaemonOptions
        {
            Remote = new RemoteOptions
            {
                TlsPort = 0, TcpPort = 0, ListenAddress = "127.0.0.1", AllowInsecureTcp = true, PkiDirectory = _pki.HostDirectory,
                AllowedClientDns = [TestPki.AllowedClientDn],
            },
        };
        await using var service = new PeerListenerService(options, handler, new RecordingLogger(output), TimeProvider.System);

        await service.StartAsync(CancellationToken.None);

        Assert.Equal([PeerTransportMode.Tls, PeerTransportMode.Tcp], service.Listeners.Select(l => l.Mode));
        foreach (var listener in service.Listeners)
        {
            await using var stream = await new PeerConnector(listener.Mode, _pki.HostDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port)
                .WaitAsync(Timeout);
            var line = new byte[64];
            int read = await stream.ReadAsync(line).AsTask().WaitAsync(Timeout);
            var expected = listener.Mode == PeerTransportMode.Tls ? TestPki.AllowedClientDn : "tcp";
            Assert.Equal($"hello {expected}\n", System.Text.Encoding.ASCII.GetString(line, 0, read));
        }
        await service.StopAsync(CancellationToken.None);
        Assert.Empty(service.Listeners);
    }

    [Fact]
    public async Task StartAsync_NoPortConfigured_NothingListens()
    {
        await using var service = new PeerListenerService(new DaemonOptions(), new GreetingHandler(), NullLogger<PeerListener>.Instance, TimeProvider.System);

        await service.StartAsync(CancellationToken.None);

        Assert.Empty(service.Listeners);
    }

    [Fact]
    public async Task AddPeerListeners_TlsPortSet_HostStartsTheListenerWithTheRegisteredHandler()
    {
        var options = new DaemonOptions
        {
            Remote = new RemoteOptions { TlsPort = 0, ListenAddress = "127.0.0.1", PkiDirectory = _pki.HostDirectory, AllowedClientDns = [TestPki.AllowedClientDn] },
        };
        var services = new ServiceCollection().AddLogging().AddSingleton(options).AddSingleton(TimeProvider.System)
            .AddSingleton<IPeerConnectionHandler, GreetingHandler>().AddPeerListeners(options);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        var hosted = Assert.Single(provider.GetServices<IHostedService>());
        await hosted.StartAsync(CancellationToken.None);
        var listener = Assert.Single(provider.GetRequiredService<PeerListenerService>().Listeners);
        await using (var stream = await new PeerConnector(PeerTransportMode.Tls, _pki.HostDirectory).ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port)
            .WaitAsync(Timeout))
        {
            var line = new byte[64];
            Assert.StartsWith("hello CN=hostA", System.Text.Encoding.ASCII.GetString(line, 0, await stream.ReadAsync(line).AsTask().WaitAsync(Timeout)));
        }
        await hosted.StopAsync(CancellationToken.None);

        // No port: nothing registered, so a daemon without peers needs no handler.
        Assert.Empty(new ServiceCollection().AddPeerListeners(new DaemonOptions()));
    }

    [Fact]
    public void DaemonConfigLoaderParse_AllowedClientDnMalformed_ErrorNamesTheFieldAndTheDn()
    {
        var e = Assert.Throws<ArgumentException>(() => DaemonConfigLoader.Parse(
            """{"remote":{"tlsPort":16515,"allowedClientDns":["CN=hostA, O=LocalMigrate","CN=hostB,"]}}""", "cfg.json"));

        Assert.Contains("remote.allowedClientDns: distinguished name 'CN=hostB,': it ends with a separator", e.Message);
        Assert.Equal(["CN=hostA, O=LocalMigrate"], DaemonConfigLoader.Parse(
            """{"remote":{"allowedClientDns":["CN=hostA, O=LocalMigrate"]}}""", "cfg.json").Remote.AllowedClientDns);
    }

    [Fact]
    public void FromRemoteOptions_TcpPortWithoutAllowInsecureTcp_RefusedNamingBothFields()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            PeerListenerSettings.FromRemoteOptions(new RemoteOptions { TcpPort = RemoteOptions.DefaultTcpPort }, PeerTransportMode.Tcp));

        Assert.Contains("remote.tcpPort", e.Message);
        Assert.Contains("remote.allowInsecureTcp", e.Message);
    }

    [Fact]
    public void FromRemoteOptions_ListenAddressNotAnIp_RefusedNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            PeerListenerSettings.FromRemoteOptions(new RemoteOptions { TlsPort = 1, ListenAddress = "hostA" }, PeerTransportMode.Tls));

        Assert.Contains("remote.listenAddress 'hostA'", e.Message);
    }

    [Fact]
    public void FromRemoteOptions_TlsPortSet_SettingsCarryAddressPkiAndAllowList()
    {
        var settings = PeerListenerSettings.FromRemoteOptions(new RemoteOptions
        {
            TlsPort = RemoteOptions.DefaultTlsPort, ListenAddress = "::", PkiDirectory = "/etc/pki/x", AllowedClientDns = ["CN=a"],
        }, PeerTransportMode.Tls)!;

        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, RemoteOptions.DefaultTlsPort), settings.EndPoint);
        Assert.Equal(("/etc/pki/x", "CN=a"), (settings.PkiDirectory, Assert.Single(settings.AllowedClientDns)));
        Assert.Null(PeerListenerSettings.FromRemoteOptions(new RemoteOptions(), PeerTransportMode.Tls));
    }

    // Says who it saw, then ends (which closes the stream).
    private sealed class GreetingHandler : IPeerConnectionHandler
    {
        public async Task HandleAsync(Stream stream, PeerIdentity peer, CancellationToken cancellationToken) =>
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"hello {peer.ClientDn ?? "tcp"}\n"), cancellationToken);
    }
}
