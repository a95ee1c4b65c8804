using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Migration;

/// <summary>Local live migration against real QEMU and a real Linux guest (the tests/guest ticker).</summary>
[Collection(RealQemuCollection.Name)]
public sealed class LocalMigrationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly EngineHarness _engine = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Theory]
    [InlineData(MemoryBacking.Shared)]
    [InlineData(MemoryBacking.Private)]
    public async Task Migrate_ThreeTimesInARow_GuestContinuesOnANewProcessEachTime(MemoryBacking backing)
    {
        var console = await _engine.BootGuestAsync("triple", 256, backing, patternMiB: 32);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(60));
        var domain = _engine.Registry.Get("triple");
        var pids = new List<int> { domain.Active!.Pid };

        for (var round = 1; round <= 3; round++)
        {
            var source = domain.Active!;
            var before = console.LastTick()!;
            using var watch = new VisibilityWatch(_engine.Registry, "triple");
            var job = await _engine.MigrateAsync("triple");

            Assert.True(job.State == MigrationJobState.Completed, $"round {round}: {job.State}: {job.Error}");
            Assert.Equal(MigrationPhase.Confirm, job.Phase);
            var target = domain.Active!;
            Assert.NotEqual(source.Pid, target.Pid);
            Assert.Equal(source.Pid, job.Stats.SourcePid);
            Assert.Equal(target.Pid, job.Stats.TargetPid);
            Assert.DoesNotContain(target.Pid, pids);
            pids.Add(target.Pid);
            Assert.False(ProcFs.IsAlive(source.Process), "the old QEMU still runs");
            Assert.False(Directory.Exists(source.Paths.Directory), "the old runtime dir is still there");
            Assert.Equal([$"triple.{target.InstanceId}"], _engine.RuntimeDirectories());
            Assert.Equal([target.Pid], _engine.QemuProcesses());
            Assert.Equal(0, _engine.Registry.Shadow.Count);
            Assert.Equal(InstanceRole.Active, target.Record.Role);
            watch.AssertOneInstanceAlwaysVisible(source, target);

            await console.WaitForTicksAsync(before.Counter, 30, TimeSpan.FromSeconds(30));
            output.WriteLine($"round {round} {backing}: downtime {job.Stats.DowntimeMs} ms, total {job.Stats.TotalMs} ms " +
                             $"(QEMU {job.Stats.QemuTotalMs} ms), transferred {job.Stats.TransferredBytes} bytes, pid {source.Pid} -> {target.Pid}");
            if (backing == MemoryBacking.Shared)
                Assert.True(job.Stats.TransferredBytes < 16 * 1024 * 1024, $"shared RAM was copied: {job.Stats.TransferredBytes} bytes");
        }

        var passes = console.PatternPasses();
        await console.WaitForPatternPassesAsync(passes + 1, TimeSpan.FromSeconds(60));
        var largestStep = console.AssertContinuous();
        output.WriteLine($"largest counter step in the console stream: {largestStep}");
        Assert.True(largestStep <= 2, $"ticks lost across migrations: step of {largestStep}");
        Assert.Single(_engine.Registry.List());
        Assert.Equal(DomainState.Running, domain.State);
    }

    [Fact]
    public async Task Migrate_TargetKilledDuringPerform_FailsClearlyAndSourceRunsOn()
    {
        // Private RAM filled with a pattern, and a slow link: Perform lasts seconds, time to kill the target.
        var console = await _engine.BootGuestAsync("victim", 256, MemoryBacking.Private, patternMiB: 96);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        var domain = _engine.Registry.Get("victim");
        var source = domain.Active!;

        var job = _engine.Migrations.Start("victim", MigrationKind.Local, new MigrationOptions { MaxBandwidth = 16L << 20 });
        await Poll.UntilAsync(() => job.Phase == MigrationPhase.Perform && job.DataTotal > 0 && job.Progress > 5, TimeSpan.FromSeconds(60),
            "the copy to pass 5 % in Perform");
        var target = _engine.Registry.Shadow.Find("victim");
        Assert.NotNull(target);
        Assert.True(Signals.Kill(target.Process));
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(MigrationJobState.Failed, job.State);
        Assert.Contains("target QEMU exited", job.Error);
        Assert.Same(source, domain.Active);
        Assert.True(ProcFs.IsAlive(source.Process));
        Assert.Equal(DomainState.Running, domain.State);
        Assert.Equal(0, _engine.Registry.Shadow.Count);
        Assert.Equal([$"victim.{source.InstanceId}"], _engine.RuntimeDirectories());
        Assert.Equal([source.Pid], _engine.QemuProcesses());
        Assert.Equal(RunState.Running, await source.Monitor.QueryStatusAsync());
        var last = console.LastTick()!;
        await console.WaitForTicksAsync(last.Counter, 50, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }

    [Fact]
    public async Task Migrate_TargetBinaryMissing_FailsInBeginAndLeavesTheVmUntouched()
    {
        var console = await _engine.BootGuestAsync("nobin");
        var domain = _engine.Registry.Get("nobin");
        var source = domain.Active!;

        var job = await _engine.MigrateAsync("nobin", new MigrationOptions { TargetBinary = "/nonexistent/qemu-system-x86_64" });

        Assert.Equal(MigrationJobState.Failed, job.State);
        Assert.Equal(MigrationPhase.Begin, job.Phase);
        Assert.Contains("/nonexistent/qemu-system-x86_64", job.Error);
        Assert.Contains("no such file", job.Error);
        Assert.Same(source, domain.Active);
        Assert.Equal([source.Pid], _engine.QemuProcesses());
        Assert.Equal(RunState.Running, await source.Monitor.QueryStatusAsync());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Migrate_TargetBinaryLacksTheMachineType_FailsInBeginAndLeavesTheVmUntouched()
    {
        var console = await _engine.BootGuestAsync("oldmachine");
        var domain = _engine.Registry.Get("oldmachine");
        var source = domain.Active!;
        var fake = FakeQemu.WithMachines(_engine.Root, "pc-q35-6.2", "pc-i440fx-6.2");

        var job = await _engine.MigrateAsync("oldmachine", new MigrationOptions { TargetBinary = fake });

        Assert.Equal(MigrationJobState.Failed, job.State);
        Assert.Equal(MigrationPhase.Begin, job.Phase);
        Assert.Contains("cannot build machine type pc-q35-7.2", job.Error);
        Assert.Same(source, domain.Active);
        Assert.Equal([source.Pid], _engine.QemuProcesses());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Cancel_DuringCopyOfOneGibPrivateRam_SourceKeepsRunning()
    {
        var console = await _engine.BootGuestAsync("big", 1024, MemoryBacking.Private, patternMiB: 128);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(120));
        var domain = _engine.Registry.Get("big");
        var source = domain.Active!;

        var job = _engine.Migrations.Start("big", MigrationKind.Local, new MigrationOptions { MaxBandwidth = 32L << 20 });
        await Poll.UntilAsync(() => job.Phase == MigrationPhase.Perform && job.Progress > 2, TimeSpan.FromSeconds(60),
            "the copy to pass 2 % in Perform");
        var cancelled = _engine.Migrations.Cancel("big");
        Assert.Same(job, cancelled);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(MigrationJobState.Cancelled, job.State);
        Assert.Contains("cancelled in phase Perform", job.Error);
        Assert.Same(source, domain.Active);
        Assert.Equal(RunState.Running, await source.Monitor.QueryStatusAsync());
        Assert.Equal([source.Pid], _engine.QemuProcesses());
        Assert.Equal(0, _engine.Registry.Shadow.Count);
        Assert.Equal([$"big.{source.InstanceId}"], _engine.RuntimeDirectories());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 30, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
        var refusal = Assert.Throws<MigrationBusyException>(() => _engine.Migrations.Cancel("big"));
        Assert.Contains("no migration in progress", refusal.Message);
    }

    [Fact]
    public async Task Migrate_FromOlderQemuBuildToTheInstalledOne_MovesTheGuestOntoTheNewBinary()
    {
        var oldBinary = OldQemu.Path;
        var console = await _engine.BootGuestAsync("upgrade", 256, MemoryBacking.Shared, qemu: oldBinary);
        var domain = _engine.Registry.Get("upgrade");
        var source = domain.Active!;
        Assert.Equal(oldBinary, source.Binary);
        Assert.Contains("deb12u15", source.Qmp.Greeting.Package);

        var job = await _engine.MigrateAsync("upgrade", new MigrationOptions { TargetBinary = _engine.Options.QemuBinary });

        Assert.True(job.State == MigrationJobState.Completed, $"{job.State}: {job.Error}");
        var target = domain.Active!;
        Assert.Equal(_engine.Options.QemuBinary, target.Binary);
        Assert.DoesNotContain("deb12u15", target.Qmp.Greeting.Package);
        Assert.Equal(_engine.Options.QemuBinary, ProcFs.TryReadExecutable(target.Pid));
        Assert.False(ProcFs.IsAlive(source.Process));
        output.WriteLine($"old {source.Qmp.Greeting.Package} -> new {target.Qmp.Greeting.Package}: downtime {job.Stats.DowntimeMs} ms, total {job.Stats.TotalMs} ms");
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 30, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }
}
