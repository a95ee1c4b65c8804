using System.Text.Json;
using System.Text.Json.Nodes;
using LocalMigrate.UpgradeDaemon.Domains;
using LocalMigrate.UpgradeDaemon.Migration;
using LocalMigrate.UpgradeDaemon.Snapshots;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Snapshots;

/// <summary>qcow2 internal snapshots against real QEMU and real qemu-img: revert, list against the images, locking, local migration.</summary>
[Collection(RealQemuCollection.Name)]
public sealed class SnapshotTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task RevertSnapshot_VmStateOfARunningGuest_TheGuestCountsOnFromTheSnapshot()
    {
        await using var engine = new EngineHarness(output);
        // A read-only raw disk first: it is left out of the snapshot, and the VM state goes into disk 1, the qcow2.
        var readOnly = CreateImage(engine, "ro.img", "raw");
        var image = CreateImage(engine, "rv.qcow2", "qcow2");
        await engine.Domains.DefineAsync(Definition("rv", (readOnly, "raw", true), (image, "qcow2", false)), CancellationToken.None);
        await engine.Domains.StartAsync("rv", CancellationToken.None);
        var console = engine.Console("rv");
        await console.WaitForTicksAsync(0, 20, Slow);
        var snapshots = engine.Snapshots;

        var before = console.LastTick()!.Counter;
        var took = System.Diagnostics.Stopwatch.StartNew();
        await snapshots.CreateAsync("rv", "live", diskOnly: false, CancellationToken.None).WaitAsync(Slow);
        output.WriteLine($"VM-state snapshot of a 256 MiB guest: {took.ElapsedMilliseconds} ms");
        var after = console.LastTick()!.Counter;
        var counted = await console.WaitForTicksAsync(after, 100, Slow);
        var ticksBeforeRevert = console.Ticks().Count;

        took.Restart();
        await snapshots.RevertAsync("rv", "live", CancellationToken.None).WaitAsync(Slow);
        output.WriteLine($"revert: {took.ElapsedMilliseconds} ms");

        var first = await FirstTickAfterRevertAsync(console, ticksBeforeRevert);
        output.WriteLine($"snapshot taken between ticks {before} and {after}; counted to {counted.Counter}; first tick after revert {first.Counter}");
        Assert.InRange(first.Counter, before, after + 1);
        Assert.True(first.Counter < counted.Counter, $"the guest did not go back: {first.Counter} after {counted.Counter}");
        Assert.Equal(counted.BootId, first.BootId);
        var listing = Assert.Single(await snapshots.ListAsync("rv", CancellationToken.None));
        Assert.Equal(("live", true, SnapshotStatus.Ok), (listing.Name, listing.VmState, listing.Status));
        Assert.Equal([image], listing.Disks);
        Assert.Equal(["live"], ImageSnapshotNames(image));
        Assert.Empty(ImageSnapshotNames(readOnly));
    }

    [Fact]
    public async Task ListSnapshots_DiskOnlyWhileShutOff_MatchesQemuImgAndReportsWhatChangedBehindTheDaemon()
    {
        await using var engine = new EngineHarness(output);
        var image = CreateImage(engine, "d.qcow2", "qcow2");
        await engine.Domains.DefineAsync(DefinitionWithDisk("so", image, "qcow2"), CancellationToken.None);
        var snapshots = engine.Snapshots;

        await snapshots.CreateAsync("so", "d1", diskOnly: true, CancellationToken.None);
        await snapshots.CreateAsync("so", "d2", diskOnly: true, CancellationToken.None);
        Assert.Equal(["d1", "d2"], ImageSnapshotNames(image));
        var listed = await snapshots.ListAsync("so", CancellationToken.None);
        Assert.Equal([("d1", SnapshotStatus.Ok), ("d2", SnapshotStatus.Ok)], listed.Select(l => (l.Name, l.Status)));
        Assert.All(listed, l => Assert.Equal([image], l.Disks));

        var vmState = await Assert.ThrowsAsync<SnapshotException>(() => snapshots.CreateAsync("so", "vm", diskOnly: false, CancellationToken.None));
        Assert.Contains("not running", vmState.Message);

        ProcessRunner.Run("qemu-img", "snapshot", "-d", "d1", image);
        ProcessRunner.Run("qemu-img", "snapshot", "-c", "by-hand", image);
        listed = await snapshots.ListAsync("so", CancellationToken.None);
        Assert.Equal([("d1", SnapshotStatus.Missing), ("d2", SnapshotStatus.Ok), ("by-hand", SnapshotStatus.Untracked)],
            listed.Select(l => (l.Name, l.Status)));
        Assert.Equal([image], listed[0].MissingFrom);
        var revert = await Assert.ThrowsAsync<SnapshotException>(() => snapshots.RevertAsync("so", "d1", CancellationToken.None));
        Assert.Contains(image, revert.Message);

        await snapshots.DeleteAsync("so", "d1", CancellationToken.None);
        await snapshots.DeleteAsync("so", "by-hand", CancellationToken.None);
        await snapshots.RevertAsync("so", "d2", CancellationToken.None);
        await snapshots.DeleteAsync("so", "d2", CancellationToken.None);
        Assert.Empty(ImageSnapshotNames(image));
        Assert.Empty(await snapshots.ListAsync("so", CancellationToken.None));
        Assert.Empty(snapshots.Catalog.Read(engine.Registry.Get("so").Definition.Uuid));
    }

    [Fact]
    public async Task CreateSnapshot_DuringAMigration_IsRefusedAndAMigrationDuringASnapshotToo()
    {
        var gate = new HeldPhaseGate(MigrationPhase.Perform);
        await using var engine = new EngineHarness(output, gate: gate);
        await BootWithDiskAsync(engine, "lk", "qcow2");
        var snapshots = engine.Snapshots;
        var domain = engine.Registry.Get("lk");

        var job = engine.Migrations.Start("lk", MigrationKind.Local, new MigrationOptions());
        await gate.Reached.WaitAsync(Slow);
        var refused = await Assert.ThrowsAsync<DomainBusyException>(() => snapshots.CreateAsync("lk", "s", diskOnly: false, CancellationToken.None));
        Assert.Contains($"migration job {job.Id}", refused.Message);
        Assert.Contains("snapshot create s refused", refused.Message);
        // The target QEMU runs (-incoming defer) but must leave the image to the source until the switch: the source
        // can still write its qcow2 metadata, and the target reads it afresh when it takes the image over.
        Assert.Equal(1, engine.Registry.Shadow.Count);
        await domain.Active!.Qmp.ExecuteAsync("blockdev-snapshot-internal-sync",
            new Dictionary<string, object> { ["device"] = "disk0", ["name"] = "written-during-migration" });
        gate.Release();
        Assert.Equal(MigrationJobState.Completed, (await job.Completion.WaitAsync(Slow)).State);
        // The job completes, then lets go of the domain.
        await Poll.UntilAsync(() => domain.Lock.CurrentCount == 1, Slow, "the migration to release the domain");

        var create = snapshots.CreateAsync("lk", "held", diskOnly: false, CancellationToken.None);
        // Spins rather than sleeps: the save may take well under a polling period on an idle machine.
        var deadline = DateTime.UtcNow + Slow;
        while (domain.Operation is null && !create.IsCompleted && DateTime.UtcNow < deadline)
            await Task.Yield();
        if (create.IsCompleted)
            await create;
        Assert.False(create.IsCompleted, "the snapshot finished before the test could see it hold the domain");
        var busy = Assert.Throws<MigrationBusyException>(() => engine.Migrations.Start("lk", MigrationKind.Local, new MigrationOptions()));
        Assert.Contains("snapshot create held", busy.Message);
        await create.WaitAsync(Slow);
        Assert.Equal([("held", SnapshotStatus.Ok), ("written-during-migration", SnapshotStatus.Untracked)],
            (await snapshots.ListAsync("lk", CancellationToken.None)).Select(l => (l.Name, l.Status)));
        // Deleted through the new QEMU's own snapshot table: it holds the snapshot the source wrote before the switch.
        await snapshots.DeleteAsync("lk", "written-during-migration", CancellationToken.None).WaitAsync(Slow);
        Assert.Equal(["held"], ImageSnapshotNames(domain.Definition.Disks[0].Path));
        ProcessRunner.Run("qemu-img", "check", "--force-share", domain.Definition.Disks[0].Path);
    }

    [Fact]
    public async Task Migrate_Qcow2DiskWithSnapshots_SnapshotsSurviveAndRevertWorksOnTheNewQemu()
    {
        await using var engine = new EngineHarness(output);
        var console = await BootWithDiskAsync(engine, "mg", "qcow2");
        var snapshots = engine.Snapshots;
        var image = engine.Registry.Get("mg").Definition.Disks[0].Path;

        var before = console.LastTick()!.Counter;
        await snapshots.CreateAsync("mg", "live", diskOnly: false, CancellationToken.None).WaitAsync(Slow);
        var after = console.LastTick()!.Counter;
        await snapshots.CreateAsync("mg", "disk", diskOnly: true, CancellationToken.None).WaitAsync(Slow);
        var source = engine.Registry.Get("mg").Active!.Pid;

        var job = await engine.MigrateAsync("mg");
        Assert.True(job.State == MigrationJobState.Completed, job.Error);
        Assert.NotEqual(source, engine.Registry.Get("mg").Active!.Pid);
        Assert.Equal(["live", "disk"], ImageSnapshotNames(image));
        ProcessRunner.Run("qemu-img", "check", "--force-share", image);

        var counted = await console.WaitForTicksAsync(console.LastTick()!.Counter, 100, Slow);
        var ticksBeforeRevert = console.Ticks().Count;
        await snapshots.RevertAsync("mg", "live", CancellationToken.None).WaitAsync(Slow);
        var first = await FirstTickAfterRevertAsync(console, ticksBeforeRevert);
        Assert.InRange(first.Counter, before, after + 1);
        Assert.True(first.Counter < counted.Counter);

        var diskOnlyRevert = await Assert.ThrowsAsync<SnapshotException>(() => snapshots.RevertAsync("mg", "disk", CancellationToken.None));
        Assert.Contains("shut off", diskOnlyRevert.Message);
        await snapshots.DeleteAsync("mg", "disk", CancellationToken.None).WaitAsync(Slow);
        Assert.Equal(["live"], ImageSnapshotNames(image));
        Assert.Equal(["live"], (await snapshots.ListAsync("mg", CancellationToken.None)).Select(l => l.Name));
    }

    [Fact]
    public async Task CreateSnapshot_RawDisk_IsRefusedNamingTheDiskAndMigrationStillWorks()
    {
        await using var engine = new EngineHarness(output);
        var console = await BootWithDiskAsync(engine, "rw", "raw");
        var image = engine.Registry.Get("rw").Definition.Disks[0].Path;

        var e = await Assert.ThrowsAsync<SnapshotException>(() => engine.Snapshots.CreateAsync("rw", "s", diskOnly: false, CancellationToken.None));
        Assert.Contains($"disk 0 ({image}) is raw", e.Message);
        Assert.Contains("qcow2", e.Message);
        Assert.Equal(DomainState.Running, engine.Registry.Get("rw").State);

        var job = await engine.MigrateAsync("rw");
        Assert.True(job.State == MigrationJobState.Completed, job.Error);
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, Slow);
        console.AssertContinuous();
    }

    private static async Task<GuestConsole> BootWithDiskAsync(EngineHarness engine, string name, string format)
    {
        var image = CreateImage(engine, name + "." + format, format);
        await engine.Domains.DefineAsync(DefinitionWithDisk(name, image, format), CancellationToken.None);
        await engine.Domains.StartAsync(name, CancellationToken.None);
        var console = engine.Console(name);
        await console.WaitForTicksAsync(0, 20, Slow);
        return console;
    }

    /// <summary>
    /// The first tick whose counter is not above the one before it, from <paramref name="from"/> on: the guest's first
    /// tick from the restored RAM (ticks go on printing while the revert starts).
    /// </summary>
    private static async Task<GuestConsole.Tick> FirstTickAfterRevertAsync(GuestConsole console, int from)
    {
        GuestConsole.Tick? first = null;
        await Poll.UntilAsync(() =>
        {
            var ticks = console.Ticks();
            for (var i = Math.Max(1, from); i < ticks.Count; i++)
            {
                if (ticks[i].Counter <= ticks[i - 1].Counter)
                {
                    first = ticks[i];
                    return true;
                }
            }
            return false;
        }, Slow, "the guest's counter to go back after the revert");
        return first!;
    }

    private static string CreateImage(EngineHarness engine, string file, string format)
    {
        Directory.CreateDirectory(engine.Root);
        var path = Path.Combine(engine.Root, file);
        ProcessRunner.Run("qemu-img", "create", "-q", "-f", format, path, "16M");
        return path;
    }

    private static string DefinitionWithDisk(string name, string image, string format) => Definition(name, (image, format, false));

    private static string Definition(string name, params (string Path, string Format, bool ReadOnly)[] disks)
    {
        var definition = JsonNode.Parse(EngineHarness.GuestDefinition(name))!.AsObject();
        definition["disks"] = new JsonArray(disks.Select(d => (JsonNode)new JsonObject
            { ["path"] = d.Path, ["format"] = d.Format, ["readonly"] = d.ReadOnly }).ToArray());
        return definition.ToJsonString();
    }

    private static IReadOnlyList<string> ImageSnapshotNames(string image)
    {
        var info = ProcessRunner.Run("qemu-img", "info", "--force-share", "--output=json", image);
        using var document = JsonDocument.Parse(info.Stdout);
        return document.RootElement.TryGetProperty("snapshots", out var list)
            ? list.EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToList()
            : [];
    }
}
