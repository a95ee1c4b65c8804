using System.Text.Json;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote;

/// <summary>
/// Remote live migration between two hosts (network namespaces, each with its own daemon, bus and sshd), over ssh,
/// with the real test guest. Every test ends with the guest on exactly one host and nothing left on the other.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class RemoteMigrationTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Short enough that a test sees a destination drop an orphaned target; the product default is 60 s.</summary>
    private const string LeaseConfig = """{ "remote": { "incomingLeaseSeconds": 15 } }""";

    private TestHosts _hosts = null!;

    private TestHost A => _hosts.A;
    private TestHost B => _hosts.B;

    public async Task InitializeAsync() => _hosts = await TestHosts.StartAsync(output, 2, _ => LeaseConfig);

    public async Task DisposeAsync() => await _hosts.DisposeAsync();

    [Theory]
    [InlineData("shared")]
    [InlineData("private")]
    public async Task Migrate_OverSshToBAndBack_GuestContinuesAndRunsOnExactlyOneHost(string backing)
    {
        var consoleA = await A.Daemon.BootGuestAsync("rvm", 256, backing, patternMiB: 32);
        await consoleA.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        var before = consoleA.LastTick()!;

        var there = await MigrateAsync(A, "rvm", B.SshUri);
        output.WriteLine($"A -> B ({backing}): {there}");
        var consoleB = B.Daemon.Console("rvm");
        var arrived = await consoleB.WaitForTicksAsync(before.Counter, 30, TimeSpan.FromSeconds(60));
        Assert.Equal(before.BootId, arrived.BootId);
        Assert.True(arrived.Uptime >= before.Uptime, $"uptime went back from {before.Uptime} to {arrived.Uptime}: the guest rebooted");
        await AssertRunsOnlyOnAsync(B, A, "rvm");
        await consoleB.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        Assert.Empty(consoleB.Corruptions());
        AssertGuestPause(consoleB, "A -> B");

        var last = consoleB.LastTick()!;
        var back = await MigrateAsync(B, "rvm", A.SshUri);
        output.WriteLine($"B -> A ({backing}): {back}");
        var home = await consoleA.WaitForTicksAsync(last.Counter, 30, TimeSpan.FromSeconds(60));
        Assert.Equal(before.BootId, home.BootId);
        await AssertRunsOnlyOnAsync(A, B, "rvm");
        var passes = consoleA.PatternPasses();
        await consoleA.WaitForPatternPassesAsync(passes + 1, TimeSpan.FromSeconds(90));
        Assert.Empty(consoleA.Corruptions());
    }

    [Fact]
    public async Task Migrate_DestinationHasAnotherDomainOfThatName_RefusedInPrepareAndTheSourceRunsOn()
    {
        var console = await A.Daemon.BootGuestAsync("clash", 256, "shared", patternMiB: 16);
        var file = Path.Combine(B.Daemon.Root, "clash.json");
        await File.WriteAllTextAsync(file, EngineHarness.GuestDefinition("clash", 128));
        Assert.Equal(0, (await B.Daemon.CliAsync("define", file)).ExitCode);

        var refused = await A.Daemon.CliAsync("migrate", "clash", "--to", B.SshUri);

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("another domain named clash", refused.Stderr);
        Assert.Contains("host ", refused.Stderr);
        await AssertRunsOnlyOnAsync(A, B, "clash", destinationDefines: "clash");
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Migrate_DestinationUnreachable_ClearErrorAndTheSourceRunsOn()
    {
        var console = await A.Daemon.BootGuestAsync("lonely", 256, "shared", patternMiB: 16);
        var nowhere = string.Join('.', B.Address.Split('.')[..3]) + ".250";

        var failed = await A.Daemon.CliAsync("migrate", "lonely", "--to", $"ssh://root@{nowhere}");

        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains($"ssh://root@{nowhere} unreachable", failed.Stderr);
        var state = await ListAsync(A);
        Assert.Equal("running", state["lonely"]);
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Cancel_DuringPerform_SourceRunsOnAndTheDestinationIsClean()
    {
        var console = await BootBusyGuestAsync("halt");
        var migrate = A.Daemon.StartCli("migrate", "halt", "--to", B.SshUri, "--max-bandwidth", (4L << 20).ToString());
        await WaitForPerformAsync(A, "halt");

        var cancel = await A.Daemon.CliAsync("cancel", "halt");
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, cancel.ExitCode);
        Assert.NotEqual(0, migrate.ExitCode);
        Assert.Contains("cancelled", await migrate.StandardError.ReadToEndAsync());
        await AssertRunsOnlyOnAsync(A, B, "halt");
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Cancel_OnTheDestinationDuringPerform_ItsTargetGoesAndTheSourceRunsOn()
    {
        var console = await BootBusyGuestAsync("refused");
        var migrate = A.Daemon.StartCli("migrate", "refused", "--to", B.SshUri, "--max-bandwidth", (4L << 20).ToString());
        await WaitForPerformAsync(A, "refused");

        var cancel = await B.Daemon.CliAsync("cancel", "refused");
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Contains("cancelled the incoming migration of refused", cancel.Stdout);
        Assert.NotEqual(0, migrate.ExitCode);
        output.WriteLine(await migrate.StandardError.ReadToEndAsync());
        await AssertRunsOnlyOnAsync(A, B, "refused");
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        var again = await B.Daemon.CliAsync("cancel", "refused");
        Assert.Equal(5, again.ExitCode);
    }

    [Fact]
    public async Task Migrate_DestinationQemuKilledDuringPerform_FailsClearlyAndTheSourceRunsOn()
    {
        var console = await BootBusyGuestAsync("shot");
        var migrate = A.Daemon.StartCli("migrate", "shot", "--to", B.SshUri, "--max-bandwidth", (4L << 20).ToString());
        await WaitForPerformAsync(A, "shot");
        var target = Assert.Single(B.Daemon.QemuProcesses());

        Interop.Posix.Signals.Kill(Interop.Posix.ProcFs.TryReadIdentity(target)!);
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));

        Assert.NotEqual(0, migrate.ExitCode);
        output.WriteLine(await migrate.StandardError.ReadToEndAsync());
        await AssertRunsOnlyOnAsync(A, B, "shot");
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Migrate_LinkCutDuringPerform_SourceRunsOnAndTheDestinationDropsItsTarget()
    {
        var console = await BootBusyGuestAsync("cut");
        // Live: the guest keeps running here while its RAM is copied (only the source's own RAM matters after a rollback).
        var migrate = A.Daemon.StartCli("migrate", "cut", "--to", B.SshUri, "--max-bandwidth", (4L << 20).ToString(), "--pause-guest", "false");
        await WaitForPerformAsync(A, "cut");

        await _hosts.CutLinkAsync(B);

        // Cancelled through QEMU's monitor, or cut from outside when QEMU was in its stop-and-copy at the cut.
        await AssertTheSourceRunsOnAfterLosingBAsync(migrate, console, "cut", "the stream was cancelled", "the stream was cut");
    }

    [Fact]
    public async Task Migrate_LinkCutWhileQemuSendsItsStopAndCopy_StreamCutFromOutsideAndTheSourceRunsOn()
    {
        var console = await BootBusyGuestAsync("stall");
        // 16 Mbit/s to B: the copy takes minutes. A paused guest and a downtime limit no copy exceeds make QEMU send it all
        // as its stop-and-copy, which runs under QEMU's big lock: once the link is cut, that send blocks (TCP retransmits
        // for ~15 minutes), the monitor with it, and migrate_cancel gets no answer.
        await _hosts.ThrottleLinkAsync(B, 16);
        var migrate = A.Daemon.StartCli("migrate", "stall", "--to", B.SshUri, "--pause-guest", "true", "--max-downtime", "2000000");
        await WaitForPerformAsync(A, "stall");

        await _hosts.CutLinkAsync(B);

        // The daemon shut the stream's socket down itself (pidfd_getfd + shutdown): QEMU's send failed, the monitor came back.
        await AssertTheSourceRunsOnAfterLosingBAsync(migrate, console, "stall", "the stream was cut");
    }

    /// <summary>After B's link was cut in Perform: the migration fails within 2 minutes saying so, the guest runs on here
    /// unharmed, and B, which never heard Abort, drops the paused target that never ran when its lease runs out.</summary>
    private async Task AssertTheSourceRunsOnAfterLosingBAsync(System.Diagnostics.Process migrate, GuestConsole console, string name,
        params string[] howAnyOf)
    {
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        var error = await migrate.StandardError.ReadToEndAsync();
        output.WriteLine(error);
        Assert.NotEqual(0, migrate.ExitCode);
        Assert.Contains("lost the destination", error);
        Assert.Contains(howAnyOf, how => error.Contains(how, StringComparison.Ordinal));
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        Assert.Equal("running", (await ListAsync(A))[name]);
        Assert.Empty(console.Corruptions());

        await _hosts.RestoreLinkAsync(B);
        await Poll.UntilAsync(() => B.Daemon.QemuProcesses().Count == 0, TimeSpan.FromSeconds(60), "B to drop its orphaned target");
        await AssertRunsOnlyOnAsync(A, B, name);
    }

    [Fact]
    public async Task Sigkill_SourceDaemonAfterTheDestinationCommitted_RestartHandsTheGuestOver()
    {
        var console = await A.Daemon.BootGuestAsync("handover", 256, "shared", patternMiB: 16);
        await RestartAsync(A, "Confirm.TargetPromoted");
        var before = console.LastTick()!;

        var started = await A.Daemon.CliAsync("migrate", "handover", "--to", B.SshUri, "--detach");
        Assert.True(started.ExitCode == 0, started.ToString());
        await Poll.UntilAsync(async () => (await ListAsync(B)).GetValueOrDefault("handover") == "running", TimeSpan.FromSeconds(90),
            "B to run the guest (committed)");
        await A.Daemon.KillAsync();
        await A.Daemon.StartAsync();

        await Poll.UntilAsync(() => A.Daemon.QemuProcesses().Count == 0, TimeSpan.FromSeconds(60), "A's source QEMU to be handed over and quit");
        await AssertRunsOnlyOnAsync(B, A, "handover");
        var jobs = (await A.Daemon.CliAsync("jobs", "--json")).Json();
        Assert.Contains(jobs.EnumerateArray(), j => j.GetProperty("domain").GetString() == "handover" && j.GetProperty("state").GetString() == "completed");
        var after = await B.Daemon.Console("handover").WaitForTicksAsync(before.Counter, 20, TimeSpan.FromSeconds(30));
        Assert.Equal(before.BootId, after.BootId);
    }

    [Fact]
    public async Task Sigkill_SourceDaemonInPerform_RestartKeepsTheGuestAndTheDestinationIsClean()
    {
        var console = await A.Daemon.BootGuestAsync("stay", 256, "shared", patternMiB: 16);
        await RestartAsync(A, "Perform");

        var started = await A.Daemon.CliAsync("migrate", "stay", "--to", B.SshUri, "--detach");
        Assert.True(started.ExitCode == 0, started.ToString());
        await Poll.UntilAsync(() => B.Daemon.QemuProcesses().Count == 1, TimeSpan.FromSeconds(60), "B's target to exist");
        await WaitForPerformAsync(A, "stay");
        await A.Daemon.KillAsync();
        await A.Daemon.StartAsync();

        Assert.Equal("running", (await ListAsync(A))["stay"]);
        await Poll.UntilAsync(() => B.Daemon.QemuProcesses().Count == 0, TimeSpan.FromSeconds(60), "B to drop its target (abort or lease)");
        await AssertRunsOnlyOnAsync(A, B, "stay");
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Sigkill_DestinationDaemonDuringPerform_SourceKeepsTheGuestAndTheRestartedDestinationIsClean()
    {
        var console = await BootBusyGuestAsync("orphan");
        var migrate = A.Daemon.StartCli("migrate", "orphan", "--to", B.SshUri, "--max-bandwidth", (8L << 20).ToString());
        await WaitForPerformAsync(A, "orphan");

        await B.Daemon.KillAsync();
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        output.WriteLine(await migrate.StandardError.ReadToEndAsync());
        Assert.NotEqual(0, migrate.ExitCode);
        Assert.Equal("running", (await ListAsync(A))["orphan"]);
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));

        await B.Daemon.StartAsync();
        await Poll.UntilAsync(() => B.Daemon.QemuProcesses().Count == 0, TimeSpan.FromSeconds(60), "the restarted B to drop the uncommitted target");
        await AssertRunsOnlyOnAsync(A, B, "orphan");
    }

    /// <summary>Private RAM with a pattern, so Perform copies for seconds at a low bandwidth: time to act in it.</summary>
    private async Task<GuestConsole> BootBusyGuestAsync(string name)
    {
        var console = await A.Daemon.BootGuestAsync(name, 256, "private", patternMiB: 96);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        return console;
    }

    private static async Task RestartAsync(TestHost host, string pauseAt)
    {
        await host.Daemon.KillAsync();
        await host.Daemon.StartAsync(new Dictionary<string, string> { ["LOCALMIGRATE_TEST_PAUSE_AT_PHASE"] = pauseAt });
    }

    private static async Task WaitForPerformAsync(TestHost host, string name) =>
        await Poll.UntilAsync(async () =>
        {
            var jobs = (await host.Daemon.CliAsync("jobs", "--json")).Json();
            return jobs.EnumerateArray().Any(j => j.GetProperty("domain").GetString() == name && j.GetProperty("state").GetString() == "running"
                                                  && j.GetProperty("phase").GetString() == "Perform");
        }, TimeSpan.FromSeconds(90), $"{name}'s job to reach Perform");

    private async Task<string> MigrateAsync(TestHost from, string name, string uri)
    {
        var result = await from.Daemon.CliAsync("migrate", name, "--to", uri, "--json");
        var job = result.Json();
        Assert.True(job.GetProperty("state").GetString() == "completed", result.ToString());
        Assert.Equal("remote", job.GetProperty("kind").GetString());
        return $"downtime {job.GetProperty("downtimeMs").GetInt64()} ms, total {job.GetProperty("totalMs").GetInt64()} ms, " +
               $"{job.GetProperty("transferredBytes").GetInt64()} bytes, pid {job.GetProperty("sourcePid").GetInt32()} -> {job.GetProperty("targetPid").GetInt32()}";
    }

    private static async Task<Dictionary<string, string>> ListAsync(TestHost host)
    {
        var list = (await host.Daemon.CliAsync("list", "--json")).Json();
        return list.EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("state").GetString()!);
    }

    /// <summary>
    /// The guest runs on <paramref name="owner"/> (listed running, one QEMU) and <paramref name="other"/> has no QEMU, no
    /// runtime dir and does not list it (unless it defines a domain of that name of its own, stopped).
    /// </summary>
    private static async Task AssertRunsOnlyOnAsync(TestHost owner, TestHost other, string name, string? destinationDefines = null)
    {
        Assert.Equal("running", (await ListAsync(owner)).GetValueOrDefault(name));
        Assert.Single(owner.Daemon.QemuProcesses());
        var elsewhere = await ListAsync(other);
        if (destinationDefines == name)
            Assert.Equal("shutoff", elsewhere.GetValueOrDefault(name));
        else
            Assert.False(elsewhere.ContainsKey(name), $"{other.Label} still lists {name}: {elsewhere.GetValueOrDefault(name)}");
        await Poll.UntilAsync(() => other.Daemon.QemuProcesses().Count == 0, TimeSpan.FromSeconds(30), $"no QEMU on {other.Label}");
        var runtime = other.Daemon.RuntimeDirectory;
        var left = Directory.Exists(runtime) ? Directory.GetDirectories(runtime).Where(d => !Path.GetFileName(d).StartsWith("probe.")).ToList() : [];
        Assert.True(left.Count == 0, $"{other.Label} keeps runtime dirs: {string.Join(", ", left)}");
    }

    /// <summary>The guest's own view of the switch: the largest gap between ticks (every 10 ms of guest time) at arrival.</summary>
    private void AssertGuestPause(GuestConsole console, string move)
    {
        var ticks = console.Ticks();
        var step = ticks.Zip(ticks.Skip(1), (x, y) => y.Counter - x.Counter).DefaultIfEmpty(0).Max();
        output.WriteLine($"{move}: largest counter step on the new host {step}");
    }
}
