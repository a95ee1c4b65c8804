using System.Diagnostics;
using System.Text.Json;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Migration;

/// <summary>
/// The fault matrix of a real daemon process: SIGKILL in every phase (held there by
/// LOCALMIGRATE_TEST_PAUSE_AT_PHASE, journaled but not acted on), SIGTERM with VMs running, a vanished QMP socket,
/// a full state disk. After each: exactly one QEMU per VM, the guest still counting, nothing left over.
/// </summary>
[Collection(RealQemuCollection.Name)]
public sealed class DaemonCrashTests(ITestOutputHelper output)
{
    private static JsonElement Json(CommandResult result) => result.Json();

    /// <param name="pause">A phase (held there, journaled, not acted on) or <c>Confirm.STEP</c> (held right after that step of Confirm).</param>
    /// <param name="survivor">Which instance must hold the guest afterwards: the source (rolled back) or the target (committed).</param>
    [Theory]
    [InlineData("Begin", "source")]
    [InlineData("Prepare", "source")]
    [InlineData("Perform", "source")]
    [InlineData("Finish", "target")]
    [InlineData("Confirm", "target")]
    [InlineData("Confirm.TargetVerified", "target")]
    [InlineData("Confirm.TargetPromoted", "target")]
    [InlineData("Confirm.SourceQuitSent", "target")]
    [InlineData("Confirm.SourceExited", "target")]
    [InlineData("Confirm.SourceDirectoryRemoved", "target")]
    public async Task Sigkill_HeldAtPhase_RestartResolvesToOneInstanceHoldingTheGuest(string pause, string survivor)
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync(new Dictionary<string, string> { ["LOCALMIGRATE_TEST_PAUSE_AT_PHASE"] = pause });
        var console = await daemon.BootGuestAsync("crash");
        var sourcePid = Json(await daemon.CliAsync("status", "crash", "--json")).GetProperty("pid").GetInt32();

        using var migrate = daemon.StartCli("migrate", "crash");
        var phase = pause.Split('.')[0];
        var job = await WaitForJobAsync(daemon, j => j.GetProperty("phase").GetString() == phase);
        var jobId = job.GetProperty("job").GetString()!;
        if (pause.Contains('.'))
        {
            await Poll.UntilAsync(() => daemon.Log.Contains($"Confirm step {pause.Split('.')[1]} done"), TimeSpan.FromSeconds(60), pause);
        }
        else
        {
            var before = Json(await daemon.CliAsync("list", "--json"))[0].GetProperty("pid").GetInt32();
            Assert.Equal(sourcePid, before);
        }
        await daemon.KillAsync();
        migrate.Kill();

        await daemon.StartAsync();
        await AssertOneInstanceHoldsTheGuestAsync(daemon, "crash", console, jobId, pause, survivor == "source" ? sourcePid : null);
    }

    /// <summary>
    /// Issue 11's reproduction: held at Confirm, SIGKILLed, and the target's instance.json rewritten to "active" by hand,
    /// the state a SIGKILL right after the promote's file write leaves. Both files now claim the guest; the journal decides.
    /// </summary>
    [Fact]
    public async Task Sigkill_AtConfirmWithBothInstanceFilesSayingActive_TheJournalKeepsTheTargetAlone()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync(new Dictionary<string, string> { ["LOCALMIGRATE_TEST_PAUSE_AT_PHASE"] = "Confirm" });
        var console = await daemon.BootGuestAsync("both");
        var sourcePid = Json(await daemon.CliAsync("status", "both", "--json")).GetProperty("pid").GetInt32();
        using var migrate = daemon.StartCli("migrate", "both");
        var jobId = (await WaitForJobAsync(daemon, j => j.GetProperty("phase").GetString() == "Confirm")).GetProperty("job").GetString()!;
        await daemon.KillAsync();
        migrate.Kill();

        var files = Directory.GetDirectories(daemon.RuntimeDirectory, "both.*").Select(d => Path.Combine(d, "instance.json")).ToList();
        Assert.Equal(2, files.Count);
        foreach (var file in files)
            File.WriteAllText(file, File.ReadAllText(file).Replace("\"role\": \"incoming\"", "\"role\": \"active\""));
        Assert.All(files, f => Assert.Contains("\"role\": \"active\"", File.ReadAllText(f)));

        await daemon.StartAsync();
        await AssertOneInstanceHoldsTheGuestAsync(daemon, "both", console, jobId, "Confirm", sourcePidIfRolledBack: null);
        Assert.DoesNotContain("no QEMU instance holds the guest", daemon.Log);
    }

    /// <summary>
    /// After a restart: exactly one QEMU, the expected one, registered and running; one runtime dir; the job listed with
    /// a truthful end; the guest still counting; and the domain usable (another migration goes through).
    /// </summary>
    private async Task AssertOneInstanceHoldsTheGuestAsync(DaemonProcess daemon, string name, GuestConsole console, string jobId, string pause,
        int? sourcePidIfRolledBack)
    {
        var pid = Assert.Single(daemon.QemuProcesses());
        if (sourcePidIfRolledBack is { } sourcePid)
            Assert.Equal(sourcePid, pid);
        var domain = Json(await daemon.CliAsync("list", "--json"))[0];
        Assert.Equal(pid, domain.GetProperty("pid").GetInt32());
        Assert.Equal("running", domain.GetProperty("state").GetString());
        Assert.Single(Directory.GetDirectories(daemon.RuntimeDirectory), d => Path.GetFileName(d).StartsWith(name + ".", StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.GetDirectories(daemon.RuntimeDirectory), d => !Path.GetFileName(d).StartsWith(name + ".", StringComparison.Ordinal)
                                                                                   && !Path.GetFileName(d).StartsWith("probe.", StringComparison.Ordinal));

        var recovered = Json(await daemon.CliAsync("jobs", "--json")).EnumerateArray().Single(j => j.GetProperty("job").GetString() == jobId);
        output.WriteLine($"{pause}: {recovered}");
        if (sourcePidIfRolledBack is not null)
        {
            Assert.Equal("failed", recovered.GetProperty("state").GetString());
            Assert.Contains($"daemon restarted in phase {pause}; rolled back", recovered.GetProperty("error").GetString());
        }
        else
        {
            Assert.Equal("completed", recovered.GetProperty("state").GetString());
        }
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 30, TimeSpan.FromSeconds(30));
        console.AssertContinuous();

        // The domain is fully usable again: another migration goes through.
        var again = Json(await daemon.CliAsync("migrate", name, "--json"));
        Assert.Equal("completed", again.GetProperty("state").GetString());
        Assert.Single(daemon.QemuProcesses());
    }

    [Fact]
    public async Task Sigkill_DuringACopyInFlight_RestartLeavesOneInstanceAndTheGuestCounting()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        var console = await daemon.BootGuestAsync("inflight", 256, "private", patternMiB: 96);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        using var migrate = daemon.StartCli("migrate", "inflight", "--max-bandwidth", (8L << 20).ToString());
        await WaitForJobAsync(daemon, j => j.GetProperty("phase").GetString() == "Perform" && j.GetProperty("progress").GetDouble() > 10);
        Assert.Equal(2, daemon.QemuProcesses().Count);
        await daemon.KillAsync();
        migrate.Kill();

        await daemon.StartAsync();
        var pid = Assert.Single(daemon.QemuProcesses());
        Assert.Equal(pid, Json(await daemon.CliAsync("list", "--json"))[0].GetProperty("pid").GetInt32());
        var job = Assert.Single(Json(await daemon.CliAsync("jobs", "--json")).EnumerateArray());
        output.WriteLine(job.ToString());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 30, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }

    [Fact]
    public async Task Sigterm_WithThreeVmsRunning_AllKeepRunningAndTheNextDaemonAdoptsThem()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        var consoles = new List<GuestConsole>();
        foreach (var name in new[] { "t1", "t2", "t3" })
            consoles.Add(await daemon.BootGuestAsync(name, 128, name == "t2" ? "private" : "shared", patternMiB: 16));
        var before = Json(await daemon.CliAsync("list", "--json")).EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("pid").GetInt32());

        Assert.Equal(0, await daemon.TerminateAsync());
        Assert.Equal(3, daemon.QemuProcesses().Count);
        foreach (var c in consoles)
            await c.WaitForTicksAsync(c.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));

        await daemon.StartAsync();
        var after = Json(await daemon.CliAsync("list", "--json")).EnumerateArray().ToList();
        Assert.Equal(3, after.Count);
        foreach (var d in after)
        {
            Assert.Equal("running", d.GetProperty("state").GetString());
            Assert.Equal(before[d.GetProperty("name").GetString()!], d.GetProperty("pid").GetInt32());
        }
        Assert.Contains("adopted 3 running", daemon.Log);
        var upgrade = await daemon.CliAsync("upgrade", "--all", "--json");
        Assert.Equal(3, Json(upgrade).GetProperty("upgraded").GetInt32());
        foreach (var c in consoles)
        {
            await c.WaitForTicksAsync(c.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
            c.AssertContinuous();
        }
    }

    [Fact]
    public async Task Sigterm_DuringAMigration_TheDaemonLetsItFinishThenExitsAndTheNextOneShowsIt()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        // QEMU 10.0: a live copy of private RAM at 32 MiB/s, which QEMU 7.2 under TCG (the test accelerator) does not copy
        // faithfully (MigrationTuning.TcgDirtyTrackingFixedIn); what this test checks is the daemon's drain, not the version's copy.
        var console = await daemon.BootGuestAsync("drain", 256, "private", patternMiB: 64, qemu: NewQemu.Path);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        using var migrate = daemon.StartCli("migrate", "drain", "--max-bandwidth", (32L << 20).ToString());
        var job = await WaitForJobAsync(daemon, j => j.GetProperty("phase").GetString() == "Perform" && j.GetProperty("progress").GetDouble() > 5);

        Assert.Equal(0, await daemon.TerminateAsync());
        Assert.Contains("waiting for 1 migrations in flight", daemon.Log);
        var pid = Assert.Single(daemon.QemuProcesses());
        migrate.Kill();

        await daemon.StartAsync();
        var history = Json(await daemon.CliAsync("jobs", "--json")).EnumerateArray().Single();
        Assert.Equal(job.GetProperty("job").GetString(), history.GetProperty("job").GetString());
        Assert.Equal("completed", history.GetProperty("state").GetString());
        Assert.Equal(pid, history.GetProperty("targetPid").GetInt32());
        var status = Json(await daemon.CliAsync("status", "drain", "--json"));
        Assert.Equal(pid, status.GetProperty("lastMigration").GetProperty("targetPid").GetInt32());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }

    [Fact]
    public async Task BusLost_TheDaemonExitsNonZeroForItsServiceManagerAndTheVmRunsOn()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        var console = await daemon.BootGuestAsync("orphan");
        var pid = Assert.Single(daemon.QemuProcesses());
        daemon.Bus.Dispose();

        Assert.Equal(1, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Lost the D-Bus connection", daemon.Log);
        Assert.Equal([pid], daemon.QemuProcesses());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task QmpSocketGone_RestartReportsTheVmUnreachableNeverKillsItNorBootsASecondCopy()
    {
        await using var daemon = new DaemonProcess(output);
        await daemon.StartAsync();
        var console = await daemon.BootGuestAsync("deaf");
        var status = Json(await daemon.CliAsync("status", "deaf", "--json"));
        var pid = status.GetProperty("pid").GetInt32();
        File.Delete(Path.Combine(status.GetProperty("runtimeDirectory").GetString()!, "qmp.sock"));
        await daemon.KillAsync();

        await daemon.StartAsync();
        Assert.Equal("unreachable", Json(await daemon.CliAsync("status", "deaf", "--json")).GetProperty("state").GetString());
        var start = await daemon.CliAsync("start", "deaf");
        Assert.Equal(1, start.ExitCode);
        Assert.Contains("does not answer on QMP", start.Stderr);
        Assert.Equal([pid], daemon.QemuProcesses());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task StateDiskFull_RequestsFailClearlyAndRunningVmsAndStateAreUntouched()
    {
        await using var daemon = new DaemonProcess(output);
        Directory.CreateDirectory(daemon.StateDirectory);
        Mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", daemon.StateDirectory);
        try
        {
            await daemon.StartAsync();
            var console = await daemon.BootGuestAsync("full");
            var definitions = Directory.GetFiles(Path.Combine(daemon.StateDirectory, "domains"));
            var stored = File.ReadAllText(definitions.Single());
            var pid = Json(await daemon.CliAsync("status", "full", "--json")).GetProperty("pid").GetInt32();
            // Fill the disk to the last block (the console log grows too: leave it nothing).
            var filler = Path.Combine(daemon.StateDirectory, "filler");
            try
            {
                await using var f = File.OpenWrite(filler);
                var block = new byte[4096];
                while (true)
                    f.Write(block);
            }
            catch (IOException)
            {
            }

            var definition = Path.Combine(daemon.Root, "other.json");
            await File.WriteAllTextAsync(definition, EngineHarness.GuestDefinition("other"));
            var define = await daemon.CliAsync("define", definition);
            Assert.Equal(1, define.ExitCode);
            Assert.Contains("cannot write state", define.Stderr);
            Assert.Contains("No space left on device", define.Stderr);

            var migrate = await daemon.CliAsync("migrate", "full", "--json");
            Assert.Equal(1, migrate.ExitCode);
            Assert.Contains("No space left on device", migrate.Stderr);

            Assert.Equal([pid], daemon.QemuProcesses());
            Assert.Equal(stored, File.ReadAllText(definitions.Single()));
            Assert.Single(Directory.GetFiles(Path.Combine(daemon.StateDirectory, "domains")));
            Assert.Empty(Directory.GetFiles(Path.Combine(daemon.StateDirectory, "domains"), "*.tmp"));
            Assert.Equal("full", Assert.Single(Json(await daemon.CliAsync("list", "--json")).EnumerateArray()).GetProperty("name").GetString());

            File.Delete(filler);
            var retry = Json(await daemon.CliAsync("migrate", "full", "--json"));
            Assert.Equal("completed", retry.GetProperty("state").GetString());
            await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        }
        finally
        {
            await daemon.KillAsync();
            foreach (var pid in daemon.QemuProcesses())
                Process.GetProcessById(pid).Kill();
            Unmount(daemon.StateDirectory);
        }
    }

    private static void Mount(params string[] args) => ProcessRunner.Run("mount", args);

    private static void Unmount(string path) => ProcessRunner.Run("umount", "-l", path);

    private static async Task<JsonElement> WaitForJobAsync(DaemonProcess daemon, Func<JsonElement, bool> predicate)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var result = await daemon.CliAsync("jobs", "--json");
            if (result.ExitCode == 0)
            {
                foreach (var job in JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray())
                {
                    if (predicate(job))
                        return job;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"no job reached the expected state; last: {result}");
            await Task.Delay(50);
        }
    }
}
