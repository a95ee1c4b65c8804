using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Migration;

/// <summary>Cancel in every phase, against real QEMU: before the switch it rolls back, after it is refused.</summary>
[Collection(RealQemuCollection.Name)]
public sealed class CancelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(MigrationPhase.Begin)]
    [InlineData(MigrationPhase.Prepare)]
    [InlineData(MigrationPhase.Perform)]
    public async Task Cancel_HeldAtPhaseBeforeTheSwitch_RollsBackAndTheSourceRunsOn(MigrationPhase phase)
    {
        var gate = new HeldPhaseGate(phase);
        await using var engine = new EngineHarness(output, gate: gate);
        var console = await engine.BootGuestAsync("c" + (int)phase);
        var domain = engine.Registry.Get("c" + (int)phase);
        var source = domain.Active!;

        var job = engine.Migrations.Start(domain.Name, MigrationKind.Local, new MigrationOptions());
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Same(job, engine.Migrations.Cancel(domain.Name));
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(MigrationJobState.Cancelled, job.State);
        Assert.Equal(phase, job.Phase);
        Assert.Same(source, domain.Active);
        Assert.Equal([source.Pid], engine.QemuProcesses());
        Assert.Equal(0, engine.Registry.Shadow.Count);
        Assert.Equal([$"{domain.Name}.{source.InstanceId}"], engine.RuntimeDirectories());
        Assert.Equal(RunState.Running, await source.Monitor.QueryStatusAsync());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }

    [Theory]
    [InlineData(MigrationPhase.Finish)]
    [InlineData(MigrationPhase.Confirm)]
    public async Task Cancel_AfterTheSwitch_IsRefusedAndTheMigrationCompletes(MigrationPhase phase)
    {
        var gate = new HeldPhaseGate(phase);
        await using var engine = new EngineHarness(output, gate: gate);
        var console = await engine.BootGuestAsync("late" + (int)phase);
        var domain = engine.Registry.Get("late" + (int)phase);
        var source = domain.Active!;

        var job = engine.Migrations.Start(domain.Name, MigrationKind.Local, new MigrationOptions());
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        var refusal = Assert.Throws<MigrationBusyException>(() => engine.Migrations.Cancel(domain.Name));
        Assert.Contains("too late", refusal.Message);
        // Meanwhile callers still see the source only; the target waits in the shadow registry.
        Assert.Same(source, domain.Active);
        Assert.Equal(1, engine.Registry.Shadow.Count);
        gate.Release();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(MigrationJobState.Completed, job.State);
        Assert.NotSame(source, domain.Active);
        Assert.Equal([domain.Active!.Pid], engine.QemuProcesses());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }
}
