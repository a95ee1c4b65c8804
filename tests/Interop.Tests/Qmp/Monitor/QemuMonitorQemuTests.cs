using System.Diagnostics;
using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.Interop.Tests.Qmp.Monitor;

/// <summary>The typed monitor against a real qemu-system-x86_64: every record and enum as QEMU really sends them.</summary>
public sealed class QemuMonitorQemuTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    // signal(7), x86_64.
    private const int SigStop = 19;
    private const int SigCont = 18;

    [Fact]
    public async Task RunStateCommands_PausedQ35_MoveFromPrelaunchToRunningToPaused()
    {
        await using QemuProcess qemu = QemuProcess.StartQ35Paused();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);
        var monitor = new QemuMonitor(client);

        Assert.Equal(new StatusInfo { Running = false, Status = RunState.Prelaunch }, await monitor.QueryStatusInfoAsync().WaitAsync(Timeout));
        await monitor.ContAsync().WaitAsync(Timeout);
        Assert.Equal(RunState.Running, await monitor.QueryStatusAsync().WaitAsync(Timeout));
        await monitor.StopAsync().WaitAsync(Timeout);
        Assert.Equal(new StatusInfo { Running = false, Status = RunState.Paused }, await monitor.QueryStatusInfoAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task QueryCommands_MachineNone_VersionMachinesAndNoMigration()
    {
        await using QemuProcess qemu = QemuProcess.StartMachineNone();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);
        var monitor = new QemuMonitor(client);

        VersionInfo version = await monitor.QueryVersionAsync().WaitAsync(Timeout);
        Assert.Equal(client.Greeting.Version, version.Qemu);
        Assert.Equal(client.Greeting.Package, version.Package);
        IReadOnlyList<MachineInfo> machines = await monitor.QueryMachinesAsync().WaitAsync(Timeout);
        string q35 = Assert.Single(machines, m => m.Alias == "q35").Name;
        Assert.StartsWith("pc-q35-", q35);
        Assert.Contains(machines, m => m.IsDefault);
        Assert.All(machines, m => Assert.True(m.CpuMax > 0, m.Name));
        MigrationInfo migration = await monitor.QueryMigrateAsync().WaitAsync(Timeout);
        Assert.Equal(MigrationStatus.None, migration.Status);
        Assert.Null(migration.Ram);
    }

    [Fact]
    public async Task MigrateSetCapabilitiesAndParameters_RealQemu_AcceptedAndEveryCapabilityItReportsIsKnown()
    {
        await using QemuProcess qemu = QemuProcess.StartQ35Paused();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);
        var monitor = new QemuMonitor(client);

        await monitor.MigrateSetCapabilitiesAsync([new(MigrationCapability.Events, true), new(MigrationCapability.XIgnoreShared, true)])
            .WaitAsync(Timeout);
        await monitor.MigrateSetParametersAsync(new MigrationParameters { MaxBandwidth = 1L << 40, DowntimeLimit = 250 }).WaitAsync(Timeout);

        IReadOnlyList<MigrationCapabilityStatus> capabilities = await monitor.QueryMigrateCapabilitiesAsync().WaitAsync(Timeout);
        // The enum names this QEMU's whole list: a missing or misspelt member would read as Unknown here.
        Assert.DoesNotContain(capabilities, c => c.Capability == MigrationCapability.Unknown);
        Assert.Contains(new MigrationCapabilityStatus(MigrationCapability.Events, true), capabilities);
        Assert.Contains(new MigrationCapabilityStatus(MigrationCapability.XIgnoreShared, true), capabilities);
        Assert.Contains(new MigrationCapabilityStatus(MigrationCapability.PostcopyRam, false), capabilities);
        // Started without -incoming: QEMU refuses, and the error names the command.
        var refused = await Assert.ThrowsAsync<QmpExecuteException>(() => monitor.MigrateIncomingAsync("unix:/nonexistent/lm.sock").WaitAsync(Timeout));
        Assert.Equal(("migrate-incoming", "GenericError"), (refused.Command, refused.ErrorClass));
    }

    [Fact]
    public async Task QueryStatusAsync_QemuStoppedWithSigstop_TimesOutNamingTheCommandThenWorksAfterSigcont()
    {
        await using QemuProcess qemu = QemuProcess.StartMachineNone();
        await using QmpClient client = await qemu.ConnectAsync().WaitAsync(Timeout);
        var monitor = new QemuMonitor(client);
        Assert.Equal(RunState.Running, await monitor.QueryStatusAsync().WaitAsync(Timeout));

        Assert.Equal(0, LocalMigrate.Interop.Posix.LibC.kill(qemu.Process.Id, SigStop));
        try
        {
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<QmpTimeoutException>(
                () => monitor.QueryStatusAsync(TimeSpan.FromSeconds(1)).WaitAsync(Timeout));
            Assert.Equal("query-status", error.Command);
            // Timers may fire a tick early; what matters is that it neither ends at once nor hangs.
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
            Assert.True(client.IsConnected);
        }
        finally
        {
            LocalMigrate.Interop.Posix.LibC.kill(qemu.Process.Id, SigCont);
        }
        // QEMU now answers the timed-out call too; that reply is dropped and this one gets its own.
        Assert.Equal(RunState.Running, await monitor.QueryStatusAsync().WaitAsync(Timeout));
    }
}
