using System.Text.Json;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Upgrade;

/// <summary>
/// The upgrade users actually face: Debian 12's QEMU 7.2 to QEMU 10.0 (bookworm-backports), live, through the real
/// daemon and CLI. The machine type is pinned at define time (q35 -> pc-q35-7.2), so 10.0 builds the same machine.
/// Both builds are Debian's, unpacked beside the installed QEMU by tests/guest/fetch-qemu.sh.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class MajorUpgradeTests(ITestOutputHelper output)
{
    private const string PinnedMachine = "pc-q35-7.2";
    private const string InstalledQemu = "/usr/bin/qemu-system-x86_64";
    private static readonly TimeSpan GuestWait = TimeSpan.FromSeconds(90);
    private static readonly (string Name, MemoryBacking Backing)[] Vms = [("major-shared", MemoryBacking.Shared), ("major-private", MemoryBacking.Private)];

    [Fact]
    public async Task UpgradeStale_AfterQemu72IsReplacedByQemu10_MovesSharedAndPrivateVmsLiveAndNothingIsStale()
    {
        await using var daemon = new DaemonProcess(output);
        // The configured binary path holds 7.2 first, then 10.0, as a package upgrade leaves it. The old tree is
        // moved aside, not deleted: its running QEMUs keep it, and the stale detector sees they run another file.
        var tree = Path.Combine(daemon.Root, "qemu");
        ProcessRunner.Run("cp", "-a", UnpackedTree(OldQemu.Path), tree);
        var binary = Path.Combine(tree, "usr", "bin", "qemu-system-x86_64");
        await daemon.StartAsync();
        var consoles = await BootAsync(daemon, binary);
        var before = new Dictionary<string, JsonElement>();
        foreach (var (name, _) in Vms)
        {
            before[name] = (await daemon.CliAsync("status", name, "--json")).Json();
            Assert.Equal(PinnedMachine, before[name].GetProperty("machine").GetString());
            Assert.StartsWith("7.2.", before[name].GetProperty("qemuVersion").GetString());
            Assert.False(before[name].GetProperty("stale").GetBoolean(), before[name].ToString());
        }

        Directory.Move(tree, tree + "-7.2");
        ProcessRunner.Run("cp", "-a", UnpackedTree(NewQemu.Path), tree);
        foreach (var (name, _) in Vms)
        {
            // The daemon notices within its stale check interval (a stat of each file on a timer), off the read path.
            System.Text.Json.JsonElement stale = default;
            await Poll.UntilAsync(async () =>
            {
                stale = (await daemon.CliAsync("status", name, "--json")).Json();
                return stale.GetProperty("stale").GetBoolean();
            }, TimeSpan.FromSeconds(30), $"{name} reported stale after its QEMU tree was replaced");
            output.WriteLine($"{name} before the upgrade: {stale.GetProperty("staleReasons")}");
        }
        var progress = PatternProgress(consoles);

        var upgrade = (await daemon.CliAsync("upgrade", "--stale", "--parallel", "1", "--json")).Json();

        Assert.Equal(2, upgrade.GetProperty("upgraded").GetInt32());
        foreach (var job in upgrade.GetProperty("jobs").EnumerateArray())
        {
            output.WriteLine($"{job.GetProperty("domain")}: {job.GetProperty("sourceVersion")} -> {job.GetProperty("targetVersion")}, " +
                             $"downtime {job.GetProperty("downtimeMs")} ms, total {job.GetProperty("totalMs")} ms, {job.GetProperty("transferredBytes")} bytes");
            Assert.Contains("10.0.2", job.GetProperty("targetVersion").GetString());
        }
        foreach (var (name, _) in Vms)
        {
            var after = (await daemon.CliAsync("status", name, "--json")).Json();
            var pid = after.GetProperty("pid").GetInt32();
            Assert.NotEqual(before[name].GetProperty("pid").GetInt32(), pid);
            Assert.Equal("running", after.GetProperty("state").GetString());
            Assert.Contains(NewQemu.Version, after.GetProperty("qemuVersion").GetString());
            Assert.StartsWith("10.0.2", after.GetProperty("qemuVersion").GetString());
            Assert.False(after.GetProperty("stale").GetBoolean(), after.ToString());
            Assert.Equal(PinnedMachine, after.GetProperty("machine").GetString());
            Assert.Equal(binary, new FileInfo($"/proc/{pid}/exe").LinkTarget);
            Assert.Contains(File.ReadAllText($"/proc/{pid}/cmdline").Split('\0'), a => a.StartsWith(PinnedMachine + ",", StringComparison.Ordinal));
        }
        await AssertGuestsKeptRunningAsync(consoles, progress);
        Assert.Equal(2, daemon.QemuProcesses().Count);
        var nothing = await daemon.CliAsync("upgrade", "--stale");
        Assert.True(nothing.ExitCode == 0, nothing.ToString());
        Assert.Contains("nothing to upgrade", nothing.Stdout);
    }

    /// <summary>The way back from a bad upgrade: 7.2 (installed) -> 10.0 -> 7.2 (installed), each with migrate --target-binary.</summary>
    [Fact]
    public async Task Migrate_ToQemu10AndBackToQemu72_GuestsKeepRunningBothWays()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        var consoles = await BootAsync(daemon, InstalledQemu);
        foreach (var (target, version) in new[] { (NewQemu.Path, "10.0.2"), (InstalledQemu, "7.2.") })
        {
            var progress = PatternProgress(consoles);
            foreach (var (name, _) in Vms)
            {
                var oldPid = (await daemon.CliAsync("status", name, "--json")).Json().GetProperty("pid").GetInt32();
                var job = (await daemon.CliAsync("migrate", name, "--target-binary", target, "--json")).Json();
                output.WriteLine($"{name}: {job.GetProperty("sourceVersion")} -> {job.GetProperty("targetVersion")}, " +
                                 $"downtime {job.GetProperty("downtimeMs")} ms, total {job.GetProperty("totalMs")} ms, {job.GetProperty("transferredBytes")} bytes");
                Assert.Equal("completed", job.GetProperty("state").GetString());
                var status = (await daemon.CliAsync("status", name, "--json")).Json();
                var pid = status.GetProperty("pid").GetInt32();
                Assert.NotEqual(oldPid, pid);
                Assert.StartsWith(version, status.GetProperty("qemuVersion").GetString());
                Assert.Equal(target, new FileInfo($"/proc/{pid}/exe").LinkTarget);
                Assert.Equal(PinnedMachine, status.GetProperty("machine").GetString());
            }
            await AssertGuestsKeptRunningAsync(consoles, progress);
        }
        // Back on the configured binary: nothing left to upgrade.
        foreach (var (name, _) in Vms)
            Assert.False((await daemon.CliAsync("status", name, "--json")).Json().GetProperty("stale").GetBoolean());
        Assert.Equal(2, daemon.QemuProcesses().Count);
    }

    /// <summary>
    /// A domain defined on 10.0 pins 10.0's machine type, which 7.2 cannot build: the way back is refused in Begin,
    /// naming the target binary, both QEMU versions and the machine type, and the VM runs on untouched. (A domain
    /// defined on 7.2 goes back and forth: see the test above. QEMU 10.0's stream into 7.2 loads.)
    /// </summary>
    [Fact]
    public async Task Migrate_DomainDefinedOnQemu10ToQemu72_IsRefusedUpFrontAndTheVmRunsOn()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        var file = Path.Combine(daemon.Root, "on10.json");
        await File.WriteAllTextAsync(file, EngineHarness.GuestDefinition("on10", 256, MemoryBacking.Shared, 16, NewQemu.Path));
        Assert.Equal(0, (await daemon.CliAsync("define", file)).ExitCode);
        Assert.Equal(0, (await daemon.CliAsync("start", "on10")).ExitCode);
        var console = daemon.Console("on10");
        await console.WaitForTicksAsync(0, 20, GuestWait);
        var before = (await daemon.CliAsync("status", "on10", "--json")).Json();
        Assert.Equal("pc-q35-10.0", before.GetProperty("machine").GetString());

        var refused = await daemon.CliAsync("migrate", "on10", "--target-binary", InstalledQemu);

        output.WriteLine(refused.ToString());
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"target binary {InstalledQemu} (QEMU 7.2.", refused.Stderr);
        Assert.Contains("cannot build machine type pc-q35-10.0 of domain on10 (running on QEMU 10.0.2)", refused.Stderr);
        var after = (await daemon.CliAsync("status", "on10", "--json")).Json();
        Assert.Equal(before.GetProperty("pid").GetInt32(), after.GetProperty("pid").GetInt32());
        Assert.Equal("running", after.GetProperty("state").GetString());
        Assert.Single(daemon.QemuProcesses());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, GuestWait);
        console.AssertContinuous();
    }

    private static string UnpackedTree(string binary) => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(binary)!, "..", ".."));

    /// <summary>Defines (machine q35, pinned by the probe of <paramref name="binary"/>) and boots one VM per RAM kind.</summary>
    private static async Task<Dictionary<string, GuestConsole>> BootAsync(DaemonProcess daemon, string binary)
    {
        var consoles = new Dictionary<string, GuestConsole>();
        foreach (var (name, backing) in Vms)
        {
            var file = Path.Combine(daemon.Root, name + ".json");
            await File.WriteAllTextAsync(file, EngineHarness.GuestDefinition(name, 256, backing, 32, binary));
            var define = await daemon.CliAsync("define", file);
            Assert.True(define.ExitCode == 0, define.ToString());
            var start = await daemon.CliAsync("start", name);
            Assert.True(start.ExitCode == 0, start.ToString());
            consoles[name] = daemon.Console(name);
        }
        foreach (var console in consoles.Values)
        {
            await console.WaitForTicksAsync(0, 20, GuestWait);
            await console.WaitForPatternPassesAsync(1, GuestWait);
        }
        return consoles;
    }

    private static Dictionary<string, (long Counter, int Passes)> PatternProgress(Dictionary<string, GuestConsole> consoles) =>
        consoles.ToDictionary(c => c.Key, c => (c.Value.LastTick()!.Counter, c.Value.PatternPasses()));

    /// <summary>Every guest ticks on past the migration and verifies its whole RAM pattern again: same boot, no tick lost, no corruption.</summary>
    private async Task AssertGuestsKeptRunningAsync(Dictionary<string, GuestConsole> consoles, Dictionary<string, (long Counter, int Passes)> before)
    {
        foreach (var (name, console) in consoles)
        {
            await console.WaitForTicksAsync(before[name].Counter, 30, GuestWait);
            await console.WaitForPatternPassesAsync(before[name].Passes + 2, GuestWait);
            var largestStep = console.AssertContinuous();
            output.WriteLine($"{name}: tick {before[name].Counter} -> {console.LastTick()!.Counter}, largest counter step {largestStep}, " +
                             $"{console.PatternPasses()} pattern passes");
            Assert.True(largestStep <= 2, $"{name}: ticks lost: step of {largestStep}");
        }
    }
}
