using System.Text.Json;
using LocalMigrate.Interop.Qmp;

namespace LocalMigrate.Interop.Tests.Qmp;

/// <summary>The client against a real qemu-system-x86_64 (QEMU 7.2 on these hosts).</summary>
public sealed class QmpClientQemuTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public sealed record VersionTriple(int Major, int Minor, int Micro);

    public sealed record VersionInfo(VersionTriple Qemu, string Package);

    public sealed record MachineInfo(string Name, string? Alias, int CpuMax, bool Deprecated);

    public sealed record StatusInfo(bool Running, string Status);

    [Fact]
    public async Task ExecuteAsync_QueryVersion_MatchesGreeting()
    {
        await using QemuProcess qemu = QemuProcess.StartMachineNone();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);

        VersionInfo version = await client.ExecuteAsync<VersionInfo>("query-version").WaitAsync(Timeout);

        Assert.Equal(client.Greeting.Version, new QmpVersion(version.Qemu.Major, version.Qemu.Minor, version.Qemu.Micro));
        Assert.Equal(client.Greeting.Package, version.Package);
        Assert.Equal((7, 2), (client.Greeting.Version.Major, client.Greeting.Version.Minor));
    }

    [Fact]
    public async Task ExecuteAsync_QueryMachines_ListsPinnedQ35AndItsAlias()
    {
        await using QemuProcess qemu = QemuProcess.StartMachineNone();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);

        List<MachineInfo> machines = await client.ExecuteAsync<List<MachineInfo>>("query-machines").WaitAsync(Timeout);

        MachineInfo pinned = Assert.Single(machines, m => m.Name == "pc-q35-7.2");
        Assert.True(pinned.CpuMax > 1); // "cpu-max": kebab-case mapped
        MachineInfo aliased = Assert.Single(machines, m => m.Alias == "q35");
        Assert.Equal("pc-q35-7.2", aliased.Name);
    }

    [Fact]
    public async Task ExecuteAsync_UnknownCommand_ThrowsCommandNotFoundAndStaysConnected()
    {
        await using QemuProcess qemu = QemuProcess.StartMachineNone();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);

        var error = await Assert.ThrowsAsync<QmpExecuteException>(
            () => client.ExecuteAsync("x-no-such-command").WaitAsync(Timeout));

        Assert.Equal("x-no-such-command", error.Command);
        Assert.Equal("CommandNotFound", error.ErrorClass);
        Assert.Contains("x-no-such-command", error.Description);
        await client.ExecuteAsync("query-version").WaitAsync(Timeout);
    }

    [Fact]
    public async Task ExecuteAsync_ConcurrentCallers_AllAnsweredInOneConnection()
    {
        await using QemuProcess qemu = QemuProcess.StartMachineNone();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);

        StatusInfo[] statuses = await Task.WhenAll(Enumerable.Range(0, 32)
            .Select(_ => Task.Run(() => client.ExecuteAsync<StatusInfo>("query-status")))).WaitAsync(Timeout);

        Assert.All(statuses, s => Assert.Equal("running", s.Status)); // -machine none "runs" at once
    }

    [Fact]
    public async Task Listen_ContThenStopOnQ35_SeesResumeThenStop()
    {
        await using QemuProcess qemu = QemuProcess.StartQ35Paused();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);
        Assert.Equal(new StatusInfo(false, "prelaunch"), await client.ExecuteAsync<StatusInfo>("query-status").WaitAsync(Timeout));
        using QmpEventListener listener = client.Listen("STOP", "RESUME");

        // From prelaunch, `stop` would emit nothing: QEMU only reports STOP for a running VM.
        await client.ExecuteAsync("cont").WaitAsync(Timeout);
        await client.ExecuteAsync("stop").WaitAsync(Timeout);

        Assert.Equal("RESUME", (await listener.NextAsync().AsTask().WaitAsync(Timeout)).Name);
        QmpEvent stop = await listener.NextAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("STOP", stop.Name);
        Assert.InRange(stop.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(new StatusInfo(false, "paused"), await client.ExecuteAsync<StatusInfo>("query-status").WaitAsync(Timeout));
    }

    [Fact]
    public async Task ExecuteAsync_QuitOnQ35_CompletesDisconnectedAndQemuExits()
    {
        await using QemuProcess qemu = QemuProcess.StartQ35Paused();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);
        using QmpEventListener listener = client.Listen("SHUTDOWN");

        JsonElement reply = await client.ExecuteAsync("quit").WaitAsync(Timeout);

        Assert.Equal(JsonValueKind.Object, reply.ValueKind);
        Exception? reason = await client.Disconnected.WaitAsync(Timeout);
        Assert.True(reason is EndOfStreamException, reason?.ToString());
        Assert.False(client.IsConnected);
        QmpEvent shutdown = await listener.NextAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("host-qmp-quit", shutdown.Data.GetProperty("reason").GetString());
        await qemu.Process.WaitForExitAsync().WaitAsync(Timeout);
        Assert.Equal(0, qemu.Process.ExitCode);
        await Assert.ThrowsAsync<QmpDisconnectedException>(() => client.ExecuteAsync("query-status"));
    }
}
