using System.Diagnostics;
using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Interop.Tests.Systemd;

public sealed class BusConnectionLifetimeTests(PrivateDbusDaemon daemon) : IClassFixture<PrivateDbusDaemon>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task OpenAsync_NoDaemonAtAddress_ThrowsWithErrno()
    {
        var address = BusAddress.FromString($"unix:path={Path.Combine(daemon.Directory, "missing")}");

        var error = await Assert.ThrowsAsync<IOException>(() => BusConnection.OpenAsync(address));

        Assert.Contains("No such file", error.Message);
    }

    [Fact]
    public async Task OpenAsync_PrivateDaemon_GetsUniqueName()
    {
        await using var connection = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

        Assert.Matches(@"^:\d+\.\d+$", connection.UniqueName);
    }

    [Fact]
    public async Task CallAsync_NoReplyWithinTimeout_ThrowsTimeoutException()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAsync<TimeoutException>(() => client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface,
            "Slow", "u", [3000u], timeout: TimeSpan.FromMilliseconds(200)));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromMilliseconds(2000));

        // The connection stays usable after a timed-out call.
        Assert.Equal(["ok"], await client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Echo", "s", ["ok"]));
    }

    [Fact]
    public async Task CallAsync_Cancelled_ThrowsOperationCanceled()
    {
        await using var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface,
            "Slow", "u", [3000u], ct: cts.Token));

        Assert.Equal(cts.Token, error.CancellationToken);
    }

    [Fact]
    public async Task DisposeAsync_PendingCall_FailsWithBusClosed()
    {
        await using var service = await TestService.StartAsync(daemon);
        var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        var pending = client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Slow", "u", [5000u]);
        await Task.Delay(100);

        await client.DisposeAsync();

        await Assert.ThrowsAsync<BusClosedException>(() => pending.WaitAsync(Limit));
        await Assert.ThrowsAsync<BusClosedException>(() => client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Echo", "s", ["x"]));
    }

    [Fact]
    public async Task DisposeAsync_HandlerStillRunning_ReplyDroppedWithoutCrash()
    {
        var service = await TestService.StartAsync(daemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        var pending = client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Held", "", [], timeout: TimeSpan.FromSeconds(5));
        await service.HeldStarted.Task.WaitAsync(Limit);

        await service.Connection.DisposeAsync();

        // The server vanished: the bus driver answers with NoReply; the late handler result goes nowhere.
        var error = await Assert.ThrowsAsync<BusErrorException>(() => pending.WaitAsync(Limit));
        Assert.Equal(BusErrorNames.NoReply, error.ErrorName);
        service.HeldRelease.SetResult();
        await service.HeldReturned.Task.WaitAsync(Limit);
        await Task.Delay(100);
        Assert.True(service.Connection.Closed.IsCompleted);
    }

    [Fact]
    public async Task Closed_BusDaemonKilled_CompletesAndFailsPendingCalls()
    {
        using var ownDaemon = new PrivateDbusDaemon();
        await using var service = await TestService.StartAsync(ownDaemon);
        await using var client = await BusConnection.OpenAsync(BusAddress.FromString(ownDaemon.Address));
        var pending = client.CallAsync(service.Name, TestService.ObjectPath, TestService.Interface, "Slow", "u", [5000u]);
        await Task.Delay(100);

        Process.GetProcessById(ownDaemon.ProcessId).Kill();

        await client.Closed.WaitAsync(Limit);
        var error = await Record.ExceptionAsync(() => pending.WaitAsync(Limit));
        Assert.True(error is BusClosedException or BusErrorException, $"unexpected {error}");
    }

    [Fact]
    public async Task EmitSignal_AfterDispose_ThrowsBusClosed()
    {
        var connection = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));
        await connection.DisposeAsync();

        await Assert.ThrowsAsync<BusClosedException>(() => connection.EmitSignal("/x", "org.localmigrate1.Test", "Progressed", "u", 1u));
    }
}
