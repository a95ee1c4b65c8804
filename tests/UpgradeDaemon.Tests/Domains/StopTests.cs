using System.Diagnostics;
using LocalMigrate.Interop.Posix;
using LocalMigrate.Interop.Qmp.Monitor;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Domains;

/// <summary>
/// Stopping a QEMU that no longer answers (stopped with SIGSTOP, as a hung QEMU looks from outside): --force ends it
/// by signal, without asking it over QMP; a plain stop fails within the QMP deadline and leaves the domain as it was.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class StopTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StopAsync_ForceOnQemuStoppedWithSigstop_KillsItAndTheDomainStartsAgain()
    {
        await using var engine = new EngineHarness(output);
        await engine.BootGuestAsync("hung1");
        var domain = engine.Registry.Get("hung1");
        var instance = domain.Active!;
        ProcessRunner.Run("kill", "-STOP", instance.Pid.ToString());

        var clock = Stopwatch.StartNew();
        await engine.Domains.StopAsync("hung1", force: true, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"stop --force of a stopped QEMU took {clock.ElapsedMilliseconds} ms");

        // SIGTERM stays pending in a stopped process, so this is the SIGKILL after the grace period.
        Assert.InRange(clock.Elapsed, DomainInstance.TerminateGrace - TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30));
        Assert.False(ProcFs.IsAlive(instance.Process));
        Assert.Equal(DomainState.Shutoff, domain.State);
        Assert.Null(domain.Active);
        Assert.Empty(engine.QemuProcesses());
        Assert.Empty(engine.RuntimeDirectories());

        await engine.Domains.StartAsync("hung1", CancellationToken.None);
        Assert.Equal(DomainState.Running, domain.State);
        Assert.NotEqual(instance.Pid, domain.Active!.Pid);
        Assert.Equal(RunState.Running, await domain.Active.Monitor.QueryStatusAsync());
    }

    [Fact]
    public async Task StopAsync_NotForcedOnQemuStoppedWithSigstop_FailsWithinTheDeadlineAndTheDomainStaysUsable()
    {
        await using var engine = new EngineHarness(output);
        var console = await engine.BootGuestAsync("hung2");
        var domain = engine.Registry.Get("hung2");
        var instance = domain.Active!;
        ProcessRunner.Run("kill", "-STOP", instance.Pid.ToString());

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<InstanceUnresponsiveException>(
            () => engine.Domains.StopAsync("hung2", force: false, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        output.WriteLine($"{clock.ElapsedMilliseconds} ms: {error.Message}");

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(30)); // the 10 s QMP deadline, not a hang
        Assert.Contains("system_powerdown", error.Message);
        Assert.Contains($"pid {instance.Pid}", error.Message);
        Assert.Equal(DomainState.Running, domain.State);
        Assert.Same(instance, domain.Active);
        Assert.True(domain.Lock.CurrentCount == 1, "the domain lock was not released");

        // Usable: once QEMU runs again the guest goes on ticking, and the next request is served, not refused as busy.
        ProcessRunner.Run("kill", "-CONT", instance.Pid.ToString());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(60));
        Assert.Equal(RunState.Running, await instance.Monitor.QueryStatusAsync());
        await engine.Domains.StopAsync("hung2", force: true, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(DomainState.Shutoff, domain.State);
        Assert.Empty(engine.QemuProcesses());
    }
}
