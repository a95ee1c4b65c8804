using System.Diagnostics;
using LocalMigrate.Interop.Posix;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Domains;

/// <summary>A restarted engine re-attaches to the QEMUs the previous one left running, and to nothing else.</summary>
[Collection(RealQemuCollection.Name)]
public sealed class AdoptionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Start_AfterAnEngineDetached_AdoptsEveryRunningVmWhichKeepsRunning()
    {
        var first = new EngineHarness(output);
        await first.Engine.StartAsync(CancellationToken.None);
        var consoleA = await first.BootGuestAsync("adopt-a");
        var consoleB = await first.BootGuestAsync("adopt-b", backing: MemoryBacking.Private);
        var pidA = first.Registry.Get("adopt-a").Active!.Pid;
        var pidB = first.Registry.Get("adopt-b").Active!.Pid;
        await first.DetachAsync();
        Assert.True(ProcFs.TryReadIdentity(pidA) is not null && ProcFs.TryReadIdentity(pidB) is not null, "detaching stopped a VM");

        await using var second = new EngineHarness(output, _ => first.Options);
        await second.Engine.StartAsync(CancellationToken.None);

        var a = second.Registry.Get("adopt-a");
        var b = second.Registry.Get("adopt-b");
        Assert.Equal(pidA, a.Active!.Pid);
        Assert.Equal(pidB, b.Active!.Pid);
        Assert.Equal(DomainState.Running, a.State);
        Assert.Equal(DomainState.Running, b.State);
        await consoleA.WaitForTicksAsync(consoleA.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        await consoleB.WaitForTicksAsync(consoleB.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));

        // The adopted instance is fully controllable: it migrates like one the engine started itself.
        var job = await second.MigrateAsync("adopt-a");
        Assert.True(job.State == MigrationJobState.Completed, job.Error);
        Assert.NotEqual(pidA, a.Active!.Pid);
        await consoleA.WaitForTicksAsync(consoleA.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        consoleA.AssertContinuous();
        consoleB.AssertContinuous();
    }

    [Fact]
    public async Task Start_VmDiedWhileNoEngineWatched_ReportsItCrashedAndDoesNotRestartIt()
    {
        var first = new EngineHarness(output);
        await first.BootGuestAsync("gone");
        var instance = first.Registry.Get("gone").Active!;
        var directory = instance.Paths.Directory;
        await first.DetachAsync();
        Assert.True(Signals.Kill(instance.Process));
        await WaitForExitAsync(instance.Process);

        await using var second = new EngineHarness(output, _ => first.Options);
        await second.Engine.StartAsync(CancellationToken.None);

        var domain = second.Registry.Get("gone");
        Assert.Null(domain.Active);
        Assert.Equal(DomainState.Crashed, domain.State);
        Assert.False(Directory.Exists(directory));
        Assert.Empty(second.QemuProcesses());
    }

    [Fact]
    public async Task Start_InstanceFileNamesAPidNowUsedByAnotherProgram_DoesNotAdoptOrKillIt()
    {
        var first = new EngineHarness(output);
        await first.BootGuestAsync("reused");
        var instance = first.Registry.Get("reused").Active!;
        await first.DetachAsync();
        Assert.True(Signals.Kill(instance.Process));
        await WaitForExitAsync(instance.Process);

        // Another program now holds "the" pid as far as instance.json is concerned: same pid and start time.
        using var impostor = Process.Start("sleep", "60");
        var identity = ProcFs.TryReadIdentity(impostor.Id)!;
        instance.SaveRecord(instance.Record with { Pid = identity.Pid, StartTime = identity.StartTime });

        await using var second = new EngineHarness(output, _ => first.Options);
        await second.Engine.StartAsync(CancellationToken.None);

        Assert.Null(second.Registry.Get("reused").Active);
        Assert.Equal(DomainState.Crashed, second.Registry.Get("reused").State);
        Assert.True(ProcFs.IsAlive(identity), "the unrelated process was killed");
        impostor.Kill();
    }

    private static async Task WaitForExitAsync(ProcessIdentity process)
    {
        for (var i = 0; i < 500 && ProcFs.IsAlive(process); i++)
            await Task.Delay(10);
        Assert.False(ProcFs.IsAlive(process));
    }
}
