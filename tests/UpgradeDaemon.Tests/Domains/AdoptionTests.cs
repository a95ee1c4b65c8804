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

    /// <summary>A corrupt definition file must not cost a running guest its life (it used to be killed here).</summary>
    [Fact]
    public async Task Start_DefinitionFileCorrupt_TheVmKeepsRunningOrphanedStartIsRefusedAndStopWorks()
    {
        var first = new EngineHarness(output);
        var console = await first.BootGuestAsync("orphan");
        var domain = first.Registry.Get("orphan");
        var pid = domain.Active!.Pid;
        var definition = Path.Combine(first.Options.StateDirectory, "domains", domain.Definition.Uuid.ToString("D") + ".json");
        var ram = Path.Combine(first.Options.SharedMemoryDirectory, domain.Definition.Uuid.ToString("D") + ".ram");
        var ramIdentity = FileIdentity.TryRead(ram);
        Assert.NotNull(ramIdentity);
        await first.DetachAsync();
        File.WriteAllText(definition, "{ \"name\": \"orphan\", \"memoryMiB\": ");

        await using var second = new EngineHarness(output, _ => first.Options);
        await second.Engine.StartAsync(CancellationToken.None);

        var orphan = second.Registry.Get("orphan");
        Assert.Equal(DomainState.Orphaned, orphan.State);
        Assert.Equal(pid, orphan.Active!.Pid);
        Assert.Equal([pid], second.QemuProcesses());
        Assert.Equal(ramIdentity, FileIdentity.TryRead(ram));
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();

        var refusal = await Assert.ThrowsAsync<DomainBusyException>(() => second.Domains.StartAsync("orphan", CancellationToken.None));
        Assert.Contains("already", refusal.Message);
        await second.Domains.StopAsync("orphan", force: true, CancellationToken.None);
        Assert.Empty(second.QemuProcesses());
        Assert.Null(orphan.Active);
        Assert.Empty(second.RuntimeDirectories());
        // Stopped, it still cannot boot from a definition that does not exist; undefine clears the bad file.
        refusal = await Assert.ThrowsAsync<DomainBusyException>(() => second.Domains.StartAsync("orphan", CancellationToken.None));
        Assert.Contains("no readable definition", refusal.Message);
        await second.Domains.UndefineAsync("orphan");
        Assert.False(File.Exists(definition));
    }

    [Fact]
    public async Task Start_JournalHoldsBadRecords_TheEngineStartsAdoptsTheVmSetsThemAsideAndKeepsTheHistory()
    {
        var first = new EngineHarness(output);
        var console = await first.BootGuestAsync("journal");
        var job = await first.MigrateAsync("journal");
        Assert.True(job.State == MigrationJobState.Completed, job.Error);
        var pid = first.Registry.Get("journal").Active!.Pid;
        var jobs = first.Journal.Directory;
        await first.DetachAsync();
        var uuid = Guid.NewGuid();
        var bad = new Dictionary<string, byte[]>
        {
            ["nullid.json"] = System.Text.Encoding.UTF8.GetBytes($$"""{"id":null,"domain":"journal","uuid":"{{uuid}}","kind":"local","phase":"perform","state":"running"}"""),
            ["phase9.json"] = System.Text.Encoding.UTF8.GetBytes($$"""{"id":"phase9","domain":"journal","uuid":"{{uuid}}","kind":"local","phase":9,"state":"running"}"""),
            ["empty.json"] = [],
            ["random.json"] = System.Security.Cryptography.RandomNumberGenerator.GetBytes(300),
        };
        foreach (var (file, content) in bad)
            File.WriteAllBytes(Path.Combine(jobs, file), content);

        await using var second = new EngineHarness(output, _ => first.Options);
        await second.Engine.StartAsync(CancellationToken.None);

        var domain = second.Registry.Get("journal");
        Assert.Equal(pid, domain.Active!.Pid);
        Assert.Equal(DomainState.Running, domain.State);
        foreach (var file in bad.Keys)
        {
            Assert.False(File.Exists(Path.Combine(jobs, file)), file);
            Assert.True(File.Exists(Path.Combine(jobs, file + ".bad")), file);
        }
        // The history survived the restart: the migration before it is listed, and is the domain's last job.
        var history = Assert.Single(second.Migrations.Jobs());
        Assert.Equal(job.Id, history.Id);
        Assert.Equal(MigrationJobState.Completed, history.State);
        Assert.Equal(job.Id, domain.LastJob!.Id);
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    private static async Task WaitForExitAsync(ProcessIdentity process)
    {
        for (var i = 0; i < 500 && ProcFs.IsAlive(process); i++)
            await Task.Delay(10);
        Assert.False(ProcFs.IsAlive(process));
    }
}
