using System.Text;
using System.Text.Json.Nodes;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using LocalMigrate.UpgradeDaemon.Tests.Support.Hosts;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote;

/// <summary>
/// Storage copy on a remote migration (copy_storage all and inc) between two test hosts, over ssh (PSK TLS on the
/// QEMU streams, NBD included), with the test guest writing a counter to its disk every 10 ms (lm.disk). Host b has
/// its own image directory: a tmpfs mounted over the same path in its daemon's mount namespace, so both hosts name a
/// disk by the same path and hold different files, as two real hosts do.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class StorageCopyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Slots = 16384;
    private const long CounterBytes = Slots * 512L;
    private const long DiskBytes = 64L << 20;
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(3);

    private readonly string _images = Directory.CreateTempSubdirectory("lm-images-").FullName;
    private readonly string _scratch = Directory.CreateTempSubdirectory("lm-scratch-").FullName;
    private TestHosts? _hosts;

    private TestHost A => _hosts!.A;
    private TestHost B => _hosts!.B;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_hosts is not null)
            await _hosts.DisposeAsync();
        Directory.Delete(_images, recursive: true);
        Directory.Delete(_scratch, recursive: true);
    }

    [Theory]
    [InlineData("all", "qcow2", "ssh")]
    [InlineData("all", "raw", "ssh")]
    [InlineData("inc", "qcow2", "ssh")]
    // tls://: the NBD export and the mirror use the hosts' X.509 credentials and the destination's tls-authz, as the RAM stream does.
    [InlineData("all", "qcow2", "tls")]
    public async Task Migrate_CopyStorage_DiskArrivesIdenticalAndNoGuestWriteIsLost(string mode, string format, string transport)
    {
        await StartHostsAsync("512m");
        using var pki = transport == "tls" ? TestPki.Create(A.Address, B.Address) : null;
        if (pki is not null)
        {
            // Both ends: a's daemon presents its client certificate, b's listens (before b's tmpfs gets any image).
            await A.RestartWithTlsAsync(pki.HostDirectory);
            await B.RestartWithTlsAsync(pki.HostDirectory);
        }
        var disk = Path.Combine(_images, $"disk.{format}");
        if (mode == "inc")
        {
            // The base is on both hosts (a golden image); the top layer holds what this guest made of it.
            var backing = Path.Combine(_images, "base.qcow2");
            await CreateImageAsync(backing, "qcow2");
            ProcessRunner.Run("qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2", disk);
            ProcessRunner.Run("qemu-io", "-f", "qcow2", "-c", $"write -P 0xab {16 << 20} {4 << 20}", disk);
            File.Copy(backing, OnB(backing));
        }
        else
        {
            await CreateImageAsync(disk, format);
        }
        var console = await BootWriterAsync("cs", disk, format);
        var before = await console.WaitForDiskWritesAsync(0, 50, Slow);

        var result = await A.Daemon.CliAsync("migrate", "cs", "--to", pki is null ? B.SshUri : B.TlsUri, "--copy-storage", mode, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var job = result.Json();
        Assert.Equal("completed", job.GetProperty("state").GetString());
        output.WriteLine($"copy-storage {mode} {format}: downtime {job.GetProperty("downtimeMs").GetInt64()} ms, total {job.GetProperty("totalMs").GetInt64()} ms");
        var lastOnA = console.DiskWrites().Last();

        var consoleB = B.Daemon.Console("cs");
        var tick = console.LastTick()!;
        await consoleB.WaitForTicksAsync(tick.Counter, 30, Slow);
        var lastOnB = await consoleB.WaitForDiskWritesAsync(lastOnA, 50, Slow);
        Assert.Equal("running", await StateAsync(B, "cs"));
        Assert.Null(await StateAsync(A, "cs"));
        Assert.Empty(A.Daemon.QemuProcesses());
        Assert.True(File.Exists(OnB(disk)), "no image on b");

        var stop = await B.Daemon.CliAsync("stop", "cs", "--force");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        await Poll.UntilAsync(() => B.Daemon.QemuProcesses().Count == 0, Slow, "b's QEMU to end");

        // Every write the guest reported, on either host, is in its slot: none lost at the switch, none undone.
        var onB = await CounterRegionAsync(disk, format);
        var newest = AssertCounters(onB, console.LastTick()!.BootId);
        output.WriteLine($"disk writes: {before} before the migration, {lastOnA} reported on a, {lastOnB} on b; newest on b's disk {newest}");
        Assert.True(newest >= lastOnB, $"b's disk ends at write {newest}, the guest reported {lastOnB}");
        Assert.True(newest - lastOnA < Slots, "the check window does not reach back to the switch");

        // Beyond the counter region the guest writes nothing: the two images must hold the same data there.
        var sourceCopy = Path.Combine(_scratch, "source." + format);
        File.Copy(disk, sourceCopy);
        var compare = await OnBAsync("qemu-img", "compare", "--image-opts", DataRegion(sourceCopy, format), DataRegion(disk, format));
        Assert.True(compare.ExitCode == 0, compare.ToString());
        if (format == "qcow2")
        {
            Assert.True((await OnBAsync("qemu-img", "check", disk)).ExitCode == 0);
            ProcessRunner.Run("qemu-img", "check", disk);
            if (mode == "inc")
            {
                var info = await OnBAsync("qemu-img", "info", disk);
                Assert.Contains("backing file: " + Path.Combine(_images, "base.qcow2"), info.Stdout);
            }
        }
    }

    [Fact]
    public async Task Cancel_DuringTheDiskCopy_SourceRunsOnItsOwnDiskAndTheDestinationImageIsGone()
    {
        await StartHostsAsync("512m");
        var disk = Path.Combine(_images, "disk.qcow2");
        await CreateImageAsync(disk, "qcow2");
        var console = await BootWriterAsync("cc", disk, "qcow2");
        await console.WaitForDiskWritesAsync(0, 20, Slow);

        // 2 MiB/s for 24 MiB of data: the copy takes long enough to be caught in the middle.
        var migrate = A.Daemon.StartCli("migrate", "cc", "--to", B.SshUri, "--copy-storage", "all", "--max-bandwidth", (2L << 20).ToString());
        await Poll.UntilAsync(() => File.Exists(OnB(disk)) && new FileInfo(OnB(disk)).Length > (2 << 20), Slow, "the copy to be under way");
        var cancel = await A.Daemon.CliAsync("cancel", "cc");
        await migrate.WaitForExitAsync().WaitAsync(Slow);

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.NotEqual(0, migrate.ExitCode);
        var error = await migrate.StandardError.ReadToEndAsync();
        output.WriteLine(error);
        Assert.Contains("cancelled", error);
        await AssertSourceKeepsItAsync("cc", disk, console);
    }

    [Fact]
    public async Task Migrate_DestinationDiskFull_FailsCleanlyAndTheSourceRunsOn()
    {
        // 8 MiB of space on b for 24 MiB of data: the NBD writes fail with ENOSPC in the middle of the copy.
        await StartHostsAsync("8m");
        var disk = Path.Combine(_images, "disk.qcow2");
        await CreateImageAsync(disk, "qcow2");
        var console = await BootWriterAsync("full", disk, "qcow2");
        await console.WaitForDiskWritesAsync(0, 20, Slow);

        var result = await A.Daemon.CliAsync("migrate", "full", "--to", B.SshUri, "--copy-storage", "all");

        output.WriteLine(result.ToString());
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("disk0", result.Stderr);
        Assert.Contains("No space left", result.Stderr);
        await AssertSourceKeepsItAsync("full", disk, console);
    }

    /// <summary>
    /// Issue 13 item 3: two internal snapshots (one with VM state, one disk-only) taken while the guest writes its disk
    /// arrive on b with the disk: same names and VM-state sizes, each snapshot's data identical, both revertible there.
    /// </summary>
    [Theory]
    [InlineData("all")]
    [InlineData("inc")]
    public async Task Migrate_CopyStorageWithTwoSnapshots_SnapshotsArriveIntactAndRevertOnTheDestination(string mode)
    {
        await StartHostsAsync("512m");
        var disk = Path.Combine(_images, "disk.qcow2");
        if (mode == "inc")
        {
            // The snapshots are in the top layer; the base is on both hosts.
            var backing = Path.Combine(_images, "base.qcow2");
            await CreateImageAsync(backing, "qcow2");
            ProcessRunner.Run("qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2", disk);
            File.Copy(backing, OnB(backing));
        }
        else
        {
            await CreateImageAsync(disk, "qcow2");
        }
        var console = await BootWriterAsync("sn", disk, "qcow2");
        await console.WaitForDiskWritesAsync(0, 50, Slow);

        var tickBefore = console.LastTick()!.Counter;
        var live = await A.Daemon.CliAsync("snapshot", "create", "sn", "live");
        var tickAfter = console.LastTick()!.Counter;
        Assert.True(live.ExitCode == 0, live.ToString());
        await console.WaitForDiskWritesAsync(console.DiskWrites().Last(), 50, Slow);
        var diskOnly = await A.Daemon.CliAsync("snapshot", "create", "sn", "disk", "--disk-only");
        Assert.True(diskOnly.ExitCode == 0, diskOnly.ToString());
        await console.WaitForDiskWritesAsync(console.DiskWrites().Last(), 50, Slow);
        var snapshotsOnA = await ImageSnapshotsAsync(disk, onB: false);
        Assert.Equal(["live", "disk"], snapshotsOnA.Select(s => s.Name));
        Assert.True(snapshotsOnA[0].VmStateSize > 0 && snapshotsOnA[1].VmStateSize == 0, string.Join(", ", snapshotsOnA));
        var sumsOnA = new Dictionary<string, string>();
        foreach (var (name, _) in snapshotsOnA)
            sumsOnA[name] = await SnapshotChecksumAsync(disk, name, onB: false);
        Assert.NotEqual(sumsOnA["live"], sumsOnA["disk"]);

        var result = await A.Daemon.CliAsync("migrate", "sn", "--to", B.SshUri, "--copy-storage", mode, "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var job = result.Json();
        Assert.Equal("completed", job.GetProperty("state").GetString());
        output.WriteLine($"copy-storage {mode}, qcow2 with 2 snapshots ({new FileInfo(disk).Length >> 20} MiB file): downtime {job.GetProperty("downtimeMs").GetInt64()} ms, " +
                         $"total {job.GetProperty("totalMs").GetInt64()} ms");
        var lastOnA = console.DiskWrites().Last();
        var consoleB = B.Daemon.Console("sn");
        await consoleB.WaitForDiskWritesAsync(lastOnA, 50, Slow);
        Assert.Equal("running", await StateAsync(B, "sn"));
        Assert.Empty(A.Daemon.QemuProcesses());
        Assert.False(File.Exists(disk + ".lm-overlay"), "a's overlay is left");
        Assert.False(File.Exists(OnB(disk) + ".lm-overlay"), "b's overlay is left");

        // One qcow2 on b (over the same backing file for inc), holding both snapshots as a had them, each with the same data.
        var infoB = await OnBAsync("qemu-img", "info", "-U", disk);
        if (mode == "inc")
            Assert.Contains("backing file: " + Path.Combine(_images, "base.qcow2"), infoB.Stdout);
        else
            Assert.DoesNotContain("backing file", infoB.Stdout);
        Assert.Equal(snapshotsOnA, await ImageSnapshotsAsync(disk, onB: true));
        foreach (var (name, sum) in sumsOnA)
            Assert.Equal(sum, await SnapshotChecksumAsync(disk, name, onB: true));
        // b's daemon recorded them from the arrived image, and its list agrees with qemu-img there.
        var list = (await B.Daemon.CliAsync("snapshot", "list", "sn", "--json")).Json();
        Assert.Equal([("disk", false, "ok"), ("live", true, "ok")], list.EnumerateArray()
            .Select(l => (l.GetProperty("name").GetString(), l.GetProperty("vmState").GetBoolean(), l.GetProperty("status").GetString()))
            .OrderBy(l => l.Item1));

        // The VM-state snapshot on b: the guest goes back to its tick counter of that instant, and counts (and writes) on.
        await consoleB.WaitForTicksAsync(consoleB.LastTick()!.Counter, 20, Slow);
        var ticksBeforeRevert = consoleB.Ticks().Count;
        var revert = await B.Daemon.CliAsync("snapshot", "revert", "sn", "live");
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
        await consoleB.WaitForTicksAsync(first.Counter, 20, Slow);

        // The disk-only snapshot, reverted shut off: the disk holds that snapshot's data again.
        var stop = await B.Daemon.CliAsync("stop", "sn", "--force");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        await Poll.UntilAsync(() => B.Daemon.QemuProcesses().Count == 0, Slow, "b's QEMU to end");
        var revertDisk = await B.Daemon.CliAsync("snapshot", "revert", "sn", "disk");
        Assert.True(revertDisk.ExitCode == 0, revertDisk.ToString());
        Assert.Equal(sumsOnA["disk"], await ActiveChecksumAsync(disk));

        Assert.True((await OnBAsync("qemu-img", "check", disk)).ExitCode == 0);
        ProcessRunner.Run("qemu-img", "check", disk);
        Assert.Equal(snapshotsOnA, await ImageSnapshotsAsync(disk, onB: false));
    }

    /// <summary>Issue 13 item 4 with snapshots: a cancel in the middle of the copy merges a's overlay back; nothing is left on b.</summary>
    [Fact]
    public async Task Cancel_DuringASnapshotCarryingCopy_SourceKeepsItsDiskWithBothSnapshotsAndNoOverlay()
    {
        await StartHostsAsync("512m");
        var (disk, console, snapshotsBefore) = await BootWriterWithTwoSnapshotsAsync("sc");
        var sumsBefore = new Dictionary<string, string>();
        foreach (var (name, _) in snapshotsBefore)
            sumsBefore[name] = await SnapshotChecksumAsync(disk, name, onB: false);

        // 2 MiB/s for a file of tens of MiB: the copy takes long enough to be caught in the middle.
        var migrate = A.Daemon.StartCli("migrate", "sc", "--to", B.SshUri, "--copy-storage", "all", "--max-bandwidth", (2L << 20).ToString());
        var copying = await WaitForDiskCopyAsync("sc");
        Assert.True(File.Exists(disk + ".lm-overlay"), "no overlay on a while its image is copied");
        var cancel = await A.Daemon.CliAsync("cancel", "sc");
        output.WriteLine($"cancelled at {copying.GetProperty("dataTransferred").GetInt64() >> 20} MiB of disk copied, {copying.GetProperty("dataRemaining").GetInt64() >> 20} MiB to go (disk and RAM)");
        await migrate.WaitForExitAsync().WaitAsync(Slow);

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.NotEqual(0, migrate.ExitCode);
        var error = await migrate.StandardError.ReadToEndAsync();
        output.WriteLine(error);
        Assert.Contains("cancelled", error);
        Assert.False(File.Exists(disk + ".lm-overlay"), "a's overlay was not merged back and removed");
        Assert.False(File.Exists(OnB(disk) + ".lm-overlay"), "b kept the overlay it created");
        // The guest's writes during the copy went into the overlay and came back with it (AssertSourceKeepsItAsync checks
        // every counter), and the image is one qcow2 again with both snapshots as they were.
        await AssertSourceKeepsItAsync("sc", disk, console);
        Assert.Equal(snapshotsBefore, await ImageSnapshotsAsync(disk, onB: false));
        foreach (var (name, sum) in sumsBefore)
            Assert.Equal(sum, await SnapshotChecksumAsync(disk, name, onB: false));
    }

    /// <summary>Issue 13 item 4 with snapshots: b's disk fills during the copy of the image's file; a merges its overlay back and runs on.</summary>
    [Fact]
    public async Task Migrate_DestinationDiskFullDuringASnapshotCarryingCopy_FailsCleanlyAndTheSourceKeepsItsSnapshots()
    {
        await StartHostsAsync("8m");
        var (disk, console, snapshotsBefore) = await BootWriterWithTwoSnapshotsAsync("sf");

        var result = await A.Daemon.CliAsync("migrate", "sf", "--to", B.SshUri, "--copy-storage", "all");

        output.WriteLine(result.ToString());
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("No space left", result.Stderr);
        Assert.False(File.Exists(disk + ".lm-overlay"), "a's overlay was not merged back and removed");
        Assert.False(File.Exists(OnB(disk) + ".lm-overlay"), "b kept the overlay it created");
        await AssertSourceKeepsItAsync("sf", disk, console);
        Assert.Equal(snapshotsBefore, await ImageSnapshotsAsync(disk, onB: false));
    }

    /// <summary>
    /// A daemon killed in the middle of a snapshot-carrying copy: the restarted one finds the job in its journal, merges the
    /// overlay back into the image and resumes the guest there; b drops what it made.
    /// </summary>
    [Fact]
    public async Task Sigkill_SourceDaemonDuringASnapshotCarryingCopy_RestartMergesTheOverlayBack()
    {
        await StartHostsAsync("512m");
        var (disk, console, snapshotsBefore) = await BootWriterWithTwoSnapshotsAsync("sk");

        var started = await A.Daemon.CliAsync("migrate", "sk", "--to", B.SshUri, "--copy-storage", "all", "--max-bandwidth", (2L << 20).ToString(), "--detach");
        Assert.True(started.ExitCode == 0, started.ToString());
        await WaitForDiskCopyAsync("sk");
        Assert.True(File.Exists(disk + ".lm-overlay"), "no overlay on a while its image is copied");
        await A.Daemon.KillAsync();
        await A.Daemon.StartAsync();

        await Poll.UntilAsync(() => !File.Exists(disk + ".lm-overlay"), Slow, "the restarted daemon to merge a's overlay back");
        Assert.Equal("running", await StateAsync(A, "sk"));
        await Poll.UntilAsync(() => !File.Exists(OnB(disk)), Slow, "b to drop the image it made (abort or lease)");
        // b deletes its overlay before the image it is layered on: the image gone, the overlay is too.
        Assert.False(File.Exists(OnB(disk) + ".lm-overlay"), "b kept the overlay it created");
        await AssertSourceKeepsItAsync("sk", disk, console);
        Assert.Equal(snapshotsBefore, await ImageSnapshotsAsync(disk, onB: false));
    }

    /// <summary>Until a's running job of <paramref name="name"/> reports some disk bytes copied; returns that job.</summary>
    private async Task<System.Text.Json.JsonElement> WaitForDiskCopyAsync(string name)
    {
        System.Text.Json.JsonElement copying = default;
        await Poll.UntilAsync(async () =>
        {
            var jobs = (await A.Daemon.CliAsync("jobs", "--json")).Json();
            foreach (var job in jobs.EnumerateArray())
            {
                if (job.GetProperty("domain").GetString() == name && job.GetProperty("state").GetString() == "running"
                    && job.GetProperty("dataTransferred").GetInt64() > (4 << 20))
                {
                    copying = job.Clone();
                    return true;
                }
            }
            return false;
        }, Slow, "the copy of the image's file to be under way");
        return copying;
    }

    /// <summary>The image's internal snapshots as qemu-img info lists them: name and VM-state size, in order.</summary>
    private async Task<List<(string Name, long VmStateSize)>> ImageSnapshotsAsync(string disk, bool onB)
    {
        string[] info = ["qemu-img", "info", "-U", "--output=json", disk];
        var result = onB ? await OnBAsync(info[0], info[1..]) : await ProcessRunner.RunAsync(info[0], info[1..]);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(result.Stdout);
        return json.RootElement.TryGetProperty("snapshots", out var snapshots)
            ? snapshots.EnumerateArray().Select(s => (s.GetProperty("name").GetString()!, s.GetProperty("vm-state-size").GetInt64())).ToList()
            : [];
    }

    /// <summary>SHA-256 of what the guest saw on the disk when <paramref name="snapshot"/> was taken.</summary>
    private async Task<string> SnapshotChecksumAsync(string disk, string snapshot, bool onB) =>
        await ChecksumOfAsync(["-l", $"snapshot.name={snapshot}"], disk, onB);

    /// <summary>SHA-256 of what the guest sees on the disk now (b's, shut off).</summary>
    private async Task<string> ActiveChecksumAsync(string disk) => await ChecksumOfAsync([], disk, onB: true);

    private async Task<string> ChecksumOfAsync(string[] select, string disk, bool onB)
    {
        var raw = Path.Combine(_scratch, $"snap-{Guid.NewGuid():N}.raw");
        string[] convert = ["qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", .. select, disk, raw];
        var result = onB ? await OnBAsync(convert[0], convert[1..]) : await ProcessRunner.RunAsync(convert[0], convert[1..]);
        Assert.True(result.ExitCode == 0, result.ToString());
        await using var file = File.OpenRead(raw);
        var sum = Convert.ToHexString(await System.Security.Cryptography.SHA256.HashDataAsync(file));
        File.Delete(raw);
        return sum;
    }

    [Fact]
    public async Task Migrate_CopyStorageOverAnExistingImage_RefusedAndTheImageThereIsKept()
    {
        await StartHostsAsync("512m");
        var disk = Path.Combine(_images, "disk.qcow2");
        await CreateImageAsync(disk, "qcow2");
        File.WriteAllText(OnB(disk), "another guest's image");
        var console = await BootWriterAsync("exists", disk, "qcow2");

        var result = await A.Daemon.CliAsync("migrate", "exists", "--to", B.SshUri, "--copy-storage", "all");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("never overwrites", result.Stderr);
        Assert.Equal("another guest's image", File.ReadAllText(OnB(disk)));
        Assert.Equal("running", await StateAsync(A, "exists"));
        await console.WaitForDiskWritesAsync(console.DiskWrites().Last(), 20, Slow);
    }

    /// <summary>
    /// Disk-copy throughput of a migration with copy_storage all against a plain <c>qemu-img convert</c> into a
    /// <c>qemu-nbd</c> export on b, both over PSK TLS on the same link, for 256 MiB of random data (nothing to skip).
    /// The mirror's own figure is the daemon's "in step with the destination" log line in this test's output.
    /// </summary>
    [Fact]
    [Trait("Category", "Bench")]
    public async Task Bench_CopyStorageAgainstQemuImgConvertOverNbd()
    {
        await StartHostsAsync("1g");
        const long Bytes = 256L << 20;
        var disk = Path.Combine(_images, "bench.raw");
        var random = new byte[Bytes];
        Random.Shared.NextBytes(random);
        await File.WriteAllBytesAsync(disk, random);

        var psk = Path.Combine(_scratch, "psk");
        Directory.CreateDirectory(psk);
        await File.WriteAllTextAsync(Path.Combine(psk, "keys.psk"), "qemu:" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        var target = Path.Combine(_images, "nbd-target.raw");
        await using (var file = File.Create(OnB(target)))
            file.SetLength(Bytes);
        var pidFile = Path.Combine(_scratch, "qemu-nbd.pid");
        var server = await ProcessRunner.RunAsync("nsenter", ["-t", B.Daemon.Pid.ToString(), "-m", "-n", "qemu-nbd", "--fork", "--pid-file", pidFile,
            "-f", "raw", "-b", "0.0.0.0", "-p", "10809", "-x", "bench", "--object", $"tls-creds-psk,id=tls0,endpoint=server,dir={psk}", "--tls-creds", "tls0",
            target]);
        Assert.True(server.ExitCode == 0, server.ToString());
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var convert = await A.Network.RunAsync("qemu-img", "convert", "-n", "-f", "raw", "--object",
                $"tls-creds-psk,id=tls0,endpoint=client,dir={psk},username=qemu", "--target-image-opts", disk,
                $"driver=nbd,server.type=inet,server.host={B.Address},server.port=10809,export=bench,tls-creds=tls0");
            var seconds = clock.Elapsed.TotalSeconds;
            Assert.True(convert.ExitCode == 0, convert.ToString());
            output.WriteLine($"BENCH qemu-img convert over NBD (PSK TLS): {Bytes >> 20} MiB in {seconds:0.00} s = {(Bytes >> 20) / seconds:0.0} MiB/s");
        }
        finally
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var nbdPid))
                System.Diagnostics.Process.GetProcessById(nbdPid).Kill();
        }
        File.Delete(OnB(target));

        var console = await BootWriterAsync("bench", disk, "raw");
        var result = await A.Daemon.CliAsync("migrate", "bench", "--to", B.SshUri, "--copy-storage", "all", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var job = result.Json();
        output.WriteLine($"BENCH migrate --copy-storage all, {Bytes >> 20} MiB disk + 256 MiB guest: total {job.GetProperty("totalMs").GetInt64()} ms, " +
                         $"downtime {job.GetProperty("downtimeMs").GetInt64()} ms (disk rate: the 'in step' line above)");
        await B.Daemon.Console("bench").WaitForTicksAsync(console.LastTick()!.Counter, 20, Slow);
    }

    /// <summary>Two hosts; b's daemon (and its QEMUs) see a tmpfs of <paramref name="bImagesSize"/> at the image directory.</summary>
    /// <summary>A qcow2 disk on a, the guest writing its counter to it, and two snapshots: "live" (with VM state) and "disk"
    /// (disk-only). Returns the disk, the guest's console and what qemu-img info lists.</summary>
    private async Task<(string Disk, GuestConsole Console, List<(string Name, long VmStateSize)> Snapshots)> BootWriterWithTwoSnapshotsAsync(string name)
    {
        var disk = Path.Combine(_images, "disk.qcow2");
        await CreateImageAsync(disk, "qcow2");
        var console = await BootWriterAsync(name, disk, "qcow2");
        await console.WaitForDiskWritesAsync(0, 20, Slow);
        Assert.True((await A.Daemon.CliAsync("snapshot", "create", name, "live")).ExitCode == 0);
        Assert.True((await A.Daemon.CliAsync("snapshot", "create", name, "disk", "--disk-only")).ExitCode == 0);
        return (disk, console, await ImageSnapshotsAsync(disk, onB: false));
    }

    private async Task StartHostsAsync(string bImagesSize) =>
        _hosts = await TestHosts.StartAsync(output, 2, launchers: label => label == "b"
            ? ["sh", "-c", $"mount -t tmpfs -o size={bImagesSize},mode=0755 lm-images {_images} && exec \"$@\"", "sh"]
            : null);

    /// <summary>A file of b's image directory, as this process reaches it: through b's daemon's root.</summary>
    private string OnB(string path) => $"/proc/{B.Daemon.Pid}/root{path}";

    /// <summary>Runs a program in b's mount namespace (backing files then resolve as b's QEMU sees them).</summary>
    private Task<CommandResult> OnBAsync(string program, params string[] args) =>
        ProcessRunner.RunAsync("nsenter", ["-t", B.Daemon.Pid.ToString(), "-m", program, .. args], timeout: Slow);

    /// <summary>64 MiB: the counter region (8 MiB of zeros), then 24 MiB of random data, then unallocated space.</summary>
    private async Task CreateImageAsync(string path, string format)
    {
        var raw = Path.Combine(_scratch, Path.GetFileName(path) + ".raw");
        await using (var file = File.Create(raw))
        {
            file.SetLength(DiskBytes);
            file.Position = CounterBytes;
            var random = new byte[24 << 20];
            Random.Shared.NextBytes(random);
            await file.WriteAsync(random);
        }
        ProcessRunner.Run("qemu-img", "convert", "-q", "-f", "raw", "-O", format, raw, path);
        File.Delete(raw);
    }

    private async Task<GuestConsole> BootWriterAsync(string name, string disk, string format)
    {
        var definition = JsonNode.Parse(EngineHarness.GuestDefinition(name, 256, UpgradeDaemon.Domains.MemoryBacking.Private, 16))!.AsObject();
        definition["cmdline"] = definition["cmdline"]!.GetValue<string>() + " lm.disk=/dev/vda";
        definition["disks"] = new JsonArray(new JsonObject { ["path"] = disk, ["format"] = format });
        var file = Path.Combine(A.Daemon.Root, name + ".json");
        await File.WriteAllTextAsync(file, definition.ToJsonString());
        var define = await A.Daemon.CliAsync("define", file);
        Assert.True(define.ExitCode == 0, define.ToString());
        var start = await A.Daemon.CliAsync("start", name);
        Assert.True(start.ExitCode == 0, start.ToString());
        var console = A.Daemon.Console(name);
        await console.WaitForTicksAsync(0, 20, Slow);
        return console;
    }

    /// <summary>After a failed or cancelled copy: the guest runs on a, on its own disk, still writing; b holds nothing.</summary>
    private async Task AssertSourceKeepsItAsync(string name, string disk, GuestConsole console)
    {
        Assert.Equal("running", await StateAsync(A, name));
        Assert.Null(await StateAsync(B, name));
        await Poll.UntilAsync(() => B.Daemon.QemuProcesses().Count == 0, Slow, "no QEMU on b");
        Assert.False(File.Exists(OnB(disk)), "b kept the image it created");
        var last = console.DiskWrites().Last();
        await console.WaitForDiskWritesAsync(last, 50, Slow);
        var stop = await A.Daemon.CliAsync("stop", name, "--force");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        await Poll.UntilAsync(() => A.Daemon.QemuProcesses().Count == 0, Slow, "a's QEMU to end");
        ProcessRunner.Run("qemu-img", "check", disk);
        var region = ProcessRunner.Run("qemu-img", "info", disk).Stdout;
        Assert.DoesNotContain("backing file", region);
        var newest = AssertCounters(await CounterRegionAsync(disk, "qcow2", onB: false), console.LastTick()!.BootId);
        Assert.True(newest >= console.DiskWrites().Last());
    }

    /// <summary>The first 8 MiB as the guest sees them (qcow2 read through qemu-img, in b's namespace unless told otherwise).</summary>
    private async Task<byte[]> CounterRegionAsync(string disk, string format, bool onB = true)
    {
        var raw = Path.Combine(_scratch, $"region-{Guid.NewGuid():N}.raw");
        string[] convert = ["qemu-img", "dd", "-f", format, "-O", "raw", $"if={disk}", $"of={raw}", "bs=512", $"count={Slots}"];
        var result = onB ? await OnBAsync(convert[0], convert[1..]) : await ProcessRunner.RunAsync(convert[0], convert[1..]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var bytes = await File.ReadAllBytesAsync(raw);
        File.Delete(raw);
        return bytes;
    }

    /// <summary>Every counter in (newest - slots, newest] is in its slot: no write lost or undone. Returns the newest.</summary>
    private static long AssertCounters(byte[] region, string bootId)
    {
        var slots = new long[Slots];
        for (var i = 0; i < Slots; i++)
        {
            var text = Encoding.ASCII.GetString(region, i * 512, 64).TrimEnd('\0');
            if (text.Length == 0)
                continue;
            var parts = text.TrimEnd('\n').Split(' ');
            Assert.True(parts.Length == 3 && parts[0] == "LMDISK" && parts[2] == bootId, $"slot {i}: '{text}'");
            slots[i] = long.Parse(parts[1]);
            Assert.Equal(i, (int)(slots[i] % Slots));
        }
        var newest = slots.Max();
        Assert.True(newest > 0, "the guest wrote nothing to its disk");
        for (var c = Math.Max(1, newest - Slots + 1); c <= newest; c++)
            Assert.True(slots[c % Slots] == c, $"write {c} is missing: its slot holds {slots[c % Slots]} (newest {newest})");
        return newest;
    }

    /// <summary>The image past the counter region, as qemu-img --image-opts names it.</summary>
    private static string DataRegion(string path, string format) => format == "qcow2"
        ? $"driver=raw,offset={CounterBytes},file.driver=qcow2,file.file.driver=file,file.file.filename={path}"
        : $"driver=raw,offset={CounterBytes},file.driver=file,file.filename={path}";

    private static async Task<string?> StateAsync(TestHost host, string name)
    {
        var list = (await host.Daemon.CliAsync("list", "--json")).Json();
        foreach (var domain in list.EnumerateArray())
        {
            if (domain.GetProperty("name").GetString() == name)
                return domain.GetProperty("state").GetString();
        }
        return null;
    }
}
