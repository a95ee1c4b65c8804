using System.Text.Json.Nodes;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Snapshots;

/// <summary><c>localmigrate snapshot ...</c> end to end: the CLI, the D-Bus methods, the daemon, qemu-img.</summary>
[Collection(RealQemuCollection.Name)]
public sealed class SnapshotCliTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonProcess _daemon = new(output);

    public Task InitializeAsync() => _daemon.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    [Fact]
    public async Task Snapshot_CreateListRevertDeleteOnAShutOffDomain_EachVerbWorksAndListsJson()
    {
        var image = Path.Combine(_daemon.Root, "c.qcow2");
        ProcessRunner.Run("qemu-img", "create", "-q", "-f", "qcow2", image, "16M");
        var definition = JsonNode.Parse(EngineHarness.GuestDefinition("cs"))!.AsObject();
        definition["disks"] = new JsonArray(new JsonObject { ["path"] = image, ["format"] = "qcow2" });
        var file = Path.Combine(_daemon.Root, "cs.json");
        await File.WriteAllTextAsync(file, definition.ToJsonString());
        Assert.Equal(0, (await _daemon.CliAsync("define", file)).ExitCode);

        var create = await _daemon.CliAsync("snapshot", "create", "cs", "s1", "--disk-only");
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Contains("created snapshot s1 of cs", create.Stdout);
        var list = (await _daemon.CliAsync("snapshot", "list", "cs", "--json")).Json();
        var entry = Assert.Single(list.EnumerateArray());
        Assert.Equal("s1", entry.GetProperty("name").GetString());
        Assert.Equal("ok", entry.GetProperty("status").GetString());
        Assert.False(entry.GetProperty("vmState").GetBoolean());
        Assert.Equal(image, Assert.Single(entry.GetProperty("disks").EnumerateArray()).GetString());
        Assert.True(DateTimeOffset.Parse(entry.GetProperty("created").GetString()!) > DateTimeOffset.UtcNow.AddHours(-1));

        var table = await _daemon.CliAsync("snapshot", "list", "cs");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("disk-only", table.Stdout);

        var vmState = await _daemon.CliAsync("snapshot", "create", "cs", "s2");
        Assert.Equal(1, vmState.ExitCode);
        Assert.Contains("not running", vmState.Stderr);
        var badName = await _daemon.CliAsync("snapshot", "create", "cs", "a b", "--disk-only");
        Assert.Equal(2, badName.ExitCode);
        Assert.Contains("'a b'", badName.Stderr);
        var unknown = await _daemon.CliAsync("snapshot", "revert", "cs", "nope");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no recorded snapshot 'nope'", unknown.Stderr);

        Assert.Equal(0, (await _daemon.CliAsync("snapshot", "revert", "cs", "s1")).ExitCode);
        var delete = await _daemon.CliAsync("snapshot", "delete", "cs", "s1");
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Empty((await _daemon.CliAsync("snapshot", "list", "cs", "--json")).Json().EnumerateArray());
        Assert.DoesNotContain("snapshots", ProcessRunner.Run("qemu-img", "info", "--force-share", "--output=json", image).Stdout);
    }
}
