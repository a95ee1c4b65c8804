using System.Net;
using System.Net.Sockets;
using LocalMigrate.Contract;
using LocalMigrate.Contract.Client;
using LocalMigrate.Contract.Peer;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote;

/// <summary>
/// The bridge a peer's control channel goes through, against a real dbus-daemon: the client authenticates and says Hello
/// through it; calls to the daemon's name and the bus's own basics pass; anything else ends the connection.
/// </summary>
public sealed class BusBridgeTests : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lm-bridge-").FullName;
    private readonly TestBus _bus;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<string> _refused = [];
    private Task? _bridge;

    public BusBridgeTests()
    {
        _bus = new TestBus(_directory);
        _listener.Start();
    }

    private async Task<DaemonConnection> ConnectThroughBridgeAsync()
    {
        var accept = _listener.AcceptTcpClientAsync();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        var server = await accept;
        _bridge = BusBridge.RunAsync(server.GetStream(), _bus.Address, why => { lock (_refused) _refused.Add(why); }, CancellationToken.None);
        return await DaemonConnection.ConnectAsync(client.GetStream(), "test peer").WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static Task<string> CallBusAsync(DaemonConnection connection, string destination, string member, string? argument) =>
        connection.Bus.CallMethodAsync(BusMessages.MethodCall(connection.Bus, destination, "/org/freedesktop/DBus", "org.freedesktop.DBus", member,
                argument is null ? "" : "s", argument is null ? null : (ref MessageWriter w) => w.WriteString(argument)),
            static (m, _) => m.GetBodyReader().ReadString()).WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task RunAsync_APeerSaysHello_GetsAUniqueNameAndTheBusBasics()
    {
        using var connection = await ConnectThroughBridgeAsync();

        Assert.StartsWith(":", connection.Bus.UniqueName);
        Assert.Equal("org.freedesktop.DBus", await CallBusAsync(connection, "org.freedesktop.DBus", "GetNameOwner", "org.freedesktop.DBus"));
        Assert.Empty(_refused);
    }

    [Fact]
    public async Task RunAsync_ACallToTheDaemonsName_ReachesTheBus()
    {
        using var connection = await ConnectThroughBridgeAsync();

        // Nobody owns the name on this bus: the bus itself answers, which proves the call went through the filter.
        var e = await Assert.ThrowsAsync<DBusErrorReplyException>(() => connection.Peer.QueryAsync("0123"));
        Assert.Equal(BusContract.StandardErrors.ServiceUnknown, e.ErrorName);
        Assert.Empty(_refused);
    }

    [Theory]
    [InlineData("org.freedesktop.DBus", "ListNames")]
    [InlineData("org.freedesktop.systemd1", "GetNameOwner")]
    public async Task RunAsync_ACallBeyondTheDaemon_EndsTheConnectionAndSaysWhy(string destination, string member)
    {
        using var connection = await ConnectThroughBridgeAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => CallBusAsync(connection, destination, member, member == "ListNames" ? null : "x"));
        await _bridge!.WaitAsync(TimeSpan.FromSeconds(10));
        await connection.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(_refused, r => r.Contains(destination) && r.Contains(member));
    }

    [Fact]
    public async Task RunAsync_APeerThatSpeaksNoDBus_IsClosed()
    {
        var accept = _listener.AcceptTcpClientAsync();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        var bridge = BusBridge.RunAsync((await accept).GetStream(), _bus.Address, why => { lock (_refused) _refused.Add(why); }, CancellationToken.None);
        await client.GetStream().WriteAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray());

        await bridge.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(_refused, r => r.Contains("did not authenticate"));
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        if (_bridge is not null)
            await _bridge.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        _bus.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
