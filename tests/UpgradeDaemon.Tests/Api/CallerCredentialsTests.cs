using LocalMigrate.UpgradeDaemon.Api;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Tests.Api;

/// <summary>The uid cache on a real dbus-daemon: filled by the bus's answer, emptied when the caller leaves the bus.</summary>
public sealed class CallerCredentialsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lm-creds-").FullName;
    private readonly TestBus _bus;

    public CallerCredentialsTests() => _bus = new TestBus(_directory);

    [Fact]
    public async Task UidOfAsync_ACallerThatLeavesTheBus_IsDroppedFromTheCache()
    {
        using var server = new DBusConnection(_bus.Address);
        await server.ConnectAsync();
        var credentials = new CallerCredentials(server);
        await credentials.StartAsync();
        var caller = new DBusConnection(_bus.Address);
        await caller.ConnectAsync();

        Assert.Equal(0u, await credentials.UidOfAsync(caller.UniqueName!));
        Assert.Equal(1, credentials.Cached);
        caller.Dispose();
        await Poll.UntilAsync(() => credentials.Cached == 0, TimeSpan.FromSeconds(10), "the cache entry dropped on NameOwnerChanged");
    }

    public void Dispose()
    {
        _bus.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
