using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Upgrade;

/// <summary>
/// <c>localmigrate upgrade --prepare</c>: target QEMUs started before the upgrade, through the real daemon and CLI with
/// real guests. A migration takes the standby built for its source; everything else ends it, and none ever shows.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class StandbyTargetTests(ITestOutputHelper output)
{
    private static readonly TimeSpan GuestWait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task UpgradeAfterPrepare_TakesEachStandbyAsItsTarget_GuestsRunOnAndNothingElseRuns()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        var consoles = new Dictionary<string, GuestConsole>
        {
            ["standby-shared"] = await daemon.BootGuestAsync("standby-shared"),
            ["standby-private"] = await daemon.BootGuestAsync("standby-private", backing: "private"),
        };
        var sources = daemon.QemuProcesses();
        Assert.Equal(2, sources.Count);

        var prepared = await daemon.CliAsync("upgrade", "--prepare", "--all", "--json");

        output.WriteLine(prepared.ToString());
        Assert.True(prepared.ExitCode == 0, prepared.ToString());
        var report = prepared.Json();
        Assert.Equal(consoles.Keys.Order(), report.GetProperty("ready").EnumerateArray().Select(e => e.GetString()!).Order());
        Assert.Empty(report.GetProperty("problems").EnumerateArray());
        var standbys = daemon.QemuProcesses().Except(sources).ToList();
        Assert.Equal(2, standbys.Count);
        foreach (var pid in standbys)
            Assert.Contains("defer", File.ReadAllText($"/proc/{pid}/cmdline").Split('\0'));
        // Invisible, like any target before its commit: the domains still show their running QEMUs.
        foreach (var name in consoles.Keys)
            Assert.Contains((await daemon.CliAsync("status", name, "--json")).Json().GetProperty("pid").GetInt32(), sources);
        // Asked again: the standbys that wait still fit, so nothing new starts.
        Assert.Equal(0, (await daemon.CliAsync("upgrade", "--prepare", "--all")).ExitCode);
        Assert.Equal(sources.Concat(standbys).Order(), daemon.QemuProcesses().Order());
        var before = consoles.ToDictionary(c => c.Key, c => c.Value.LastTick()!.Counter);

        var upgrade = (await daemon.CliAsync("upgrade", "--all", "--json")).Json();

        Assert.Equal(2, upgrade.GetProperty("upgraded").GetInt32());
        foreach (var job in upgrade.GetProperty("jobs").EnumerateArray())
        {
            output.WriteLine($"{job.GetProperty("domain")}: downtime {job.GetProperty("downtimeMs")} ms, total {job.GetProperty("totalMs")} ms");
            // The settings were applied to both QEMUs with the standby, not by the job: what they hold is still what it plans.
            var shared = job.GetProperty("domain").GetString() == "standby-shared";
            foreach (var side in new[] { "source", "target" })
            {
                var capabilities = job.GetProperty(side).GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()).ToList();
                Assert.Contains("events", capabilities);
                Assert.Equal(shared, capabilities.Contains("x-ignore-shared"));
            }
        }
        foreach (var (name, console) in consoles)
        {
            var status = (await daemon.CliAsync("status", name, "--json")).Json();
            Assert.Equal("running", status.GetProperty("state").GetString());
            Assert.Contains(status.GetProperty("pid").GetInt32(), standbys);
            await console.WaitForTicksAsync(before[name], 20, GuestWait);
            Assert.True(console.AssertContinuous() <= 2, $"{name}: ticks lost");
        }
        Assert.Equal(standbys.Order(), daemon.QemuProcesses().Order());
        Assert.Equal(2, CountOf(daemon.Log, "ready (standby)"));
    }

    [Fact]
    public async Task Standby_ThatCannotServe_IsEndedAndNeverCostsTheGuest()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        const string name = "standby-ends";
        var console = await daemon.BootGuestAsync(name);

        var unknown = await daemon.CliAsync("upgrade", "--prepare", "no-such-vm");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("no-such-vm", unknown.Stderr);
        Assert.Single(daemon.QemuProcesses());

        // Built for the configured binary; the migration asks for another: the job starts its own target.
        var standby = await PrepareAsync(daemon, name);
        var job = (await daemon.CliAsync("migrate", name, "--target-binary", OldQemu.Path, "--json")).Json();
        Assert.Equal("completed", job.GetProperty("state").GetString());
        var pid = (await daemon.CliAsync("status", name, "--json")).Json().GetProperty("pid").GetInt32();
        Assert.NotEqual(standby, pid);
        Assert.Equal([pid], daemon.QemuProcesses());
        Assert.Contains($"pid {standby}) ended: built for", daemon.Log);

        // Built for that other binary, as the migration asks: taken, though it is not the configured one.
        standby = await PrepareAsync(daemon, name, "--target-binary", OldQemu.Path);
        // The job also asks for other settings than the standby was tuned with: they are set anew on both QEMUs.
        job = (await daemon.CliAsync("migrate", name, "--target-binary", OldQemu.Path, "--max-bandwidth", "987654321", "--json")).Json();
        Assert.Equal("completed", job.GetProperty("state").GetString());
        Assert.Equal("987654321", job.GetProperty("source").GetProperty("parameters").GetProperty("max-bandwidth").GetString());
        Assert.Equal(standby, (await daemon.CliAsync("status", name, "--json")).Json().GetProperty("pid").GetInt32());
        Assert.Equal([standby], daemon.QemuProcesses());

        // Its source stops: it goes with it.
        standby = await PrepareAsync(daemon, name);
        var firstBoot = console.LastTick()!.BootId;
        Assert.Equal(0, (await daemon.CliAsync("stop", name, "--force")).ExitCode);
        await Poll.UntilAsync(() => daemon.QemuProcesses().Count == 0, TimeSpan.FromSeconds(15), $"standby {standby} ended after its source stopped");
        Assert.Equal(0, (await daemon.CliAsync("start", name)).ExitCode);
        await Poll.UntilAsync(() => console.LastTick() is { } t && t.BootId != firstBoot && t.Counter >= 20, GuestWait, $"{name} booted again");

        // The daemon stops: the standby ends, the guest runs on and the next daemon adopts it alone.
        var guest = daemon.QemuProcesses().Single();
        standby = await PrepareAsync(daemon, name);
        await daemon.TerminateAsync();
        Assert.Equal([guest], daemon.QemuProcesses());
        await daemon.StartAsync();
        var status = (await daemon.CliAsync("status", name, "--json")).Json();
        Assert.Equal(guest, status.GetProperty("pid").GetInt32());
        Assert.Equal("running", status.GetProperty("state").GetString());
        var tick = console.LastTick()!.Counter;
        await console.WaitForTicksAsync(tick, 20, GuestWait);
    }

    /// <returns>The pid of the standby that now waits for <paramref name="name"/>.</returns>
    private async Task<int> PrepareAsync(DaemonProcess daemon, string name, params string[] options)
    {
        var before = daemon.QemuProcesses();
        var prepared = await daemon.CliAsync(["upgrade", "--prepare", name, .. options]);
        output.WriteLine(prepared.ToString());
        Assert.True(prepared.ExitCode == 0, prepared.ToString());
        Assert.Contains($"{name}: standby target ready", prepared.Stdout);
        return daemon.QemuProcesses().Except(before).Single();
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
