using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.Interop.Posix;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Migration;

/// <summary>
/// Confirm and rollback against real QEMU when something dies or stops answering at the worst moment: a job always
/// ends, never reports success for a guest no QEMU runs, and never lets a second copy of the guest boot.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class ConfirmSafetyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Confirm_TargetKilledAsTheJobEntersConfirm_SourceResumesJobFailsAndStartIsRefused()
    {
        var gate = new HeldPhaseGate(MigrationPhase.Confirm);
        await using var engine = new EngineHarness(output, gate: gate);
        // Private RAM: the resumed source's copy is consistent in itself (with shared RAM the target wrote to it).
        var console = await engine.BootGuestAsync("tdie", backing: MemoryBacking.Private);
        var domain = engine.Registry.Get("tdie");
        var source = domain.Active!;

        var job = engine.Migrations.Start(domain.Name, MigrationKind.Local, new MigrationOptions());
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(60));
        var target = engine.Registry.Shadow.Find(domain.Name)!;
        Assert.True(Signals.Kill(target.Process));
        await target.Exit!.Exited.WaitAsync(TimeSpan.FromSeconds(30));
        var ticksBefore = console.Ticks().Count;
        gate.Release();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        output.WriteLine(job.Error);
        Assert.Equal(MigrationJobState.Failed, job.State);
        Assert.Contains($"target QEMU (pid {target.Pid})", job.Error);
        Assert.Contains("the guest stays on the source", job.Error);
        Assert.Same(source, domain.Active);
        Assert.Equal(DomainState.Running, domain.State);
        Assert.Equal(RunState.Running, await source.Monitor.QueryStatusAsync());
        Assert.Equal([source.Pid], engine.QemuProcesses());
        Assert.Equal([$"{domain.Name}.{source.InstanceId}"], engine.RuntimeDirectories());
        Assert.Equal(0, engine.Registry.Shadow.Count);
        Assert.Contains("\"role\": \"active\"", File.ReadAllText(source.Paths.InstanceFile));

        // The guest runs on (resumed from the switch-over: same boot, counting again, RAM pattern intact).
        await Poll.UntilAsync(() => console.Ticks().Count >= ticksBefore + 30, TimeSpan.FromSeconds(60), "ticks after the source resumed");
        Assert.Single(console.Ticks().Select(t => t.BootId).Distinct());
        Assert.Empty(console.Corruptions());

        var refusal = await Assert.ThrowsAsync<DomainBusyException>(() => engine.Domains.StartAsync(domain.Name, CancellationToken.None));
        Assert.Contains("already running", refusal.Message);
        Assert.Equal([source.Pid], engine.QemuProcesses());
    }

    [Fact]
    public async Task Start_AQemuOfTheDomainRunsThatTheRegistryLostTrackOf_IsRefusedAndTheRamFileStays()
    {
        await using var engine = new EngineHarness(output);
        var console = await engine.BootGuestAsync("lost");
        var domain = engine.Registry.Get("lost");
        var instance = domain.Active!;
        var ram = Path.Combine(engine.Options.SharedMemoryDirectory, domain.Definition.Uuid.ToString("D") + ".ram");
        var ramIdentity = FileIdentity.TryRead(ram);
        Assert.NotNull(ramIdentity);
        // What a failed job or a lost daemon can leave: the registry thinks the domain is down, its QEMU runs on.
        engine.Registry.SetActive(domain, null, DomainState.Crashed);

        var refusal = await Assert.ThrowsAsync<DomainBusyException>(() => engine.Domains.StartAsync(domain.Name, CancellationToken.None));
        Assert.Contains($"pid {instance.Pid}", refusal.Message);
        Assert.Equal([instance.Pid], engine.QemuProcesses());
        Assert.Equal(ramIdentity, FileIdentity.TryRead(ram));
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }

    /// <summary>A real fault: the source QEMU is SIGSTOPped, so QMP never answers while the rollback asks it to resume.</summary>
    [Fact]
    public async Task Rollback_SourceQemuDoesNotAnswer_TheJobStillEndsWithAnError()
    {
        var gate = new HeldPhaseGate(MigrationPhase.Perform);
        await using var engine = new EngineHarness(output, gate: gate);
        var console = await engine.BootGuestAsync("deafsrc");
        var domain = engine.Registry.Get("deafsrc");
        var source = domain.Active!;
        var job = engine.Migrations.Start(domain.Name, MigrationKind.Local, new MigrationOptions());
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(60));
        ProcessRunner.Run("kill", "-STOP", source.Pid.ToString());
        try
        {
            engine.Migrations.Cancel(domain.Name);
            await job.Completion.WaitAsync(MigrationRunner.RollbackTimeout + TimeSpan.FromSeconds(45));
        }
        finally
        {
            ProcessRunner.Run("kill", "-CONT", source.Pid.ToString());
        }

        output.WriteLine(job.Error);
        Assert.Equal(MigrationJobState.Cancelled, job.State);
        Assert.Contains("rollback incomplete: the source did not resume", job.Error);
        Assert.Contains("did not answer in time", job.Error);
        await Poll.UntilAsync(() => domain.Job is null, TimeSpan.FromSeconds(10), "the job to let go of the domain");
        // The target went; the source, never paused by the migration, runs on once it gets its CPU back.
        Assert.Same(source, domain.Active);
        Assert.Equal([source.Pid], engine.QemuProcesses());
        Assert.Equal(0, engine.Registry.Shadow.Count);
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }

    /// <summary>A scripted fault beside the real one: the destination's kill of the target fails.</summary>
    [Fact]
    public async Task Rollback_KillOfTheTargetFails_TheJobStillEndsWithAnErrorAndStartIsRefused()
    {
        var gate = new HeldPhaseGate(MigrationPhase.Perform);
        await using var engine = new EngineHarness(output, gate: gate,
            replace: s => s.AddSingleton<IMigrationDestination>(sp => new FailingAbortDestination(sp.GetRequiredService<MigrationDst>())));
        var console = await engine.BootGuestAsync("nokill");
        var domain = engine.Registry.Get("nokill");
        var source = domain.Active!;
        var job = engine.Migrations.Start(domain.Name, MigrationKind.Local, new MigrationOptions());
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(60));
        var target = engine.Registry.Shadow.Find(domain.Name)!;
        engine.Migrations.Cancel(domain.Name);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        output.WriteLine(job.Error);
        Assert.Equal(MigrationJobState.Cancelled, job.State);
        Assert.Contains("rollback incomplete: the target was not removed: kill", job.Error);
        await Poll.UntilAsync(() => domain.Job is null, TimeSpan.FromSeconds(10), "the job to let go of the domain");
        Assert.Same(source, domain.Active);
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
        // The target the kill missed still runs: nothing may boot a third QEMU of the domain beside the two.
        Assert.Contains(target.Pid, engine.QemuProcesses());
        engine.Registry.SetActive(domain, null, DomainState.Shutoff);
        var refusal = await Assert.ThrowsAsync<DomainBusyException>(() => engine.Domains.StartAsync(domain.Name, CancellationToken.None));
        Assert.Contains("migration target", refusal.Message);
        Assert.Equal(2, engine.QemuProcesses().Count);
    }

    private sealed class FailingAbortDestination(MigrationDst inner) : IMigrationDestination
    {
        public Task<PrepareResult> PrepareAsync(PrepareRequest request, CancellationToken cancellationToken) => inner.PrepareAsync(request, cancellationToken);

        public Task WhenTargetExits(string jobId) => inner.WhenTargetExits(jobId);

        public Task<FinishResult> FinishAsync(string jobId, bool resume, CancellationToken cancellationToken) => inner.FinishAsync(jobId, resume, cancellationToken);

        public Task<string?> VerifyTargetAsync(string jobId, bool guestRan, CancellationToken cancellationToken) =>
            inner.VerifyTargetAsync(jobId, guestRan, cancellationToken);

        public Task CommitAsync(string jobId) => inner.CommitAsync(jobId);

        public Task AbortAsync(string jobId) => throw new IOException("kill(4242, 9) failed: Operation not permitted");
    }
}
