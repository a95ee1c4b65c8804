using System.Text.Json.Nodes;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote;

/// <summary>
/// Issue 13: snapshots stay a product feature across a remote move on shared storage (no copy_storage). Both test
/// hosts see the same file system, so the qcow2 image is the same file on a and b, as on shared storage; the daemon's
/// records travel with Prepare, b checks them against qemu-img info and stores them, a drops its own.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class SharedStorageSnapshotTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(3);

    private readonly string _images = Directory.CreateTempSubdirectory("lm-shared-images-").FullName;
    private TestHosts? _hosts;

    private TestHost A => _hosts!.A;
    private TestHost B => _hosts!.B;

    public async Task InitializeAsync() => _hosts = await TestHosts.StartAsync(output, 2);

    public async Task DisposeAsync()
    {
        if (_hosts is not null)
            await _hosts.DisposeAsync();
        Directory.Delete(_images, recursive: true);
    }

    [Fact]
    public async Task Migrate_SharedStorageWithTwoSnapshots_RecordsArriveOnBAndTheVmStateOneReverts()
    {
        var disk = Path.Combine(_images, "disk.qcow2");
        ProcessRunner.Run("qemu-img", "create", "-q", "-f", "qcow2", disk, "64M");
        await DefineAsync("ss", disk);
        var start = await A.Daemon.CliAsync("start", "ss");
        Assert.True(start.ExitCode == 0, start.ToString());
        var console = A.Daemon.Console("ss");
        await console.WaitForTicksAsync(0, 20, Slow);

        var tickBefore = console.LastTick()!.Counter;
        var live = await A.Daemon.CliAsync("snapshot", "create", "ss", "live");
        var tickAfter = console.LastTick()!.Counter;
        Assert.True(live.ExitCode == 0, live.ToString());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 10, Slow);
        var diskOnly = await A.Daemon.CliAsync("snapshot", "create", "ss", "disk", "--disk-only");
        Assert.True(diskOnly.ExitCode == 0, diskOnly.ToString());
        var recordOnA = Path.Combine(A.Daemon.StateDirectory, "snapshots");
        Assert.Single(Directory.GetFiles(recordOnA, "*.json"));
        var listOnA = await ListAsync(A, "ss");

        var result = await A.Daemon.CliAsync("migrate", "ss", "--to", B.SshUri, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var job = result.Json();
        Assert.Equal("completed", job.GetProperty("state").GetString());
        output.WriteLine($"shared-storage move with 2 snapshots: downtime {job.GetProperty("downtimeMs").GetInt64()} ms, total {job.GetProperty("totalMs").GetInt64()} ms");
        var consoleB = B.Daemon.Console("ss");
        await consoleB.WaitForTicksAsync(console.LastTick()!.Counter, 10, Slow);

        // b recorded both, as a had them (creation time included), and its list agrees with the image.
        var listOnB = await ListAsync(B, "ss");
        Assert.Equal([("disk", false, "ok"), ("live", true, "ok")], listOnB.Select(l => (l.Name, l.VmState, l.Status)).OrderBy(l => l.Name));
        Assert.Equal(listOnA.Select(l => (l.Name, l.Created)).OrderBy(l => l.Name), listOnB.Select(l => (l.Name, l.Created)).OrderBy(l => l.Name));
        // a let go of the domain and of its record.
        Assert.Empty(Directory.GetFiles(recordOnA, "*.json"));
        Assert.True((await A.Daemon.CliAsync("snapshot", "list", "ss")).ExitCode != 0, "a still knows the domain");

        // The VM-state snapshot on b: the guest's counter goes back to that instant, and counts on.
        await consoleB.WaitForTicksAsync(consoleB.LastTick()!.Counter, 10, Slow);
        var ticksBeforeRevert = consoleB.Ticks().Count;
        var revert = await B.Daemon.CliAsync("snapshot", "revert", "ss", "live");
        Assert.True(revert.ExitCode == 0, revert.ToString());
        GuestConsole.Tick? first = null;
        await Poll.UntilAsync(() =>
        {
            var ticks = consoleB.Ticks();
            for (var i = Math.Max(1, ticksBeforeRevert); i < ticks.Count && first is null; i++)
            {
                if (ticks[i].Counter <= ticks[i - 1].Counter)
                    first = ticks[i];
            }
            return first is not null;
        }, Slow, "the guest's counter to go back after the revert on b");
        output.WriteLine($"snapshot 'live' taken between ticks {tickBefore} and {tickAfter}; first tick on b after its revert: {first!.Counter}");
        Assert.InRange(first.Counter, tickBefore, tickAfter + 1);
        await consoleB.WaitForTicksAsync(first.Counter, 10, Slow);

        var stop = await B.Daemon.CliAsync("stop", "ss", "--force");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        await Poll.UntilAsync(() => B.Daemon.QemuProcesses().Count == 0, Slow, "b's QEMU to end");
        Assert.True(ProcessRunner.Run("qemu-img", "check", disk).ExitCode == 0);
    }

    /// <summary>An offline move (definition only) carries the records too; back to a, they follow again.</summary>
    [Fact]
    public async Task MigrateOffline_SharedStorageWithADiskOnlySnapshot_RecordFollowsTheDefinitionBothWays()
    {
        var disk = Path.Combine(_images, "cold.qcow2");
        ProcessRunner.Run("qemu-img", "create", "-q", "-f", "qcow2", disk, "16M");
        await DefineAsync("cold", disk);
        var create = await A.Daemon.CliAsync("snapshot", "create", "cold", "base", "--disk-only");
        Assert.True(create.ExitCode == 0, create.ToString());

        foreach (var (from, to) in new[] { (A, B), (B, A) })
        {
            var move = await from.Daemon.CliAsync("migrate", "cold", "--to", to.SshUri, "--offline", "--json");
            Assert.True(move.ExitCode == 0, move.ToString());
            var list = await ListAsync(to, "cold");
            Assert.Equal([("base", false, "ok")], list.Select(l => (l.Name, l.VmState, l.Status)));
            Assert.Empty(Directory.GetFiles(Path.Combine(from.Daemon.StateDirectory, "snapshots"), "*.json"));
        }
        var revert = await A.Daemon.CliAsync("snapshot", "revert", "cold", "base");
        Assert.True(revert.ExitCode == 0, revert.ToString());
    }

    /// <summary>
    /// a's record disagrees with its image (one snapshot deleted behind the daemon's back, another recorded with a VM state it
    /// lacks): b stores what the image holds, marks both records, logs them; the deleted one lists as missing there.
    /// </summary>
    [Fact]
    public async Task MigrateOffline_RecordTheImageDisagreesWith_MarkedOnBAndLoggedNotTrusted()
    {
        var disk = Path.Combine(_images, "odd.qcow2");
        ProcessRunner.Run("qemu-img", "create", "-q", "-f", "qcow2", disk, "16M");
        await DefineAsync("odd", disk);
        foreach (var name in new[] { "kept", "flipped", "gone" })
        {
            var create = await A.Daemon.CliAsync("snapshot", "create", "odd", name, "--disk-only");
            Assert.True(create.ExitCode == 0, create.ToString());
        }
        ProcessRunner.Run("qemu-img", "snapshot", "-d", "gone", disk);
        var catalogOnA = Assert.Single(Directory.GetFiles(Path.Combine(A.Daemon.StateDirectory, "snapshots"), "*.json"));
        var records = JsonNode.Parse(await File.ReadAllTextAsync(catalogOnA))!.AsArray();
        records.Single(r => r!["name"]!.GetValue<string>() == "flipped")!["vmState"] = true;
        await File.WriteAllTextAsync(catalogOnA, records.ToJsonString());

        var move = await A.Daemon.CliAsync("migrate", "odd", "--to", B.SshUri, "--offline", "--json");
        Assert.True(move.ExitCode == 0, move.ToString());

        var list = await ListAsync(B, "odd");
        Assert.Equal([("flipped", false, "ok"), ("gone", false, "missing"), ("kept", false, "ok")], list.Select(l => (l.Name, l.VmState, l.Status)).OrderBy(l => l.Name));
        var catalogOnB = Assert.Single(Directory.GetFiles(Path.Combine(B.Daemon.StateDirectory, "snapshots"), "*.json"));
        var problems = JsonNode.Parse(await File.ReadAllTextAsync(catalogOnB))!.AsArray()
            .ToDictionary(r => r!["name"]!.GetValue<string>(), r => r!["problem"]?.GetValue<string>());
        output.WriteLine(string.Join("\n", problems.Select(p => $"{p.Key}: {p.Value ?? "(none)"}")));
        Assert.Null(problems["kept"]);
        Assert.Contains("VM state", problems["flipped"]);
        Assert.Contains("did not hold it", problems["gone"]);
        Assert.Contains("snapshot flipped does not match", B.Daemon.Log);
        Assert.Contains("snapshot gone does not match", B.Daemon.Log);
        // a's job log says so too: the operator who moved it is told.
        Assert.Contains("found a snapshot record not matching its images (marked there, not trusted): gone:", A.Daemon.Log);
    }

    /// <summary>A move the destination refuses leaves a's record as it was.</summary>
    [Fact]
    public async Task MigrateOffline_RefusedByTheDestination_SourceKeepsItsRecord()
    {
        var disk = Path.Combine(_images, "stay.qcow2");
        ProcessRunner.Run("qemu-img", "create", "-q", "-f", "qcow2", disk, "16M");
        await DefineAsync("stay", disk);
        var create = await A.Daemon.CliAsync("snapshot", "create", "stay", "base", "--disk-only");
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal(0, (await B.Daemon.CliAsync("maintenance", "on")).ExitCode);

        var move = await A.Daemon.CliAsync("migrate", "stay", "--to", B.SshUri, "--offline");
        Assert.True(move.ExitCode != 0, move.ToString());
        Assert.Contains("maintenance", move.ToString());

        Assert.Equal([("base", false, "ok")], (await ListAsync(A, "stay")).Select(l => (l.Name, l.VmState, l.Status)));
        Assert.Empty(Directory.Exists(Path.Combine(B.Daemon.StateDirectory, "snapshots"))
            ? Directory.GetFiles(Path.Combine(B.Daemon.StateDirectory, "snapshots"), "*.json") : []);
    }

    private async Task DefineAsync(string name, string disk)
    {
        var definition = JsonNode.Parse(EngineHarness.GuestDefinition(name, 256, UpgradeDaemon.Domains.MemoryBacking.Private, 16))!.AsObject();
        definition["disks"] = new JsonArray(new JsonObject { ["path"] = disk, ["format"] = "qcow2" });
        var file = Path.Combine(A.Daemon.Root, name + ".json");
        await File.WriteAllTextAsync(file, definition.ToJsonString());
        var define = await A.Daemon.CliAsync("define", file);
        Assert.True(define.ExitCode == 0, define.ToString());
    }

    private static async Task<List<(string Name, bool VmState, string Status, string Created)>> ListAsync(TestHost host, string name)
    {
        var result = await host.Daemon.CliAsync("snapshot", "list", name, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json().EnumerateArray()
            .Select(l => (l.GetProperty("name").GetString()!, l.GetProperty("vmState").GetBoolean(), l.GetProperty("status").GetString()!,
                l.GetProperty("created").ToString()))
            .ToList();
    }
}
