using System.Text.Json;
using LocalMigrate.UpgradeDaemon.Tests.Support;
using Xunit.Abstractions;

namespace LocalMigrate.UpgradeDaemon.Tests.Api;

/// <summary>The option set through the real daemon: CLI flags, Salt's names over D-Bus, read-back in --json, migrate-postcopy.</summary>
[Collection(RealQemuCollection.Name)]
public sealed class MigrationOptionsCliTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long MiB = 1L << 20;
    private readonly DaemonProcess _daemon = new(output);

    public Task InitializeAsync() => _daemon.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    [Fact]
    public async Task Migrate_SaltStyleFlags_JsonShowsWhatBothQemusHold()
    {
        var console = await _daemon.BootGuestAsync("flags", 256, "private");
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(60));

        using var recorder = await PropertiesChangedRecorder.StartAsync(_daemon.Bus.Address, LocalMigrate.Contract.BusContract.ManagerPath);
        var result = (await _daemon.CliAsync("migrate", "flags", "--parallel-connections", "2", "--compressed", "--comp-methods", "mt",
            "--max-bandwidth-mib", "512", "--max-downtime", "100", "--json")).Json();
        output.WriteLine(result.ToString());
        var job = LocalMigrate.Contract.BusContract.JobPath(result.GetProperty("job").GetString()!);
        await Poll.UntilAsync(() => recorder.Values(job, "State").Any(v => v.GetString() == "completed"), TimeSpan.FromSeconds(10),
            "PropertiesChanged with State completed");
        // Announced once, when set: not again on every progress tick.
        Assert.Single(recorder.Values(job, "SourceParameters"));
        Assert.Single(recorder.Values(job, "TargetCapabilities"));
        Assert.NotEmpty(recorder.Values(job, "Passes"));

        Assert.Equal("completed", result.GetProperty("state").GetString());
        var source = result.GetProperty("source");
        var target = result.GetProperty("target");
        Assert.Equal((512 * MiB).ToString(), source.GetProperty("parameters").GetProperty("max-bandwidth").GetString());
        Assert.Equal("100", source.GetProperty("parameters").GetProperty("downtime-limit").GetString());
        foreach (var side in new[] { source, target })
        {
            Assert.Contains("multifd", side.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal("2", side.GetProperty("parameters").GetProperty("multifd-channels").GetString());
            Assert.Equal("zstd", side.GetProperty("parameters").GetProperty("multifd-compression").GetString());
        }
        Assert.True(result.GetProperty("passes").GetUInt64() >= 1);

        var status = (await _daemon.CliAsync("status", "flags", "--json")).Json();
        Assert.Equal("2", status.GetProperty("lastMigration").GetProperty("target").GetProperty("parameters").GetProperty("multifd-channels").GetString());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
    }

    [Fact]
    public async Task Migrate_PauseGuestTrueThenFalse_JobSaysPausedThenLiveAndTheGuestContinues()
    {
        // QEMU 10.0, so that the live leg copies faithfully: QEMU 7.2 under TCG (the test accelerator) loses guest writes in a
        // live copy of private RAM (MigrationTuning.TcgDirtyTrackingFixedIn), which killed this guest in a suite run on a busy host.
        var console = await _daemon.BootGuestAsync("pg", 256, "private", qemu: NewQemu.Path);

        var paused = (await _daemon.CliAsync("migrate", "pg", "--pause-guest", "true", "--json")).Json();
        output.WriteLine(paused.ToString());
        Assert.Equal("completed", paused.GetProperty("state").GetString());
        Assert.Equal("paused", paused.GetProperty("transfer").GetString());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));

        // False: a live copy even where QEMU before 9.0 under TCG could lose writes (the caller's choice, logged as a risk).
        var live = (await _daemon.CliAsync("migrate", "pg", "--pause-guest", "false", "--json")).Json();
        output.WriteLine(live.ToString());
        Assert.Equal("completed", live.GetProperty("state").GetString());
        Assert.Equal("live", live.GetProperty("transfer").GetString());
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 20, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
        Assert.Empty(console.Corruptions());
    }

    [Fact]
    public async Task Migrate_SaltNamesOverDBus_AcceptedAndBrokenCombinationsRefusedNamingBoth()
    {
        await _daemon.BootGuestAsync("salt", 256, "private");
        var refused = await ProcessRunner.RunAsync("busctl", [$"--address={_daemon.Bus.Address}", "call", "org.localmigrate1",
            "/org/localmigrate1/domain/salt", "org.localmigrate1.Domain", "Migrate", "sa{sv}", "", "3",
            "parallel_connections", "u", "2", "postcopy", "b", "true", "live", "b", "false"]);
        var text = refused.Stdout + refused.Stderr;
        output.WriteLine(text);
        Assert.Contains("option parallelConnections (parallel_connections) 2 with postcopy", text);
        Assert.Contains("option offline (live): only for a migration to another host", text);

        var cli = await _daemon.CliAsync("migrate", "salt", "--compressed", "--comp-methods", "mt,xbzrle");
        Assert.NotEqual(0, cli.ExitCode);
        Assert.Contains("with compMethods (comp_methods) xbzrle: QEMU accepts xbzrle with multifd but never uses it", cli.Stderr);

        var accepted = await ProcessRunner.RunAsync("busctl", [$"--address={_daemon.Bus.Address}", "call", "org.localmigrate1",
            "/org/localmigrate1/domain/salt", "org.localmigrate1.Domain", "Migrate", "sa{sv}", "", "2",
            "max_bandwidth", "u", "300", "auto_converge", "b", "true"]);
        Assert.True(accepted.ExitCode == 0, accepted.Stdout + accepted.Stderr);
        var job = "";
        await Poll.UntilAsync(async () =>
        {
            var jobs = (await _daemon.CliAsync("jobs", "--json")).Json().EnumerateArray().ToList();
            var done = jobs.FirstOrDefault(j => j.GetProperty("domain").GetString() == "salt" && j.GetProperty("state").GetString() != "running");
            job = done.ValueKind == JsonValueKind.Object ? done.ToString() : "";
            return job.Length > 0;
        }, TimeSpan.FromSeconds(120), "the migration to end");
        output.WriteLine(job);
        var ended = JsonDocument.Parse(job).RootElement;
        Assert.Equal("completed", ended.GetProperty("state").GetString());
        Assert.Equal((300 * MiB).ToString(), ended.GetProperty("source").GetProperty("parameters").GetProperty("max-bandwidth").GetString());
        Assert.Contains("auto-converge", ended.GetProperty("source").GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task MigratePostcopy_DuringASlowCopy_SwitchesAndTheMigrateCommandSucceeds()
    {
        // QEMU 10.0: a slow live copy before the switch, which 7.2 under TCG does not copy faithfully (see the pause-guest test).
        var console = await _daemon.BootGuestAsync("pc", 256, "private", qemu: NewQemu.Path);
        await console.WaitForPatternPassesAsync(1, TimeSpan.FromSeconds(60));
        var early = await _daemon.CliAsync("migrate-postcopy", "pc");
        Assert.NotEqual(0, early.ExitCode);
        Assert.Contains("not migrating", early.Stderr);

        using var migrate = _daemon.StartCli("migrate", "pc", "--postcopy", "--max-bandwidth-mib", "1");
        await Poll.UntilAsync(async () => (await _daemon.CliAsync("jobs", "--json")).Json().EnumerateArray()
                .Any(j => j.GetProperty("phase").GetString() == "Perform" && j.GetProperty("passes").GetUInt64() >= 1),
            TimeSpan.FromSeconds(60), "the copy in Perform");
        var switched = await _daemon.CliAsync("migrate-postcopy", "pc");
        Assert.True(switched.ExitCode == 0, switched.ToString());
        await migrate.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        var stdout = await migrate.StandardOutput.ReadToEndAsync();
        var stderr = await migrate.StandardError.ReadToEndAsync();
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, migrate.ExitCode);
        // Not a terminal: one plain line per change, with the pass count and what is left.
        Assert.Matches(@"pc: running \d+% Perform pass 1, [\d.]+ [KMG]?i?B left", stderr);
        var last = (await _daemon.CliAsync("status", "pc", "--json")).Json().GetProperty("lastMigration");
        Assert.Equal("manual-postcopy", last.GetProperty("convergeAction").GetString());
        Assert.Contains("postcopy-ram", last.GetProperty("target").GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        await console.WaitForTicksAsync(console.LastTick()!.Counter, 50, TimeSpan.FromSeconds(30));
        console.AssertContinuous();
        Assert.Empty(console.Corruptions());
    }
}
