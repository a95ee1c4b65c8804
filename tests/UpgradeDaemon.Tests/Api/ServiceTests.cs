using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Api;

/// <summary>The real daemon on a private dbus-daemon with the project's policy, driven through the real CLI and busctl.</summary>
[Collection(RealQemuCollection.Name)]
public sealed class ServiceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DaemonProcess _daemon = new(output);

    public Task InitializeAsync() => _daemon.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private static JsonElement Json(CommandResult result) => result.Json();

    private static async Task<string> BusctlAsync(string address, params string[] args)
    {
        var result = await ProcessRunner.RunAsync("busctl", new[] { $"--address={address}" }.Concat(args));
        return result.Stdout + result.Stderr;
    }

    [Fact]
    public async Task Introspect_ManagerAndDomain_ShowTypedMethodsPropertiesAndErrors()
    {
        await _daemon.BootGuestAsync("intro");
        var manager = await BusctlAsync(_daemon.Bus.Address, "introspect", "org.localmigrate1", "/org/localmigrate1");
        Assert.Matches(@"\.Define\s+method\s+s\s+o", manager);
        Assert.Matches(@"\.Upgrade\s+method\s+asba\{sv\}\s+ao", manager);
        Assert.Matches(@"\.ListDomains\s+method\s+-\s+ao", manager);
        var domain = await BusctlAsync(_daemon.Bus.Address, "introspect", "org.localmigrate1", "/org/localmigrate1/domain/intro");
        Assert.Matches(@"\.Migrate\s+method\s+sa\{sv\}\s+o", domain);
        Assert.Matches(@"\.Pid\s+property\s+u\s+\d+", domain);
        Assert.Matches(@"\.State\s+property\s+s\s+""running""", domain);
        Assert.Matches(@"\.Stale\s+property\s+b", domain);
        var error = await BusctlAsync(_daemon.Bus.Address, "call", "org.localmigrate1", "/org/localmigrate1", "org.localmigrate1.Manager", "GetDomain", "s", "nope");
        Assert.Contains("no such domain: nope", error);
        var bad = await BusctlAsync(_daemon.Bus.Address, "call", "org.localmigrate1", "/org/localmigrate1/domain/intro", "org.localmigrate1.Domain",
            "Migrate", "sa{sv}", "", "1", "maxBandwidth", "s", "fast");
        Assert.Contains("option maxBandwidth: bad value 'fast'", bad);
    }

    [Fact]
    public async Task Introspect_LiveDaemon_EachInterfaceEqualsTheCheckedInXml()
    {
        await _daemon.BootGuestAsync("contract");
        var job = Json(await _daemon.CliAsync("migrate", "contract", "--json")).GetProperty("job").GetString()!;
        foreach (var (path, contract) in new[]
                 {
                     (BusContract.ManagerPath, ManagerContract.Interface), (BusContract.DomainPath("contract"), DomainContract.Interface),
                     (BusContract.JobPath(job), JobContract.Interface),
                 })
        {
            var reply = await ProcessRunner.RunAsync("busctl", [$"--address={_daemon.Bus.Address}", "--json=short", "call", BusContract.ServiceName,
                path, BusContract.IntrospectableInterface, "Introspect"]);
            var xml = JsonDocument.Parse(reply.Stdout).RootElement.GetProperty("data")[0].GetString()!;
            var start = xml.IndexOf($"<interface name=\"{contract.Name}\">", StringComparison.Ordinal);
            Assert.True(start >= 0, $"{path} does not serve {contract.Name}: {xml}");
            var end = xml.IndexOf("</interface>", start, StringComparison.Ordinal) + "</interface>".Length;
            var file = Path.Combine(RepositoryRoot.Path, "src", "Contract", "Introspection", contract.Name + ".xml");
            Assert.Equal((await File.ReadAllTextAsync(file)).Trim(), xml[start..end].Trim());
        }
        // What busctl shows of the live objects, and the standard interfaces beside ours.
        var manager = await BusctlAsync(_daemon.Bus.Address, "introspect", BusContract.ServiceName, BusContract.ManagerPath);
        Assert.Contains("org.freedesktop.DBus.ObjectManager", manager);
        Assert.Contains("org.freedesktop.DBus.Properties", manager);
        var objects = await BusctlAsync(_daemon.Bus.Address, "call", BusContract.ServiceName, BusContract.ManagerPath,
            BusContract.ObjectManagerInterface, "GetManagedObjects");
        Assert.Contains(BusContract.DomainPath("contract"), objects);
        Assert.Contains(BusContract.JobPath(job), objects);
        var set = await BusctlAsync(_daemon.Bus.Address, "set-property", BusContract.ServiceName, BusContract.DomainPath("contract"),
            BusContract.DomainInterface, "State", "s", "shutoff");
        Assert.Contains("Property 'State' is not writable", set);
        var unknown = await BusctlAsync(_daemon.Bus.Address, "call", BusContract.ServiceName, "/org/localmigrate1/domain/ghost",
            BusContract.DomainInterface, "Start");
        Assert.Contains("Unknown object '/org/localmigrate1/domain/ghost'", unknown);
    }

    [Fact]
    public async Task Cli_DomainLifecycle_EveryCommandWorksAndJsonIsMachineReadable()
    {
        await _daemon.BootGuestAsync("life");
        var list = Json(await _daemon.CliAsync("list", "--json"));
        var entry = Assert.Single(list.EnumerateArray());
        Assert.Equal("life", entry.GetProperty("name").GetString());
        Assert.Equal("running", entry.GetProperty("state").GetString());
        var pid = entry.GetProperty("pid").GetInt32();
        Assert.Contains(pid, _daemon.QemuProcesses());

        var status = Json(await _daemon.CliAsync("status", "life", "--json"));
        Assert.Equal(pid, status.GetProperty("pid").GetInt32());
        Assert.StartsWith(_daemon.RuntimeDirectory + "/life.", status.GetProperty("runtimeDirectory").GetString());
        Assert.Equal("pc-q35-7.2", status.GetProperty("machine").GetString());
        Assert.False(status.GetProperty("stale").GetBoolean());

        var plain = await _daemon.CliAsync("list");
        Assert.Contains("life", plain.Stdout);
        var console = await _daemon.CliAsync("console", "life", "--no-follow", "--lines", "3");
        Assert.Contains("LMTICK", console.Stdout);

        var jobs = Json(await _daemon.CliAsync("jobs", "--json"));
        Assert.Empty(jobs.EnumerateArray());
        var stop = await _daemon.CliAsync("stop", "life", "--force");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Empty(_daemon.QemuProcesses());
        Assert.Equal("shutoff", Json(await _daemon.CliAsync("status", "life", "--json")).GetProperty("state").GetString());
        var undefine = await _daemon.CliAsync("undefine", "life");
        Assert.True(undefine.ExitCode == 0, undefine.ToString());
        Assert.Empty(Json(await _daemon.CliAsync("list", "--json")).EnumerateArray());
    }

    [Fact]
    public async Task Cli_BadInput_OneClearLineAndADistinctExitCode()
    {
        var bad = Path.Combine(_daemon.Root, "bad.json");
        await File.WriteAllTextAsync(bad, """{"name":"../x","memoryMiB":-1,"colour":"red"}""");
        var define = await _daemon.CliAsync("define", bad);
        Assert.Equal(2, define.ExitCode);
        Assert.Single(define.Stderr.Trim().Split('\n'));
        Assert.Contains("name:", define.Stderr);
        Assert.Contains("memoryMiB:", define.Stderr);
        Assert.Contains("colour: unknown field", define.Stderr);

        var missing = await _daemon.CliAsync("status", "ghost");
        Assert.Equal(5, missing.ExitCode);
        Assert.Equal("localmigrate: no such domain: ghost", missing.Stderr.Trim());

        var option = await _daemon.CliAsync("list", "--colour");
        Assert.Equal(2, option.ExitCode);
        Assert.Contains("--colour", option.Stderr);

        var upgrade = await _daemon.CliAsync("upgrade");
        Assert.Equal(2, upgrade.ExitCode);
        Assert.Contains("NAME..., --all or --stale", upgrade.Stderr);

        await _daemon.BootGuestAsync("twice");
        var again = await _daemon.CliAsync("start", "twice");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already running", again.Stderr);

        var nobody = await new DaemonProcessCli(_daemon, "unix:path=/tmp/no-such-bus.sock").RunAsync("list");
        Assert.Equal(3, nobody.ExitCode);
        Assert.Contains("cannot reach", nobody.Stderr);
    }

    [Fact]
    public async Task Cli_MigrateJson_ReportsQemuFiguresAndTheGuestContinues()
    {
        var console = await _daemon.BootGuestAsync("mig");
        var before = console.LastTick()!;
        var result = Json(await _daemon.CliAsync("migrate", "mig", "--json"));
        Assert.Equal("completed", result.GetProperty("state").GetString());
        Assert.Equal("Confirm", result.GetProperty("phase").GetString());
        var source = result.GetProperty("sourcePid").GetInt32();
        var target = result.GetProperty("targetPid").GetInt32();
        Assert.NotEqual(source, target);
        Assert.Equal([target], _daemon.QemuProcesses());
        Assert.True(result.GetProperty("totalMs").GetInt64() > 0);
        Assert.True(result.GetProperty("downtimeMs").GetInt64() >= 0);
        Assert.True(result.GetProperty("transferredBytes").GetInt64() > 0);
        output.WriteLine($"CLI migrate: {result}");
        await console.WaitForTicksAsync(before.Counter, 30, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
        var status = Json(await _daemon.CliAsync("status", "mig", "--json"));
        Assert.Equal(target, status.GetProperty("pid").GetInt32());
        Assert.Equal(target, status.GetProperty("lastMigration").GetProperty("targetPid").GetInt32());
    }

    [Fact]
    public async Task Bus_SlowMigration_EveryChangingPropertyArrivesThroughPropertiesChanged()
    {
        await _daemon.BootGuestAsync("prog", 256, "private", patternMiB: 96);
        await _daemon.Console("prog").WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        using var recorder = await PropertiesChangedRecorder.StartAsync(_daemon.Bus.Address, BusContract.ManagerPath);
        var result = await _daemon.CliAsync("migrate", "prog", "--max-bandwidth", (48L << 20).ToString(), "--json");
        Assert.Equal("completed", Json(result).GetProperty("state").GetString());
        var job = BusContract.JobPath(Json(result).GetProperty("job").GetString()!);
        var domain = BusContract.DomainPath("prog");
        // The CLI saw the end through its own match; ours may be a moment behind on a loaded machine.
        await Poll.UntilAsync(() => recorder.Values(job, "State").Any(v => v.GetString() == "completed")
                                    && recorder.Values(domain, "LastJob").Any(v => v.GetObjectPathAsString() == job),
            TimeSpan.FromSeconds(10), "PropertiesChanged with State completed and the domain's LastJob");

        var progress = recorder.Values(job, "Progress").Select(v => v.GetDouble()).ToList();
        output.WriteLine($"progress seen: {string.Join(", ", progress.Select(p => p.ToString("0.0")))}");
        Assert.True(progress.Distinct().Count() >= 3, $"only {progress.Distinct().Count()} progress values");
        Assert.Equal(100, progress.Last());
        // Each statistic is announced with its final value (they were never announced before the Tmds.DBus port).
        var final = Json(result);
        Assert.Equal((ulong)final.GetProperty("transferredBytes").GetInt64(), recorder.Values(job, "TransferredBytes").Last().GetUInt64());
        Assert.Equal((uint)final.GetProperty("sourcePid").GetInt32(), recorder.Values(job, "SourcePid").Last().GetUInt32());
        Assert.Equal((uint)final.GetProperty("targetPid").GetInt32(), recorder.Values(job, "TargetPid").Last().GetUInt32());
        Assert.Equal((ulong)final.GetProperty("totalMs").GetInt64(), recorder.Values(job, "TotalMs").Last().GetUInt64());
        Assert.NotEmpty(recorder.Values(job, "TargetVersion"));
        Assert.Contains("Confirm", recorder.Values(job, "Phase").Select(v => v.GetString()));
        // The domain's Job went to the job and back to "/", and its pid followed the guest to the target.
        Assert.Equal([job, "/"], recorder.Values(domain, "Job").Select(v => v.GetObjectPathAsString()));
        Assert.Equal((uint)final.GetProperty("targetPid").GetInt32(), recorder.Values(domain, "Pid").Last().GetUInt32());
    }

    [Fact]
    public async Task Cli_CtrlCDuringMigrate_CancelsItAndDetachReturnsAtOnce()
    {
        var console = await _daemon.BootGuestAsync("ctrlc", 256, "private", patternMiB: 96);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        var pid = Json(await _daemon.CliAsync("status", "ctrlc", "--json")).GetProperty("pid").GetInt32();
        using var migrate = _daemon.StartCli("migrate", "ctrlc", "--max-bandwidth", (8L << 20).ToString());
        await Poll.UntilAsync(async () => Json(await _daemon.CliAsync("jobs", "--json")).EnumerateArray()
                .Any(j => j.GetProperty("phase").GetString() == "Perform" && j.GetProperty("progress").GetDouble() > 1),
            TimeSpan.FromSeconds(60), "the migration copying in Perform");
        // What a terminal sends on Ctrl-C.
        ProcessRunner.Run("kill", "-INT", migrate.Id.ToString());
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var stderr = await migrate.StandardError.ReadToEndAsync();
        output.WriteLine(stderr);
        Assert.Equal(1, migrate.ExitCode);
        Assert.Contains("interrupted: cancelling the migration of ctrlc", stderr);
        Assert.Contains("migration of ctrlc cancelled", stderr);
        Assert.Equal([pid], _daemon.QemuProcesses());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();

        var detached = await _daemon.CliAsync("migrate", "ctrlc", "--detach", "--json");
        Assert.True(detached.ExitCode == 0, detached.ToString());
        var job = Json(detached).GetProperty("job").GetString()!;
        Assert.StartsWith(BusContract.JobPathPrefix, job);
        await Poll.UntilAsync(async () => Json(await _daemon.CliAsync("jobs", "--json")).EnumerateArray()
                .Any(j => BusContract.JobPath(j.GetProperty("job").GetString()!) == job && j.GetProperty("state").GetString() == "completed"),
            TimeSpan.FromSeconds(120), "the detached migration completing");
        Assert.NotEqual([pid], _daemon.QemuProcesses());
    }

    [Fact]
    public async Task Cli_CancelDuringACopy_TheMigrationEndsCancelledAndTheSourceRunsOn()
    {
        var console = await _daemon.BootGuestAsync("stopme", 256, "private", patternMiB: 96);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(90));
        var pid = Json(await _daemon.CliAsync("status", "stopme", "--json")).GetProperty("pid").GetInt32();
        using var migrate = _daemon.StartCli("migrate", "stopme", "--max-bandwidth", (8L << 20).ToString());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var jobs = Json(await _daemon.CliAsync("jobs", "--json")).EnumerateArray().ToList();
            if (jobs.Any(j => j.GetProperty("phase").GetString() == "Perform" && j.GetProperty("progress").GetDouble() > 1))
                break;
            Assert.True(DateTime.UtcNow < deadline, "the migration never reached Perform");
            await Task.Delay(100);
        }
        var cancel = await _daemon.CliAsync("cancel", "stopme");
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var stderr = await migrate.StandardError.ReadToEndAsync();
        Assert.Equal(1, migrate.ExitCode);
        Assert.Contains("cancelled", stderr);
        Assert.Equal([pid], _daemon.QemuProcesses());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
        var again = await _daemon.CliAsync("cancel", "stopme");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("no migration in progress", again.Stderr);
    }

    [Fact]
    public async Task Console_FollowsTheGuestAcrossAMigration()
    {
        var console = await _daemon.BootGuestAsync("follow");
        using var follower = _daemon.StartCli("console", "follow", "--lines", "1");
        var lines = new List<string>();
        var reader = Task.Run(async () =>
        {
            while (await follower.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (lines)
                    lines.Add(line);
            }
        });
        // The tick counters the follower printed so far, in order.
        List<long> Ticks()
        {
            lock (lines)
                return lines.Select(l => l.Split(' ')).Where(p => p.Length == 4 && p[0] == "LMTICK").Select(p => long.Parse(p[1])).ToList();
        }
        await Poll.UntilAsync(() => Ticks().Count > 0, TimeSpan.FromSeconds(30), "the first tick from localmigrate console");
        var migrated = Json(await _daemon.CliAsync("migrate", "follow", "--json"));
        var afterSwitch = console.LastTick()!.Counter;
        await console.WaitForTicksAsync(afterSwitch, 50, TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(() => Ticks().Any(t => t > afterSwitch + 20), TimeSpan.FromSeconds(30),
            "localmigrate console to print a tick from after the switch");
        follower.Kill();
        await reader;
        var ticks = Ticks();
        Assert.True(ticks.Count > 60, $"console printed {ticks.Count} ticks");
        Assert.Contains(ticks, t => t > afterSwitch + 20);
        Assert.Equal(ticks.Count, ticks.Distinct().Count());
        Assert.True(ticks.Zip(ticks.Skip(1)).All(p => p.Second == p.First + 1), "the followed stream skipped or repeated a tick");
        output.WriteLine($"console followed ticks {ticks[0]}..{ticks[^1]} across pid {migrated.GetProperty("sourcePid")} -> {migrated.GetProperty("targetPid")}");
    }

    [Fact]
    public async Task Stop_GuestIgnoresAcpi_TimesOutClearlyAndTheVmKeepsRunning()
    {
        var console = await _daemon.BootGuestAsync("stubborn");
        var pid = Json(await _daemon.CliAsync("status", "stubborn", "--json")).GetProperty("pid").GetInt32();
        var stop = await _daemon.CliAsync("stop", "stubborn");
        Assert.Equal(1, stop.ExitCode);
        Assert.Contains("did not power off within 5 s; it still runs (use --force", stop.Stderr);
        Assert.Equal([pid], _daemon.QemuProcesses());
        Assert.Equal("running", Json(await _daemon.CliAsync("status", "stubborn", "--json")).GetProperty("state").GetString());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        Assert.Equal(0, (await _daemon.CliAsync("stop", "stubborn", "--force")).ExitCode);
        Assert.Empty(_daemon.QemuProcesses());
    }

    [Fact]
    public async Task UpgradeAll_OneVmCannotBeMigrated_ItIsReportedAndLeftRunningWhileTheOtherUpgrades()
    {
        // More private RAM than the host has free, less than it has in all (the kernel's overcommit limit): QEMU maps
        // it lazily so the guest boots, but a second copy could not fit.
        var availableMiB = LocalMigrate.Interop.Posix.ProcFs.MemAvailableBytes() >> 20;
        var totalMiB = long.Parse(File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) >> 10;
        Assert.True(totalMiB - availableMiB > 256, $"need a gap between MemAvailable ({availableMiB}) and MemTotal ({totalMiB})");
        var hugeMiB = (int)((availableMiB + totalMiB) / 2);
        var huge = await _daemon.BootGuestAsync("huge", hugeMiB, "private", patternMiB: 8);
        var small = await _daemon.BootGuestAsync("small");
        var before = Json(await _daemon.CliAsync("list", "--json")).EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("pid").GetInt32());

        var upgrade = await _daemon.CliAsync("upgrade", "--all", "--json");
        Assert.Equal(1, upgrade.ExitCode);
        Assert.Contains("1 of 2 upgrades failed; the others completed", upgrade.Stderr);
        var summary = JsonDocument.Parse(upgrade.Stdout).RootElement;
        var jobs = summary.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("domain").GetString()!);
        Assert.Equal("completed", jobs["small"].GetProperty("state").GetString());
        Assert.Equal("failed", jobs["huge"].GetProperty("state").GetString());
        Assert.Contains($"a copy of {hugeMiB} MiB of private RAM needs that much free memory", jobs["huge"].GetProperty("error").GetString());

        var after = Json(await _daemon.CliAsync("list", "--json")).EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("pid").GetInt32());
        Assert.Equal(before["huge"], after["huge"]);
        Assert.NotEqual(before["small"], after["small"]);
        await huge.WaitForTicksAsync(huge.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        await small.WaitForTicksAsync(small.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        small.AssertContinuous();
    }

    [Fact]
    public async Task NonRootCaller_MayListButNotMutate()
    {
        TestUser.Ensure("lmtest");
        await _daemon.BootGuestAsync("guarded");
        var list = await _daemon.CliAsUserAsync("lmtest", "list", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("guarded", list.Stdout);
        var status = await _daemon.CliAsUserAsync("lmtest", "status", "guarded");
        Assert.Equal(0, status.ExitCode);

        foreach (var args in new[] { new[] { "stop", "guarded", "--force" }, ["migrate", "guarded"], ["undefine", "guarded"] })
        {
            var refused = await _daemon.CliAsUserAsync("lmtest", args);
            Assert.True(refused.ExitCode == 4, $"{string.Join(' ', args)}: {refused}");
            Assert.Contains("needs root", refused.Stderr);
        }
        // gdbus prints the D-Bus error name itself.
        var viaBus = await TestUser.RunAsync("lmtest", "gdbus", "call", "--address", _daemon.Bus.Address, "--dest", "org.localmigrate1",
            "--object-path", "/org/localmigrate1/domain/guarded", "--method", "org.localmigrate1.Domain.Stop", "true");
        Assert.Contains("org.localmigrate1.Error.AccessDenied: Stop needs root", viaBus);
        // The bus policy lets no one but root own the name.
        var own = await TestUser.RunAsync("lmtest", "busctl", $"--address={_daemon.Bus.Address}", "call", "org.freedesktop.DBus",
            "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName", "su", "org.localmigrate1", "0");
        Assert.Contains("Access denied", own);
        Assert.Equal("running", Json(await _daemon.CliAsync("status", "guarded", "--json")).GetProperty("state").GetString());
    }
}

/// <summary>The CLI pointed at some other bus address (one where no daemon runs).</summary>
internal sealed class DaemonProcessCli(DaemonProcess daemon, string address)
{
    public Task<CommandResult> RunAsync(params string[] args)
    {
        _ = daemon;
        return ProcessRunner.RunAsync(Path.Combine(AppContext.BaseDirectory, "localmigrate"), new[] { "--bus", address }.Concat(args));
    }
}
