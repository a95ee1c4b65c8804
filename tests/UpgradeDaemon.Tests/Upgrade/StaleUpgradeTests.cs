using System.Diagnostics;
using System.Text.Json;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Upgrade;

/// <summary>
/// Stale detection against real replacements, done the way dpkg does them (write a new file, rename it over the
/// old one): a replaced QEMU module shows as a replaced library, a replaced binary as a replaced binary, and
/// <c>upgrade --stale</c> moves exactly the stale VMs onto the files now installed.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class StaleUpgradeTests(ITestOutputHelper output)
{
    private static JsonElement Json(CommandResult result) => result.Json();

    [Fact]
    public async Task UpgradeStale_AfterModuleAndBinaryWereReplaced_MovesOnlyTheStaleVmsOntoTheNewFiles()
    {
        await using var daemon = new DaemonProcess(output);
        // A private copy of an unpacked QEMU tree, so replacing its files touches nothing else on the machine.
        var tree = Path.Combine(daemon.Root, "qemu");
        ProcessRunner.Run("cp", "-a", Path.GetFullPath(Path.Combine(Path.GetDirectoryName(OldQemu.Path)!, "..", "..")), tree);
        var binary = Path.Combine(tree, "usr", "bin", "qemu-system-x86_64");
        var module = Path.Combine(tree, "usr", "lib", "x86_64-linux-gnu", "qemu", "accel-tcg-x86_64.so");
        await daemon.StartAsync();
        foreach (var name in new[] { "s1", "s2" })
        {
            var file = Path.Combine(daemon.Root, name + ".json");
            await File.WriteAllTextAsync(file, EngineHarness.GuestDefinition(name, 256, name == "s1" ? UpgradeDaemon.Domains.MemoryBacking.Shared : UpgradeDaemon.Domains.MemoryBacking.Private, 16, binary));
            Assert.Equal(0, (await daemon.CliAsync("define", file)).ExitCode);
            Assert.Equal(0, (await daemon.CliAsync("start", name)).ExitCode);
        }
        var fresh = await daemon.BootGuestAsync("fresh", 128);
        await daemon.Console("s1").WaitForTicksAsync(0, 20, TimeSpan.FromSeconds(60));
        await daemon.Console("s2").WaitForTicksAsync(0, 20, TimeSpan.FromSeconds(60));
        var before = Pids(daemon);
        Assert.All(Json(await daemon.CliAsync("list", "--json")).EnumerateArray(), d => Assert.False(d.GetProperty("stale").GetBoolean()));

        ReplaceLikeDpkg(module);
        // The daemon notices within its stale check interval (a stat of each file on a timer), off the read path.
        JsonElement afterModule = default;
        await Poll.UntilAsync(async () =>
        {
            afterModule = Json(await daemon.CliAsync("status", "s1", "--json"));
            return afterModule.GetProperty("stale").GetBoolean();
        }, TimeSpan.FromSeconds(30), "s1 reported stale after its module was replaced");
        Assert.Contains(afterModule.GetProperty("staleReasons").EnumerateArray(), r => r.GetString()!.StartsWith($"library replaced: {module}", StringComparison.Ordinal));

        ReplaceLikeDpkg(binary);
        Dictionary<string, JsonElement> list = [];
        await Poll.UntilAsync(async () =>
        {
            list = Json(await daemon.CliAsync("list", "--json")).EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!);
            return list["s2"].GetProperty("stale").GetBoolean() && list["s2"].GetProperty("staleReasons").GetArrayLength() > 0
                   && list["s2"].GetProperty("staleReasons").EnumerateArray().Any(r => r.GetString()!.StartsWith("binary replaced", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(30), "s2 reported stale after its binary was replaced");
        Assert.True(list["s1"].GetProperty("stale").GetBoolean());
        Assert.True(list["s2"].GetProperty("stale").GetBoolean());
        Assert.False(list["fresh"].GetProperty("stale").GetBoolean());
        Assert.Contains(list["s2"].GetProperty("staleReasons").EnumerateArray(), r => r.GetString() == $"binary replaced or deleted: {binary} (deleted)");
        output.WriteLine(list["s2"].GetProperty("staleReasons").ToString());

        var upgrade = Json(await daemon.CliAsync("upgrade", "--stale", "--parallel", "2", "--json"));
        Assert.Equal(2, upgrade.GetProperty("upgraded").GetInt32());
        Assert.Equal(["s1", "s2"], upgrade.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("domain").GetString()).Order());

        var after = Pids(daemon);
        Assert.NotEqual(before["s1"], after["s1"]);
        Assert.NotEqual(before["s2"], after["s2"]);
        Assert.Equal(before["fresh"], after["fresh"]);
        Assert.All(Json(await daemon.CliAsync("list", "--json")).EnumerateArray(), d => Assert.False(d.GetProperty("stale").GetBoolean(), d.ToString()));
        Assert.Equal(binary, new FileInfo($"/proc/{after["s2"]}/exe").LinkTarget);
        Assert.Equal(3, daemon.QemuProcesses().Count);
        foreach (var name in new[] { "s1", "s2" })
        {
            var console = daemon.Console(name);
            await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
            console.AssertContinuous();
        }
        fresh.AssertContinuous();
        var nothing = await daemon.CliAsync("upgrade", "--stale");
        Assert.Equal(0, nothing.ExitCode);
        Assert.Contains("nothing to upgrade", nothing.Stdout);
    }

    private static Dictionary<string, int> Pids(DaemonProcess daemon) =>
        Json(daemon.CliAsync("list", "--json").GetAwaiter().GetResult()).EnumerateArray()
            .ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("pid").GetInt32());

    /// <summary>dpkg's way: the new file is written beside the old and renamed over it; the old inode lives on in running processes.</summary>
    private static void ReplaceLikeDpkg(string path)
    {
        var next = path + ".dpkg-new";
        File.Copy(path, next);
        File.SetUnixFileMode(next, File.GetUnixFileMode(path));
        File.Move(next, path, overwrite: true);
    }
}
